"""Reference levels for a Schrodinger problem: analytic where known, else the converged Chebyshev solve."""

from __future__ import annotations

import warnings

import numpy as np

from qdyn.deprecation import warn_deprecated
from qdyn.errors import ConvergenceWarning, check_int
from qdyn.schrodinger.problems import Problem
from qdyn.schrodinger.refine import DEFAULT_TOL, refine

__all__ = ["reference_levels"]


def reference_levels(problem: Problem, k: int, n: int | None = None, *, tol: float = DEFAULT_TOL["cheb"]
                     ) -> np.ndarray:
    """The analytic levels when the problem has them, else split Chebyshev collocation refined (and its window
    widened on the line) until the levels agree to the relative ``tol`` (:func:`qdyn.schrodinger.refine.refine`);
    :class:`~qdyn.errors.ConvergenceWarning` when it cannot, as from ``solve_eigen``. ``n`` (the former fixed
    nodes per piece) is deprecated and ignored: the grid is refined to ``tol``."""
    if n is not None:
        warn_deprecated("reference_levels(n=...) is deprecated and ignored: the Chebyshev reference now refines "
                        "its grid until the levels agree to tol (default 1e-10)")
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a qdyn.schrodinger.Problem, got {type(problem).__name__}")
    k = check_int("k", k, minimum=1)
    if problem.exact is not None:
        return np.asarray(problem.exact(k), dtype=np.float64)
    found = refine(problem, k, "cheb", tol=tol)
    if not found.converged:
        warnings.warn(f"reference_levels: the Chebyshev reference did not reach tol={tol:g}: {found.message}",
                      ConvergenceWarning, stacklevel=2)
    return found.energies
