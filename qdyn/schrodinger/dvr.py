"""Discrete variable representations (Colbert & Miller, J. Chem. Phys. 96, 1982 (1992)).

* Infinite line (``boundary="decaying"``): the sinc-DVR on the uniform grid ``x_i = a + i h``, ``i = 1..n``,
  ``h = (b - a)/(n + 1)``:  ``T_ii = c pi^2 / (3 h^2)``, ``T_ij = c 2 (-1)^(i-j) / (h^2 (i - j)^2)``.
* Box ``[a, b]`` (``boundary="dirichlet"``): the sine-DVR (particle-in-a-box basis, ``N = n + 1``):
  ``T_ii = c pi^2/(2 L^2) [(2N^2 + 1)/3 - 1/sin^2(pi i/N)]``,
  ``T_ij = c pi^2/(2 L^2) (-1)^(i-j) [1/sin^2(pi (i-j)/(2N)) - 1/sin^2(pi (i+j)/(2N))]``.

``V`` is diagonal (``V(x_i)``). Both converge exponentially for smooth potentials whose states vanish at the
window's ends; across a jump of ``V`` they converge slowly - use the split Chebyshev solver there.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh

from qdyn.errors import check_int

__all__ = ["dvr_eigen"]


def _kinetic(n: int, h: float, c: float, boundary: str) -> np.ndarray:
    i = np.arange(1, n + 1)
    d = i[:, None] - i[None, :]
    sign = np.where(d % 2 == 0, 1.0, -1.0)
    if boundary == "decaying":
        with np.errstate(divide="ignore"):
            t = 2.0 * sign / (h**2 * d.astype(float) ** 2)
        np.fill_diagonal(t, np.pi**2 / (3.0 * h**2))
        return c * t
    big_n, length = n + 1, (n + 1) * h
    s = i[:, None] + i[None, :]
    with np.errstate(divide="ignore"):
        t = sign * (1.0 / np.sin(np.pi * d / (2 * big_n)) ** 2 - 1.0 / np.sin(np.pi * s / (2 * big_n)) ** 2)
    np.fill_diagonal(t, (2.0 * big_n**2 + 1.0) / 3.0 - 1.0 / np.sin(np.pi * i / big_n) ** 2)
    return c * np.pi**2 / (2.0 * length**2) * t


def dvr_eigen(problem, k: int, n: int = 200):
    """``(energies, x, states, weights)`` of the ``k`` lowest levels on ``n`` grid points."""
    n = check_int("n", n, minimum=k + 1)
    a, b = problem.domain
    h = (b - a) / (n + 1)
    x = a + h * np.arange(1, n + 1)
    hamiltonian = _kinetic(n, h, problem.c, problem.boundary)
    hamiltonian[np.diag_indices(n)] += problem.V(x)
    energies, vecs = eigh(hamiltonian, subset_by_index=(0, k - 1))
    return energies, x, vecs.T, np.full(n, h)
