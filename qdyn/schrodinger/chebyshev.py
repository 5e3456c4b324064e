"""Multi-domain Chebyshev collocation split at the potential's jumps.

Each smooth piece ``[x_j, x_{j+1}]`` gets ``n + 1`` Chebyshev-Gauss-Lobatto points and the differentiation
matrix
``D`` (Trefethen, Spectral Methods in MATLAB, ch. 6). The equation ``-c D^2 psi + V psi = E psi`` is
collocated at
the interior points of every piece; ``psi = 0`` at the domain ends; at each interface the pieces share the
value
and the derivatives match (``psi'`` is continuous across a finite jump of ``V``). The interface values are
eliminated (they are linear in the interior values through the derivative-matching rows), leaving a standard
``m (n - 1)``-dimensional eigenproblem. Each piece's solution is smooth, so the error decays exponentially in
``n`` even for square wells.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eig, solve

from qdyn.errors import check_int

__all__ = ["cheb_eigen", "chebyshev_nodes"]


def chebyshev_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Ascending Gauss-Lobatto points ``t_j = -cos(pi j / n)`` on ``[-1, 1]`` and the differentiation
    matrix."""
    t = -np.cos(np.pi * np.arange(n + 1) / n)
    cw = np.ones(n + 1)
    cw[0] = cw[-1] = 2.0
    cw *= (-1.0) ** np.arange(n + 1)
    dt = t[:, None] - t[None, :]
    d = np.outer(cw, 1.0 / cw) / (dt + np.eye(n + 1))
    d -= np.diag(d.sum(axis=1))
    return t, d


def _clenshaw_curtis(n: int) -> np.ndarray:
    """Clenshaw-Curtis weights on the Gauss-Lobatto points (Trefethen, ``clencurt``); order-independent."""
    theta = np.pi * np.arange(n + 1) / n
    w = np.zeros(n + 1)
    v = np.ones(n - 1)
    inner = theta[1:-1]
    if n % 2 == 0:
        w[0] = w[-1] = 1.0 / (n**2 - 1)
        for j in range(1, n // 2):
            v -= 2.0 * np.cos(2 * j * inner) / (4 * j**2 - 1)
        v -= np.cos(n * inner) / (n**2 - 1)
    else:
        w[0] = w[-1] = 1.0 / n**2
        for j in range(1, (n - 1) // 2 + 1):
            v -= 2.0 * np.cos(2 * j * inner) / (4 * j**2 - 1)
    w[1:-1] = 2.0 * v / n
    return w


def cheb_eigen(problem, k: int, n: int = 64, subdivide: int = 1):
    """``(energies, x, states, weights)`` of the ``k`` lowest levels, ``n + 1`` nodes on each smooth piece.

    ``subdivide`` splits every smooth piece into that many equal sub-pieces (long windows on the line).
    """
    n = check_int("n", n, minimum=4)
    subdivide = check_int("subdivide", subdivide, minimum=1)
    coarse = problem.breakpoints
    edges = np.concatenate(
        [np.linspace(lo, hi, subdivide + 1)[:-1] for lo, hi in zip(coarse[:-1], coarse[1:], strict=True)]
        + [coarse[-1:]]
    )
    m = edges.size - 1
    t, d = chebyshev_nodes(n)
    cc = _clenshaw_curtis(n)
    c = problem.c
    n_int = n - 1
    dim = m * n_int
    if k > dim:
        raise ValueError(f"k={k} exceeds the {dim} collocation unknowns; increase n")
    xs, d1s, ops = [], [], []
    for j in range(m):
        half = 0.5 * (edges[j + 1] - edges[j])
        x = edges[j] + half * (t + 1.0)
        d1 = d / half
        xs.append(x)
        d1s.append(d1)
        op = -c * d1 @ d1
        op[np.arange(1, n), np.arange(1, n)] += problem.V(x[1:-1])  # end rows are replaced by the conditions
        ops.append(op)
    # Nodal values of piece j = P_int[j] @ u + P_g[j] @ g, with u the interior values, g the interface values.
    p_int = [np.zeros((n + 1, dim)) for _ in range(m)]
    p_g = [np.zeros((n + 1, max(m - 1, 1))) for _ in range(m)]
    for j in range(m):
        p_int[j][1:-1, j * n_int : (j + 1) * n_int] = np.eye(n_int)
        if j > 0:
            p_g[j][0, j - 1] = 1.0
        if j < m - 1:
            p_g[j][-1, j] = 1.0
    if m > 1:
        # psi'(left piece end) - psi'(right piece start) = 0 at every interface: A_g g + A_u u = 0.
        a_g = np.zeros((m - 1, m - 1))
        a_u = np.zeros((m - 1, dim))
        for j in range(m - 1):
            left, right = d1s[j][-1], d1s[j + 1][0]
            a_g[j] += left @ p_g[j] - right @ p_g[j + 1]
            a_u[j] += left @ p_int[j] - right @ p_int[j + 1]
        g_of_u = -solve(a_g, a_u)
    else:
        g_of_u = np.zeros((1, dim))
    nodal = [p_int[j] + p_g[j] @ g_of_u for j in range(m)]  # (n+1, dim) each
    hamiltonian = np.vstack([(ops[j] @ nodal[j])[1:-1] for j in range(m)])
    values, vectors = eig(hamiltonian)
    order = np.argsort(values.real)[:k]
    energies = values.real[order]
    # Assemble the nodal values (shared interface nodes once) and the Clenshaw-Curtis weights.
    x_all = np.concatenate([xs[0]] + [xs[j][1:] for j in range(1, m)])
    w_all = np.concatenate(
        [cc * 0.5 * (edges[1] - edges[0])] + [cc[1:] * 0.5 * (edges[j + 1] - edges[j]) for j in range(1, m)]
    )
    for j in range(1, m):
        w_all[j * n] += cc[0] * 0.5 * (edges[j + 1] - edges[j])
    states = []
    for i in order:
        u = vectors[:, i].real  # a real simple eigenvalue of a real matrix has a real eigenvector
        pieces = [nodal[j] @ u for j in range(m)]
        states.append(np.concatenate([pieces[0]] + [p[1:] for p in pieces[1:]]))
    return energies, x_all, np.array(states), w_all
