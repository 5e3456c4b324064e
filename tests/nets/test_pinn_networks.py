"""PINN networks and training helpers: derivatives, boundary conditions, parity, seeding, Ritz basis,
checkpoints."""

import numpy as np
import pytest
import torch

from qdyn.nets.pinn import PINNWavefunction
from qdyn.nets.pinn_training import ritz_basis, ritz_eigenpairs, train
from qdyn.nets.training import CheckpointError, load_checkpoint, progress_bar, save_checkpoint


def _autograd_derivatives(model, x):
    x = x.clone().requires_grad_(True)
    psi = model(x)
    (d1,) = torch.autograd.grad(psi.sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x)
    return psi, d1, d2


@pytest.mark.parametrize("activation", ["tanh", "sin"])
@pytest.mark.parametrize("parity", [None, 1, -1])
def test_forward_mode_derivatives_match_autograd(activation, parity):
    model = PINNWavefunction((-2.0, 3.0), width=8, depth=3, activation=activation, parity=parity,
                             kinks=(0.7,), decay=2.0, seed=3, envelope_center=None if parity else -0.6)
    x = torch.linspace(-1.9, 2.9, 57, dtype=torch.float64)
    x = x[torch.abs(x - 0.7) > 1e-3]  # autograd of |u| at the kink itself is a convention
    ours = model.derivatives(x)
    ref = _autograd_derivatives(model, x)
    for a, b in zip(ours, ref, strict=True):
        # Same float64 arithmetic, different association: agreement to rounding.
        assert torch.allclose(a, b, atol=1e-12, rtol=1e-10)


def test_dirichlet_ends_and_exact_parity():
    model = PINNWavefunction((-1.5, 1.5), width=6, parity=-1, kinks=(-0.4, 0.4), seed=0)
    ends = model(torch.tensor([-1.5, 1.5], dtype=torch.float64))
    assert torch.all(ends.abs() < 1e-15)
    x = torch.linspace(0.01, 1.4, 20, dtype=torch.float64)
    assert torch.allclose(model(-x), -model(x), atol=1e-15)
    even = PINNWavefunction((-1.5, 1.5), width=6, parity=1, seed=0)
    assert torch.allclose(even(-x), even(x), atol=1e-15)
    assert even(x).abs().max() > 1e-3  # non-zero biases: the even part does not vanish


def test_seeded_initialisation_and_precision():
    a = PINNWavefunction((0.0, 1.0), seed=7)
    b = PINNWavefunction((0.0, 1.0), seed=7)
    c = PINNWavefunction((0.0, 1.0), seed=8)
    x = torch.linspace(0.1, 0.9, 5, dtype=torch.float64)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))
    single = PINNWavefunction((0.0, 1.0), seed=7, dtype=torch.float32)
    assert single(x.float()).dtype == torch.float32


def test_bad_network_arguments():
    with pytest.raises(ValueError, match="a < b"):
        PINNWavefunction((1.0, 0.0))
    with pytest.raises(ValueError, match="activation"):
        PINNWavefunction((0.0, 1.0), activation="relu")
    with pytest.raises(ValueError, match="parity"):
        PINNWavefunction((0.0, 1.0), parity=2)
    with pytest.raises(ValueError, match="width"):
        PINNWavefunction((0.0, 1.0), width=0)
    with pytest.raises(ValueError, match="envelope_center"):
        PINNWavefunction((-1.0, 1.0), parity=1, decay=1.0, envelope_center=0.3)  # a parity network's is its centre
    with pytest.raises(ValueError, match="envelope_center"):
        PINNWavefunction((-1.0, 1.0), decay=1.0, envelope_center=float("nan"))


def test_envelope_is_centred_where_asked():
    # decay = 5 and no network output but the constant: psi = (1 - t^2) exp(-5 (t - t_c)^2) peaks near t_c
    model = PINNWavefunction((-1.0, 3.0), width=2, decay=5.0, envelope_center=0.0, seed=0)
    with torch.no_grad():
        model.layers[-1].weight.zero_()
        model.layers[-1].bias.fill_(1.0)
        x = torch.linspace(-1.0, 3.0, 4001, dtype=torch.float64)
        peak = float(x[torch.argmax(model(x))])
    # t = (x - 1)/2, t_c = -0.5: (1 - t^2) exp(-5 (t + 0.5)^2) peaks where 2t/(1 - t^2) = -10 (t + 0.5), at
    # t = -0.40358 (x = 0.19284), against -0.5 (x = 0) for the envelope alone; the grid step is 1e-3
    assert abs(peak - 0.19284) < 1.5e-3


class _Scalar(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.tensor(3.0, dtype=torch.float64))


def test_train_rounds_keep_the_best_round_and_stop_when_done():
    module = _Scalar()

    def objective():
        loss = (module.p - 1.0) ** 2
        return loss, [float(module.p.detach())]

    scores = iter([(2.0, False), (1.0, False), (5.0, False), (0.5, True)])
    seen = []

    def after_round():
        seen.append(float(module.p.detach()))
        return next(scores)

    history = train(objective, {"m": module}, adam_epochs=5, lr=0.1, rounds=3, after_round=after_round)
    # three rounds (not done before the budget): the second scored best, so its parameters are kept
    assert history["rounds"] == 3 and history["epochs"] == 15 and len(seen) == 3
    assert float(module.p.detach()) == seen[1]


def test_train_refuses_another_fingerprint_and_unreadable_files(tmp_path):
    module = _Scalar()

    def objective():
        return (module.p - 1.0) ** 2, [0.0]

    path = tmp_path / "run.pt"
    train(objective, {"m": module}, adam_epochs=3, checkpoint=path, fingerprint={"problem": "a", "k": 1})
    with pytest.raises(CheckpointError, match=r"k \(1 in the file, 2 now\)"):
        train(objective, {"m": module}, adam_epochs=3, checkpoint=path, fingerprint={"problem": "a", "k": 2})
    save_checkpoint(path, {"epoch": 3}, fingerprint={"problem": "a", "k": 1})  # a readable file of another kind
    with pytest.raises(CheckpointError, match="does not hold this PINN's training state.*resume=False"):
        train(objective, {"m": module}, adam_epochs=3, checkpoint=path, fingerprint={"problem": "a", "k": 1})


def test_ritz_basis_is_orthonormal_and_ritz_values_bound_the_box_levels():
    x, w = np.polynomial.legendre.leggauss(80)
    x, w = torch.tensor(0.5 * (x + 1)), torch.tensor(0.5 * w)  # [0, 1]
    model = PINNWavefunction((0.0, 1.0), width=12, seed=2)
    with torch.no_grad():
        g, _, _, _ = ritz_basis(model, x, w)
        # Columns are dropped below 1e-7 relative independence: orthonormal to ~cond * eps ~ 1e-9.
        assert torch.allclose(g.T @ (w[:, None] * g), torch.eye(g.shape[1], dtype=g.dtype), atol=1e-8)
        energies = ritz_eigenpairs(model, x, w, torch.zeros_like(x), 1.0, 3)[0].numpy()
    # Min-max: Ritz values of -psi'' on [0, 1] are upper bounds of n^2 pi^2 (untrained: loose).
    assert np.all(energies >= np.pi**2 * np.array([1, 4, 9]) * (1 - 1e-12))


def test_checkpoints_are_atomic_and_round_trip(tmp_path):
    path = tmp_path / "sub" / "ck.pt"
    assert load_checkpoint(path) is None
    save_checkpoint(path, {"epoch": 3, "weights": torch.arange(4.0), "history": {"loss": [1.0, 0.5]}})
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 3 and torch.equal(loaded["weights"], torch.arange(4.0))
    assert not (tmp_path / "sub" / "ck.pt.tmp").exists()
    bar = progress_bar(5, enabled=False)
    bar.update(1)
    bar.close()
