"""The classical cooling steps of :func:`qdyn.cooling.cool`: ``psi -> e^{-i t (f_mu(H) + lam V)} psi``.

``H`` is normalised (spectrum inside [-1, 1]); every step returns ``(state, 1.0)`` (nothing is post-selected).

* :class:`ExactStep` (``method="exact"``): ``f_mu(E) = erf((E - mu)/eps)`` through the eigendecomposition of ``H``
  (:class:`DenseSpectrum`), ``e^{-i G t}`` by dense diagonalisation of ``G``.
* :class:`PolyStep` (``method="poly"``): ``f_mu(H) = p((H - mu)/alpha)``, ``p`` the odd Chebyshev polynomial,
  applied matrix-free by its three-term recurrence; ``e^{-i G t}`` by the Chebyshev (Jacobi-Anger) propagator in
  ``G / r``, ``r = 1 + lam ||V||_1 >= ||G||``, with the coefficients of
  :func:`qdyn.exact.evolution.chebyshev_coefficients` (the same truncation as the circuit's polynomials).
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp
from scipy.special import erf

from qdyn.exact.evolution import chebyshev_coefficients
from qdyn.exact.pauli_sum import PauliSum
from qdyn.operators import pauli_norm

__all__ = ["DenseSpectrum", "ExactStep", "PolyStep"]


class DenseSpectrum:
    """Eigenvalues ``values`` (ascending) and eigenvectors ``vectors`` (columns) of a small Hermitian matrix."""

    def __init__(self, values: np.ndarray, vectors: np.ndarray):
        self.values, self.vectors = np.asarray(values, dtype=float), np.asarray(vectors)

    @classmethod
    def of(cls, op: SparsePauliOp) -> DenseSpectrum:
        """Dense ``eigh`` of ``op`` (symmetrised against rounding)."""
        matrix = op.to_matrix()
        return cls(*np.linalg.eigh((matrix + matrix.conj().T) / 2))

    def weight_below(self, psi, mu) -> float:
        """``sum_{E_j < mu} |<E_j|psi>|^2``."""
        amps = self.vectors.conj().T @ psi
        return float(np.sum(np.abs(amps[self.values < mu]) ** 2))


class ExactStep:
    """``e^{-i t (erf((H - mu)/eps) + lam V)} psi`` by dense linear algebra (``V`` given as a matrix)."""

    def __init__(self, spectrum: DenseSpectrum, eps: float):
        self.spec, self.eps = spectrum, eps

    def __call__(self, psi, mu, lam, v_matrix, t):
        q = self.spec.vectors
        g = (q * erf((self.spec.values - mu) / self.eps)) @ q.conj().T + lam * v_matrix
        w, u = np.linalg.eigh((g + g.conj().T) / 2)
        return u @ (np.exp(-1j * w * t) * (u.conj().T @ psi)), 1.0


class PolyStep:
    """``e^{-i t (p(A) + lam V)} psi``, ``A = (H - mu)/alpha``, matrix-free (``V`` given as a :class:`PauliSum`);
    ``matvecs`` counts the applications of ``A``."""

    def __init__(self, h_sum: PauliSum, poly, alpha: float, tol: float):
        self.h, self.poly, self.alpha, self.tol = h_sum, poly, alpha, tol
        self.matvecs = 0

    def __call__(self, psi, mu, lam, v_sum: PauliSum, t):
        alpha, mu, lam = self.alpha, float(mu), float(lam)
        psi = self.h.asarray(psi)

        def a_matvec(v):
            self.matvecs += 1
            return (self.h.apply(v) - mu * v) / alpha

        def g_matvec(v):
            return self.poly.apply(a_matvec, v) + lam * v_sum.apply(v)

        radius = 1.0 + lam * pauli_norm(v_sum.op)
        coeffs = [complex(a) for a in chebyshev_coefficients(radius * t, tol=self.tol)]
        acc = coeffs[0] * psi
        if len(coeffs) > 1:
            prev, cur = psi, g_matvec(psi) / radius
            acc = acc + coeffs[1] * cur
            for a in coeffs[2:]:
                prev, cur = cur, 2 * g_matvec(cur) / radius - prev
                acc = acc + a * cur
        if self.h.engine == "torch":
            acc = acc.cpu().numpy()
        return acc, 1.0

