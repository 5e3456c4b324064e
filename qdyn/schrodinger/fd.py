"""Second-order finite differences: ``-c (psi_{i+1} - 2 psi_i + psi_{i-1}) / h^2 + V_i psi_i = E psi_i``.

``n`` interior points of a uniform grid on ``[a, b]`` with ``psi = 0`` at the ends; the tridiagonal matrix is
diagonalised by LAPACK's ``stebz/stein`` (``scipy.linalg.eigh_tridiagonal``). With ``split=True`` (default)
``V_i`` is the average of ``V`` over the cell ``[x_i - h/2, x_i + h/2]`` (Gauss-Legendre split at the
jumps), which
keeps the O(h^2) convergence across jumps of ``V``; ``split=False`` samples ``V(x_i)``, which is first
order when a
jump falls between grid points.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh_tridiagonal

from qdyn.errors import check_int
from qdyn.schrodinger.quadrature import split_gauss_legendre

__all__ = ["fd_eigen"]


def _cell_averages(problem, x: np.ndarray, h: float) -> np.ndarray:
    """Mean of ``V`` over each cell ``[x_i - h/2, x_i + h/2]``, split at the jumps inside the cell."""
    t, w = np.polynomial.legendre.leggauss(6)
    values = (problem.V(x[:, None] + 0.5 * h * t[None, :]) @ w) / 2.0
    for jump in problem.breakpoints[1:-1]:
        i = int(np.clip(np.round((jump - x[0]) / h), 0, x.size - 1))
        for j in range(max(i - 1, 0), min(i + 2, x.size)):
            lo, hi = x[j] - h / 2, x[j] + h / 2
            if lo < jump < hi:
                nodes, weights = split_gauss_legendre([lo, jump, hi], 6)
                values[j] = problem.V(nodes) @ weights / h
    return values


def fd_eigen(problem, k: int, n: int = 2000, split: bool = True):
    """``(energies, x, states, weights)`` of the ``k`` lowest levels on ``n`` interior points."""
    n = check_int("n", n, minimum=k + 2)
    a, b = problem.domain
    h = (b - a) / (n + 1)
    x = a + h * np.arange(1, n + 1)
    v = _cell_averages(problem, x, h) if split else problem.V(x)
    c = problem.c
    diag = 2.0 * c / h**2 + v
    off = np.full(n - 1, -c / h**2)
    energies, vecs = eigh_tridiagonal(diag, off, select="i", select_range=(0, k - 1))
    return energies, x, vecs.T, np.full(n, h)
