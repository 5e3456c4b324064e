"""Classical solvers that converge or say so: grid refinement, window widening and error estimates.

:func:`refine` runs one fixed-grid kernel (:func:`~qdyn.schrodinger.chebyshev.cheb_eigen`,
:func:`~qdyn.schrodinger.dvr.dvr_eigen`, :func:`~qdyn.schrodinger.fd.fd_eigen`) on a ladder of ever finer
grids until the ``k`` levels of two successive grids agree, and on the line (``boundary="decaying"``) checks
that the states have decayed at the window's edges, widening the window when they have not.

* **Ladders.** ``"cheb"``: ``n + 1`` nodes per piece, ``n`` = 32, 48, 64, then the smooth pieces are cut in
  2, 4, 8, ... equal sub-pieces (64 nodes each; the differentiation matrices grow like ``n^4`` and round off
  beyond), up to 1600 unknowns. ``"dvr"``: ``n`` points, times 1.5 per step, up to 3000. ``"fd"``: ``n``
  interior points, doubled per step, up to ``2^21``. ``n`` (and ``subdivide`` for Chebyshev) set where the
  ladder starts.
* **Error estimate** (``error_kind="estimate"``) of level ``i`` on the finest grid:
  ``e_grid + e_round + e_window``. For a spectral method ``e_grid = |dE_j| f``, with ``dE_j`` the change over
  the last refinement and ``f = max(1, q / (1 - q))`` the geometric tail of the changes when they contract by
  ``q = |dE_j / dE_{j-1}|`` (``f = 9`` when they do not). For an algebraic one (finite differences, second
  order; the DVR across a jump of ``V``, first order) ``e_grid = 2 max(|dE_j| f, |dE_{j-1}| / rho^p)`` with
  ``rho`` the refinement ratio and ``p`` the order, after at least two changes: there the error oscillates
  with the jump's position in the grid, so one change can be smaller than the error after it. ``e_round`` is
  the rounding level of the method on that grid and ``e_window`` the truncation estimate below.
* **Window** (line problems). A hard wall at ``b`` raises a level by ``int_b^inf c psi_b'(b)^2 db`` (Hadamard's
  formula ``dE/db = -c psi'(b)^2`` for the normalised state), and beyond the turning point ``psi_b'(b)``
  decays like ``exp(-kappa b)``, ``kappa = sqrt((V(b) - E)/c)``: the walls raise the level by
  ``c psi'(a)^2/(2 kappa_a) + c psi'(b)^2/(2 kappa_b)`` (within 2 % of the measured shift on the harmonic,
  Morse and ``sech^2`` wells), and ``e_window`` is twice that. When it exceeds a tenth of the target, or
  ``V <= E`` at an edge (the state is not decaying there: a wider window, or a level in the continuum), the
  window is widened on that side by ``log(e_window / (tol/100)) / (2 kappa)`` (half the window when
  ``V <= E``), at most 4 times, keeping the grid's spacing; earlier than the grid's convergence when the
  truncation dominates the change over the last refinement (a DVR does not converge in ``n`` on a window the
  states fill).

The target is ``tol * max(|E_i|, c (pi / L)^2)`` for every level (relative, floored at the kinetic scale of
the window so that a level near ``E = 0`` does not ask for an absolute ``0``): the grid is refined until
``e_grid + e_round`` is below 4/5 of it and the window widened until each side's ``e_window`` is below 1/10,
so a converged estimate is below the target. A run that stops short of it
(grid budget spent, window not widened enough, potential not finite where it would widen) returns
``converged=False`` and a message saying what to change.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qdyn.errors import check_int
from qdyn.schrodinger.chebyshev import cheb_eigen
from qdyn.schrodinger.dvr import dvr_eigen
from qdyn.schrodinger.fd import fd_eigen
from qdyn.schrodinger.problems import Problem

__all__ = ["DEFAULT_TOL", "Refined", "default_tol", "refine", "targets", "window_truncation"]

_EPS = np.finfo(float).eps
_WIDENINGS = 4  #: at most this many window widenings
_CHEB_N = 64  #: nodes per piece beyond which Chebyshev cuts pieces instead

#: default relative tolerances (``"dvr"`` across a jump of ``V``: see :func:`default_tol`)
DEFAULT_TOL = {"cheb": 1e-10, "dvr": 1e-10, "fd": 1e-6}


def default_tol(method: str, problem: Problem) -> float:
    """The documented default ``tol`` of ``method`` on ``problem``: 1e-10 for the spectral methods, 1e-6 for
    second-order finite differences, and 1e-2 for the DVR when ``V`` jumps inside the domain (it samples ``V``
    on a uniform grid, so its error there decays only like ``1/n``, erratically, and its safe estimate stays
    above 1e-3 within its largest grid; use ``"cheb"``, which splits at the jumps)."""
    if method == "dvr" and problem.breakpoints.size > 2:
        return 1e-2
    return DEFAULT_TOL[method]


@dataclass(frozen=True)
class _Grid:
    n: int  #: nodes per piece (Chebyshev) or points (fd, DVR)
    pieces: int = 1  #: equal sub-pieces of every smooth piece (Chebyshev)


@dataclass(frozen=True)
class _Ladder:
    """One method's grids: where to start, how to refine, how many unknowns, its kernel and rounding level."""

    start: _Grid
    refine: Callable[[_Grid], _Grid]
    unknowns: Callable[[Problem, _Grid], int]
    max_unknowns: int
    solve: Callable[[Problem, int, _Grid], tuple]
    rounding: Callable[[Problem, _Grid, np.ndarray], np.ndarray]
    ratio: float = 2.0  #: grid-size ratio of one refinement (for the algebraic estimate)
    order: Callable[[Problem], int | None] = lambda problem: None  #: algebraic order, None when spectral

    def stretched(self, grid: _Grid, ratio: float, method: str) -> _Grid:
        """The grid with the same spacing on a window ``ratio`` times longer."""
        if method == "cheb":
            return _Grid(grid.n, math.ceil(grid.pieces * ratio))
        return _Grid(math.ceil(grid.n * ratio))


def _cheb_refine(g: _Grid) -> _Grid:
    return _Grid(min(_CHEB_N, math.ceil(1.5 * g.n)), g.pieces) if g.n < _CHEB_N else _Grid(g.n, 2 * g.pieces)


def _kinetic_scale(problem: Problem) -> float:
    return problem.c * (np.pi / problem.length) ** 2


def targets(problem: Problem, energies, tol: float) -> np.ndarray:
    """The absolute errors ``tol * max(|E_n|, c (pi / L)^2)`` a solver must reach on ``problem`` (``L`` its window's
    length): relative, floored at the window's kinetic scale so that a level near ``E = 0`` has a target."""
    return tol * np.maximum(np.abs(np.asarray(energies, dtype=float)), _kinetic_scale(problem))


def _spread(problem: Problem) -> float:
    """``max |V|`` on the domain (sampled), for the rounding levels."""
    x = np.linspace(*problem.domain, 2001)
    return float(np.max(np.abs(problem.V(x))))


def _grid_rounding(problem: Problem, g: _Grid, energies) -> np.ndarray:
    """``eps (||T|| + max |V|)`` for a uniform grid of ``g.n`` points, ``||T|| ~ 4 c / h^2`` (measured: the
    finite-difference levels of the finite well round off at ~0.05 of it at two million points)."""
    h = problem.length / (g.n + 1)
    return np.full(len(energies), _EPS * (4 * problem.c / h**2 + _spread(problem)))


_LADDERS = {
    "cheb": _Ladder(
        start=_Grid(32),
        refine=_cheb_refine,
        unknowns=lambda p, g: (p.breakpoints.size - 1) * g.pieces * (g.n - 1),
        max_unknowns=1600,
        solve=lambda p, k, g: cheb_eigen(p, k, n=g.n, subdivide=g.pieces),
        # measured: the collocation eigenvalues round off at up to ~200 eps * unknowns relative (5e-11 at 1000)
        rounding=lambda p, g, e: 300 * _EPS * (p.breakpoints.size - 1) * g.pieces * (g.n - 1)
        * np.maximum(np.abs(e), _kinetic_scale(p)),
    ),
    "dvr": _Ladder(
        start=_Grid(100),
        refine=lambda g: _Grid(math.ceil(1.5 * g.n)),
        unknowns=lambda p, g: g.n,
        max_unknowns=3000,
        solve=lambda p, k, g: dvr_eigen(p, k, n=g.n),
        rounding=_grid_rounding,
        ratio=1.5,
        order=lambda p: 1 if p.breakpoints.size > 2 else None,
    ),
    "fd": _Ladder(
        start=_Grid(1000),
        refine=lambda g: _Grid(2 * g.n),
        unknowns=lambda p, g: g.n,
        max_unknowns=2**21,
        solve=None,  # set per call with its order: the ``split`` option
        rounding=_grid_rounding,
    ),
}


@dataclass(frozen=True)
class Refined:
    """What :func:`refine` found: the finest grid's eigenpairs, the per-level error estimates, whether they
    met the target, the message of a run that did not, and the grid and window used."""

    energies: np.ndarray
    x: np.ndarray
    states: np.ndarray
    weights: np.ndarray
    estimates: np.ndarray
    converged: bool
    message: str
    discretisation: dict


def _normalised(states, weights):
    states = np.atleast_2d(np.asarray(states, dtype=np.float64))
    return states / np.sqrt(np.einsum("kx,x,kx->k", states, weights, states))[:, None]


def _edge_slopes(problem: Problem, x, states, weights) -> np.ndarray:
    """``(k, 2)``: ``|psi'|`` of the normalised states at the window's ends (one-sided, from the nearest
    interior node; ``psi = 0`` at the ends)."""
    a, b = problem.domain
    psi = _normalised(states, weights)
    inside = np.nonzero((x > a + 1e-14 * problem.length) & (x < b - 1e-14 * problem.length))[0]
    first, last = inside[0], inside[-1]
    return np.abs(np.stack([psi[:, first] / (x[first] - a), psi[:, last] / (b - x[last])], axis=1))


def _truncation(problem: Problem, energies, slopes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per level and side: the Hadamard truncation estimate, the decay rate ``kappa`` (NaN where ``V <= E`` at
    the edge) - see the module docstring."""
    edge_v = problem.V(np.array(problem.domain))
    kappa2 = (edge_v[None, :] - np.asarray(energies)[:, None]) / problem.c
    kappa = np.where(kappa2 > 0, np.sqrt(np.abs(kappa2)), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        side = np.where(np.isnan(kappa), np.inf, problem.c * slopes**2 / kappa)  # twice the formula: safe
    return side.sum(axis=1), side, kappa


def window_truncation(problem: Problem, found: Refined) -> np.ndarray:
    """Per level of ``found`` (a solve of ``problem`` with hard walls at its domain's ends): how far the walls
    raise it above the level on the line, twice ``c psi'(a)^2/(2 kappa_a) + c psi'(b)^2/(2 kappa_b)`` (module
    docstring); ``inf`` for a level not below ``V`` at an edge."""
    return _truncation(problem, found.energies, _edge_slopes(problem, found.x, found.states, found.weights))[0]


def _grid_error(changes: list[np.ndarray], floor: np.ndarray, order: int | None, ratio: float) -> np.ndarray:
    """The refinement part of the estimate (see the module docstring): ``|dE_j| f`` for a spectral method; for
    one of algebraic ``order``, ``2 max(|dE_j| f, |dE_{j-1}| / ratio^order)`` (across a jump of ``V`` the error
    oscillates with the jump's position in the grid, so one change can be smaller than the error after it), and
    ``inf`` before two changes."""
    if not changes:
        return np.full(floor.shape, np.inf)
    last = np.abs(changes[-1])
    if len(changes) < 2:
        return last if order is None else np.full(floor.shape, np.inf)
    before = np.abs(changes[-2])
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(before > floor, last / before, 0.0)
    grid_error = last * np.where(q < 0.9, np.maximum(1.0, q / (1.0 - q)), 9.0)
    if order is not None:
        grid_error = 2.0 * np.maximum(grid_error, before / ratio**order)
    return grid_error


def _widened(problem: Problem, side: np.ndarray, kappa: np.ndarray, target: np.ndarray) -> Problem:
    """The window stretched on each side whose truncation estimate exceeds a tenth of the target."""
    a, b = problem.domain
    steps = []
    for j in range(2):
        need = side[:, j] > 0.1 * target
        if not np.any(need):
            steps.append(0.0)
            continue
        grow = []
        for s, kap, t in zip(side[need, j], kappa[need, j], target[need], strict=True):
            grow.append(0.5 * problem.length if not np.isfinite(s) or np.isnan(kap)
                        else np.log(s / (0.01 * t)) / (2 * kap))
        steps.append(min(max(max(grow), 0.05 * problem.length), problem.length))
    return dataclasses.replace(problem, domain=(a - steps[0], b + steps[1]))


_UNBOUND = (": it may be unbound (a continuum state of the window, V at the edge below E) - ask for fewer levels "
            "or give a wider window")


def _undecayed(problem: Problem, energies, window_err, target) -> str:
    """The message naming the level least decayed at the window's edges."""
    bad = int(np.argmax(window_err / target))
    a, b = problem.domain
    v_a, v_b = problem.V(np.array([a, b]))
    return (f"level {bad} (E = {energies[bad]:.10g}) has not decayed at the edges of the window ({a:.6g}, "
            f"{b:.6g}) (truncation estimate {window_err[bad]:.1e}; V = {v_a:.6g}, {v_b:.6g} there)")


def refine(problem: Problem, k: int, method: str, *, tol: float, n: int | None = None,
           subdivide: int | None = None, split: bool = True, widen: bool = True) -> Refined:
    """The ``k`` lowest levels of ``problem`` by ``method`` (``"cheb"``, ``"dvr"``, ``"fd"``) refined to the
    relative ``tol`` (see the module docstring). ``n`` / ``subdivide`` start the ladder; ``split`` is the
    finite-difference option (cell-averaged ``V``); ``widen=False`` keeps the window of a line problem fixed
    (its truncation is still estimated and counted)."""
    ladder = _LADDERS[method]
    if method == "fd":  # cell-averaged V keeps second order across jumps; sampled V is first order there
        ladder = dataclasses.replace(ladder, solve=lambda p, kk, g: fd_eigen(p, kk, n=g.n, split=split),
                                     order=lambda p: 2 if (split or p.breakpoints.size == 2) else 1)
    grid = _Grid(
        ladder.start.n if n is None else check_int("n", n, minimum=4),
        ladder.start.pieces if subdivide is None else check_int("subdivide", subdivide, minimum=1),
    )
    while ladder.unknowns(problem, grid) < k + 2:
        grid = ladder.refine(grid)
    current, widenings, refinements = problem, 0, 0
    previous, changes = None, []
    while True:
        energies, x, states, weights = ladder.solve(current, k, grid)
        energies = np.asarray(energies, dtype=np.float64)
        target = targets(current, energies, tol)
        floor = ladder.rounding(current, grid, energies)
        if previous is not None:
            changes.append(energies - previous)
        previous = energies
        change = _grid_error(changes, floor, ladder.order(current), ladder.ratio)
        grid_done = bool(np.all(change + floor <= 0.8 * target))  # a fifth of the target left to the window
        window_err, side, kappa = np.zeros(k), np.zeros((k, 2)), None
        if current.boundary == "decaying":
            window_err, side, kappa = _truncation(current, energies, _edge_slopes(current, x, states, weights))
        estimates = change + floor + window_err
        # widen once the grid has converged, or earlier when the truncation dominates (a DVR on a window the
        # states fill does not converge in n)
        # refine within the budget while the finer grid's rounding stays below the target, or, for a target
        # below the method's rounding, while it still lies below the present error (the best reachable grid)
        next_grid = ladder.refine(grid)
        can_refine = (ladder.unknowns(current, next_grid) <= ladder.max_unknowns
                      and bool(np.all(ladder.rounding(current, next_grid, energies) < np.maximum(target, change))))
        undecayed = bool(np.any(side > 0.1 * target[:, None]))
        level = _undecayed(current, energies, window_err, target) if undecayed else ""
        if undecayed and (grid_done or not can_refine
                          or (changes and np.max(window_err / target) > np.max(change / target))):
            if not widen or widenings == _WIDENINGS:
                done = "with widen=False" if not widen else f"after {widenings} widenings"
                message = f"{level} {done}{_UNBOUND}"
                break
            try:
                wider = _widened(current, side, kappa, target)
            except ValueError as exc:  # the potential is not finite where the window would grow
                message = f"{level}, and the window cannot be widened: {exc}"
                break
            stretched = ladder.stretched(grid, wider.length / current.length, method)
            if ladder.unknowns(wider, stretched) > ladder.max_unknowns:
                message = (f"{level}, and the wider window ({wider.domain[0]:.6g}, {wider.domain[1]:.6g}) needs "
                           f"more than the largest grid of method={method!r}{_UNBOUND}")
                break
            grid, current, widenings, previous, changes = stretched, wider, widenings + 1, None, []
            continue
        if not grid_done and can_refine:
            grid, refinements = next_grid, refinements + 1
            continue
        if grid_done:
            message = ""
        elif undecayed:
            message = f"{level}, and method={method!r} reached its largest grid{_UNBOUND}"
        else:
            worst = np.max(change / np.maximum(np.abs(energies), _kinetic_scale(current)))
            advice = ("use method='cheb', which splits at the potential's jumps, or a larger tol"
                      if method == "dvr" and current.breakpoints.size > 2
                      else "use method='cheb' (spectral), a shorter window, or a larger tol")
            message = (f"method={method!r} reached its largest useful grid ({ladder.unknowns(current, grid)} "
                       f"unknowns; finer ones exceed its budget or round off above the target) with level changes "
                       f"up to {worst:.1e} relative > tol={tol:g}; {advice}")
        break
    return Refined(
        energies=energies,
        x=x,
        states=states,
        weights=weights,
        estimates=estimates,
        converged=not message,
        message=message,
        discretisation={"n": grid.n, "pieces": int((current.breakpoints.size - 1) * grid.pieces),
                        "window": current.domain, "refinements": refinements, "widenings": widenings},
    )
