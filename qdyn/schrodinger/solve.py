"""``solve_eigen(problem, k, method=..., tol=...)``: one front door to every 1D eigen-solver.

* ``"cheb"`` - multi-domain Chebyshev collocation split at the jumps (:mod:`qdyn.schrodinger.chebyshev`);
  options ``n`` (nodes per piece to start from), ``subdivide`` (sub-pieces to start from); default
  ``tol=1e-10``;
* ``"dvr"`` - sinc-DVR on the line / sine-DVR in a box (:mod:`qdyn.schrodinger.dvr`), option ``n``; default
  ``tol=1e-10``, or ``1e-2`` when ``V`` jumps (the DVR converges like ``1/n`` there);
* ``"fd"`` - second-order finite differences (:mod:`qdyn.schrodinger.fd`), options ``n``, ``split``; default
  ``tol=1e-6``;
* ``"pinn"`` - Rayleigh-Ritz physics-informed neural network, all ``k`` levels
  (:func:`qdyn.schrodinger.pinn_ritz.solve_pinn_ritz`), default ``tol=1e-6``;
* ``"pinn-paper"`` - the paper's residual PINN, the lowest level only
  (:func:`qdyn.schrodinger.pinn_paper.solve_pinn_paper`), default ``tol=1e-3``.

The classical methods refine their grid (and widen the window of a line problem) until the levels agree to
``tol`` (:mod:`qdyn.schrodinger.refine`); the others train and judge the result by its error bound. Every
result carries ``error_estimates`` of a documented ``error_kind``, ``converged`` and the grid used; a run that
misses ``tol`` warns with :class:`qdyn.errors.ConvergenceWarning` saying what to change.

``method="pinn"`` with the former ``mode="default" | "paper"`` still works for one release (deprecated).
"""

from __future__ import annotations

import warnings

import numpy as np

from qdyn.errors import ConvergenceWarning, check_choice, check_int, check_positive
from qdyn.results import Resources, Stopwatch, make_metadata
from qdyn.schrodinger.problems import Problem
from qdyn.schrodinger.refine import default_tol, refine
from qdyn.schrodinger.result import EigenResult, normalise_states

__all__ = ["METHODS", "solve_eigen"]

METHODS = ("fd", "cheb", "dvr", "pinn", "pinn-paper")
_OPTIONS = {"cheb": ("n", "subdivide", "widen"), "dvr": ("n", "widen"), "fd": ("n", "split", "widen")}


def solve_eigen(problem: Problem, k: int = 1, method: str = "cheb", *, tol: float | None = None,
                **options) -> EigenResult:
    """The ``k`` lowest eigenpairs of ``problem`` by ``method`` to the relative accuracy ``tol`` (default per
    method, see the module docstring; the options are listed there)."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a qdyn.schrodinger.Problem, got {type(problem).__name__}")
    k = check_int("k", k, minimum=1)
    check_choice("method", method, METHODS)
    if tol is not None:
        tol = check_positive("tol", tol)
    if method in ("pinn", "pinn-paper"):
        from qdyn.schrodinger.pinn import PINN_SOLVERS, method_for_mode

        if method == "pinn" and "mode" in options:
            method = method_for_mode(options.pop("mode"))
        if tol is not None:
            options["tol"] = tol
        return PINN_SOLVERS[method](problem, k, **options)
    unknown = sorted(set(options) - set(_OPTIONS[method]))
    if unknown:
        raise TypeError(f"method={method!r} takes the options {list(_OPTIONS[method])} and tol, got {unknown}")
    tol = default_tol(method, problem) if tol is None else tol
    with Stopwatch() as clock:
        found = refine(problem, k, method, tol=tol, **options)
    if not found.converged:
        warnings.warn(f"solve_eigen(method={method!r}) did not reach tol={tol:g}: {found.message}",
                      ConvergenceWarning, stacklevel=2)
    exact = (
        np.asarray(problem.exact(k), dtype=np.float64) if problem.exact is not None else np.full(k, np.nan)
    )
    return EigenResult(
        energies=found.energies,
        x=found.x,
        states=normalise_states(found.states, found.weights),
        weights=found.weights,
        method=method,
        grid=int(found.x.size),
        residuals=np.full(k, np.nan),
        reference=exact,
        resources=Resources(wall_time=clock.elapsed),
        metadata=make_metadata(backend=method, device="cpu", problem=problem.name, tol=tol, **options),
        error_estimates=found.estimates,
        error_kind="estimate",
        converged=found.converged,
        tol=tol,
        discretisation=found.discretisation,
    )
