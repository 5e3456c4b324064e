"""The Rayleigh-Ritz PINN eigen-solver: ``solve_eigen(problem, k, method="pinn")``.

What a careful user would want (the objective is in :mod:`qdyn.nets.pinn_training`): ``E`` as Rayleigh quotients
by Gauss-Legendre quadrature split at the jumps, all ``k`` states at once by a Rayleigh-Ritz step in the span of
each network's last hidden layer (the higher states are deflated against the lower by construction), a
scale-invariant residual term, parity networks when the problem is mirror symmetric (the ``n``-th state of a
symmetric 1D potential has parity ``(-1)^n``), kink features at the jumps, a trainable Gaussian envelope, Adam
then L-BFGS in float64, seeded initialisation, CPU or CUDA, tqdm progress, checkpoint/resume.

Every eigenpair reports ``r = ||H psi - E psi||`` for the normalised ``psi`` on nodes finer than the training
ones (:mod:`qdyn.schrodinger.pinn_common`): an exact eigenvalue lies within ``r`` of ``E`` (Krylov-Weinstein),
and its distance to the reference (analytic levels, else split Chebyshev).
"""

from __future__ import annotations

import numpy as np

from qdyn.errors import check_positive
from qdyn.results import Stopwatch
from qdyn.schrodinger.pinn_common import energy_scale, pinn_result, pinn_setup, rayleigh_residuals
from qdyn.schrodinger.quadrature import split_gauss_legendre

__all__ = ["solve_pinn_ritz"]


def solve_pinn_ritz(
    problem,
    k: int = 1,
    *,
    seed=None,
    device: str = "cpu",
    precision: str = "double",
    width: int = 32,
    depth: int = 2,
    adam_epochs: int = 500,
    lbfgs_iters: int = 300,
    lr: float = 1e-2,
    lr_final: float | None = None,
    n_quad: int = 48,
    residual_weight: float = 1e-4,
    parity: bool = True,
    input_scale: float | None = None,
    decay: float | None = None,
    progress: bool = False,
    checkpoint=None,
    resume: bool = True,
    checkpoint_every: int = 100,
    callback=None,
):
    """The ``k`` lowest eigenpairs of ``problem`` by the Rayleigh-Ritz PINN (see the module docstring).

    Networks of ``width`` x ``depth`` tanh units (one per parity sector when ``parity`` and the problem is
    mirror symmetric), trained by Adam for ``adam_epochs`` with the learning rate decaying geometrically from
    ``lr`` to ``lr_final`` (default ``lr / 100``), then up to ``lbfgs_iters`` L-BFGS iterations; ``n_quad``
    Gauss-Legendre nodes per smooth piece; ``residual_weight`` the weight of the scaled residual term;
    ``decay`` initialises the envelope's ``exp(-decay t^2)`` (30 on the line, 1 in a box) and ``input_scale``
    the first layer's weights (2 on the line, 4 in a box). ``precision`` ``"double"`` or ``"single"``;
    ``device`` ``"cpu" | "cuda" | "auto"``; ``seed`` int, Generator or None (recorded). Long work:
    ``progress`` (tqdm), ``checkpoint`` (a path) with ``resume``, saved every ``checkpoint_every`` epochs;
    ``callback(epoch, loss, energies)`` after each history entry. Returns an
    :class:`~qdyn.schrodinger.result.EigenResult` with ``method="pinn"``.
    """
    setup, k = pinn_setup(problem, k, seed=seed, device=device, precision=precision, width=width, depth=depth,
                          adam_epochs=adam_epochs, lbfgs_iters=lbfgs_iters, lr=lr, lr_final=lr_final,
                          lr_final_ratio=1 / 100, n_quad=n_quad)
    from qdyn.nets.pinn import PINNWavefunction
    from qdyn.nets.pinn_training import ritz_eigenpairs, ritz_objective, train

    torch, tensor, c = setup.torch, setup.tensor, problem.c
    xe, we, ve = setup.x_eval, setup.w_eval, setup.v_eval
    with Stopwatch() as clock:
        line = problem.boundary == "decaying"
        decay = check_positive("decay", (30.0 if line else 1.0) if decay is None else decay)
        input_scale = check_positive("input_scale", (2.0 if line else 4.0) if input_scale is None else input_scale)
        sectors = {1: (k + 1) // 2, -1: k // 2} if (parity and problem.parity_center is not None) else {None: k}
        sectors = {p: n for p, n in sectors.items() if n > 0}
        kinks = tuple(problem.breakpoints[1:-1])
        models = {
            p: PINNWavefunction(problem.domain, width=setup.width, depth=setup.depth, parity=p, kinks=kinks,
                                decay=decay, input_scale=input_scale, seed=setup.seed + i, dtype=setup.dtype,
                                device=setup.device)
            for i, p in enumerate(sectors)
        }
        x_q, w_q = split_gauss_legendre(problem.breakpoints, setup.n_quad)
        modules = {str(p): m for p, m in models.items()}
        objective = ritz_objective(models, sectors, tensor(x_q), tensor(w_q), tensor(problem.V(x_q)), c,
                                   energy_scale(problem), residual_weight)
        history = train(objective, modules, adam_epochs=setup.adam_epochs, lbfgs_iters=setup.lbfgs_iters,
                        lr=setup.lr, lr_final=setup.lr_final, progress=progress, desc=f"PINN {problem.name}",
                        checkpoint=checkpoint, resume=resume, checkpoint_every=checkpoint_every,
                        callback=callback, check=_GuardedRitz(models, sectors, xe, we, ve, c))
        found = []
        with torch.no_grad():
            for p, m in models.items():
                _, psi, d1, d2, coef = ritz_eigenpairs(m, xe, we, ve, c, sectors[p])
                # explicit Rayleigh quotients of the normalised Ritz vectors (variational upper bounds)
                e, res = rayleigh_residuals(psi, d1, d2, we, ve, c)
                grid = m.basis(tensor(setup.x_grid))[0] @ coef
                found += [(float(e[j]), float(res[j]), grid[:, j].cpu().numpy()) for j in range(sectors[p])]
        found.sort(key=lambda item: item[0])
    return pinn_result(problem, k, "pinn", setup, energies=[f[0] for f in found], residuals=[f[1] for f in found],
                       states=np.array([f[2] for f in found]), modules=modules, history=history,
                       wall_time=clock.elapsed)


class _GuardedRitz:
    """L-BFGS acceptance test: ``sum log(E_n - min V)`` of the Ritz values on the finer evaluation nodes, or
    ``inf`` when some ``E_n`` fell below ``E_n - r_n`` of the last accepted iterate. An exact level lies within
    ``r_n`` of ``E_n`` (Krylov-Weinstein), so a drop below that bound is not a better wavefunction but a long
    step whose states vary faster than the quadrature resolves (the Ritz values are upper bounds only under
    exact quadrature). Mirrors :func:`qdyn.nets.pinn_training.train`'s rule: a value below the last accepted
    one is accepted."""

    def __init__(self, models, sectors, x, w, v, c):
        self.models, self.sectors, self.x, self.w, self.v, self.c = models, sectors, x, w, v, c
        self.lower, self.value = None, float("inf")

    def __call__(self) -> float:
        import torch

        from qdyn.nets.pinn_training import ritz_eigenpairs

        energies, residuals = [], []
        with torch.no_grad():
            for p, m in self.models.items():
                _, psi, d1, d2, _ = ritz_eigenpairs(m, self.x, self.w, self.v, self.c, self.sectors[p])
                e, r = rayleigh_residuals(psi, d1, d2, self.w, self.v, self.c)
                energies.append(e)
                residuals.append(r)
        e, r = torch.cat(energies), torch.cat(residuals)
        if self.lower is not None and bool((e < self.lower).any()):
            return float("inf")
        value = float(torch.log(e - float(self.v.min())).sum())
        if value < self.value:
            self.value, self.lower = value, e - r
        return value
