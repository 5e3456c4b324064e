"""GQSP phases for the Fourier route: the shifted sign as a Laurent polynomial of ``e^{i tau H}``.

Generalized QSP (Motlagh & Wiebe, PRX Quantum 5, 020368 (2024), Thm. 3): for polynomials ``P, Q`` of degree
``<= D`` in ``w`` with ``|P|^2 + |Q|^2 = 1`` on ``|w| = 1`` there are angles with

    [P(W); Q(W)] = ( prod_{j=1}^{D} R(theta_j, phi_j, 0) A ) R(theta_0, phi_0, lam) |0>,
    A = |0><0| x W + |1><1| x 1,
    R(theta, phi, lam) = [[e^{i(lam + phi)} cos theta, e^{i phi} sin theta],
                          [e^{i lam} sin theta, -cos theta]].

* The complement ``Q`` is the outer polynomial with ``|Q|^2 = 1 - |P|^2``: ``log Q`` is the analytic
  (non-negative frequency) part of ``log(1 - |P|^2)/2``, computed with FFTs on a fine grid of the circle
  (Berntson & Suenderhauf, Commun. Math. Phys. (2025), arXiv:2406.04246) -- no root finding, no monomials.
* The angles follow by layer stripping: ``R_j^dag [P; Q]`` must have a top with zero constant term and a
  bottom of degree ``< j``: ``theta_j = atan2(|q_j|, |p_j|)``, ``phi_j = arg p_j - arg q_j`` from the leading
  coefficients, or equivalently (``p_j conj(p_0) + q_j conj(q_0) = 0``) ``theta_j = atan2(|p_0|, |q_0|)``,
  ``phi_j = arg p_0 - arg q_0 + pi`` from the constant ones; the larger pair is used (the leading
  coefficients of a truncated series are tiny, the constant term of the outer ``Q`` is not). The top is then
  divided by ``w``.

A real Fourier series ``g(theta) = sum_{k=-d}^{d} c_k e^{i k theta}`` (:func:`fourier_sign_series`) becomes
``P(w) = sum_j c_{j-d} w^j`` of degree ``D = 2d``; with the Laurent form of GQSP (``A' = |0><0| x U +
|1><1| x U^dag``, ``U = e^{i tau H / 2}``, Motlagh & Wiebe Cor. 8) the circuit gives ``U^{-D} P(U^2) =
g(tau H)``. Every phase set is verified by rebuilding ``P`` on ``2D + 2`` points of the circle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdyn.errors import check_positive
from qdyn.qsp.nlft import outer_complement
from qdyn.qsp.phases import PhaseSolverError

__all__ = ["GQSPPhases", "complementary_polynomial", "gqsp_response", "r_matrix", "solve_gqsp_phases"]


@dataclass(frozen=True)
class GQSPPhases:
    """GQSP angles ``thetas[0..D]``, ``phis[0..D]``, ``lam`` and the verified rebuild error of ``P``."""

    thetas: np.ndarray
    phis: np.ndarray
    lam: float
    degree: int
    max_error: float
    n_check_points: int


def complementary_polynomial(p_coeffs, *, n_fft: int | None = None) -> np.ndarray:
    """Coefficients of the outer ``Q`` (degree ``D``) with ``|P|^2 + |Q|^2 = 1`` on the unit circle (the Weiss
    step of :func:`qdyn.qsp.nlft.outer_complement`, on ``n_fft`` points, default ``64 (D + 1)`` rounded up to a
    power of two)."""
    p = np.asarray(p_coeffs, dtype=complex)
    degree = p.size - 1
    if n_fft is None:
        n_fft = 1 << int(np.ceil(np.log2(64 * (degree + 1))))
    peak = np.max(np.abs(np.fft.fft(p, max(n_fft, 1))))
    if peak >= 1:
        raise ValueError(f"|P| must stay below 1 on the unit circle for a complement; max |P| = {peak:.17g}")
    return outer_complement(p, n_fft)[0]


def r_matrix(theta, phi, lam=0.0):
    """The GQSP rotation ``R(theta, phi, lam)`` (module docstring)."""
    return np.array([[np.exp(1j * (lam + phi)) * np.cos(theta), np.exp(1j * phi) * np.sin(theta)],
                     [np.exp(1j * lam) * np.sin(theta), -np.cos(theta)]])


def gqsp_response(thetas, phis, lam, w) -> np.ndarray:
    """``<0| prod_j R_j A ... R_0 |0>`` at the points ``w`` of the unit circle (plain products)."""
    w = np.atleast_1d(np.asarray(w, dtype=complex))
    first = r_matrix(thetas[0], phis[0], lam)[:, 0]
    state = np.stack([np.full(w.shape, first[0]), np.full(w.shape, first[1])])
    for theta, phi in zip(thetas[1:], phis[1:], strict=True):
        state = np.stack([state[0] * w, state[1]])
        state = r_matrix(theta, phi) @ state
    return state[0]


def solve_gqsp_phases(p_coeffs, *, tol: float = 1e-12, n_fft: int | None = None) -> GQSPPhases:
    """GQSP angles for ``P(w) = sum_j p_j w^j`` (``|P| < 1`` on the circle); verified, raises on failure."""
    tol = check_positive("tol", tol)
    p = np.asarray(p_coeffs, dtype=complex)
    if p.ndim != 1 or p.size < 2 or not np.all(np.isfinite(p)):
        raise ValueError("p_coeffs must be a 1-D array of at least 2 finite coefficients")
    q = complementary_polynomial(p, n_fft=n_fft)
    top, bottom = p.copy(), q.copy()
    degree = p.size - 1
    thetas, phis = np.zeros(degree + 1), np.zeros(degree + 1)
    for j in range(degree, 0, -1):
        pj, qj, p0, q0 = top[j], bottom[j], top[0], bottom[0]
        if abs(pj) ** 2 + abs(qj) ** 2 >= abs(p0) ** 2 + abs(q0) ** 2:
            thetas[j], phis[j] = np.arctan2(abs(qj), abs(pj)), np.angle(pj) - np.angle(qj)
        else:
            thetas[j], phis[j] = np.arctan2(abs(p0), abs(q0)), np.angle(p0) - np.angle(q0) + np.pi
        new = r_matrix(thetas[j], phis[j]).conj().T @ np.stack([top[: j + 1], bottom[: j + 1]])
        top, bottom = new[0][1:], new[1][:j]  # top / w, bottom of degree j - 1
    lam = float(np.angle(bottom[0]))
    thetas[0] = np.arctan2(abs(bottom[0]), abs(top[0]))
    phis[0] = float(np.angle(top[0])) - lam
    n_check = 2 * degree + 2
    w = np.exp(2j * np.pi * (np.arange(n_check) + 0.5) / n_check)
    target = np.polynomial.polynomial.polyval(w, p)
    error = float(np.max(np.abs(gqsp_response(thetas, phis, lam, w) - target)))
    if not error <= tol:
        raise PhaseSolverError(f"GQSP: the angles rebuild the degree-{degree} polynomial only to "
                               f"{error:.3g} on {n_check} points of the circle (tolerance {tol:.3g})")
    return GQSPPhases(thetas, phis, lam, degree, error, n_check)
