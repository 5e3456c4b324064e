"""Reference levels for a Schrodinger problem: analytic where known, else a converged spectral solve."""

from __future__ import annotations

import numpy as np

from qdyn.schrodinger.chebyshev import cheb_eigen
from qdyn.schrodinger.problems import Problem

__all__ = ["reference_levels"]


def reference_levels(problem: Problem, k: int, n: int = 96) -> np.ndarray:
    """The analytic levels when the problem has them, else split Chebyshev with ``n`` nodes per piece (each
    piece cut in four on the line)."""
    if problem.exact is not None:
        return np.asarray(problem.exact(k), dtype=np.float64)
    return cheb_eigen(problem, k, n=n, subdivide=1 if problem.boundary == "dirichlet" else 4)[0]
