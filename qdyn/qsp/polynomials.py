"""Shifted-sign polynomials: erf-based approximations of ``sign(E - mu)`` in the Chebyshev and Fourier bases.

Chebyshev route (QSVT on a block encoding of ``A = (H - mu) / alpha``, spectrum of ``A`` inside [-1, 1]):

    p(y) = c * sum_{k odd <= d} a_k T_k(y)  ~  erf(s y),

with ``a_k`` the Chebyshev coefficients of ``erf(s y)`` (computed by a DCT on Chebyshev nodes) truncated at
the
smallest odd degree ``d`` whose coefficient tail ``sum_{k > d} |a_k|`` is below the allowed error, and
``c <= 1`` a factor that makes ``max |p| < 1`` rigorously (``|T_k| <= 1``), as QSP requires. ``p`` is odd,
so a
symmetric QSP phase sequence exists (Gilyen, Su, Low, Wiebe, STOC 2019, Cor. 10; erf construction of the sign
approximation: Low & Chuang, arXiv:1707.05391, Lemma 10).

* :func:`erf_polynomial`: ``|p(y) - erf(s y)| <= delta`` on [-1, 1] (the smooth sign used by the cooling
driver,
  ``erf((E - mu) / width)`` with ``s = alpha / width``);
* :func:`sign_polynomial`: ``|p(y) - sign(y)| <= delta`` for ``eps <= |y| <= 1`` and ``|p| <= 1`` on [-1,
1]; it is
  :func:`erf_polynomial` with ``s = erfcinv(delta / 4) / eps`` (so ``|erf(s y) - sign(y)| <= delta / 4``
  there).
  The degree grows as ``O(log(1/delta) / eps)``.

QETU route (Dong, Lin, Tong 2022): :func:`qetu_sign_polynomial` is an even polynomial in ``cos(tau E / 2)``.

Fourier route (GQSP on ``e^{-i tau H}``): :func:`fourier_sign_series` gives the Laurent coefficients
of the
trigonometric polynomial ``g(theta) ~ c * erf(s sin(theta - theta_mu))`` with ``theta = tau E``. For a
spectrum
with ``tau (E_max - E_min) < pi`` and ``mu`` inside it, ``theta - theta_mu`` stays in ``(-pi, pi)``, where
``sign(sin(theta - theta_mu)) = sign(E - mu)``; the phase does not wrap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import dct
from scipy.special import erf, erfcinv

from qdyn.errors import check_int, check_positive

__all__ = [
    "DEFAULT_MAX_DEGREE",
    "ChebyshevSeries",
    "FourierSeries",
    "chebyshev_coefficients_of",
    "erf_polynomial",
    "fourier_sign_series",
    "of_degree",
    "qetu_sign_polynomial",
    "sign_polynomial",
]

DEFAULT_MAX_DEGREE = 100_000


def _check_delta(delta) -> float:
    delta = check_positive("delta", delta)
    if not delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    return delta


def chebyshev_coefficients_of(func, n_nodes: int) -> np.ndarray:
    """Chebyshev interpolation coefficients of ``func`` on ``n_nodes`` first-kind nodes (one DCT-II).

    ``func(x_j)`` at ``x_j = cos(pi (j + 1/2) / N)`` gives ``a_k = (2 - delta_k0)/N sum_j f_j cos(pi k (j +
    1/2)/N)``.
    """
    n_nodes = check_int("n_nodes", n_nodes, minimum=2)
    x = np.cos(np.pi * (np.arange(n_nodes) + 0.5) / n_nodes)
    coeffs = dct(func(x), type=2) / n_nodes
    coeffs[0] /= 2
    return coeffs


@dataclass(frozen=True)
class ChebyshevSeries:
    """``p(y) = sum_k coeffs[k] T_k(y)`` on [-1, 1]; ``parity`` is 0 (even), 1 (odd) or None."""

    coeffs: np.ndarray
    parity: int | None
    target: str  #: what the series approximates, e.g. "erf(13.3 y)"
    error_bound: float  #: rigorous bound on |p - target| on the stated domain

    @property
    def degree(self) -> int:
        return int(self.coeffs.size - 1)

    def __call__(self, y):
        return np.polynomial.chebyshev.chebval(np.asarray(y, dtype=float), self.coeffs)

    def apply(self, matvec, psi):
        """``p(A) psi`` by the three-term recurrence ``T_{k+1} = 2 A T_k - T_{k-1}`` (``degree`` matvecs).

        ``matvec(v)`` must apply a Hermitian ``A`` with spectrum in [-1, 1]. The recurrence on vectors is
        stable there (|T_k| <= 1), unlike a monomial expansion.
        """
        c = [float(a) for a in self.coeffs]  # plain floats: the same code runs on numpy and torch vectors
        prev = psi
        acc = c[0] * psi
        if len(c) == 1:
            return acc
        cur = matvec(psi)
        acc = acc + c[1] * cur
        for a in c[2:]:
            prev, cur = cur, 2 * matvec(cur) - prev
            if a != 0:
                acc = acc + a * cur
        return acc


def _truncation_degree(coeffs: np.ndarray, budget: float, parity: int | None) -> int | None:
    """Smallest degree (of the given parity) whose tail ``sum_{k > d} |a_k|`` is at most ``budget``."""
    tail = np.cumsum(np.abs(coeffs)[::-1])[::-1]  # tail[k] = sum_{j >= k} |a_j|
    tail = np.append(tail, 0.0)
    for d in range(parity or 0, coeffs.size, 1 if parity is None else 2):
        if tail[d + 1] <= budget:
            return d
    return None


def _bounded_truncation(func, steepness: float, delta: float, parity: int | None, max_degree: int,
                        margin: float, what: str):
    """Chebyshev truncation of ``func`` (``|func| < 1``) scaled so that ``max|p| < 1``.

    Tail ``t <= 3 delta/8`` and factor ``c = (1 - m)/(1 + t)``: ``|p - func| <= 2 t + m`` and
    ``max|p| <= 1 - m``. Returns ``(coeffs, error_bound)``.
    """
    max_degree = check_int("max_degree", max_degree, minimum=1)
    budget = 3 * delta / 8
    # Chebyshev coefficients of erf(s y) decay like exp(-k^2 / (4 s^2)): k ~ 2 s sqrt(ln(1/delta)) suffices.
    estimate = int(2 * steepness * np.sqrt(np.log(8 / delta)) + 20)
    if estimate > max_degree:
        raise ValueError(f"the {what} with steepness {steepness:.4g} and delta {delta:.3g} needs degree "
                         f"~{estimate}, above max_degree={max_degree}; increase eps or delta, or raise "
                         "max_degree")
    n_nodes = 2 * estimate + 64
    while True:
        coeffs = chebyshev_coefficients_of(func, n_nodes)
        if parity is not None:
            coeffs[1 - parity::2] = 0.0  # the other parity vanishes up to rounding
        d = _truncation_degree(coeffs, budget, parity)
        if d is not None and d < n_nodes // 2:
            break
        n_nodes *= 2
    if d > max_degree:
        raise ValueError(f"the {what} needs degree {d}, above max_degree={max_degree}; "
                         f"increase eps or delta, or raise max_degree")
    tail = float(np.sum(np.abs(coeffs[d + 1:])))
    scale = (1 - margin) / (1 + tail)  # |func| < 1, so max|p_trunc| <= 1 + tail
    return scale * coeffs[: d + 1], tail + (1 - scale)


def erf_polynomial(steepness: float, delta: float, *, max_degree: int = DEFAULT_MAX_DEGREE,
                   clip_margin: float | None = None) -> ChebyshevSeries:
    """Odd Chebyshev polynomial ``p`` with ``|p(y) - erf(s y)| <= delta`` on [-1, 1] and ``max |p| < 1``.

    ``steepness`` is ``s``: for the cooling sign ``erf((E - mu)/width)`` on ``y = (E - mu)/alpha`` it is
    ``alpha / width``. The truncation tail ``t <= 3 delta/8`` and the factor ``c = (1 - m)/(1 + t)``
    with ``m = delta/8`` (``clip_margin``) that pushes ``max|p|`` strictly below 1 give
    ``|p - erf| <= 2 t + m <= 7 delta/8``. Raises ``ValueError`` when the degree would exceed ``max_degree``.
    """
    s = check_positive("steepness", steepness)
    delta = _check_delta(delta)
    margin = delta / 8 if clip_margin is None else check_positive("clip_margin", clip_margin)
    coeffs, bound = _bounded_truncation(lambda y: erf(s * y), s, delta, 1, max_degree, margin,
                                        "erf polynomial")
    return ChebyshevSeries(coeffs, parity=1, target=f"erf({s:.6g} y)", error_bound=bound)


def qetu_sign_polynomial(mu: float, eps: float, delta: float, tau: float, *, peak: float = 0.9999,
                         max_degree: int = DEFAULT_MAX_DEGREE) -> ChebyshevSeries:
    """Even polynomial ``p(x)``, ``x = cos(tau E / 2)``, with ``p ~ sign(E - mu)``: QETU on ``e^{-i tau H}``.

    For a spectrum inside ``[0, pi/tau]`` (shift ``H`` first), ``z = 2x^2 - 1 = cos(tau E)`` decreases with
    ``E``, so ``sign(E - mu) = -sign(z - z_mu)``. ``r(z) = -erf(s (z - z_mu))``, truncated in Chebyshev
    polynomials of ``z`` and scaled as in :func:`erf_polynomial`, becomes ``p(x) = r(2x^2 - 1)`` through
    ``T_k(2x^2 - 1) = T_{2k}(x)``. With ``eps_z = min |cos(tau (mu +- eps)) - cos(tau mu)|`` (over the sides
    inside the interval) and ``s = erfcinv(delta/4)/eps_z``: ``|p - peak sign(E - mu)| <= delta`` for
    ``|E - mu| >= eps``, and ``|p| <= peak`` on [-1, 1] (Dong, Lin, Tong, PRX Quantum 3, 040305 (2022)).
    ``peak < 1`` keeps the even QSP problem well conditioned: with ``|p|`` within ~1e-6 of 1 on both
    ``x ~ 1`` and the transition, Newton's method for the phases stalls (measured), at ``peak = 0.9999`` it
    converges in ~15 iterations; the bands of ``f_mu(H)`` then sit at ``+-peak`` instead of ``+-1``.
    """
    mu = float(mu)
    eps = check_positive("eps", eps)
    delta = _check_delta(delta)
    tau = check_positive("tau", tau)
    peak = check_positive("peak", peak)
    if peak > 1:
        raise ValueError(f"peak must lie in (0, 1], got {peak}")
    if not 0 < mu < np.pi / tau:
        raise ValueError(f"mu must lie inside (0, pi/tau) = (0, {np.pi / tau:.6g}) for QETU, got {mu}")
    z_mu = np.cos(tau * mu)
    sides = [abs(np.cos(tau * e) - z_mu) for e in (mu - eps, mu + eps) if 0 <= e <= np.pi / tau]
    if not sides:
        raise ValueError(f"eps={eps} leaves no energy in [0, pi/tau] outside the transition region")
    s = float(erfcinv(delta / 4)) / min(sides)
    r, bound = _bounded_truncation(lambda z: -erf(s * (z - z_mu)), s, 3 * delta / 4, None, max_degree // 2,
                                   3 * delta / 32, "QETU sign polynomial")
    coeffs = np.zeros(2 * r.size - 1)
    coeffs[0::2] = peak * r
    target = f"{peak:g} sign(E - {mu:.6g}) at x = cos({tau:.6g} E / 2)"
    return ChebyshevSeries(coeffs, parity=0, target=target, error_bound=peak * (bound + delta / 4))


def sign_polynomial(eps: float, delta: float, *, max_degree: int = DEFAULT_MAX_DEGREE) -> ChebyshevSeries:
    """Odd polynomial with ``|p(y) - sign(y)| <= delta`` for ``eps <= |y| <= 1`` and ``|p| < 1`` on [-1, 1].

    The shifted sign of ``H`` is ``p((H - mu)/alpha)`` with ``eps`` measured in units of ``alpha``.
    ``s = erfcinv(delta/4)/eps`` gives ``1 - erf(s eps) = erfc(s eps) <= delta/4``; the polynomial error adds
    ``3 delta/4`` at most (truncation tail and the clipping factor), see :func:`erf_polynomial`.
    """
    eps = check_positive("eps", eps)
    if eps >= 1:
        raise ValueError(f"eps must lie in (0, 1) in units of the normalised spectrum, got {eps}")
    delta = _check_delta(delta)
    s = float(erfcinv(delta / 4)) / eps
    poly = erf_polynomial(s, 3 * delta / 4, max_degree=max_degree)
    return ChebyshevSeries(poly.coeffs, parity=1, target=f"sign(y) outside |y| < {eps:.6g}",
                           error_bound=poly.error_bound + delta / 4)


@dataclass(frozen=True)
class FourierSeries:
    """``g(theta) = sum_{k=-d}^{d} coeffs[k + d] e^{i k theta}``, a Laurent polynomial in ``e^{i theta}``."""

    coeffs: np.ndarray
    tau: float
    mu: float
    error_bound: float

    @property
    def degree(self) -> int:
        return (self.coeffs.size - 1) // 2

    def __call__(self, theta):
        theta = np.asarray(theta, dtype=float)
        k = np.arange(-self.degree, self.degree + 1)
        return np.exp(1j * np.multiply.outer(theta, k)) @ self.coeffs

    def of_energy(self, energies):
        """``g(tau E)``: the shifted sign evaluated at energies ``E``."""
        return self(self.tau * np.asarray(energies, dtype=float))


def fourier_sign_series(mu: float, eps: float, delta: float, tau: float, *,
                        max_degree: int = DEFAULT_MAX_DEGREE) -> FourierSeries:
    """Trigonometric polynomial ``g(tau E) ~ sign(E - mu)`` for the QETU/GQSP route on ``e^{-i tau H}``.

    ``g(theta) = c erf(s sin(theta - tau mu))`` with ``s = erfcinv(delta/4) / sin(tau eps)``, truncated in the
    Fourier basis where the coefficient tail falls below ``delta/4``; ``c`` keeps ``|g| < 1``. Guarantee:
    ``|g(tau E) - sign(E - mu)| <= delta`` for ``eps <= |E - mu|`` and ``tau |E - mu| <= pi - tau eps``,
    which holds
    on a spectrum of width below ``pi / tau - eps`` (keep ``tau * spectral range < pi``).
    """
    mu = float(mu)
    eps = check_positive("eps", eps)
    delta = _check_delta(delta)
    tau = check_positive("tau", tau)
    if tau * eps >= np.pi / 2:
        raise ValueError(f"tau * eps must be below pi/2, got {tau * eps:.4g}")
    s = float(erfcinv(delta / 4)) / np.sin(tau * eps)
    estimate = int(2 * s * np.sqrt(np.log(8 / delta)) + 20)
    if estimate > max_degree:
        raise ValueError(f"the Fourier sign series needs degree ~{estimate}, above max_degree={max_degree}")
    n = 2 * (2 * estimate + 64)
    while True:
        theta = 2 * np.pi * np.arange(n) / n
        values = erf(s * np.sin(theta - tau * mu))
        spectrum = np.fft.fft(values) / n  # spectrum[k] = coefficient of e^{i k theta}
        half = np.arange(n // 2)
        mags = np.abs(spectrum[half]) + np.where(half > 0, np.abs(spectrum[(n - half) % n]), 0.0)
        tail = np.append(np.cumsum(mags[::-1])[::-1], 0.0)
        ok = np.nonzero(tail[1:] <= delta / 4)[0]
        if ok.size and ok[0] < n // 4:
            d = int(ok[0])
            break
        n *= 2
    if d > max_degree:
        raise ValueError(f"the Fourier sign series needs degree {d}, above max_degree={max_degree}")
    t = float(tail[d + 1])
    scale = (1 - delta / 8) / (1 + t)
    coeffs = spectrum[np.arange(-d, d + 1) % n] * scale
    return FourierSeries(coeffs, tau=tau, mu=mu, error_bound=delta / 4 + t + (1 - scale))


def of_degree(build, target: int, lo: float, hi: float, *, increasing: bool, iterations: int = 60):
    """The polynomial ``build(s)`` of the largest degree at most ``target``, for ``s`` in ``[lo, hi]``.

    ``build`` maps a width parameter to a series whose degree is monotone in it: ``increasing=True`` for
    ``erf_polynomial``'s steepness ``s``, ``False`` for ``sign_polynomial``'s ``eps``. The parameter is bisected
    geometrically; the end points themselves are never built (one of them may need too high a degree).
    """
    check_int("target", target, minimum=1)
    small, large = (lo, hi) if increasing else (hi, lo)  # degree(small) <= degree(large)
    for _ in range(iterations):
        mid = float(np.sqrt(small * large))
        if build(mid).degree > target:
            large = mid
        else:
            small = mid
    return build(small)
