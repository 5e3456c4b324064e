"""Vectorised assembly of the Liouvillian from XOR masks (no Kronecker products of large sparse matrices).

An operator on ``n`` qubits that is a sum of Pauli strings moves a basis state ``|c>`` only by flipping a fixed
set of bits: ``A = sum_x diag(a_x) P_x`` with ``(P_x)_{r, r XOR x} = 1``, i.e. ``A[r, r XOR x] = a_x[r]``. The
masks ``x`` and the vectors ``a_x`` (length ``2^n``) are read off the nonzeros of the sparse matrix of ``A``.

On row-major ``vec(rho)`` (index ``R = a 2^n + b``) the three kinds of term of the Liouvillian are again of this
form, with composite masks ``X = (x_left << n) | x_right`` and diagonals that are outer products:

    H_eff (x) 1          ->  X = (x, 0),  D[a, b] = -i h_x[a]
    1 (x) H_eff^*        ->  X = (0, x),  D[a, b] = +i conj(h_x[b])
    gamma G (x) G^*      ->  X = (x, y),  D[a, b] = gamma g_x[a] conj(g_y[b])

so ``L[R, R XOR X] = sum of D_X[R]`` over the terms sharing ``X``: every row holds one entry per distinct mask
whose diagonal is structurally nonzero there. The row counts come first, from the structural nonzeros of the
factors (one byte per mask and row), so the CSR arrays are allocated once at their final size; then the per-mask
diagonals are made from their outer-product factors a block of rows at a time (contiguous, in cache) and written
into those arrays in row order (row ``R``, column ``R XOR X``). Duplicates are summed in the diagonals, never by
merging ``4^n``-row sparse matrices, and no partial result is concatenated. Cost: ``O(K 4^n)`` for ``K`` distinct
masks (``K = 3n + 1`` for a chain with single-site jumps); memory: the matrix (``K 4^n`` values and column
indices at most) plus ``K 4^n`` bytes. Dissipative Ising ring, N = 10 (24.6 M entries): 0.9 s (3.3 s for the
previous version, which interleaved into per-block arrays and concatenated them; one core, same run).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["centred_liouvillian_csr", "liouvillian_csr", "xor_diagonals"]

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
    factors = _outer_factors(h_eff, jumps)
    return _assemble(factors, h_eff.shape[0])


def centred_liouvillian_csr(h_eff, jumps) -> tuple[sp.csr_matrix, complex]:
    """``(L - mu 1, mu)`` with ``mu = tr(L) / 4^n`` (the shift of a Taylor propagator, which lowers the norm), the
    shift assembled with the diagonal (no second pass over the matrix). ``tr L = sum_p (sum_a left_p[a])
    (sum_b right_p[b])`` over the outer-product pairs of mask 0."""
    d = h_eff.shape[0]
    factors = _outer_factors(h_eff, jumps)
    trace = sum(complex(left.sum() * right.sum()) for left, right in factors.get(0, []))
    mu = trace / (d * d)
    factors.setdefault(0, []).append((np.full(d, -mu), np.ones(d, dtype=complex)))
    return _assemble(factors, d), mu


def _assemble(factors: dict[int, list[tuple[np.ndarray, np.ndarray]]], d: int) -> sp.csr_matrix:
    """The CSR matrix with ``M[R, R XOR X] = sum_p left_p[a] right_p[b]`` (``R = a d + b``) over the pairs of each
    mask ``X`` in ``factors``: the row counts from the structural nonzeros (one byte per mask and row), then the
    values and column indices of a block of rows at a time, written in place into the final arrays."""
    masks = np.array(sorted(factors), dtype=np.int64)
    size = d * d
    # structural nonzeros of each mask's diagonal, (K, 4^n): one byte per entry, the row counts and CSR pointers
    pattern = np.empty((masks.size, size), dtype=bool)
    for k, x in enumerate(masks):
        pairs = factors[int(x)]
        view = pattern[k].reshape(d, d)
        np.logical_and.outer(pairs[0][0] != 0, pairs[0][1] != 0, out=view)
        for left, right in pairs[1:]:
            view |= np.logical_and.outer(left != 0, right != 0)
    counts = pattern.sum(axis=0, dtype=np.int64)
    nnz = int(counts.sum())
    index_dtype = np.int32 if max(nnz, size) < 2**31 else np.int64
    indptr = np.zeros(size + 1, dtype=index_dtype)
    np.cumsum(counts, out=indptr[1:])
    data = np.empty(nnz, dtype=complex)  # written once, block by block (no concatenation of partial results)
    indices = np.empty(nnz, dtype=index_dtype)
    masks = masks.astype(index_dtype)
    step = max(_BLOCK // d, 1)  # values of the row index a per block: the block has step * d rows of vec(rho)
    block = np.empty((masks.size, step * d), dtype=complex)
    for a0 in range(0, d, step):
        a1 = min(a0 + step, d)
        r0, r1 = a0 * d, a1 * d
        values = block[:, :r1 - r0]
        for k, x in enumerate(masks):  # the mask's diagonal on this block's rows, contiguous
            pairs = factors[int(x)]
            view = values[k].reshape(a1 - a0, d)
            np.multiply.outer(pairs[0][0][a0:a1], pairs[0][1], out=view)
            for left, right in pairs[1:]:
                view += np.multiply.outer(left[a0:a1], right)
        keep = pattern[:, r0:r1].T  # (rows, K): row-major order of the selection = CSR order within the block
        start, stop = indptr[r0], indptr[r1]
        data[start:stop] = values.T[keep]
        indices[start:stop] = (np.arange(r0, r1, dtype=index_dtype)[:, None] ^ masks[None, :])[keep]
    out = sp.csr_matrix((data, indices, indptr), shape=(size, size))
    out.eliminate_zeros()  # structural entries whose terms cancel (e.g. the decay of a dark state)
    out.sort_indices()
    return out


def _outer_factors(h_eff, jumps) -> dict[int, list[tuple[np.ndarray, np.ndarray]]]:
    """``{X: [(left, right), ...]}``: the Liouvillian's diagonal at composite mask ``X`` is the sum of the outer
    products ``left (x) right`` (module docstring)."""
    d = h_eff.shape[0]
    n = d.bit_length() - 1
    factors: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    ones = np.ones(d, dtype=complex)
    for x, h in xor_diagonals(h_eff).items():
        factors.setdefault(x << n, []).append((-1j * h, ones))
        factors.setdefault(x, []).append((ones, 1j * h.conj()))
    for rate, g in jumps:
        parts = xor_diagonals(g)
        for x, gx in parts.items():
            for y, gy in parts.items():
                factors.setdefault((x << n) | y, []).append((rate * gx, gy.conj()))
    return factors
