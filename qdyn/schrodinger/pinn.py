"""Physics-informed neural network eigen-solvers: ``solve_eigen(problem, k, method="pinn", mode=...)``.

``mode="paper"`` reproduces "Physics-Informed Neural Networks for One-Dimensional Quantum Well Problems"
(2025):
the hard-Dirichlet trial function ``psi = (x - a)(b - x) N(x)`` (a tanh network), the loss
``mean((-c psi'' + V psi - E psi)^2) + lambda (L mean(psi^2) - 1)^2`` on seeded uniform collocation points,
``E``
fixed (``energy=``, e.g. ``pi^2`` for the infinite well) or a trainable scalar (``energy_init=``), Adam,
float32 by
default. It solves one state (``k=1``). With a fixed ``E`` the reported energy is the Rayleigh quotient of the
trained ``psi``.

The default mode is what a careful user would want (see :mod:`qdyn.nets.pinn_training`): ``E`` as Rayleigh
quotients by Gauss-Legendre quadrature split at the jumps, all ``k`` states at once by a Rayleigh-Ritz step
in the
span of each network's last hidden layer (the higher states are deflated against the lower by construction),
a scale-invariant residual term, parity networks when the problem is mirror symmetric (the ``n``-th state of a
symmetric 1D potential has parity ``(-1)^n``), kink features at the jumps, a trainable Gaussian envelope, Adam
then L-BFGS in float64, seeded initialisation, CPU or CUDA, tqdm progress, checkpoint/resume.

Every eigenpair reports ``r = ||H psi - E psi||`` for the normalised ``psi`` (split Gauss-Legendre
quadrature on
nodes finer than the training ones): an exact eigenvalue lies within ``r`` of ``E`` (Krylov-Weinstein), and
its
distance to the reference (analytic levels, else split Chebyshev).
"""

from __future__ import annotations

import numpy as np

from qdyn.devices import resolve_device, torch_dtype
from qdyn.errors import check_choice, check_int, check_positive, require
from qdyn.results import Resources, Stopwatch, make_metadata
from qdyn.schrodinger.quadrature import split_gauss_legendre
from qdyn.schrodinger.result import EigenResult, normalise_states
from qdyn.schrodinger.solve import reference_levels
from qdyn.seeding import make_rng

__all__ = ["MODES", "solve_pinn"]

MODES = ("default", "paper")
_GRID = 801  #: points of the uniform grid the states are returned on


def solve_pinn(
    problem,
    k: int = 1,
    mode: str = "default",
    *,
    seed=None,
    device: str = "cpu",
    precision: str | None = None,
    width: int | None = None,
    depth: int = 2,
    adam_epochs: int | None = None,
    lbfgs_iters: int | None = None,
    lr: float | None = None,
    lr_final: float | None = None,
    n_quad: int = 48,
    residual_weight: float = 1e-4,
    parity: bool = True,
    input_scale: float | None = None,
    decay: float | None = None,
    energy: float | None = None,
    energy_init: float | None = None,
    n_collocation: int = 256,
    norm_weight: float | None = None,
    progress: bool = False,
    checkpoint=None,
    resume: bool = True,
    checkpoint_every: int = 100,
    callback=None,
) -> EigenResult:
    """PINN eigenpairs of ``problem`` (see the module docstring).

    ``decay`` initialises the envelope's ``exp(-decay t^2)`` (30 on the line, 1 in a box) and
    ``input_scale`` the
    first layer's weights (2 on the line, 4 in a box). Defaults: default mode - width 32, depth 2, Adam 500
    epochs with the learning rate decaying from ``lr=1e-2``
    to ``lr_final=lr/100``, then up to 300 L-BFGS iterations, float64; paper mode - width 32, depth 2, Adam
    3000
    epochs at the constant ``lr=1e-3``, float32.
    """
    torch = require("torch", purpose="PINN solvers")
    from qdyn.nets.pinn import PINNWavefunction
    from qdyn.nets.pinn_training import paper_objective, ritz_eigenpairs, ritz_objective, train

    check_choice("mode", mode, MODES)
    k = check_int("k", k, minimum=1)
    paper = mode == "paper"
    if paper and k != 1:
        raise ValueError(
            f"mode='paper' solves one state (k=1), as in the paper; got k={k}. "
            "Use the default mode for excited states."
        )
    device = resolve_device(device)
    precision = precision or ("single" if paper else "double")
    dtype = torch_dtype(precision, complex_=False)
    width = check_int("width", 32 if width is None else width, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    adam_epochs = check_int(
        "adam_epochs", (3000 if paper else 500) if adam_epochs is None else adam_epochs, minimum=0
    )
    lbfgs_iters = check_int(
        "lbfgs_iters", (0 if paper else 300) if lbfgs_iters is None else lbfgs_iters, minimum=0
    )
    lr = check_positive("lr", (1e-3 if paper else 1e-2) if lr is None else lr)
    lr_final = None if paper and lr_final is None else check_positive("lr_final", lr_final or lr / 100)
    n_quad = check_int("n_quad", n_quad, minimum=4)
    _, recorded = make_rng(seed)

    def tensor(a):
        return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)

    c, (a, b) = problem.c, problem.domain
    x_eval, w_eval = split_gauss_legendre(problem.breakpoints, 2 * n_quad)
    xe, we, ve = tensor(x_eval), tensor(w_eval), tensor(problem.V(x_eval))
    x_grid = np.linspace(a, b, _GRID)
    with Stopwatch() as clock:
        if paper:
            rng = np.random.default_rng(recorded)
            x_col = np.sort(rng.uniform(a, b, check_int("n_collocation", n_collocation, minimum=8)))
            model = PINNWavefunction(problem.domain, width, depth, seed=recorded, dtype=dtype, device=device)
            fixed = energy is not None
            e0 = energy if fixed else (energy_init if energy_init is not None else _energy_guess(problem))
            e_param = torch.nn.Parameter(tensor(float(e0)), requires_grad=not fixed)
            modules = {"psi": model} if fixed else {"psi": model, "energy": _Scalar(e_param)}
            objective = paper_objective(
                model,
                e_param,
                tensor(x_col),
                tensor(problem.V(x_col)),
                c,
                problem.length,
                # The residual of a normalised psi is ~ (energy scale)^2: weigh the norm penalty to match.
                check_positive(
                    "norm_weight", _energy_scale(problem) ** 2 if norm_weight is None else norm_weight
                ),
            )
        else:
            line = problem.boundary == "decaying"
            decay = check_positive("decay", (30.0 if line else 1.0) if decay is None else decay)
            input_scale = check_positive(
                "input_scale", (2.0 if line else 4.0) if input_scale is None else input_scale
            )
            sectors = (
                {1: (k + 1) // 2, -1: k // 2} if (parity and problem.parity_center is not None) else {None: k}
            )
            sectors = {p: n for p, n in sectors.items() if n > 0}
            kinks = tuple(problem.breakpoints[1:-1])
            models = {
                p: PINNWavefunction(
                    problem.domain,
                    width,
                    depth,
                    parity=p,
                    kinks=kinks,
                    decay=decay,
                    input_scale=input_scale,
                    seed=recorded + i,
                    dtype=dtype,
                    device=device,
                )
                for i, p in enumerate(sectors)
            }
            x_q, w_q = split_gauss_legendre(problem.breakpoints, n_quad)
            v_q = problem.V(x_q)
            scale = _energy_scale(problem)
            modules = {str(p): m for p, m in models.items()}
            objective = ritz_objective(
                models, sectors, tensor(x_q), tensor(w_q), tensor(v_q), c, scale, residual_weight
            )
        history = train(
            objective,
            modules,
            adam_epochs,
            lbfgs_iters,
            lr,
            lr_final,
            progress=progress,
            desc=f"PINN {mode} {problem.name}",
            checkpoint=checkpoint,
            resume=resume,
            checkpoint_every=checkpoint_every,
            callback=callback,
        )
        if paper:
            with torch.no_grad():
                psi, d1, d2 = (t.detach() for t in model.derivatives(xe))
                norm = torch.sqrt((we * psi * psi).sum())
                psi, d1, d2 = psi / norm, d1 / norm, d2 / norm
                e = float(e_param) if not fixed else float((we * (c * d1 * d1 + ve * psi * psi)).sum())
                energies = np.array([e])
                residuals = np.array([float(torch.sqrt((we * (-c * d2 + (ve - e) * psi) ** 2).sum()))])
                states = model(tensor(x_grid)).detach().cpu().numpy()[None, :]
        else:
            found = []
            with torch.no_grad():
                for p, m in models.items():
                    _, psi, d1, d2, coef = ritz_eigenpairs(m, xe, we, ve, c, sectors[p])
                    # Explicit Rayleigh quotients of the normalised Ritz vectors (variational upper bounds).
                    norm = torch.sqrt((we[:, None] * psi * psi).sum(0))
                    psi, d1, d2 = psi / norm, d1 / norm, d2 / norm
                    e = (we[:, None] * (c * d1 * d1 + ve[:, None] * psi * psi)).sum(0)
                    res = torch.sqrt((we[:, None] * (-c * d2 + (ve[:, None] - e[None, :]) * psi) ** 2).sum(0))
                    grid = m.basis(tensor(x_grid))[0] @ coef
                    found += [
                        (float(e[j]), float(res[j]), grid[:, j].cpu().numpy()) for j in range(sectors[p])
                    ]
            found.sort(key=lambda item: item[0])
            energies = np.array([f[0] for f in found])
            residuals = np.array([f[1] for f in found])
            states = np.array([f[2] for f in found])
    weights = np.full(_GRID, (b - a) / (_GRID - 1))
    weights[[0, -1]] *= 0.5
    n_params = sum(p.numel() for m in modules.values() for p in m.parameters())
    options = dict(
        mode=mode,
        width=width,
        depth=depth,
        adam_epochs=adam_epochs,
        lbfgs_iters=lbfgs_iters,
        lr=lr,
        precision=precision,
        problem=problem.name,
    )
    return EigenResult(
        energies=energies,
        x=x_grid,
        states=normalise_states(states, weights),
        weights=weights,
        method="pinn",
        grid=int(n_params),
        residuals=residuals,
        reference=reference_levels(problem, k),
        mode=mode,
        history=({"loss": np.array(history["loss"]), "energy": np.array(history["energy"])},),
        resources=Resources(epochs=int(history["epochs"]), wall_time=clock.elapsed),
        metadata=make_metadata(seed=recorded, backend="pinn", device=device, **options),
    )


def _energy_scale(problem) -> float:
    """``c (pi / L)^2 + (max V - min V)``: the size of the energies and of ``H psi`` for a normalised
    ``psi``."""
    x, _ = split_gauss_legendre(problem.breakpoints, 16)
    return float(problem.c * (np.pi / problem.length) ** 2 + np.ptp(problem.V(x)))


def _energy_guess(problem) -> float:
    """Paper-mode starting energy: the box's ground level above the potential's minimum."""
    x, _ = split_gauss_legendre(problem.breakpoints, 16)
    return float(problem.V(x).min() + problem.c * (np.pi / problem.length) ** 2)


class _Scalar:
    """Holds a trainable scalar so :func:`qdyn.nets.pinn_training.train` can optimise and checkpoint it."""

    def __init__(self, param):
        self.param = param

    def parameters(self):
        return [self.param]

    def state_dict(self):
        return {"value": self.param.detach().clone()}

    def load_state_dict(self, state):
        self.param.data.copy_(state["value"])
