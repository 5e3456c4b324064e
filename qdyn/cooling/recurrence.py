"""Chebyshev series of an operator applied to a vector by Clenshaw's recurrence, in place, on numpy or torch.

For ``M = 2 X`` with ``X`` Hermitian, spectrum in [-1, 1], and a series ``f(X) = sum_{k=0}^d c_k T_k(X)``,
Clenshaw's recurrence (Clenshaw, Math. Comp. 9, 118 (1955); Numerical Recipes 5.8) runs downwards,

    b_d = c_d v,   b_k = c_k v + M b_{k+1} - b_{k+2}  (k = d-1, ..., 1),   f(X) v = c_0 v + (M b_1)/2 - b_2,

``d`` products with ``M`` in all and stable on [-1, 1] (the rounding grows like ``d``, as in the forward three-term
recurrence ``T_{k+1} = 2 X T_k - T_{k-1}``). Every update ``b <- M b' - b`` is one call of an operator's
``step(x, y)`` (``y <- M x - y``, in place); the coefficients add with in-place ``axpy``. The cost is the products
of ``M`` and ``O(d)`` vector updates (scipy's public CSR product allocates its one result vector), with no
per-term Python object beyond the call.

Operators (``step``, ``new_vector``, and ``products``: the products of the underlying matrix made so far; the two
shifts also ``set_shift(scale, mu)`` and ``add_product(x, y)``: ``y <- y + M x``):

* :class:`CSRShift` -- ``M = s (H - mu)`` for a scipy CSR ``H``: ``y += M x`` by scipy's CSR product on a
  copy of ``H`` whose diagonal carries ``-mu``, after ``y <- -y`` (numpy), or by a torch sparse CSR tensor (torch,
  CPU or CUDA);
* :class:`AppliedShift` -- the same ``M`` through any ``apply(x) = H x`` (the matrix-free or torch
  :class:`qdyn.exact.PauliSum`);
* :class:`DenseOperator` -- a dense matrix (numpy or torch); a real matrix multiplies a complex vector as one real
  product with its (real, imaginary) parts as two columns.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import zaxpy

__all__ = ["AppliedShift", "CSRShift", "DenseOperator", "axpy", "clenshaw", "dense_product"]


def _is_numpy(x) -> bool:
    return isinstance(x, np.ndarray)


def axpy(y, a, x):
    """``y <- y + a x`` in place (numpy: BLAS ``axpy`` for complex128 vectors; torch: ``add_``)."""
    if _is_numpy(y):
        if y.dtype == np.complex128 and x.dtype == np.complex128 and y.flags.c_contiguous and x.flags.c_contiguous:
            zaxpy(x, y, a=complex(a))  # in place: y is contiguous complex128
        else:
            y += a * x
    else:
        y.add_(x, alpha=a)
    return y


def _negate(y):
    if _is_numpy(y):
        np.negative(y, out=y)
    else:
        y.neg_()
    return y


def clenshaw(op, coeffs, v, out, work):
    """``out <- sum_k coeffs[k] T_k(M/2) v`` for the operator ``op`` (``M``, module docstring); ``work`` is a pair
    of vectors like ``v`` (overwritten). ``len(coeffs) - 1`` products with ``M``. Returns ``out``."""
    c = np.asarray(coeffs).tolist()  # Python scalars: the same code runs on numpy and torch vectors
    d = len(c) - 1
    if d == 0:
        out[:] = v
        out *= c[0]
        return out
    b1, b2 = work
    b1[:] = v
    b1 *= c[d]
    b2[:] = 0
    for k in range(d - 1, 0, -1):
        op.step(b1, b2)  # b2 <- M b_{k+1} - b_{k+2}
        if c[k] != 0:
            axpy(b2, c[k], v)
        b1, b2 = b2, b1  # b1 = b_k, b2 = b_{k+1}
    out[:] = b2  # f v = (M b_1 - 2 b_2)/2 + c_0 v
    out *= 2
    op.step(b1, out)
    out *= 0.5
    if c[0] != 0:
        axpy(out, c[0], v)
    return out


class CSRShift:
    """``M = scale (H - mu)`` for a scipy CSR ``H`` on complex vectors: numpy (``device=None``; scipy's CSR
    product) or torch on ``device`` (a torch sparse CSR tensor: cuSPARSE on a GPU).
    ``add_product(x, y)``: ``y <- y + M x``; ``step(x, y)``: ``y <- M x - y``.

    The matrix is copied once with complex values, sorted indices and an explicit diagonal; :meth:`set_shift`
    rewrites only the values (``O(nnz)``), so one instance serves every ``mu``.
    """

    def __init__(self, matrix, device: str | None = None):
        from scipy.sparse import coo_matrix

        entries = coo_matrix(matrix)
        dim = entries.shape[0]
        diagonal = np.arange(dim)
        # H plus explicit zeros on the diagonal (kept by the conversion), duplicates summed: -mu has a place
        pattern = coo_matrix((np.concatenate([entries.data.astype(complex), np.zeros(dim, dtype=complex)]),
                              (np.concatenate([entries.row, diagonal]), np.concatenate([entries.col, diagonal]))),
                             shape=(dim, dim)).tocsr()
        pattern.sum_duplicates()
        pattern.sort_indices()
        rows = np.repeat(diagonal, np.diff(pattern.indptr))
        self.dim, self.device, self.products = dim, device, 0
        self._diagonal = np.flatnonzero(pattern.indices == rows)
        self._h = pattern.data  # H's values on the pattern
        self.indptr, self.indices = pattern.indptr, pattern.indices
        if device is not None:
            import torch

            self.indptr = torch.as_tensor(pattern.indptr.astype(np.int64), device=device)
            self.indices = torch.as_tensor(pattern.indices.astype(np.int64), device=device)
            self._h = torch.as_tensor(pattern.data, device=device)
            self._diagonal = torch.as_tensor(self._diagonal, device=device)
        self.data = self._h.clone() if device is not None else self._h.copy()  # M's values
        self._matrix = None  # M as a scipy CSR matrix or a torch sparse tensor (sharing ``data``)

    def set_shift(self, scale: float, mu: float) -> CSRShift:
        """Make ``M = scale (H - mu)``."""
        if self.device is None:
            np.multiply(self._h, scale, out=self.data)
            self.data[self._diagonal] -= scale * mu
            self._matrix = sp.csr_matrix((self.data, self.indices, self.indptr), shape=(self.dim, self.dim),
                                         copy=False)
            return self
        import warnings

        import torch

        torch.mul(self._h, scale, out=self.data)
        self.data[self._diagonal] -= scale * mu
        with warnings.catch_warnings():  # "sparse CSR tensor support is in beta": products and shape only here
            warnings.simplefilter("ignore", UserWarning)
            self._matrix = torch.sparse_csr_tensor(self.indptr, self.indices, self.data, size=(self.dim, self.dim))
        return self

    def new_vector(self):
        if self.device is None:
            return np.zeros(self.dim, dtype=complex)
        import torch

        return torch.zeros(self.dim, dtype=torch.complex128, device=self.device)

    def add_product(self, x, y):
        self.products += 1
        if self.device is None:
            y += self._matrix @ x  # scipy's public product: one temporary vector
        else:
            y.add_(self._matrix @ x)

    def step(self, x, y):
        _negate(y)
        self.add_product(x, y)


class AppliedShift:
    """``M = scale (H - mu)`` through ``apply(x) = H x`` (numpy or torch vectors); ``add_product(x, y)``:
    ``y <- y + M x``; ``step(x, y)``: ``y <- M x - y``. ``new_vector()`` gives a zero vector like ``template``
    (its dtype and device)."""

    def __init__(self, apply, template):
        self.apply, self.template = apply, template
        self.scale, self.mu = 1.0, 0.0
        self.products = 0

    def set_shift(self, scale: float, mu: float) -> AppliedShift:
        """Make ``M = scale (H - mu)``."""
        self.scale, self.mu = float(scale), float(mu)
        return self

    def new_vector(self):
        return self.template * 0

    def add_product(self, x, y):
        hx = self.apply(x)
        self.products += 1
        axpy(y, self.scale, hx)
        if self.mu != 0:
            axpy(y, -self.scale * self.mu, x)

    def step(self, x, y):
        _negate(y)
        self.add_product(x, y)


def dense_product(matrix, x, out=None):
    """``matrix @ x`` for numpy arrays; a real ``matrix`` times a complex ``x`` (vector or columns) runs as one real
    product with the real and imaginary parts side by side (numpy would copy the matrix to complex first)."""
    if np.iscomplexobj(matrix) or not np.iscomplexobj(x):
        return np.matmul(matrix, x, out=out)
    x = np.ascontiguousarray(x)
    if out is None:
        out = np.empty((matrix.shape[0],) + x.shape[1:], dtype=x.dtype)
    np.matmul(matrix, x.view(x.real.dtype).reshape(x.shape[0], -1),
              out=out.view(out.real.dtype).reshape(out.shape[0], -1))
    return out


class DenseOperator:
    """A dense matrix ``M`` (numpy or torch); ``step(x, y)``: ``y <- M x - y``. A real numpy ``M`` multiplies a
    complex vector as one real product with its (real, imaginary) parts as two columns (half the work of a complex
    product)."""

    def __init__(self, matrix):
        self.matrix = matrix
        self.products = 0
        self._product = None

    def new_vector(self):
        if _is_numpy(self.matrix):
            return np.zeros(self.matrix.shape[0], dtype=complex)
        import torch

        dtype = self.matrix.dtype if self.matrix.is_complex() else torch.complex128
        return torch.zeros(self.matrix.shape[0], dtype=dtype, device=self.matrix.device)

    def step(self, x, y):
        self.products += 1
        if not _is_numpy(y):
            y.neg_().add_(self.matrix @ x)
            return
        if self._product is None:
            self._product = np.empty_like(y)
        np.subtract(dense_product(self.matrix, x, out=self._product), y, out=y)
