"""What the two PINN eigen-solvers share: option checks, the evaluation nodes, the energies, residuals and error
bounds of trained states, checkpoint fingerprints, and the assembly of the
:class:`~qdyn.schrodinger.result.EigenResult`.

The solvers are :func:`qdyn.schrodinger.pinn_ritz.solve_pinn_ritz` (``method="pinn"``) and
:func:`qdyn.schrodinger.pinn_paper.solve_pinn_paper` (``method="pinn-paper"``).

Every trained state is judged on split Gauss-Legendre nodes finer than the training ones (``2 n_quad`` per
piece): its Rayleigh quotient ``E = int (c psi'^2 + V psi^2) / int psi^2`` (an upper bound of the lowest level of
its symmetry class under exact quadrature), ``r = ||H psi - E psi||`` for the normalised ``psi`` in L2 of the
window (an exact eigenvalue lies within ``r`` of ``E``: Krylov-Weinstein), and the Kato-Temple bound ``r^2 / gap``
of its error (:mod:`qdyn.schrodinger.bounds`), with the neighbouring levels from the converged Chebyshev solve of
the operator the trial functions live in (the problem on the network's window with hard walls). A run whose
bound misses ``tol * max(|E|, c (pi / L)^2)`` for some level is ``converged=False`` and warns.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from qdyn.devices import resolve_device, torch_dtype
from qdyn.errors import ConvergenceWarning, check_int, check_positive, require
from qdyn.results import Resources, make_metadata
from qdyn.schrodinger.bounds import kato_temple
from qdyn.schrodinger.pinn_grid import PINNGrid
from qdyn.schrodinger.problems import Problem
from qdyn.schrodinger.quadrature import split_gauss_legendre
from qdyn.schrodinger.reference import reference_levels
from qdyn.schrodinger.refine import refine, targets, window_truncation
from qdyn.schrodinger.result import EigenResult, normalise_states
from qdyn.seeding import make_rng

__all__ = ["GRID", "PINNSetup", "box_of", "check_problem", "energy_scale", "judge", "neighbour_levels", "on_window",
           "pinn_fingerprint", "pinn_result", "pinn_setup", "rayleigh_residuals"]

GRID = 801  #: points of the uniform grid the states are returned on


@dataclass(frozen=True)
class PINNSetup:
    """Checked options of one PINN run, the torch dtype and device, the window and the evaluation nodes."""

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
    tol: float
    seed: int  #: the recorded integer seed
    grid: PINNGrid  #: the window (a box problem), its quadrature pieces and the envelope centre
    nodes: np.ndarray  #: split Gauss-Legendre evaluation nodes (2 n_quad per piece)
    x_eval: object  #: the nodes as a tensor
    w_eval: object  #: their weights, tensor
    v_eval: object  #: the potential there, tensor
    x_grid: np.ndarray  #: the uniform grid of GRID points over the problem's domain the states are returned on

    def tensor(self, a):
        """``a`` as a tensor of the run's dtype on its device."""
        return self.torch.as_tensor(np.asarray(a), dtype=self.dtype, device=self.device)


def pinn_setup(problem, *, seed, device, precision, width, depth, adam_epochs, lbfgs_iters, lr, lr_final,
               lr_final_ratio: float, n_quad, tol, grid: PINNGrid) -> PINNSetup:
    """Check the options both solvers take and build the evaluation nodes on ``grid`` (``problem``, ``k`` and
    ``tol`` checked by :func:`check_problem` first). ``lr_final`` defaults to ``lr * lr_final_ratio``; a bad value
    raises ``ValueError`` naming the argument."""
    torch = require("torch", purpose="PINN solvers")
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
    x_eval, w_eval = split_gauss_legendre(grid.edges, 2 * n_quad)

    def tensor(a):
        return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)

    setup = PINNSetup(torch, device, precision, dtype, width, depth, adam_epochs, lbfgs_iters, lr, lr_final, n_quad,
                      tol, recorded, grid, x_eval, tensor(x_eval), tensor(w_eval), tensor(problem.V(x_eval)),
                      np.linspace(*problem.domain, GRID))
    return setup


def check_problem(problem, k, tol) -> tuple[int, float]:
    """``(k, tol)`` checked for a PINN run on ``problem``."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a qdyn.schrodinger.Problem, got {type(problem).__name__}")
    return check_int("k", k, minimum=1), check_positive("tol", tol)


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


def pinn_fingerprint(problem, k: int, method: str, setup: PINNSetup, modules: dict, **options) -> dict:
    """What a PINN checkpoint records of its run (:func:`qdyn.nets.training.load_checkpoint` refuses another's):
    the method, the potential (its name, parameters, jumps and its values at the evaluation nodes, which identify
    a user's callable), the domain, boundary and units, ``k``, the window and quadrature, the network layout
    (each module's tensor names and shapes), the training options, the precision and the seed."""
    from qdyn.nets.training import digest

    pot = problem.potential
    layout = {name: [(key, tuple(t.shape)) for key, t in m.state_dict().items()] for name, m in modules.items()}
    plain = {key: (value if isinstance(value, int | float | str | bool) or value is None else repr(value))
             for key, value in options.items()}
    return {"kind": f"schrodinger-{method}",
            "potential": digest({"name": pot.name, "params": {str(a): repr(b) for a, b in pot.params.items()},
                                 "jumps": list(pot.discontinuities), "values": setup.v_eval}),
            "domain": repr(problem.domain), "boundary": problem.boundary, "hbar2_over_2m": problem.c, "k": k,
            "window": repr(setup.grid.problem.domain), "quadrature": digest(setup.grid.edges),
            "network": digest(layout), "width": setup.width, "depth": setup.depth,
            "adam_epochs": setup.adam_epochs, "lbfgs_iters": setup.lbfgs_iters, "lr": setup.lr,
            "lr_final": setup.lr_final, "n_quad": setup.n_quad, "tol": setup.tol, "precision": setup.precision,
            "seed": setup.seed, **plain}


@dataclass(frozen=True)
class _Judged:
    bounds: np.ndarray  #: the error bounds per state
    converged: bool  #: every bound meets its target
    message: str  #: what to change when not
    score: float  #: the largest bound over its target (<= 1 when converged)


@dataclass(frozen=True)
class _Levels:
    energies: np.ndarray  #: the window box's levels (converged Chebyshev)
    estimates: np.ndarray  #: their error estimates
    truncation: np.ndarray  #: how far the window's walls raise them above the line's levels (0 in a box)


def neighbour_levels(problem, setup: PINNSetup, indices, step: int) -> _Levels:
    """The converged Chebyshev levels (and their error estimates) of the window's box up to ``max(indices) +
    step``: the neighbours the Kato-Temple bounds of states ``indices`` need (module docstring); for a problem on
    the line, also the truncation estimate of the window's walls (:func:`qdyn.schrodinger.refine.window_truncation`),
    which adds to the bound."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # its estimates enter the bounds either way
        found = refine(setup.grid.problem, int(max(indices)) + step + 1, "cheb", tol=1e-10)
    truncation = (window_truncation(setup.grid.problem, found) if problem.boundary == "decaying"
                  else np.zeros(found.energies.size))
    return _Levels(found.energies, found.estimates, truncation)


def judge(problem, setup: PINNSetup, levels, energies, residuals, indices, step: int) -> _Judged:
    """Kato-Temple bounds of trained states ``indices`` (the levels they stand for; ``step`` 2 for parity networks,
    else 1) with the neighbours ``levels`` of :func:`neighbour_levels`, and whether they meet ``setup.tol``."""
    bounds, identified = kato_temple(energies, residuals, levels.energies, levels.estimates, indices, step)
    bounds = bounds + levels.truncation[list(indices)]
    ratio = bounds / targets(problem, energies, setup.tol)
    if np.all(ratio <= 1.0):
        return _Judged(bounds, True, "", float(np.max(ratio)))
    worst = int(np.argmax(ratio))
    if not np.all(identified):
        lost = [int(n) for n, ok in zip(indices, identified, strict=True) if not ok]
        why = (f"the trained states of levels {lost} lie nearer other levels (the networks settled on other "
               "states): try another seed, more adam_epochs or a wider network (width)")
    else:
        why = "train longer (adam_epochs, lbfgs_iters, rounds) or use a wider network (width)"
    rel = bounds[worst] / max(abs(energies[worst]), 1e-300)
    message = (f"its error bound for level {indices[worst]} is {bounds[worst]:.1e} ({rel:.1e} relative) > "
               f"tol={setup.tol:g}: {why}")
    return _Judged(bounds, False, message, float(np.max(ratio)))


def pinn_result(problem, k: int, method: str, setup: PINNSetup, *, energies, residuals, states, modules,
                history: dict, wall_time: float, judged: _Judged, extra_history: dict | None = None) -> EigenResult:
    """The :class:`EigenResult` of a PINN run: ``states`` sampled on ``setup.x_grid`` (trapezoid weights; zero
    outside the network's window), the reference levels of :func:`qdyn.schrodinger.reference.reference_levels`,
    ``grid`` the number of trained parameters, the error bounds of ``judged`` (a ``ConvergenceWarning`` when they
    miss ``tol``), the training history (``loss``, ``energy`` per entry, plus ``extra_history``) and the
    resources and metadata of the run."""
    if not judged.converged:
        warnings.warn(f"solve_eigen(method={method!r}) did not reach tol={setup.tol:g}: {judged.message}",
                      ConvergenceWarning, stacklevel=4)
    a, b = problem.domain
    weights = np.full(GRID, (b - a) / (GRID - 1))
    weights[[0, -1]] *= 0.5
    n_params = sum(p.numel() for m in modules.values() for p in m.parameters())
    options = dict(width=setup.width, depth=setup.depth, adam_epochs=setup.adam_epochs,
                   lbfgs_iters=setup.lbfgs_iters, lr=setup.lr, precision=setup.precision, problem=problem.name,
                   tol=setup.tol)
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
        error_estimates=np.asarray(judged.bounds, dtype=np.float64),
        error_kind="bound",
        converged=judged.converged,
        tol=setup.tol,
        discretisation={"window": setup.grid.problem.domain, "pieces": int(setup.grid.edges.size - 1),
                        "nodes": int(setup.n_quad * (setup.grid.edges.size - 1)),
                        "rounds": int(history.get("rounds", 1))},
    )


def on_window(setup: PINNSetup, values: np.ndarray) -> np.ndarray:
    """``values`` of shape ``(..., GRID)`` set to zero outside the network's window (where it is not defined)."""
    lo, hi = setup.grid.problem.domain
    return np.where((setup.x_grid >= lo) & (setup.x_grid <= hi), values, 0.0)


def box_of(problem) -> Problem:
    """``problem`` with hard walls at its domain's ends (the paper's trial function vanishes there)."""
    return dataclasses.replace(problem, boundary="dirichlet")
