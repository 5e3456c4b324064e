"""Exact Krylov rows from one Lanczos run per reference, without storing any time-evolved state.

For a ket ``|phi_b>`` the Lanczos recurrence ``H v_k = beta_k v_{k-1} + alpha_k v_k + beta_{k+1} v_{k+1}``
(``v_0 = phi_b``) gives the tridiagonal ``T_k`` and

    exp(-i H t) |phi_b>  ~  sum_j c_j(t) |v_j>,    c(t) = exp(-i T_k t) e_1,

with the a-posteriori error bound ``|beta_{k+1} [c(t)]_k|`` (the residual of the Krylov ODE; Saad, SIAM J. Numer.
Anal. 29, 209 (1992)). Every overlap ``<l|exp(-i H t)|phi_b>`` with a fixed left vector ``l`` (a reference,
``H phi_a`` or ``P_j phi_a``) is then ``sum_j <l|v_j> c_j(t)``: the projections ``<l|v_j>`` are accumulated as the
recurrence runs, so memory stays at three vectors whatever the number of times, and the cost is about
``||H|| t_max / 2 + 30`` products ``H v`` in all instead of a propagator per time step. In floating point the
Lanczos vectors lose orthogonality, but the matrix-function approximation stays accurate (Druskin & Knizhnerman,
Comput. Math. Math. Phys. 31, 20 (1991)); the steps go on until the bound is below ``tol`` at every time.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh_tridiagonal

__all__ = ["lanczos_overlaps"]


def _coefficients(alpha, beta, times):
    """``c(t_m) = exp(-i T t_m) e_1`` for the tridiagonal ``T`` (diagonal ``alpha``, off-diagonal ``beta``)."""
    if len(alpha) == 1:
        return np.exp(-1j * alpha[0] * times)[None, :]
    lam, Q = eigh_tridiagonal(np.asarray(alpha), np.asarray(beta))
    return Q @ (Q[0][:, None] * np.exp(-1j * lam[:, None] * times[None, :]))


def lanczos_overlaps(apply_h, lefts: np.ndarray, kets: np.ndarray, times: np.ndarray, *, tol: float = 1e-13,
                     max_steps: int | None = None, check_every: int = 8, real: bool = False):
    """``(out, products, (lo, hi))``: ``out[l, b, m] = <lefts[l]| exp(-i H t_m) |kets[b]>``, the number of ``H v``
    products used, and the extreme Ritz values over all runs (the spectral range the kets actually see).

    ``apply_h(v)`` applies the Hermitian ``H``; ``kets`` must be normalised. ``real=True`` (real ``H`` and real
    kets) runs the recurrence in real arithmetic: the Lanczos vectors of a real symmetric matrix from a real start
    are real, which halves the cost of every product. Raises ``RuntimeError`` when the error bound does not reach
    ``tol`` within ``max_steps`` (default: the Hilbert-space dimension).
    """
    dim = kets.shape[1]
    max_steps = dim if max_steps is None else min(max_steps, dim)
    out = np.empty((lefts.shape[0], kets.shape[0], times.size), dtype=complex)
    lefts_conj = lefts.conj()
    products = 0
    ritz_lo, ritz_hi = np.inf, -np.inf
    for b, ket in enumerate(kets):
        if real:
            ket = np.ascontiguousarray(ket.real)
        alpha, beta, proj = [], [], []
        v_prev, v = np.zeros_like(ket), ket
        beta_k = 0.0
        for k in range(max_steps):
            proj.append(lefts_conj @ v)
            w = apply_h(v)
            products += 1
            a_k = float(np.real(np.vdot(v, w)))
            w = w - a_k * v - beta_k * v_prev
            alpha.append(a_k)
            beta_next = float(np.linalg.norm(w))
            done = beta_next <= 1e-14 * max(1.0, abs(a_k)) or k + 1 == max_steps
            if not done and (k + 1) % check_every == 0:
                done = beta_next * float(np.max(np.abs(_coefficients(alpha, beta, times)[-1]))) < tol
            if done:
                break
            beta.append(beta_next)
            v_prev, v, beta_k = v, w / beta_next, beta_next
        if k + 1 == max_steps < dim and beta_next > 1e-14 * max(1.0, abs(alpha[-1])):
            raise RuntimeError(f"Lanczos rows did not converge to {tol:g} within {max_steps} steps")
        coeffs = _coefficients(alpha, beta, times)  # (k, M)
        out[:, b, :] = np.array(proj).T @ coeffs
        ritz = eigh_tridiagonal(np.asarray(alpha), np.asarray(beta), eigvals_only=True)
        ritz_lo, ritz_hi = min(ritz_lo, ritz[0]), max(ritz_hi, ritz[-1])
    return out, products, (float(ritz_lo), float(ritz_hi))
