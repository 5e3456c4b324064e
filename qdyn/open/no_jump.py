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
computational basis), is inverted exactly. The steady state and its 1-norm estimate then took 162-253 products of
``B`` at N = 6-8, where the Jacobi (diagonal) preconditioner took 382-515 on the dissipative Ising chain and
3597-6946 on two open XYZ chains in a field (from N = 7 the Jacobi iteration broke down and plain GMRES took over):
11-33x faster on the XYZ chains (N = 8: 5 s against 81-103 s), 0.9-1.3x on the Ising chain
(``python benchmarks/open_systems.py --preconditioners``). An application costs about one product of ``B`` at
N = 7, 1.6 at N = 9 and 3.5 at N = 10.

The shift ``delta`` keeps ``D`` away from zero when an eigenstate of ``H_eff`` does not decay
(``Im lambda_a = 0``): a tenth of the largest decay rate ``-2 Im lambda_a`` (of the largest ``|lambda_a|``, or 1,
without decay); preconditioning is unchanged by it within a few products. The vectorisation is row-major,
``v = rho.reshape(-1)``, as in :mod:`qdyn.open.liouvillian`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_CONDITION", "NoJumpInverse"]

#: Largest condition number of the eigenvector matrix ``V`` accepted (a nearly defective ``H_eff`` would make
#: ``W = V^{-1}`` and the preconditioner inaccurate); beyond it :meth:`NoJumpInverse.build` returns ``None``.
MAX_CONDITION = 1e8


class NoJumpInverse:
    """``(L_0 - delta)^{-1}`` and its adjoint on row-major ``vec(rho)`` (module docstring), from the dense
    effective Hamiltonian; :meth:`build` checks the eigenvectors, :meth:`on` moves the factors to a torch device."""

    #: how :class:`qdyn.open.iterative.KrylovSolver` and the steady-state results name it
    name = "no-jump"

    def __init__(self, vectors, inverse, denominator):
        self.vectors, self.inverse, self.denominator = vectors, inverse, denominator
        self.dimension = vectors.shape[0]

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
