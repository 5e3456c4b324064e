"""Vectorised assembly of the Liouvillian from XOR masks (no Kronecker products of large sparse matrices).

An operator on ``n`` qubits that is a sum of Pauli strings moves a basis state ``|c>`` only by flipping a fixed
set of bits: ``A = sum_x diag(a_x) P_x`` with ``(P_x)_{r, r XOR x} = 1``, i.e. ``A[r, r XOR x] = a_x[r]``. The
masks ``x`` and the vectors ``a_x`` (length ``2^n``) are read off the nonzeros of the sparse matrix of ``A``.

On row-major ``vec(rho)`` (index ``R = a 2^n + b``) the three kinds of term of the Liouvillian are again of this
form, with composite masks ``X = (x_left << n) | x_right`` and diagonals that are outer products:

    H_eff (x) 1          ->  X = (x, 0),  D[a, b] = -i h_x[a]
    1 (x) H_eff^*        ->  X = (0, x),  D[a, b] = +i conj(h_x[b])
    gamma G (x) G^*      ->  X = (x, y),  D[a, b] = gamma g_x[a] conj(g_y[b])

so ``L[R, R XOR X] = sum of D_X[R]`` over the terms sharing ``X``: every row holds one entry per distinct mask,
the per-mask diagonals are made from their outer-product factors a block of rows at a time and interleaved into
the CSR arrays (row ``R``, column ``R XOR X``); duplicates are summed in the diagonals, never by merging
``4^n``-row sparse matrices. Cost:
``O(K 4^n)`` for ``K`` distinct masks (``K = 3n + 1`` for a chain with single-site jumps), memory ``K 4^n``
values and column indices.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["liouvillian_csr", "xor_diagonals"]

#: Rows interleaved at a time (a block of ``K`` complex vectors stays in cache).
_BLOCK = 4096


def xor_diagonals(matrix) -> dict[int, np.ndarray]:
    """``{x: a_x}`` with ``A[r, r XOR x] = a_x[r]`` for a sparse or dense square ``matrix`` of size ``2^n``."""
    coo = sp.coo_matrix(matrix)
    rows, cols, vals = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(complex)
    masks = rows ^ cols
    out: dict[int, np.ndarray] = {}
    for x in np.unique(masks):
        pick = masks == x
        diagonal = np.zeros(coo.shape[0], dtype=complex)
        np.add.at(diagonal, rows[pick], vals[pick])
        out[int(x)] = diagonal
    return out


def liouvillian_csr(h_eff, jumps) -> sp.csr_matrix:
    """The ``4^n x 4^n`` CSR Liouvillian (module docstring) from the sparse ``H_eff`` and ``(rate, G)`` pairs.

    Explicit zeros are dropped; column indices are sorted within each row.
    """
    d = h_eff.shape[0]
    n = d.bit_length() - 1
    factors: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}  # mask -> [(left, right)]: D = sum of outers
    ones = np.ones(d)
    for x, h in xor_diagonals(h_eff).items():
        factors.setdefault(x << n, []).append((-1j * h, ones))
        factors.setdefault(x, []).append((ones, 1j * h.conj()))
    for rate, g in jumps:
        parts = xor_diagonals(g)
        for x, gx in parts.items():
            for y, gy in parts.items():
                factors.setdefault((x << n) | y, []).append((rate * gx, gy.conj()))
    size = d * d
    index_dtype = np.int32 if size * len(factors) < 2**31 else np.int64
    masks = np.array(sorted(factors), dtype=index_dtype)
    counts = np.zeros(size, dtype=index_dtype)
    data, cols = [], []
    step = max(_BLOCK // d, 1)  # values of the row index a per block: the block has step * d rows of vec(rho)
    for a0 in range(0, d, step):  # the per-mask diagonals of a block of rows, interleaved row by row in cache
        a1 = min(a0 + step, d)
        block = np.empty(((a1 - a0) * d, masks.size), dtype=complex)
        for k, x in enumerate(masks):
            pairs = factors[int(x)]
            column = np.multiply.outer(pairs[0][0][a0:a1], pairs[0][1])
            for left, right in pairs[1:]:
                column += np.multiply.outer(left[a0:a1], right)
            block[:, k] = column.reshape(-1)
        keep = block != 0
        counts[a0 * d:a1 * d] = keep.sum(axis=1)
        data.append(block[keep])
        cols.append((np.arange(a0 * d, a1 * d, dtype=index_dtype)[:, None] ^ masks[None, :])[keep])
    indptr = np.zeros(size + 1, dtype=index_dtype)
    np.cumsum(counts, out=indptr[1:])
    out = sp.csr_matrix((np.concatenate(data), np.concatenate(cols), indptr), shape=(size, size))
    out.sort_indices()
    return out
