"""Preconditioned Krylov solves of a bordered generator (GMRES with a Jacobi preconditioner), and ``||B^{-1}||_1``.

For the bordered Liouvillian ``B`` (:mod:`qdyn.open.stationarity`) the diagonal carries the decay rates and the
energy differences, ``L[(a, b), (a, b)] = -i (E_a - E_b) - (Gamma_a + Gamma_b) / 2`` for a diagonal-dominated
``H_eff``, so scaling by its inverse (Jacobi) clusters the spectrum of ``B D^{-1}`` and restarted GMRES
(Saad & Schultz, SIAM J. Sci. Stat. Comput. 7, 856 (1986)) converges in about a hundred products of ``B`` for
the dissipative chains (N = 6..8), without the fill-in of a sparse LU (which grows steeply with N).

The Jacobi-scaled iteration can break down early (seen on a translation-invariant chain, V = 1.5, g = 0.8):
then plain GMRES, which converges there in under two hundred products. A solve is accepted when its true
residual ``||B x - b||_2 <= ACCEPT_RTOL ||b||_2`` (the caller reports the residual and a distance bound);
otherwise :class:`KrylovSolver` returns ``None`` and the caller falls back to a direct factorisation.
``||B^{-1}||_1`` is estimated by Higham's block 1-norm estimator (``onenormest``) with inexact solves of ``B``
and ``B^H`` at a relative tolerance of ``NORM_RTOL``: an estimate (it may be low), used for the distance
estimate ``||x - x_ss||_1 <= ||B^{-1}||_1 ||B x - e_0||_1``.

A real matrix (the POVM-space generator) is solved in real arithmetic when the right-hand side is real: half the
memory traffic of a complex product and no complex upcast of the matrix at every product (about 3x faster at
N = 7 than the complex iteration).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, gmres, onenormest

__all__ = ["ACCEPT_RTOL", "NORM_RTOL", "SOLVE_RTOL", "KrylovSolver"]

#: GMRES target on ``||B x - b|| / ||b||`` for the steady state (near double precision's floor).
SOLVE_RTOL = 1e-14
#: Largest relative residual accepted from GMRES (else the caller uses a direct factorisation).
ACCEPT_RTOL = 1e-10
#: Relative tolerance of the inner solves of the 1-norm estimate (two digits of the norm suffice).
NORM_RTOL = 1e-6
#: Krylov dimension before a restart, and the most restarts.
RESTART, MAX_RESTARTS = 100, 20


class KrylovSolver:
    """Jacobi-preconditioned restarted GMRES on a sparse square ``matrix`` (module docstring), plain GMRES where
    the preconditioned iteration fails."""

    def __init__(self, matrix):
        self.matrix = sp.csr_matrix(matrix)
        #: the arithmetic of real right-hand sides (float64 for a real matrix, complex128 otherwise)
        self.dtype = np.result_type(self.matrix.dtype, np.float64)
        diagonal = self.matrix.diagonal().astype(self.dtype)
        diagonal[diagonal == 0] = 1.0
        self._diagonal = diagonal
        self._adjoint = None
        #: "jacobi" until a Jacobi-preconditioned solve fails, then "none"
        self.preconditioner = "jacobi"
        #: products of the matrix (or its adjoint) so far
        self.matvecs = 0

    def _counted(self, matrix, dtype):
        def matvec(v):
            self.matvecs += 1
            return matrix @ v

        return LinearOperator(matrix.shape, matvec=matvec, dtype=dtype)

    def solve(self, b, rtol: float = SOLVE_RTOL, adjoint: bool = False) -> np.ndarray | None:
        """``x`` with ``B x = b`` (``B^H x = b`` when ``adjoint``), or ``None`` when GMRES cannot reach a relative
        residual of ``max(rtol, ACCEPT_RTOL)``, with the Jacobi preconditioner nor without it (the Jacobi-scaled
        system can break down early on symmetric models; once it has, later solves go without it)."""
        b = np.asarray(b).reshape(-1)
        dtype = np.result_type(self.dtype, b.dtype)
        b = b.astype(dtype, copy=False)
        if adjoint and self._adjoint is None:
            self._adjoint = self.matrix.conj().T.tocsr()
        matrix = self._adjoint if adjoint else self.matrix
        norm = np.linalg.norm(b)
        if norm == 0:
            return np.zeros_like(b)
        for jacobi in (True, False) if self.preconditioner == "jacobi" else (False,):
            preconditioner = None
            if jacobi:
                scale = self._diagonal.conj() if adjoint else self._diagonal
                preconditioner = LinearOperator(matrix.shape, matvec=lambda v, _s=scale: v / _s, dtype=dtype)
            x, _ = gmres(self._counted(matrix, dtype), b, M=preconditioner, rtol=rtol, atol=0.0, restart=RESTART,
                         maxiter=MAX_RESTARTS)
            if np.all(np.isfinite(x)) and np.linalg.norm(matrix @ x - b) <= max(rtol, ACCEPT_RTOL) * norm:
                return x
            self.preconditioner = "none"
        return None

    def inverse_one_norm(self) -> float | None:
        """An estimate of ``||B^{-1}||_1`` (``onenormest`` with inexact solves), or ``None`` if a solve failed."""
        failed = []

        def apply(v, adjoint):
            v = np.asarray(v)
            columns = v.reshape(v.shape[0], -1)
            out = np.empty(columns.shape, dtype=np.result_type(self.dtype, columns.dtype))
            for k in range(columns.shape[1]):
                x = self.solve(columns[:, k], NORM_RTOL, adjoint=adjoint)
                if x is None:
                    failed.append(k)
                    x = np.zeros(columns.shape[0], dtype=self.dtype)
                out[:, k] = x
            return out.reshape(v.shape)

        inverse = LinearOperator(self.matrix.shape, dtype=self.dtype, matvec=lambda v: apply(v, False),
                                 rmatvec=lambda v: apply(v, True), matmat=lambda v: apply(v, False),
                                 rmatmat=lambda v: apply(v, True))
        estimate = float(onenormest(inverse))
        return None if failed else estimate
