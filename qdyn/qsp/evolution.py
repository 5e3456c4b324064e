"""Time evolution by QSVT: the Jacobi-Anger polynomials of ``cos(tau x)`` and ``sin(tau x)`` and their phases.

The Jacobi-Anger expansion ``e^{-i tau x} = J_0(tau) + 2 sum_{k >= 1} (-i)^k J_k(tau) T_k(x)`` splits into

    C(x) = (1 - eta) [J_0(tau) + 2 sum_{k >= 1} (-1)^k J_{2k}(tau) T_{2k}(x)]     ~ (1 - eta) cos(tau x),  even,
    S(x) = (1 - eta) 2 sum_{k >= 0} (-1)^k J_{2k+1}(tau) T_{2k+1}(x)             ~ (1 - eta) sin(tau x),  odd,

so ``C - i S`` is ``1 - eta`` times the propagator polynomial; the margin ``eta`` keeps ``|C|, |S| < 1`` on
[-1, 1] after truncation, as QSP requires. QSVT with the ``"qsvt"`` phases of ``C`` and ``S`` on a block encoding
of ``G / beta`` (``||G|| <= beta``, ``tau = beta t``), combined by one ancilla, gives ``(1 - eta) e^{-i G t} / 2``
(Gilyen, Su, Low, Wiebe, STOC 2019; Martyn, Rossi, Tan, Chuang, PRX Quantum 2, 040203 (2021)).

The truncation degree is the caller's: the cooling driver passes the degree at which the classical Chebyshev
propagator (:func:`qdyn.exact.evolution.chebyshev_coefficients`) stops, so the circuit applies exactly the
polynomial the classical route applies, times ``1 - eta``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import jv

from qdyn.errors import check_int, check_positive
from qdyn.qsp.phases import QSPPhases, solve_phases_newton
from qdyn.qsp.polynomials import ChebyshevSeries

__all__ = ["evolution_phases", "jacobi_anger_polynomials"]

_TAIL_TERMS = 64  #: Bessel terms summed for the truncation bound beyond max(degree, tau), past which |J_k| decays
#: faster than (e tau / 2k)^k: the rest of the tail is below rounding


def jacobi_anger_polynomials(tau: float, degree: int, *, eta: float = 1e-4) -> tuple[ChebyshevSeries,
                                                                                    ChebyshevSeries]:
    """``(C, S)``: the Chebyshev series of ``(1 - eta) cos(tau x)`` (even) and ``(1 - eta) sin(tau x)`` (odd),
    truncated at ``degree`` (module docstring). ``error_bound`` bounds the truncation error on [-1, 1]
    (``(1 - eta) 2 sum_{k > degree} |J_k(tau)|``)."""
    tau = check_positive("tau", tau)
    degree = check_int("degree", degree, minimum=1)
    eta = check_positive("eta", eta)
    if not eta < 1:
        raise ValueError(f"eta must lie in (0, 1), got {eta}")
    k = np.arange(max(degree, int(tau)) + 1 + _TAIL_TERMS)
    bessel = jv(k, tau)
    a = 2.0 * (-1j) ** k * bessel
    a[0] /= 2.0
    tail = float((1 - eta) * 2 * np.sum(np.abs(bessel[degree + 1:])))
    a = a[: degree + 1] * (1 - eta)
    even = np.arange(degree + 1) % 2 == 0
    cos_c = np.where(even, a.real, 0.0)
    sin_c = np.where(~even, -a.imag, 0.0)
    cos_series = ChebyshevSeries(cos_c, parity=0, target=f"(1 - {eta:g}) cos({tau:.6g} x)", error_bound=tail)
    sin_series = ChebyshevSeries(sin_c, parity=1, target=f"(1 - {eta:g}) sin({tau:.6g} x)", error_bound=tail)
    return cos_series, sin_series


def evolution_phases(tau: float, degree: int, *, eta: float = 1e-4) -> tuple[QSPPhases, QSPPhases]:
    """``"qsvt"``-convention phases of the two Jacobi-Anger polynomials (Newton, verified by rebuilding them).

    ``cos(tau x)`` truncated below degree 2 is a constant, which has no QSVT sequence: ``degree >= 2`` is needed
    (a longer time, or a smaller truncation tolerance, gives it).
    """
    cos_series, sin_series = jacobi_anger_polynomials(tau, degree, eta=eta)
    if np.trim_zeros(cos_series.coeffs, "b").size < 3:
        raise ValueError(f"tau = {tau:.3g} truncated at degree {degree} is too small for a QSVT evolution circuit "
                         "(cos(tau x) is a constant); use a longer time per step")
    return (solve_phases_newton(cos_series, convention="qsvt"),
            solve_phases_newton(sin_series, convention="qsvt"))
