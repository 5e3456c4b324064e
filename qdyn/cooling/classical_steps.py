"""The classical cooling steps of :func:`qdyn.cooling.cool`: ``psi -> e^{-i t (f_mu(H) + lam V)} psi``.

``H`` is normalised (spectrum inside [-1, 1]); ``V`` is a ``SparsePauliOp``; every step returns ``(state, 1.0)``
(nothing is post-selected). ``e^{-i G t}`` is the Chebyshev (Jacobi-Anger) propagator in ``G / r``,
``r = 1 + lam ||V||_1 >= ||G||`` (``|f_mu| <= 1``), with the coefficients of
:func:`qdyn.exact.evolution.chebyshev_coefficients` (the same truncation ``tol`` as the circuit's polynomials),
summed by Clenshaw's recurrence (:mod:`qdyn.cooling.recurrence`). Two ways to apply ``G``:

* :class:`SpectralStep` -- in the eigenbasis ``H = Q diag(E) Q^dag`` (:class:`DenseSpectrum`), where ``f_mu(H)``
  is the diagonal ``f_mu(E_j)`` and ``V`` the dense ``Q^dag V Q`` (made once per ``V``): one dense product per
  application of ``G``. ``method="exact"`` uses it with ``f_mu(E) = erf((E - mu)/eps)``, and ``method="poly"``
  with ``f_mu(E) = p((E - mu)/alpha)`` (the polynomial evaluated on the eigenvalues) where that is cheaper than
  the recurrence (:func:`spectral_is_cheaper`).
* :class:`PolyStep` -- ``f_mu(H) = p(A)``, ``A = (H - mu)/alpha``, ``p`` the odd Chebyshev polynomial, by
  Clenshaw's recurrence in ``A`` on the exact engine's CSR matrix (numpy: scipy's CSR product;
  torch: the same CSR as a sparse tensor on the CPU or a GPU) or, where the CSR does not fit, through the
  matrix-free :meth:`qdyn.exact.PauliSum.apply`: ``deg p`` products of ``H`` per application of ``G``.

Both give the same states to rounding (the polynomial is applied exactly either way); the query accounting
(:mod:`qdyn.cooling.accounting`) does not depend on the route. ``matvecs`` counts the products made: of ``H``
for :class:`PolyStep`, of the dense ``G`` for :class:`SpectralStep`.
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp
from scipy.special import erf

from qdyn.cooling.recurrence import AppliedShift, CSRShift, DenseOperator, axpy, clenshaw, dense_product
from qdyn.exact.evolution import chebyshev_coefficients
from qdyn.exact.pauli_sum import PauliSum
from qdyn.operators import pauli_norm

__all__ = ["DenseSpectrum", "PolyStep", "SpectralStep", "erf_filter", "poly_filter", "shift_operator",
           "spectral_is_cheaper"]

#: dense matrix entries per CSR stored entry at equal time (crossover measured between n = 10 and 11, 2 cores)
_DENSE_ADVANTAGE = 1.5


class DenseSpectrum:
    """Eigenvalues ``values`` (ascending) and eigenvectors ``vectors`` (columns) of a small Hermitian matrix."""

    def __init__(self, values: np.ndarray, vectors: np.ndarray):
        self.values, self.vectors = np.asarray(values, dtype=float), np.asarray(vectors)

    @classmethod
    def of(cls, op: SparsePauliOp) -> DenseSpectrum:
        """Dense ``eigh`` of ``op`` (symmetrised against rounding); real eigenvectors when ``op`` is real."""
        matrix = op.to_matrix()
        if not np.any(matrix.imag):
            matrix = matrix.real
        return cls(*np.linalg.eigh((matrix + matrix.conj().T) / 2))

    def weight_below(self, psi, mu) -> float:
        """``sum_{E_j < mu} |<E_j|psi>|^2``."""
        amps = dense_product(self.vectors.conj().T, psi)
        return float(np.sum(np.abs(amps[self.values < mu]) ** 2))

    def in_basis(self, op: SparsePauliOp) -> np.ndarray:
        """``Q^dag op Q`` (dense; real when ``op`` and ``Q`` are), Hermitian-symmetrised against rounding."""
        sparse = op.to_matrix(sparse=True)
        if not np.any(sparse.data.imag):
            sparse = sparse.real
        q = self.vectors
        out = q.conj().T @ (sparse @ q)
        return (out + out.conj().T) / 2


def erf_filter(eps: float):
    """``f_mu(E) = erf((E - mu)/eps)`` (``method="exact"``)."""
    return lambda energies, mu: erf((energies - mu) / eps)


def poly_filter(poly, alpha: float):
    """``f_mu(E) = p((E - mu)/alpha)`` (``method="poly"``): the polynomial on the eigenvalues."""
    return lambda energies, mu: poly((energies - mu) / alpha)


def _v_key(op: SparsePauliOp):
    return tuple(op.paulis.to_labels()), op.coeffs.tobytes()


class SpectralStep:
    """``e^{-i t (f(H, mu) + lam V)} psi`` in the eigenbasis of ``H`` (module docstring); ``filter_values(E, mu)``
    gives ``f`` on the eigenvalues (:func:`erf_filter`, :func:`poly_filter`), bounded by 1."""

    evaluation = "eigenbasis"  #: how the filter is applied (recorded in the result's metadata)

    def __init__(self, spectrum: DenseSpectrum, filter_values, tol: float):
        self.spec, self.filter_values, self.tol = spectrum, filter_values, tol
        self._v = (None, None)  # the last V's key and Q^dag V Q
        self.matvecs = 0

    def _v_in_basis(self, V: SparsePauliOp) -> np.ndarray:
        key = _v_key(V)
        if self._v[0] != key:
            self._v = (key, self.spec.in_basis(V))
        return self._v[1]

    def __call__(self, psi, mu, lam, V: SparsePauliOp, t):
        radius = 1.0 + lam * pauli_norm(V)
        m = (2 * lam / radius) * self._v_in_basis(V)  # M = 2 G / r in the eigenbasis
        m[np.diag_indices_from(m)] += (2 / radius) * self.filter_values(self.spec.values, float(mu))
        op = DenseOperator(m)
        q = self.spec.vectors
        coeffs = chebyshev_coefficients(radius * t, tol=self.tol)
        amps = dense_product(q.conj().T, np.asarray(psi, dtype=complex))
        out = clenshaw(op, coeffs, amps, op.new_vector(), (op.new_vector(), op.new_vector()))
        self.matvecs += op.products
        return dense_product(q, out), 1.0


def shift_operator(h_sum: PauliSum):
    """``M = scale (H - mu)`` for :func:`qdyn.cooling.recurrence.clenshaw` on ``h_sum``'s engine: its CSR matrix
    (numpy), the same CSR as a torch sparse tensor on its device (torch, where the CSR fits the exact engine's
    budget), else its matrix-free :meth:`~qdyn.exact.PauliSum.apply`."""
    if h_sum.matrix is not None:
        return CSRShift(h_sum.matrix)
    if h_sum.engine == "torch":
        csr = PauliSum(h_sum.op).matrix  # the exact engine's choice: None where the CSR does not fit
        if csr is not None:
            return CSRShift(csr, device=h_sum.device)
    return AppliedShift(h_sum.apply, h_sum.asarray(np.zeros(h_sum.dim, dtype=complex)))


class _GOperator:
    """``M = (2/r) (p(A) + lam V)``, ``A = M_A / 2`` (``M_A`` the operator ``inner``): ``step(x, y)``:
    ``y <- M x - y``, ``p(A) x`` by :func:`clenshaw` in ``M_A``; ``v_op`` is ``(2 lam / r) V``."""

    def __init__(self, inner, coeffs, v_op, radius: float):
        self.inner, self.coeffs, self.v_op, self.radius = inner, coeffs, v_op, radius
        self.filtered = inner.new_vector()
        self.work = (inner.new_vector(), inner.new_vector())

    def new_vector(self):
        return self.inner.new_vector()

    def step(self, x, y):
        clenshaw(self.inner, self.coeffs, x, self.filtered, self.work)
        y *= -1
        axpy(y, 2 / self.radius, self.filtered)
        self.v_op.add_product(x, y)


class PolyStep:
    """``e^{-i t (p(A) + lam V)} psi``, ``A = (H - mu)/alpha``, by Clenshaw's recurrence in ``A`` (module
    docstring) on ``h_sum``'s engine and device (:func:`shift_operator`); ``matvecs`` counts the products of ``H``
    (``deg p`` per application of ``G``)."""

    evaluation = "recurrence"  #: how the filter is applied (recorded in the result's metadata)

    def __init__(self, h_sum: PauliSum, poly, alpha: float, tol: float):
        self.h, self.poly, self.alpha, self.tol = h_sum, poly, alpha, tol
        self.inner = shift_operator(h_sum)
        self._v = (None, None)  # the last V's key and operator
        self.matvecs = 0

    def _v_op(self, V: SparsePauliOp):
        key = _v_key(V)
        if self._v[0] != key:
            self._v = (key, shift_operator(PauliSum(V, engine=self.h.engine, device=self.h.device)))
        return self._v[1]

    def __call__(self, psi, mu, lam, V: SparsePauliOp, t):
        radius = 1.0 + lam * pauli_norm(V)
        self.inner.set_shift(2 / self.alpha, float(mu))
        before = self.inner.products
        v_op = self._v_op(V).set_shift(2 * float(lam) / radius, 0.0)
        g = _GOperator(self.inner, self.poly.coeffs, v_op, radius)
        coeffs = chebyshev_coefficients(radius * t, tol=self.tol)
        x = self.h.asarray(np.asarray(psi, dtype=complex))
        out = clenshaw(g, coeffs, x, g.new_vector(), (g.new_vector(), g.new_vector()))
        self.matvecs += self.inner.products - before
        if self.h.engine == "torch":
            out = out.cpu().numpy()
        return out, 1.0


def spectral_is_cheaper(h_sum: PauliSum, degree: int) -> bool:
    """True when one dense product in the eigenbasis (``4^n`` entries) costs less than ``degree`` CSR products of
    ``H`` (``degree`` nnz(H) stored entries), with the dense kernel counted :data:`_DENSE_ADVANTAGE` times faster
    per entry. Only for the numpy CSR engine (the matrix-free and torch paths have no dense alternative here)."""
    if h_sum.engine != "numpy" or h_sum.matrix is None:
        return False
    return float(h_sum.dim) ** 2 <= _DENSE_ADVANTAGE * degree * h_sum.matrix.nnz
