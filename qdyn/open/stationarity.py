"""Steady states as null vectors: the bordered solve, its uniqueness, its residual, an error bound, physicality.

A generator ``L`` (the vectorised Liouvillian on ``x = vec(rho)``, or the POVM-space generator on ``x = P``)
preserves a linear functional ``w`` (the trace, ``w = vec(1)``; the total probability, ``w = (1, ..., 1)``):
``w^T L = 0``. Row 0 of ``L`` is then a combination of the others (``w_0 != 0``), and the steady state solves the
*bordered* system

    B x = e_0,        B = L with row 0 replaced by w^T.

``ker B = ker L ∩ {w . x = 0}`` and ``ker L`` holds a state with ``w . x = 1``, so ``dim ker L = 1 + dim ker B``:
the steady state is unique exactly when ``B`` is invertible. ``B`` is declared singular (a ``ValueError`` naming
the dimension of the null space of ``L``) when its LU factorisation fails or its condition number exceeds
``1 / UNIQUENESS_RTOL``: no dissipation, or conserved quantities, leave several steady states.

Solvers (``method="auto"``): up to ``DENSE_LIMIT`` unknowns a dense SVD and LU; from ``ITERATIVE_LIMIT`` on,
preconditioned GMRES (:mod:`qdyn.open.iterative`: a few hundred sparse products instead of a factorisation whose
fill-in grows steeply with the size; a Liouvillian's preconditioner is the inverse of its no-jump part,
:mod:`qdyn.open.no_jump`, then the Jacobi diagonal); in between, or when GMRES does not reach its tolerance
or ``B`` looks singular to it, a sparse LU with a minimum-degree ordering of ``B + B^T`` (which then decides
uniqueness). ``method="gmres"`` (with the same LU fallback) or ``"sparse-lu"`` forces one of the sparse solvers
above ``DENSE_LIMIT`` (for comparisons); ``BorderedGenerator.method`` says which one solved. ``device="cuda"``
(or ``"auto"`` with a GPU, ``"torch-cpu"`` for the torch code on the CPU) runs GMRES in torch on the device; the
dense and LU solvers run on the CPU, and ``BorderedGenerator.device`` says where the solve ran.

Error bound. For any candidate ``x``, ``B (x - x_ss) = B x - e_0``, so

    ||x - x_ss||_2 <= ||B^{-1}||_2 ||B x - e_0||_2         (kind "bound": 1/sigma_min(B) from a dense SVD),
    ||x - x_ss||_2 <= ||x - x_ss||_1 <= ||B^{-1}||_1 ||B x - e_0||_1   (kind "estimate": ``||B^{-1}||_1`` by
                                                              Higham's ``onenormest``, which may underestimate),

the first up to ``DENSE_LIMIT`` unknowns, the second beyond (with GMRES: ``onenormest`` with inexact solves).
An expectation value ``<O> = o . x`` (``o = vec(O^T)`` or the POVM observable vector) is then within
``||o||_2 ||x - x_ss||_2`` of its exact steady-state value (Cauchy-Schwarz). The *residual* reported is
``||L x||_2`` (for a density matrix the Frobenius norm of ``L(rho)``, in units of the rates).

Physicality: the density matrix returned has its smallest eigenvalue checked against ``-PHYSICALITY_ATOL``
(:func:`check_physical`, a :class:`qdyn.errors.PhysicsWarning` when it is below).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from qdyn.errors import PhysicsWarning, check_choice, check_positive

__all__ = ["DENSE_LIMIT", "ITERATIVE_LIMIT", "PHYSICALITY_ATOL", "UNIQUENESS_RTOL", "BorderedGenerator", "Stationarity",
           "check_physical"]

#: Largest system solved and bounded densely (an SVD of ``B``); beyond it, sparse LU and ``onenormest``.
DENSE_LIMIT = 256
#: Smallest system solved iteratively (preconditioned GMRES, :mod:`qdyn.open.iterative`; 6 qubits for the
#: Liouvillian), with a sparse LU as the fallback when GMRES does not converge.
ITERATIVE_LIMIT = 4096
#: ``B`` with ``sigma_min / sigma_max`` (or ``1 / cond_1``) below this is singular: the steady state is not unique.
UNIQUENESS_RTOL = 1e-12
#: Largest null space counted exactly (dense SVD of ``L``) when a steady state is not unique.
_COUNT_LIMIT = 1024
#: Default of the smallest eigenvalue allowed for a returned density matrix (``>= -PHYSICALITY_ATOL``).
PHYSICALITY_ATOL = 1e-8


@dataclass(frozen=True)
class Stationarity:
    """How well ``x`` solves ``L x = 0``: ``residual = ||L x||_2``, ``distance_bound`` on ``||x - x_ss||_2``
    of kind ``error_kind`` ("bound" or "estimate", module docstring), and ``converged = distance_bound <= tol``."""

    residual: float
    distance_bound: float
    error_kind: str
    tol: float
    converged: bool


class BorderedGenerator:
    """The bordered system of a generator ``L`` with the preserved functional ``w`` (module docstring).

    Parameters
    ----------
    matrix : the sparse (or dense) square generator ``L``.
    functional : ``w``, with ``w^T L = 0`` and ``w[0] != 0``.
    what : how to name ``L`` in errors ("the Liouvillian", "the POVM-space generator").
    method : ``"auto"``, ``"gmres"`` or ``"sparse-lu"`` (module docstring; ignored up to ``DENSE_LIMIT``).
    device : where GMRES runs, ``"cpu"`` (scipy), ``"cuda"``, ``"auto"`` or ``"torch-cpu"`` (torch;
        :func:`qdyn.exact.engine_for_device`, whose ``ValueError`` names a bad or unusable device).
    preconditioner : a function of no arguments that builds an approximate inverse of ``B`` for GMRES (or
        ``None``), called only when GMRES runs (:class:`qdyn.open.iterative.KrylovSolver`;
        :class:`qdyn.open.no_jump.NoJumpInverse` for a Liouvillian).

    Raises ``ValueError`` when the steady state is not unique (naming the dimension of the null space of ``L``).
    """

    def __init__(self, matrix, functional, *, what: str, method: str = "auto", device: str = "cpu",
                 preconditioner=None):
        from qdyn.exact import engine_for_device

        check_choice("method", method, ("auto", "gmres", "sparse-lu"))
        engine_for_device(device)  # a bad or unusable device is an error before any work
        self.matrix = sp.csr_matrix(matrix)
        self.what = what
        size = self.matrix.shape[0]
        w = np.asarray(functional).reshape(-1)
        if self.matrix.shape != (size, size) or w.shape != (size,) or w[0] == 0:
            raise ValueError("the generator must be square and the functional a vector of its size with w[0] != 0")
        self.bordered = sp.vstack([sp.csr_matrix(w.reshape(1, -1)), self.matrix[1:]], format="csr")
        self.dense = size <= DENSE_LIMIT
        #: how the system was solved: "dense" (SVD and LU), "gmres" (:mod:`qdyn.open.iterative`) or "sparse-lu"
        self.method = "dense" if self.dense else "sparse-lu"
        #: products of ``B`` (or ``B^H``) made by the iterative solver (0 for the direct ones), its preconditioner
        self.matvecs, self.preconditioner = 0, None
        #: where the solve ran: "cpu" (dense, sparse LU, scipy GMRES), "torch-cpu" or a CUDA device (torch GMRES)
        self.device = "cpu"
        self._steady, self._solve = None, None
        if self.dense:
            dense = self.bordered.toarray()
            singular = np.linalg.svd(dense, compute_uv=False)
            ratio = singular[-1] / singular[0] if singular[0] > 0 else 0.0
            self._inverse_norm = 1.0 / singular[-1] if singular[-1] > 0 else math.inf
            self._solve = (lambda b, _a=dense: np.linalg.solve(_a, b)) if ratio >= UNIQUENESS_RTOL else None
        else:
            iterative = method == "gmres" or (method == "auto" and size >= ITERATIVE_LIMIT)
            ratio = self._iterative(device, preconditioner) if iterative else 0.0
            if self._steady is None:
                ratio = self._factorise()
        self.condition = 1.0 / ratio if ratio > 0 else math.inf
        if self._steady is None and self._solve is None:
            raise ValueError(self._not_unique_message())

    def _one_norm(self) -> float:
        """``||B||_1``, the largest column sum of ``|B|``."""
        return float(np.bincount(self.bordered.indices, weights=np.abs(self.bordered.data),
                                 minlength=self.bordered.shape[1]).max())

    def _iterative(self, device: str, preconditioner) -> float:
        """Solve by preconditioned GMRES on ``device`` and estimate ``||B^{-1}||_1``; return ``1 / cond_1`` (0 and
        no solution kept when a solve fails or ``B`` looks singular: the caller then factorises)."""
        from qdyn.open.iterative import KrylovSolver

        solver = KrylovSolver(self.bordered, device=device,
                              preconditioner=None if preconditioner is None else preconditioner())
        rhs = np.zeros(self.matrix.shape[0])
        rhs[0] = 1.0
        x = solver.solve(rhs)
        inverse_norm = solver.inverse_one_norm() if x is not None else None
        self.matvecs = solver.matvecs
        if inverse_norm is None or not np.isfinite(inverse_norm):
            return 0.0
        ratio = 1.0 / (self._one_norm() * inverse_norm)
        if ratio < UNIQUENESS_RTOL:
            return 0.0
        self._steady, self._inverse_norm, self.method, self.device = x, inverse_norm, "gmres", solver.device
        self.preconditioner = solver.preconditioner
        return ratio

    def _factorise(self) -> float:
        """Sparse LU (minimum-degree ordering on ``B + B^T``) and Higham's estimate of ``||B^{-1}||_1``; return
        ``1 / cond_1`` (0 when the factor is singular)."""
        from scipy.sparse.linalg import LinearOperator, onenormest, splu

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
                lu = splu(self.bordered.tocsc(), permc_spec="MMD_AT_PLUS_A")
        except RuntimeError:  # SuperLU: "Factor is exactly singular"
            lu = None
        ratio = 0.0
        if lu is not None:
            dtype = np.result_type(self.bordered.dtype, np.float64)
            inverse = LinearOperator(self.bordered.shape, dtype=dtype,
                                     matvec=lambda v: lu.solve(np.asarray(v, dtype=dtype)),
                                     rmatvec=lambda v: lu.solve(np.asarray(v, dtype=dtype), trans="H"))
            self._inverse_norm = float(onenormest(inverse))
            ratio = 1.0 / (self._one_norm() * self._inverse_norm) if np.isfinite(self._inverse_norm) else 0.0
        self._solve = lu.solve if lu is not None and ratio >= UNIQUENESS_RTOL else None
        return ratio

    def _not_unique_message(self) -> str:
        size = self.matrix.shape[0]
        if size <= _COUNT_LIMIT:
            singular = np.linalg.svd(self.matrix.toarray(), compute_uv=False)
            dimension = int(np.sum(singular <= UNIQUENESS_RTOL * singular[0])) if singular[0] > 0 else size
            dim = f"its null space has dimension {dimension} (> 1)"
        else:
            dim = f"its null space has dimension > 1 (condition number of the bordered system {self.condition:.2g})"
        return (f"{self.what} has no unique steady state: {dim}. A unique steady state needs dissipation that "
                "connects every state (no dissipation, or a conserved quantity, leaves one steady state per "
                "sector); add or change jump operators, or evolve from the initial state of interest instead")

    @property
    def error_kind(self) -> str:
        return "bound" if self.dense else "estimate"

    def solve(self) -> np.ndarray:
        """The steady vector ``x``: ``L x = 0``, ``w . x = 1``."""
        if self._steady is not None:
            return self._steady.copy()
        rhs = np.zeros(self.matrix.shape[0], dtype=self.bordered.dtype)
        rhs[0] = 1.0
        return self._solve(rhs)

    def stationarity(self, x, tol: float) -> Stationarity:
        """Residual and distance bound of a candidate ``x`` (normalised or not), ``converged`` against ``tol``."""
        tol = check_positive("tol", tol, allow_zero=True)
        x = np.asarray(x).reshape(-1)
        rhs = np.zeros(x.size)
        rhs[0] = 1.0
        defect = self.bordered @ x - rhs
        norm = np.linalg.norm(defect) if self.dense else np.abs(defect).sum()
        bound = float(self._inverse_norm * norm)
        return Stationarity(residual=float(np.linalg.norm(self.matrix @ x)), distance_bound=bound,
                            error_kind=self.error_kind, tol=tol, converged=bool(bound <= tol))


def check_physical(rho, *, atol: float = PHYSICALITY_ATOL, what: str = "the steady state") -> tuple[float, bool]:
    """``(min_eigenvalue, physical)`` of the Hermitian part of ``rho``; ``physical`` is ``min_eigenvalue >= -atol``.
    A :class:`qdyn.errors.PhysicsWarning` says so when it is not."""
    rho = np.asarray(rho)
    lowest = float(np.linalg.eigvalsh(0.5 * (rho + rho.conj().T))[0])
    physical = lowest >= -atol
    if not physical:
        warnings.warn(f"{what} is not a physical density matrix: its smallest eigenvalue is {lowest:.3g} "
                      f"(< -{atol:g}); the result is flagged physical=False", PhysicsWarning, stacklevel=3)
    return lowest, physical
