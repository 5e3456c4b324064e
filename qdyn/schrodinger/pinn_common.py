"""What the two PINN eigen-solvers share: option checks, the evaluation nodes, the energies and residual bounds
of trained states, and the assembly of the :class:`~qdyn.schrodinger.result.EigenResult`.

The solvers are :func:`qdyn.schrodinger.pinn_ritz.solve_pinn_ritz` (``method="pinn"``) and
:func:`qdyn.schrodinger.pinn_paper.solve_pinn_paper` (``method="pinn-paper"``).

Every trained state is judged on split Gauss-Legendre nodes finer than the training ones (``2 n_quad`` per
smooth piece): its Rayleigh quotient ``E = int (c psi'^2 + V psi^2) / int psi^2`` (an upper bound of the lowest
level of its symmetry class under exact quadrature) and ``r = ||H psi - E psi||`` for the normalised ``psi``
in L2 of the domain: an exact eigenvalue lies within ``r`` of ``E`` (Krylov-Weinstein).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdyn.devices import resolve_device, torch_dtype
from qdyn.errors import check_int, check_positive, require
from qdyn.results import Resources, make_metadata
from qdyn.schrodinger.problems import Problem
from qdyn.schrodinger.quadrature import split_gauss_legendre
from qdyn.schrodinger.reference import reference_levels
from qdyn.schrodinger.result import EigenResult, normalise_states
from qdyn.seeding import make_rng

__all__ = ["GRID", "PINNSetup", "energy_scale", "pinn_result", "pinn_setup", "rayleigh_residuals"]

GRID = 801  #: points of the uniform grid the states are returned on


@dataclass(frozen=True)
class PINNSetup:
    """Checked options of one PINN run, the torch dtype and device, and the evaluation nodes as tensors."""

    torch: object
    device: str
    precision: str
    dtype: object
    width: int
    depth: int
    adam_epochs: int
    lbfgs_iters: int
    lr: float
    lr_final: float
    n_quad: int
    seed: int  #: the recorded integer seed
    nodes: np.ndarray  #: split Gauss-Legendre evaluation nodes (2 n_quad per smooth piece)
    x_eval: object  #: the nodes as a tensor
    w_eval: object  #: their weights, tensor
    v_eval: object  #: the potential there, tensor
    x_grid: np.ndarray  #: the uniform grid of GRID points the states are returned on

    def tensor(self, a):
        """``a`` as a tensor of the run's dtype on its device."""
        return self.torch.as_tensor(np.asarray(a), dtype=self.dtype, device=self.device)


def pinn_setup(problem, k, *, seed, device, precision, width, depth, adam_epochs, lbfgs_iters, lr, lr_final,
               lr_final_ratio: float, n_quad) -> tuple[PINNSetup, int]:
    """Check the options both solvers take and build the evaluation nodes; return ``(setup, k)``.

    ``lr_final`` defaults to ``lr * lr_final_ratio``. Raises ``TypeError`` for a ``problem`` that is not a
    :class:`~qdyn.schrodinger.problems.Problem` and ``ValueError`` naming the argument for bad values.
    """
    torch = require("torch", purpose="PINN solvers")
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a qdyn.schrodinger.Problem, got {type(problem).__name__}")
    k = check_int("k", k, minimum=1)
    device = resolve_device(device)
    dtype = torch_dtype(precision, complex_=False)
    width = check_int("width", width, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    adam_epochs = check_int("adam_epochs", adam_epochs, minimum=0)
    lbfgs_iters = check_int("lbfgs_iters", lbfgs_iters, minimum=0)
    lr = check_positive("lr", lr)
    lr_final = check_positive("lr_final", lr * lr_final_ratio if lr_final is None else lr_final)
    n_quad = check_int("n_quad", n_quad, minimum=4)
    _, recorded = make_rng(seed)
    x_eval, w_eval = split_gauss_legendre(problem.breakpoints, 2 * n_quad)

    def tensor(a):
        return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)

    setup = PINNSetup(torch, device, precision, dtype, width, depth, adam_epochs, lbfgs_iters, lr, lr_final, n_quad,
                      recorded, x_eval, tensor(x_eval), tensor(w_eval), tensor(problem.V(x_eval)),
                      np.linspace(*problem.domain, GRID))
    return setup, k


def energy_scale(problem) -> float:
    """``c (pi / L)^2 + (max V - min V)``: the size of the energies and of ``H psi`` for a normalised ``psi``."""
    x, _ = split_gauss_legendre(problem.breakpoints, 16)
    return float(problem.c * (np.pi / problem.length) ** 2 + np.ptp(problem.V(x)))


def rayleigh_residuals(psi, d1, d2, w, v, c: float):
    """``(E, r)`` for the columns of ``psi`` (values ``psi``, ``psi'``, ``psi''`` at nodes of weights ``w``, with
    the potential ``v``): ``E = sum w (c psi'^2 + v psi^2)`` and ``r = sqrt(sum w (-c psi'' + (v - E) psi)^2)``
    after normalising each column to ``sum w psi^2 = 1`` (see the module docstring)."""
    torch = require("torch", purpose="PINN solvers")
    w, v = w[:, None], v[:, None]
    norm = torch.sqrt((w * psi * psi).sum(0))
    psi, d1, d2 = psi / norm, d1 / norm, d2 / norm
    e = (w * (c * d1 * d1 + v * psi * psi)).sum(0)
    return e, torch.sqrt((w * (-c * d2 + (v - e[None, :]) * psi) ** 2).sum(0))


def pinn_result(problem, k: int, method: str, setup: PINNSetup, *, energies, residuals, states, modules,
                history: dict, wall_time: float, extra_history: dict | None = None) -> EigenResult:
    """The :class:`EigenResult` of a PINN run: ``states`` sampled on ``setup.x_grid`` (trapezoid weights), the
    reference levels of :func:`qdyn.schrodinger.reference.reference_levels`, ``grid`` the number of trained
    parameters, the training history (``loss``, ``energy`` per entry, plus ``extra_history``) and the
    resources and metadata of the run."""
    a, b = problem.domain
    weights = np.full(GRID, (b - a) / (GRID - 1))
    weights[[0, -1]] *= 0.5
    n_params = sum(p.numel() for m in modules.values() for p in m.parameters())
    options = dict(width=setup.width, depth=setup.depth, adam_epochs=setup.adam_epochs,
                   lbfgs_iters=setup.lbfgs_iters, lr=setup.lr, precision=setup.precision, problem=problem.name)
    return EigenResult(
        energies=np.asarray(energies, dtype=np.float64),
        x=setup.x_grid,
        states=normalise_states(states, weights),
        weights=weights,
        method=method,
        grid=int(n_params),
        residuals=np.asarray(residuals, dtype=np.float64),
        reference=reference_levels(problem, k),
        history=({"loss": np.array(history["loss"]), "energy": np.array(history["energy"])}
                 | (extra_history or {}),),
        resources=Resources(epochs=int(history["epochs"]), wall_time=wall_time),
        metadata=make_metadata(seed=setup.seed, backend="pinn", device=setup.device, **options),
    )
