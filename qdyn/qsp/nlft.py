"""Symmetric QSP phases from the nonlinear Fourier transform: Weiss's outer function, then layer stripping.

The ``"wx"`` product of :mod:`qdyn.qsp.phases` conjugated by the Hadamard gate is a nonlinear Fourier transform
(NLFT; Alexis, Mnatsakanyan, Thiele, "Quantum signal processing and nonlinear Fourier analysis", Rev. Mat.
Complut. (2024)): with ``w = e^{i theta}``, ``x = cos(theta)``, ``z = w^2`` and ``F_k = i tan(phi_k)``,

    H U(x, Phi) H = prod_{k=0}^{d} M_k(z) diag(w^d, w^-d),
    M_k(z) = (1 + |F_k|^2)^{-1/2} [[1, F_k z^k], [-conj(F_k) z^-k, 1]] = [[a, b], [-b*, a*]] (the product),

so ``<0|U|0> = Re(a w^d) + i Im(b(z) w^-d)``. For symmetric phases ``b = i sum_k beta_k z^k`` with real
``beta_k = beta_{d-k}``, and ``Im P(x) = sum_k beta_k T_{|d - 2k|}(x)``: the target's Chebyshev coefficients
give ``b`` directly (``beta_{(d +- j)/2} = c_j / 2``, ``beta_{d/2} = c_0``), and ``|b(z)| = |p(x)|`` on the
circle.

1. **Weiss**: ``a*`` (a polynomial of degree ``d`` in ``z``) is the outer function with ``|a*|^2 = 1 - |b|^2``
   on ``|z| = 1`` and ``a*(0) > 0``: ``log a*`` is the analytic part of ``log(1 - |b|^2) / 2``, by FFTs on
   ``n_fft`` points of the circle (Ni & Ying, "Fast phase factor finding for quantum signal processing",
   arXiv:2410.06409; Alexis, Lin, Mnatsakanyan, Thiele, Wang, arXiv:2407.05634). Its coefficients beyond
   degree ``d`` must vanish: their size (``weiss_tail``) measures the aliasing of the FFT grid.
2. **Layer stripping** (inverse NLFT): ``F_0 = b(0) / a*(0)``; ``M_0^{-1}`` times the pair gives the NLFT of
   ``F_1, F_2, ...`` with ``b`` divided by ``z``:
   ``b <- (b - F a*) / (z sqrt(1 + |F|^2))``, ``a* <- (a* + conj(F) b) / sqrt(1 + |F|^2)``. ``O(d)`` per layer;
   numerically stable under suitable conditions (Ni, Sarkar, Ying, Lin, "Inverse nonlinear fast Fourier
   transform on SU(2) with applications to quantum signal processing", arXiv:2505.12615). Only the
   ``ceil((d+1)/2)`` independent phases are stripped, and coefficient ``j`` of a layer needs only coefficients
   ``j, j + 1`` of the one before, so ``d^2 / 8`` work. ``phi_k = arctan(Im F_k)`` (the real part of ``F_k``
   vanishes up to rounding and aliasing). The outer ``a*`` singles out the symmetric solution near
   ``Phi = 0``, the one Newton's method from the Chebyshev guess converges to.

Accuracy near ``|p| = 1`` (``eta = 1 - max|p|``): where ``|p|`` approaches 1 on a flat plateau (erf and sign
polynomials) the zeros of ``1 - |b|^2`` stay ~``1/d`` from the circle and ``n_fft = 16 (d + 1)`` gives rebuild
errors ~1e-13 at ``eta = 2.5e-11`` from degree 101 to 10001 (``benchmarks/qsp_phases.py``). Where ``|p|``
touches ``1 - eta`` at isolated points with curvature ~``d^2`` (``(1 - eta) T_d``, Jacobi-Anger polynomials),
the zeros lie ~``sqrt(eta) / d`` from the circle, the log has near-singularities the grid cannot resolve
(the error falls only like ~``n_fft^-2``: rebuilds of 1e-5..1e-2 at ``eta = 1e-10``), and the result is a
starting point for Newton's method (:func:`qdyn.qsp.phases.solve_phases_newton` polishes it in ~10-15
iterations instead of ~20 from the Chebyshev guess).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NLFTStart", "nlft_reduced_phases", "outer_complement", "strip_layers", "symmetric_b"]

_TAIL_OK = 1e-8  #: Weiss tail below which the grid resolves a* (erf near |p| = 1: ~1e-9 with 1e-13 rebuilds)
_MAX_FFT = 1 << 22  #: largest grid tried (64 MB per complex array)


@dataclass(frozen=True)
class NLFTStart:
    """The reduced phases ``phi_0 .. phi_{h-1}`` from the NLFT, the grid used and its Weiss tail."""

    reduced: np.ndarray
    n_fft: int
    weiss_tail: float


def symmetric_b(coeffs: np.ndarray) -> np.ndarray:
    """``b_k = i beta_k`` (k = 0..d) from the Chebyshev coefficients of a polynomial of parity ``d``."""
    d = coeffs.size - 1
    j = np.arange(d % 2, d + 1, 2)
    half = np.where(j == 0, 1.0, 0.5) * coeffs[j]
    beta = np.zeros(d + 1)
    beta[(d - j) // 2] = half
    beta[(d + j) // 2] = half
    return 1j * beta


def outer_complement(b: np.ndarray, n_fft: int) -> tuple[np.ndarray, float]:
    """``(a*, tail)``: the outer ``a*`` of degree ``len(b) - 1`` with ``|a*|^2 + |b|^2 = 1`` on the circle,
    ``a*(0) > 0`` (Weiss, on ``n_fft`` points), and the largest coefficient of ``exp(G)`` beyond that degree."""
    d = b.size - 1
    if n_fft < 2 * (d + 1):
        raise ValueError(f"n_fft must be at least 2 (degree + 1) = {2 * (d + 1)}, got {n_fft}")
    gap = 1 - np.abs(np.fft.fft(b, n_fft)) ** 2  # at z_j = e^{-2 pi i j / n}: ifft index k is the z^k coefficient
    if np.min(gap) <= 0:
        raise ValueError(f"poly must satisfy |p(x)| < 1 on [-1, 1] for QSP; its maximum is about "
                         f"{np.sqrt(1 - np.min(gap)):.17g}")
    log_coeffs = np.fft.ifft(np.log(gap) / 2)
    analytic = np.zeros(n_fft, dtype=complex)
    analytic[0] = log_coeffs[0].real
    analytic[1:n_fft // 2] = 2 * log_coeffs[1:n_fft // 2]
    a_all = np.fft.ifft(np.exp(np.fft.fft(analytic)))
    return a_all[: d + 1], float(np.max(np.abs(a_all[d + 1:])))


def strip_layers(b: np.ndarray, a_star: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` NLFT coefficients ``F_0 .. F_{count-1}`` of the pair ``(a*, b)`` by layer stripping."""
    pair = np.stack([b[:count], a_star[:count]])  # coefficient j of layer k needs j < count - k
    out = np.empty(count, dtype=complex)
    for k in range(count):
        f = pair[0, 0] / pair[1, 0]
        out[k] = f
        scale = 1 / np.sqrt(1 + abs(f) ** 2)
        top = pair[0, 1:] - f * pair[1, 1:]  # (b - F a*) / z: its constant term is zero by the choice of F
        bottom = pair[1, :-1] + np.conj(f) * pair[0, :-1]
        pair = np.stack([top, bottom]) * scale
    return out


def nlft_reduced_phases(coeffs: np.ndarray, *, n_fft: int | None = None) -> NLFTStart:
    """Reduced symmetric phases ``phi_0 .. phi_{h-1}``, ``h = ceil((d+1)/2)``, of the Chebyshev series
    ``coeffs`` (definite parity, ``|p| < 1``) by Weiss and layer stripping (module docstring).

    Without ``n_fft`` the grid is ``16 (d + 1)`` points (a power of two), and ``16`` times finer once (up to
    ``2^22``) when the Weiss tail exceeds ``1e-8``.
    """
    d = coeffs.size - 1
    b = symmetric_b(coeffs)
    n = 1 << int(np.ceil(np.log2(16 * (d + 1)))) if n_fft is None else int(n_fft)
    a_star, tail = outer_complement(b, n)
    if n_fft is None and tail > _TAIL_OK and 16 * n <= _MAX_FFT:
        n *= 16
        a_star, tail = outer_complement(b, n)
    layers = strip_layers(b, a_star, (d + 2) // 2)
    return NLFTStart(np.arctan(layers.imag), n, tail)
