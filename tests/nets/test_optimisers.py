"""The generic optimisation loops of qdyn.nets (Adam with decay, the best-keeping loop, Levenberg-Marquardt)
against analytic solutions."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from qdyn.nets.levenberg_marquardt import LevenbergMarquardt
from qdyn.nets.optimisers import Adam, minimise

_STALL_AND_ONE = 11  # LM reports convergence once 10 iterations lowered ||r||_1 by less than 1% (or none can)


class _LogLinear(nn.Module):
    """``f(x) = x . theta`` on one-hot rows ``x``: ``exp f(e_i) = exp(theta_i)``."""

    def __init__(self, k, scale=1.0):
        super().__init__()
        self.theta = nn.Parameter(torch.full((k,), float(scale), dtype=torch.float64))

    def forward(self, x):
        return (x * self.theta).sum(-1)


def test_levenberg_marquardt_solves_a_sparse_linear_map_of_exponentials():
    # M exp(theta) = y with M invertible and y = M p, p > 0: the unique zero is theta = log p (analytic).
    k = 12
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 2.0, k)
    M = np.eye(k) + 0.3 * np.diag(rng.uniform(-1, 1, k - 1), 1)  # bidiagonal: invertible, sparse
    sparse = torch.as_tensor(M).to_sparse_coo()
    model = _LogLinear(k, scale=0.0)
    lm = LevenbergMarquardt(model, torch.eye(k, dtype=torch.float64), sparse, torch.as_tensor(M @ p))
    losses = lm.run(50, tol=1e-13)
    # quadratic convergence to float64 rounding (1e-15 per entry): measured in 6 iterations
    np.testing.assert_allclose(model.theta.detach().numpy(), np.log(p), atol=1e-12)
    assert losses[-1] < 1e-12 and len(losses) < 20 and losses[0] > 1.0
    assert lm.loss == losses[-1]


@pytest.mark.parametrize("krylov_dim", [12, 4])
def test_levenberg_marquardt_krylov_solver_reaches_the_analytic_zero(krylov_dim):
    # The problem above with the Golub-Kahan solver: with the full subspace (12 = parameters) each step is the
    # dense one; with 4 directions per step it converges too (more iterations). Both to float64 rounding.
    k = 12
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 2.0, k)
    M = np.eye(k) + 0.3 * np.diag(rng.uniform(-1, 1, k - 1), 1)
    model = _LogLinear(k, scale=0.0)
    lm = LevenbergMarquardt(model, torch.eye(k, dtype=torch.float64), torch.as_tensor(M).to_sparse_coo(),
                            torch.as_tensor(M @ p), solver="krylov", krylov_dim=krylov_dim)
    assert lm.solver == "krylov"
    losses = lm.run(200, tol=1e-13)
    np.testing.assert_allclose(model.theta.detach().numpy(), np.log(p), atol=1e-12)
    assert losses[-1] < 1e-12


def test_levenberg_marquardt_checks_the_solver():
    model = _LogLinear(3)
    with pytest.raises(ValueError, match="solver"):
        LevenbergMarquardt(model, torch.eye(3, dtype=torch.float64), torch.eye(3).double().to_sparse_coo(), 0.0,
                           solver="cholesky")
    assert LevenbergMarquardt(model, torch.eye(3, dtype=torch.float64), torch.eye(3).double().to_sparse_coo(),
                              0.0).solver == "dense"


def test_levenberg_marquardt_with_fewer_rows_than_parameters_and_a_stall():
    # 2 rows, 4 parameters (the dual solve J^T (J J^T + lambda)^{-1} r): a zero exists, LM finds one; then no
    # step can lower the loss further and it reports convergence.
    model = _LogLinear(4)
    M = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]], dtype=torch.float64).to_sparse_coo()
    target = torch.tensor([1.0, 3.0], dtype=torch.float64)
    lm = LevenbergMarquardt(model, torch.eye(4, dtype=torch.float64), M, target)
    lm.run(100)
    values = torch.exp(model.theta.detach())
    torch.testing.assert_close(torch.stack([values[:2].sum(), values[2:].sum()]), target, atol=1e-10, rtol=0)
    for _ in range(_STALL_AND_ONE):
        lm.step()
    assert lm.converged and lm.step() == lm.loss  # a converged LM leaves the parameters alone


def test_levenberg_marquardt_checks_the_matrix():
    model = _LogLinear(3)
    with pytest.raises(ValueError, match="sparse"):
        LevenbergMarquardt(model, torch.eye(3, dtype=torch.float64), torch.eye(3, dtype=torch.float64), 0.0)
    with pytest.raises(ValueError, match="sparse"):
        LevenbergMarquardt(model, torch.eye(3, dtype=torch.float64), torch.eye(4).to_sparse_coo(), 0.0)


def test_adam_decays_the_learning_rate_geometrically():
    model = _LogLinear(2)
    adam = Adam(model, lr=1e-1, iterations=10, lr_final=1e-3)
    for _ in range(10):
        adam.step(lambda: _backward(model))
    # lr_k = lr (lr_final / lr)^(k / iterations): lr_final after 10 steps
    assert adam._optimiser.param_groups[0]["lr"] == pytest.approx(1e-3, rel=1e-12)
    with pytest.raises(ValueError, match="lr must be"):
        Adam(model, lr=0.0, iterations=1)


def _backward(model):
    loss = (model.theta**2).sum()
    loss.backward()
    return float(loss.detach())


def test_minimise_keeps_the_best_scored_parameters_and_stops_at_tol():
    # Steps walk theta through 3, 2, 1, 2, 3, ...; the score is |theta - 1| + offset: the best is theta = 1.
    def walk(model, moves, offset):
        moves = iter(moves)

        def step():
            with torch.no_grad():
                model.theta.add_(next(moves))
            return float(model.theta.detach())

        def evaluate():
            return abs(float(model.theta.detach()) - 1.0) + offset, 0.0

        return step, evaluate

    model = _LogLinear(1, scale=3.0)
    run = minimise(model, *walk(model, [-1.0, -1.0, 1.0, 1.0, 1.0], 0.5), iterations=5)
    assert float(model.theta.detach()) == 1.0 and run.best_loss == 0.5 and run.best_iteration == 2
    assert run.losses == [2.0, 1.0, 2.0, 3.0, 4.0] and run.eval_iterations == [0, 1, 2, 3, 4, 5]
    model = _LogLinear(1, scale=3.0)
    run = minimise(model, *walk(model, [-1.0, -1.0, 1.0], 0.5), iterations=3, eval_every=None)
    assert run.eval_iterations == [3] and float(model.theta.detach()) == 2.0  # scored once, after the last step
    model = _LogLinear(1, scale=3.0)
    run = minimise(model, *walk(model, [-1.0, -1.0, 1.0], 0.0), iterations=3, tol=0.0)
    assert run.losses == [2.0, 1.0] and run.eval_losses[-1] == 0.0  # stops at the first score <= tol


def test_minimise_saves_before_every_score_and_resumes_to_the_same_run():
    # Adam on a quadratic with a noisy score drawn from a torch generator: the loop state, the module, the Adam
    # moments and the generator restored after an interruption give the numbers of the uninterrupted run.
    def run(saves=None, resume=None, restore=None):
        model = _LogLinear(3, scale=1.5)
        adam = Adam(model, lr=0.1, iterations=7, lr_final=0.01)
        noise = torch.Generator().manual_seed(0)
        if restore is not None:
            model.load_state_dict(restore["module"])
            adam.load_state_dict(restore["adam"])
            noise.set_state(restore["noise"])

        def evaluate():
            return float((model.theta.detach()**2).sum()) + 1e-3 * float(torch.rand(1, generator=noise)), 0.0

        def save(loop):
            saves.append({"loop": copy.deepcopy(loop), "module": copy.deepcopy(model.state_dict()),
                          "adam": copy.deepcopy(adam.state_dict()), "noise": noise.get_state()})

        result = minimise(model, lambda: adam.step(lambda: _backward(model)), evaluate, iterations=7,
                          eval_every=3, save=save if saves is not None else None, resume=resume)
        return result, model

    full, model = run()
    saves = []
    run(saves=saves)
    assert [s["loop"]["taken"] for s in saves] == [3, 6, 7]  # before every score, and after the last step
    resumed, again = run(resume=saves[0]["loop"], restore=saves[0])
    assert resumed == full
    torch.testing.assert_close(again.theta, model.theta, rtol=0, atol=0)
    with pytest.raises(ValueError, match="lacks the loop state"):
        minimise(model, lambda: 0.0, lambda: (0.0, 0.0), iterations=1, resume={"taken": 0})


def test_levenberg_marquardt_state_round_trip():
    # An LM rebuilt over the same parameters with the saved damping continues exactly as the original.
    k = 6
    M = torch.as_tensor(np.eye(k) + 0.2 * np.eye(k, k=1)).to_sparse_coo()
    target = torch.linspace(1.0, 2.0, k, dtype=torch.float64)
    first = _LogLinear(k, scale=0.0)
    lm = LevenbergMarquardt(first, torch.eye(k, dtype=torch.float64), M, target)
    lm.run(2)
    state = lm.state_dict()
    second = _LogLinear(k, scale=0.0)
    second.load_state_dict(first.state_dict())
    twin = LevenbergMarquardt(second, torch.eye(k, dtype=torch.float64), M, target)
    twin.load_state_dict(state)
    assert [lm.step() for _ in range(3)] == [twin.step() for _ in range(3)] and twin.losses == lm.losses
