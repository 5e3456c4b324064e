"""The no-jump part of a Lindbladian, inverted in closed form: a preconditioner for steady-state solves.

A Lindbladian splits into its no-jump part and its jumps (the quantum-trajectory split),

    L = L_0 + J,    L_0 rho = -i (H_eff rho - rho H_eff^dagger),    J rho = sum_k gamma_k G_k rho G_k^dagger,

with ``H_eff = H - (i/2) sum_k gamma_k G_k^dagger G_k``. ``L_0`` is a Sylvester operator: with the eigen-
decomposition ``H_eff = V diag(lambda) W`` (``W = V^{-1}``; ``d = 2^n``) it is diagonal on the matrices
``V E_ab V^dagger``, with eigenvalues ``-i (lambda_a - conj(lambda_b))``. So its shifted inverse is four ``d x d``
products and an entrywise division,

    (L_0 - delta)^{-1} Y = V [(W Y W^dagger) / D] V^dagger,    D_ab = -i (lambda_a - conj(lambda_b)) - delta,

``O(d^3) = O(2^{3n})`` work against the ``O(4^n)`` nonzeros per term of a product of ``L``, and its adjoint is
``W^dagger [(V^dagger Y V) / conj(D)] W``. As the preconditioner of the bordered steady-state system ``B``
(:mod:`qdyn.open.stationarity`: ``L`` with the row of ``rho_00`` replaced by the trace), ``B (L_0 - delta)^{-1}``
is the identity plus the jumps and the border seen through ``L_0^{-1}``: the coherent part, which spreads the
spectrum of ``L`` (the energy differences ``E_a - E_b`` of a hopping Hamiltonian are far from its diagonal in the
computational basis), is inverted exactly. The steady state and its 1-norm estimate then took 161-246 products of
``B`` at N = 6-8, where the Jacobi (diagonal) preconditioner took 395-522 on the dissipative Ising chain and
3574-6775 on two open XYZ chains in a field (from N = 7 the Jacobi iteration broke down and plain GMRES took over):
15-31x faster on the XYZ chains (N = 8: 5.4 s against 81-93 s), 1.0-1.3x on the Ising chain
(``python benchmarks/open_systems.py --preconditioners``). Its ``O(8^n)`` application outgrows a product of ``B``
from about N = 9 (3.5 products at N = 10), so beyond :data:`FIRST_UP_TO_QUBITS` it is tried only after the Jacobi
iteration fails (``first = False``: :class:`qdyn.open.iterative.KrylovSolver`), as on the XYZ chains.

The shift ``delta`` keeps ``D`` away from zero when an eigenstate of ``H_eff`` does not decay
(``Im lambda_a = 0``): a tenth of the largest decay rate ``-2 Im lambda_a`` (of the largest ``|lambda_a|``, or 1,
without decay); preconditioning is unchanged by it within a few products. The vectorisation is row-major,
``v = rho.reshape(-1)``, as in :mod:`qdyn.open.liouvillian`.

In the outcome space of a product POVM (``P = A vec(rho)``, ``P(a) = Tr[rho M^a]``; the generator ``A L A^{-1}``,
:mod:`qdyn.open.povm_lindbladian`) the same preconditioner is ``A (L_0 - delta)^{-1} A^{-1}``
(:class:`FramedNoJumpInverse`): ``L_0`` and the real shift preserve Hermiticity, so a real distribution stays real
and GMRES keeps its real arithmetic. On the POVM steady state (N = 6-8) it took 198-301 products where the Jacobi
diagonal took 606-810 on the Ising chain and 1485-2638 on the XYZ chains: 2.6-4.1x faster on the XYZ chains,
0.7-1.2x on the Ising chain, where an application (two frame conversions and the inverse) costs 2.8 real products
of the generator at N = 8 (``python benchmarks/open_systems.py --preconditioners``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["FIRST_UP_TO_QUBITS", "MAX_CONDITION", "FramedNoJumpInverse", "NoJumpInverse"]

#: Most qubits for which the inverse is tried before the Jacobi diagonal (beyond: after it fails).
FIRST_UP_TO_QUBITS = 9
#: Largest condition number of the eigenvector matrix ``V`` accepted (a nearly defective ``H_eff`` would make
#: ``W = V^{-1}`` and the preconditioner inaccurate); beyond it :meth:`NoJumpInverse.build` returns ``None``.
MAX_CONDITION = 1e8


class NoJumpInverse:
    """``(L_0 - delta)^{-1}`` and its adjoint on row-major ``vec(rho)`` (module docstring), from the dense
    effective Hamiltonian; :meth:`build` checks the eigenvectors, :meth:`on` moves the factors to a torch device."""

    #: how :class:`qdyn.open.iterative.KrylovSolver` and the steady-state results name it, and its arithmetic
    name, is_complex = "no-jump", True

    def __init__(self, vectors, inverse, denominator):
        self.vectors, self.inverse, self.denominator = vectors, inverse, denominator
        self.dimension = vectors.shape[0]
        #: whether a solver tries it before the Jacobi diagonal (module docstring)
        self.first = self.dimension <= 2**FIRST_UP_TO_QUBITS

    @classmethod
    def build(cls, effective_hamiltonian) -> NoJumpInverse | None:
        """From ``H_eff`` (a dense ``d x d`` array); ``None`` when its eigenvectors are nearly dependent
        (condition number above :data:`MAX_CONDITION`)."""
        h = np.asarray(effective_hamiltonian, dtype=complex)
        eigenvalues, vectors = np.linalg.eig(h)
        if not np.all(np.isfinite(vectors)) or np.linalg.cond(vectors) > MAX_CONDITION:
            return None
        decay = float(-2.0 * eigenvalues.imag.min())
        scale = decay if decay > 0 else float(np.abs(eigenvalues).max(initial=0.0)) or 1.0
        denominator = -1j * (eigenvalues[:, None] - eigenvalues.conj()[None, :]) - 0.1 * scale
        return cls(vectors, np.linalg.inv(vectors), denominator)

    def on(self, device: str) -> NoJumpInverse:
        """The same preconditioner with its factors as complex128 torch tensors on ``device``."""
        import torch

        return NoJumpInverse(*(torch.as_tensor(a, dtype=torch.complex128, device=device)
                               for a in (self.vectors, self.inverse, self.denominator)))

    def __call__(self, y, adjoint: bool = False):
        """``(L_0 - delta)^{-1} y`` (``adjoint``: ``(L_0 - delta)^{-H} y``) for a vector ``y`` of ``d^2`` entries
        (numpy, or torch on the factors' device); the result is complex."""
        v, w, d = self.vectors, self.inverse, self.denominator
        y = y.reshape(self.dimension, self.dimension)
        if adjoint:
            return (w.conj().T @ ((v.conj().T @ y @ v) / d.conj()) @ w).reshape(-1)
        return (v @ ((w @ y @ w.conj().T) / d) @ v.conj().T).reshape(-1)


class FramedNoJumpInverse:
    """``A (L_0 - delta)^{-1} A^{-1}`` on outcome distributions ``P = A vec(rho)`` of a product POVM (module
    docstring), and its adjoint ``A^{-H} (L_0 - delta)^{-H} A^H``; real vectors map to real vectors. The POVM
    conversions (``O(n 4^n)``) run with numpy on the host: :meth:`on` moves torch vectors there and back."""

    name, is_complex = "no-jump", False

    def __init__(self, inverse: NoJumpInverse, povm):
        self.inverse, self.povm, self.first = inverse, povm, inverse.first

    def on(self, device: str) -> _OnHost:
        """The preconditioner for torch vectors on ``device`` (applied on the host)."""
        return _OnHost(self)

    def __call__(self, p, adjoint: bool = False):
        """The preconditioner (``adjoint``: its adjoint) applied to a real or complex vector ``p`` of ``4^n``."""
        p = np.asarray(p)
        if adjoint:
            out = self.povm.reconstruction_adjoint(
                self.inverse(self.povm.frame_adjoint(p).reshape(-1), adjoint=True).reshape(self.inverse.dimension, -1))
        else:
            out = self.povm.frame_coefficients(
                self.inverse(self.povm.operator_from_coefficients(p).reshape(-1)).reshape(self.inverse.dimension, -1))
        return out.real if np.isrealobj(p) else out


class _OnHost:
    """A numpy preconditioner applied to torch vectors: to the host and back to their device and dtype."""

    def __init__(self, preconditioner):
        self.preconditioner = preconditioner

    def __call__(self, v, adjoint: bool = False):
        import torch

        out = self.preconditioner(v.cpu().numpy(), adjoint)
        return torch.as_tensor(out, dtype=v.dtype, device=v.device)
