"""Physics-informed neural network eigen-solvers: ``solve_eigen(problem, k, method="pinn", mode=...)``.

``mode="paper"`` follows "Physics-Informed Neural Networks for One-Dimensional Quantum Well Problems" (2025):
the hard-Dirichlet trial function ``psi = (x - a)(b - x) N(x)`` with ``N`` a tanh network, the loss
``mean((-c psi'' + V psi - E psi)^2) + lambda (L mean(psi^2) - 1)^2`` on seeded uniform collocation points,
``E`` fixed (``energy=``, e.g. ``pi^2`` for the infinite well) or a trainable scalar, Adam, float32 by default,
one state (``k=1``). The choices the paper leaves open are made so that it works on stiff problems too (the
atomic-unit well ``-psi''/2 + V psi``, ``V = 20`` outside ``|x| < 1.7``, walls at ``+-6``, failed with 0.62
relative error under the earlier choices: its untrained, box-wide ``psi`` has a Rayleigh quotient near
``max V``, the trainable ``E`` followed it up and the network settled on a high level; and the residual loss
is ill-conditioned there, its curvature along the next even level ``(E_2 - E_0)^2`` being ~50 times below
``(max V)^2``):

* input ``feature_scale * t``, ``t`` the position scaled to ``[-1, 1]`` and the stretch the half-width over
  two decay lengths ``sqrt(c / s)`` (``s`` the energy scale; 19 for that well, 1 for the infinite well);
* an even network (``N(x) + N(-x)``) when the problem is mirror symmetric (``parity=True``): the ground state
  is even, so the network cannot slide to the odd first excited state;
* ``E = E_init + u theta`` with ``theta`` trained, ``E_init`` a rough guess (``energy_init=``, default the
  lowest level of an 8-point finite-difference grid, 1e-2 to 2e-1 off) and ``u`` a quarter of
  ``E_init - min V``, so ``E`` drifts to the nearest level instead of chasing the untrained Rayleigh quotient;
* ``lambda = (E_init - min V)^2`` (a stiffer penalty pins ``|psi|`` and slows Adam; this one still makes
  ``psi = 0`` lose), 512 fixed seeded collocation points, Adam with the learning rate decaying geometrically
  from ``1e-2`` to ``1e-3`` over 6000 epochs, and the iterate of lowest loss kept (not the last one).

The reported energy is the Rayleigh quotient of the trained ``psi`` by split Gauss-Legendre quadrature (the
paper's trained ``E`` is in ``history[0]["energy"]``; near a jump of ``V`` it is biased by the network's
smoothing of the kink in ``psi''``, ~1e-2, whereas the Rayleigh quotient is second order in the error of
``psi``).

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
from qdyn.schrodinger.reference import reference_levels
from qdyn.schrodinger.result import EigenResult, normalise_states
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
    feature_scale: float | None = None,
    decay: float | None = None,
    energy: float | None = None,
    energy_init: float | None = None,
    n_collocation: int = 512,
    norm_weight: float | None = None,
    progress: bool = False,
    checkpoint=None,
    resume: bool = True,
    checkpoint_every: int = 100,
    callback=None,
) -> EigenResult:
    """PINN eigenpairs of ``problem`` (see the module docstring).

    ``decay`` initialises the envelope's ``exp(-decay t^2)`` (30 on the line, 1 in a box) and ``input_scale``
    the first layer's weights (2 on the line, 4 in a box) in the default mode; ``feature_scale``, ``energy``,
    ``energy_init``, ``n_collocation`` and ``norm_weight`` are paper-mode options (defaults in the module
    docstring). Defaults: default mode - width 32, depth 2, Adam 500 epochs with the learning rate decaying
    from ``lr=1e-2`` to ``lr_final=lr/100``, then up to 300 L-BFGS iterations, float64; paper mode - width 32,
    depth 2, Adam 6000 epochs from ``lr=1e-2`` to ``lr_final=lr/10``, float32. ``parity`` (default ``True``)
    uses networks of definite parity when the problem is mirror symmetric, in both modes.
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
        "adam_epochs", (6000 if paper else 500) if adam_epochs is None else adam_epochs, minimum=0
    )
    lbfgs_iters = check_int(
        "lbfgs_iters", (0 if paper else 300) if lbfgs_iters is None else lbfgs_iters, minimum=0
    )
    lr = check_positive("lr", 1e-2 if lr is None else lr)
    lr_final = check_positive("lr_final", lr_final or lr / (10 if paper else 100))
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
            v_min = float(problem.V(x_eval).min())
            fixed = energy is not None
            e0 = float(energy if fixed else (energy_init if energy_init is not None else _energy_guess(problem)))
            # Energy unit of the trainable E (E = e0 + unit * theta, Adam moves theta by ~lr a step): a quarter
            # of the guess above min V, so E drifts to the level nearest the guess instead of chasing the
            # untrained psi's Rayleigh quotient (up to max V) and landing on a higher level.
            unit = 0.25 * max(e0 - v_min, problem.c * (np.pi / problem.length) ** 2)
            model = PINNWavefunction(
                problem.domain,
                width,
                depth,
                # the ground state of a mirror-symmetric problem is even: an even network cannot drift to the
                # odd first excited state (the barrier's tunnelling partner lies only 38% higher)
                parity=1 if (parity and problem.parity_center is not None) else None,
                feature_scale=check_positive(
                    "feature_scale", _feature_scale(problem) if feature_scale is None else feature_scale
                ),
                seed=recorded,
                dtype=dtype,
                device=device,
            )
            theta = torch.nn.Parameter(tensor(0.0), requires_grad=not fixed)
            modules = {"psi": model} if fixed else {"psi": model, "energy": _Scalar(theta)}

            def energy_value():
                return e0 + unit * theta

            objective = paper_objective(
                model,
                energy_value,
                tensor(x_col),
                tensor(problem.V(x_col)),
                c,
                problem.length,
                # A stiff penalty (the residual's scale squared) pins |psi| and slows Adam along the
                # constraint; (E - min V)^2 still makes psi = 0 (loss norm_weight) worse than a state whose
                # mean squared residual is below it.
                check_positive("norm_weight", (e0 - v_min) ** 2 if norm_weight is None else norm_weight),
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
            check = _GuardedRitz(models, sectors, xe, we, ve, c)
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
            keep_best=paper,
            check=None if paper else check,
        )
        if paper:
            with torch.no_grad():
                psi, d1, d2 = (t.detach() for t in model.derivatives(xe))
                norm = torch.sqrt((we * psi * psi).sum())
                psi, d1, d2 = psi / norm, d1 / norm, d2 / norm
                e = float((we * (c * d1 * d1 + ve * psi * psi)).sum())
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
        history=(
            {"loss": np.array(history["loss"]), "energy": np.array(history["energy"])}
            | ({"best_epoch": history["best_epoch"]} if paper else {}),
        ),
        resources=Resources(epochs=int(history["epochs"]), wall_time=clock.elapsed),
        metadata=make_metadata(seed=recorded, backend="pinn", device=device, **options),
    )


def _energy_scale(problem) -> float:
    """``c (pi / L)^2 + (max V - min V)``: the size of the energies and of ``H psi`` for a normalised
    ``psi``."""
    x, _ = split_gauss_legendre(problem.breakpoints, 16)
    return float(problem.c * (np.pi / problem.length) ** 2 + np.ptp(problem.V(x)))


def _energy_guess(problem) -> float:
    """Paper-mode starting energy, a rough hand estimate: the lowest level of an 8-point finite-difference
    grid (1e-2 to 2e-1 relative error on the wells and barriers here)."""
    from qdyn.schrodinger.fd import fd_eigen

    return float(fd_eigen(problem, 1, n=8)[0][0])


def _feature_scale(problem) -> float:
    """Paper-mode input stretch: the half-width over two decay lengths ``sqrt(c / s)`` (``s`` the energy
    scale), at least 1 - about 19 for the atomic-unit well, 1 for the infinite well on [0, 1]."""
    return max(1.0, 0.5 * (problem.length / 2) * np.sqrt(_energy_scale(problem) / problem.c))


class _GuardedRitz:
    """L-BFGS acceptance test for the default mode: ``sum log(E_n - min V)`` of the Ritz values on the finer
    evaluation nodes, or ``inf`` when some ``E_n`` fell below ``E_n - r_n`` of the last accepted iterate. An
    exact level lies within ``r_n`` of ``E_n`` (Krylov-Weinstein), so a drop below that bound is not a better
    wavefunction but a long step whose states vary faster than the quadrature resolves (the Ritz values are
    upper bounds only under exact quadrature). Mirrors :func:`qdyn.nets.pinn_training.train`'s rule: a value
    below the last accepted one is accepted."""

    def __init__(self, models, sectors, x, w, v, c):
        self.models, self.sectors, self.x, self.w, self.v, self.c = models, sectors, x, w, v, c
        self.lower, self.value = None, float("inf")

    def __call__(self) -> float:
        import torch

        from qdyn.nets.pinn_training import ritz_eigenpairs

        w, v, c = self.w[:, None], self.v[:, None], self.c
        energies, residuals = [], []
        with torch.no_grad():
            for p, m in self.models.items():
                _, psi, d1, d2, _ = ritz_eigenpairs(m, self.x, self.w, self.v, c, self.sectors[p])
                psi, d1, d2 = (f / torch.sqrt((w * psi * psi).sum(0)) for f in (psi, d1, d2))
                e = (w * (c * d1 * d1 + v * psi * psi)).sum(0)
                energies.append(e)
                residuals.append(torch.sqrt((w * (-c * d2 + (v - e[None, :]) * psi) ** 2).sum(0)))
        e, r = torch.cat(energies), torch.cat(residuals)
        if self.lower is not None and bool((e < self.lower).any()):
            return float("inf")
        value = float(torch.log(e - float(self.v.min())).sum())
        if value < self.value:
            self.value, self.lower = value, e - r
        return value


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
