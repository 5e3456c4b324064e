"""Gauss-Legendre quadrature split at the potential's jumps.

On each smooth piece ``[x_j, x_{j+1}]`` of a problem, ``n`` Gauss-Legendre nodes integrate polynomials of
degree
``2n - 1`` exactly; splitting at the jumps keeps the rule spectrally accurate for integrands such as ``V
psi^2``
that are smooth on each piece but not across a jump. No node falls on a jump.
"""

from __future__ import annotations

import numpy as np

from qdyn.errors import check_int

__all__ = ["split_gauss_legendre"]


def split_gauss_legendre(breakpoints, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of ``n``-point Gauss-Legendre on every interval of the sorted ``breakpoints``."""
    n = check_int("n", n, minimum=1)
    edges = np.asarray(breakpoints, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"breakpoints must be an increasing 1-D array of at least two points, got {edges}")
    t, w = np.polynomial.legendre.leggauss(n)
    lo, hi = edges[:-1, None], edges[1:, None]
    x = 0.5 * (lo + hi) + 0.5 * (hi - lo) * t[None, :]
    weights = 0.5 * (hi - lo) * w[None, :]
    return x.ravel(), weights.ravel()
