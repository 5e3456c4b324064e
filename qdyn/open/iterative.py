"""Preconditioned Krylov solves of a bordered generator (GMRES), and ``||B^{-1}||_1``.

Preconditioners, in the order tried (:class:`KrylovSolver`): one given by the caller (for a Liouvillian the inverse
of its no-jump part, :mod:`qdyn.open.no_jump`, which inverts the coherent dynamics exactly), then the Jacobi
diagonal, then none.

For the bordered Liouvillian ``B`` (:mod:`qdyn.open.stationarity`) the diagonal carries the decay rates and the
energy differences, ``L[(a, b), (a, b)] = -i (E_a - E_b) - (Gamma_a + Gamma_b) / 2`` for a diagonal-dominated
``H_eff``, so scaling by its inverse (Jacobi) clusters the spectrum of ``B D^{-1}`` and restarted GMRES
(Saad & Schultz, SIAM J. Sci. Stat. Comput. 7, 856 (1986)) converges in about a hundred products of ``B`` for
the dissipative Ising chains (N = 6..8), without the fill-in of a sparse LU (which grows steeply with N); but a
hopping Hamiltonian puts its energy differences off the diagonal, and on open XYZ chains Jacobi needs thousands of
products (the no-jump inverse a few hundred, ``python benchmarks/open_systems.py --preconditioners``).

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

``device``: ``"cpu"`` runs scipy's ``gmres`` (modified Gram-Schmidt) on a CSR matrix; ``"cuda"`` (``"auto"``
with a GPU) runs restarted GMRES in torch on a sparse CSR tensor on the GPU (:mod:`qdyn.open.torch_gmres`: right
preconditioning, so the residual it minimises is the true one; the
same restart length and number of cycles), ``"torch-cpu"`` the torch code on the CPU (to test it without a GPU).
Both accept a solve by the same test on the true residual; the 1-norm estimate stays scipy's ``onenormest`` on
the host, its inner solves on the device.
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
#: Relative tolerance of the inner solves of the 1-norm estimate (two digits of the norm suffice). At 1e-3 the
#: estimate moved by at most 1.3e-4 relative from its value at 1e-6 (dissipative Ising and an XYZ chain with a field
#: and dephasing, N = 6), with 43 % fewer products (XYZ: 6785 -> 3892; the estimate then costs twice the solve).
NORM_RTOL = 1e-3
#: Krylov dimension before a restart, and the most restarts.
RESTART, MAX_RESTARTS = 100, 20


class KrylovSolver:
    """Preconditioned restarted GMRES on a sparse square ``matrix`` (module docstring); on ``device``
    (``"cpu"``: scipy; ``"cuda"``, ``"auto"``, ``"torch-cpu"``: torch, :func:`qdyn.exact.engine_for_device`).

    ``preconditioner``: an approximate inverse (a callable ``M(v, adjoint)`` with a ``name``, flags ``is_complex``
    and ``first``, and a method ``on(device)`` for torch, such as :class:`qdyn.open.no_jump.NoJumpInverse` and
    :class:`qdyn.open.no_jump.FramedNoJumpInverse`), tried before the Jacobi diagonal when ``first`` (else after
    it), then none: a solve that fails with one is repeated with the next, and later solves start from the one
    that worked.
    """

    def __init__(self, matrix, *, device: str = "cpu", preconditioner=None):
        from qdyn.exact import engine_for_device

        self.engine, self._torch_device = engine_for_device(device)
        #: where the products ran: "cpu" (scipy), "torch-cpu" or the CUDA device (torch)
        self.device = "cpu" if self.engine == "numpy" else ("torch-cpu" if self._torch_device == "cpu"
                                                            else self._torch_device)
        self.matrix = sp.csr_matrix(matrix)
        #: the arithmetic of real right-hand sides (float64 for a real matrix, complex128 otherwise)
        self.dtype = np.result_type(self.matrix.dtype, np.float64)
        diagonal = self.matrix.diagonal().astype(self.dtype)
        diagonal[diagonal == 0] = 1.0
        self._diagonal = diagonal
        #: whether the given preconditioner's arithmetic is complex (it then makes a real system complex)
        self._complex = preconditioner is not None and preconditioner.is_complex
        #: the preconditioners still to try, the first in use: ``preconditioner.name`` and "jacobi" (in the order
        #: its ``first`` says), then "none"
        self._chain = ["jacobi", "none"]
        if preconditioner is not None:
            self._chain.insert(0 if preconditioner.first else 1, preconditioner.name)
        if preconditioner is not None and self.engine == "torch":
            preconditioner = preconditioner.on(self._torch_device)
        self._approximate = preconditioner
        self._operators = {}
        #: products of the matrix (or its adjoint) so far
        self.matvecs = 0

    @property
    def preconditioner(self) -> str:
        """The preconditioner in use: the name of the one passed, "jacobi" or "none"."""
        return self._chain[0]

    def _operator(self, adjoint: bool, dtype):
        """``B`` (or ``B^H``) in ``dtype`` on the engine: a scipy CSR matrix, or a torch sparse CSR tensor."""
        key = (adjoint, np.dtype(dtype))
        if key not in self._operators:
            matrix = (self.matrix.conj().T.tocsr() if adjoint else self.matrix).astype(dtype, copy=False)
            if self.engine == "torch":
                from qdyn.devices import torch_csr

                matrix = torch_csr(matrix, self._torch_device)
            self._operators[key] = matrix
        return self._operators[key]

    def _inverse(self, kind: str, adjoint: bool, dtype):
        """The approximate inverse ``M^{-1}`` named ``kind`` as a function of a vector (``None`` for "none"), on
        the engine's arrays."""
        if kind == "none":
            return None
        if kind == "jacobi":
            scale = (self._diagonal.conj() if adjoint else self._diagonal).astype(dtype)
            if self.engine == "torch":
                import torch

                scale = torch.as_tensor(scale).to(self._torch_device)
            return lambda v: v / scale
        return lambda v: self._approximate(v, adjoint)

    def _scipy_gmres(self, b, inverse, rtol, adjoint):
        """``(x, ||B x - b|| / ||b||)`` by scipy's GMRES with the approximate inverse ``inverse`` (or none)."""
        matrix = self._operator(adjoint, b.dtype)

        def matvec(v):
            self.matvecs += 1
            return matrix @ v

        preconditioner = None if inverse is None else LinearOperator(matrix.shape, matvec=inverse, dtype=b.dtype)
        x, _ = gmres(LinearOperator(matrix.shape, matvec=matvec, dtype=b.dtype), b, M=preconditioner, rtol=rtol,
                     atol=0.0, restart=RESTART, maxiter=MAX_RESTARTS)
        return x, np.linalg.norm(matrix @ x - b) / np.linalg.norm(b)

    def _torch_gmres(self, b, inverse, rtol, adjoint):
        """``(x, ||B x - b|| / ||b||)`` by :func:`qdyn.open.torch_gmres.gmres` on the device."""
        import torch

        from qdyn.open.torch_gmres import gmres as torch_gmres

        x, residual, products = torch_gmres(
            self._operator(adjoint, b.dtype), torch.as_tensor(b).to(self._torch_device), preconditioner=inverse,
            rtol=rtol, restart=RESTART, max_restarts=MAX_RESTARTS)
        self.matvecs += products
        return x.cpu().numpy(), residual

    def solve(self, b, rtol: float = SOLVE_RTOL, adjoint: bool = False) -> np.ndarray | None:
        """``x`` with ``B x = b`` (``B^H x = b`` when ``adjoint``), or ``None`` when GMRES cannot reach a relative
        residual of ``max(rtol, ACCEPT_RTOL)`` with any preconditioner left (class docstring: one that fails is
        not tried again; the Jacobi-scaled system, for one, can break down early on symmetric models)."""
        b = np.asarray(b).reshape(-1)
        given = self._chain[0] not in ("jacobi", "none")
        dtype = np.result_type(self.dtype, b.dtype, np.complex128 if given and self._complex else np.float64)
        b = b.astype(dtype, copy=False)
        if np.linalg.norm(b) == 0:
            return np.zeros_like(b)
        run = self._scipy_gmres if self.engine == "numpy" else self._torch_gmres
        while True:
            x, residual = run(b, self._inverse(self._chain[0], adjoint, dtype), rtol, adjoint)
            if np.all(np.isfinite(x)) and residual <= max(rtol, ACCEPT_RTOL):
                return x
            if len(self._chain) == 1:
                return None
            self._chain.pop(0)

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
