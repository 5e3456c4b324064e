"""Restarted GMRES in torch (CPU or CUDA tensors, float64 or complex128), with a right preconditioner.

Saad & Schultz, SIAM J. Sci. Stat. Comput. 7, 856 (1986): cycle ``k`` starts from the true residual
``r = b - A x`` (one product), builds an orthonormal basis ``V`` of the Krylov space of ``A M^{-1}`` from
``r / ||r||`` by Arnoldi with classical Gram-Schmidt and a second pass where the first cancelled more than
``1 - REORTHOGONALISE`` of the vector (Daniel, Gragg, Kaufman & Stewart, Math. Comp. 30, 772 (1976): "twice is
enough", as stable as modified Gram-Schmidt and made of large kernels with ``V`` on a GPU; Giraud, Langou &
Rozloznik, Comput. Math. Appl. 50, 1069 (2005)), reduces the Hessenberg matrix to triangular form by Givens
rotations (on the host: at most ``restart`` scalars a step), and stops the cycle when the rotated residual
``|g_{j+1}| <= rtol ||b||`` or the Krylov space is invariant. Then ``x += M^{-1} V y`` with ``R y = g``. With
right preconditioning the minimised residual is the true one up to rounding; the next cycle (or the final
check) measures it again as ``||b - A x||``, which is what is returned and what decides convergence. A cycle that
does not lower that true residual (a singular or inconsistent system, or rounding at the floor) ends the solve
with the previous iterate: the next cycles would start from the same residual.

The matrix is anything with ``matrix @ v`` for a 1-D tensor (a torch sparse CSR tensor, a dense tensor); the
approximate inverse ``M^{-1}`` is a linear function of a vector (``v / D`` for a Jacobi diagonal ``D``;
``None``: plain GMRES).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["REORTHOGONALISE", "gmres"]

#: A second Gram-Schmidt pass when ``||w - V V^H w|| < REORTHOGONALISE ||w||`` (the DGKS criterion, 1/sqrt 2).
REORTHOGONALISE = 2**-0.5


def _norm(v: torch.Tensor) -> float:
    """``||v||_2`` (of the real view of a complex vector: the same value, 20x faster on the CPU)."""
    return float(torch.linalg.vector_norm(torch.view_as_real(v) if v.is_complex() else v))


def _rotation(a: complex, b: float) -> tuple[float, complex, complex]:
    """Givens rotation ``(c, s, r)`` with ``[[c, s], [-conj(s), c]] @ [a, b] = [r, 0]`` (``c`` real, ``b >= 0``)."""
    if b == 0.0:
        return 1.0, 0.0, a
    if a == 0:
        return 0.0, 1.0, b
    norm = float(np.hypot(abs(a), b))
    phase = a / abs(a)
    return abs(a) / norm, phase * b / norm, phase * norm


def gmres(matrix, b: torch.Tensor, *, preconditioner=None, rtol: float = 1e-14,
          restart: int = 100, max_restarts: int = 20) -> tuple[torch.Tensor, float, int]:
    """Solve ``matrix @ x = b`` by restarted GMRES (module docstring).

    ``preconditioner``: the right preconditioner's ``v -> M^{-1} v`` (``None`` for none); ``rtol``: the target
    of ``||b - A x|| / ||b||``; ``restart``: the Krylov dimension of a cycle; ``max_restarts``: the most cycles.
    Returns ``(x, relative_residual, products)``: the iterate (on ``b``'s device, in ``b``'s dtype), its true
    relative residual ``||b - A x|| / ||b||`` (measured, not the recurrence's) and the number of products of
    ``matrix``. Convergence is the caller's test on ``relative_residual``.
    """
    if b.ndim != 1:
        raise ValueError(f"b must be a vector, got shape {tuple(b.shape)}")
    if restart < 1 or max_restarts < 0:
        raise ValueError(f"restart must be >= 1 and max_restarts >= 0, got {restart} and {max_restarts}")
    size, dtype, device = b.shape[0], b.dtype, b.device
    scalar = np.complex128 if dtype.is_complex else np.float64
    x = torch.zeros_like(b)
    norm_b = _norm(b)
    if norm_b == 0.0:
        return x, 0.0, 0
    residual, products, cycle = b, 0, 0
    basis = torch.empty((restart + 1, size), dtype=dtype, device=device)
    while True:
        beta = _norm(residual)
        if beta <= rtol * norm_b or cycle == max_restarts or not np.isfinite(beta):
            return x, beta / norm_b, products
        cycle += 1
        basis[0] = residual / beta
        hessenberg = np.zeros((restart + 1, restart), dtype=scalar)
        cosines, sines = np.zeros(restart), np.zeros(restart, dtype=scalar)
        g = np.zeros(restart + 1, dtype=scalar)
        g[0] = beta
        steps = 0
        for j in range(restart):
            z = preconditioner(basis[j]) if preconditioner is not None else basis[j]
            w = matrix @ z
            products += 1
            V = basis[: j + 1]
            before = _norm(w)
            h = torch.mv(V, w.conj()).conj()  # V^H w (faster on the CPU than a product with V.conj())
            w = w - h @ V
            h_next = _norm(w)
            if h_next < REORTHOGONALISE * before:
                correction = torch.mv(V, w.conj()).conj()
                w = w - correction @ V
                h = h + correction
                h_next = _norm(w)
            h = h.resolve_conj().cpu().numpy()
            column = hessenberg[:, j]
            column[: j + 1] = h
            for i in range(j):  # the earlier rotations
                upper = cosines[i] * column[i] + sines[i] * column[i + 1]
                column[i + 1] = -np.conj(sines[i]) * column[i] + cosines[i] * column[i + 1]
                column[i] = upper
            cosines[j], sines[j], column[j] = _rotation(column[j], h_next)
            column[j + 1] = 0.0
            g[j + 1] = -np.conj(sines[j]) * g[j]
            g[j] = cosines[j] * g[j]
            steps = j + 1
            invariant = h_next <= 1e-14 * np.linalg.norm(h) or not np.isfinite(h_next)
            if abs(g[j + 1]) <= rtol * norm_b or invariant:
                break
            basis[j + 1] = w / h_next
        upper = hessenberg[:steps, :steps]
        if np.any(np.diag(upper) == 0) or not np.all(np.isfinite(upper)):
            return x, beta / norm_b, products  # a singular projected system: no step to take
        y = np.linalg.solve(np.triu(upper), g[:steps])
        step = torch.as_tensor(y, dtype=dtype, device=device) @ basis[:steps]
        candidate = x + (preconditioner(step) if preconditioner is not None else step)
        new_residual = b - matrix @ candidate
        products += 1
        if not _norm(new_residual) < beta:  # no progress (a singular system, rounding): later cycles repeat it
            return x, beta / norm_b, products
        x, residual = candidate, new_residual
