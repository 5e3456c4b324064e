"""GQSP route: complementary polynomial, layer-stripping angles, rebuild at high degree, bad input."""

import numpy as np
import pytest

from qdyn.qsp import PhaseSolverError, fourier_sign_series
from qdyn.qsp.gqsp import complementary_polynomial, gqsp_response, solve_gqsp_phases


def test_complement_satisfies_the_unitarity_identity():
    g = fourier_sign_series(0.2, 0.1, 1e-6, 1.0)
    q = complementary_polynomial(g.coeffs)
    w = np.exp(1j * np.linspace(0, 2 * np.pi, 7919))
    p_val = np.polynomial.polynomial.polyval(w, g.coeffs)
    q_val = np.polynomial.polynomial.polyval(w, q)
    # reference: the identity |P|^2 + |Q|^2 = 1 itself, on points off the FFT grid (rounding ~1e-13)
    assert np.max(np.abs(np.abs(p_val) ** 2 + np.abs(q_val) ** 2 - 1)) <= 1e-12


@pytest.mark.parametrize("eps", [0.1, 0.02])
def test_gqsp_angles_rebuild_the_sign_series(eps):
    mu, tau = 0.2, 1.0
    g = fourier_sign_series(mu, eps, 1e-6, tau)
    phases = solve_gqsp_phases(g.coeffs)
    assert phases.degree == 2 * g.degree and phases.n_check_points >= 2 * phases.degree
    energies = np.linspace(-1.2, 1.2, 1001)
    # Laurent form: w^{-d} P(w) at w = e^{i tau E} is g(tau E); compare with sign(E - mu) as well
    w = np.exp(1j * tau * energies)
    rebuilt = w ** (-g.degree) * gqsp_response(phases.thetas, phases.phis, phases.lam, w)
    assert np.max(np.abs(rebuilt - g.of_energy(energies))) <= 1e-12
    far = np.abs(energies - mu) >= eps
    assert np.max(np.abs(rebuilt[far] - np.sign(energies[far] - mu))) <= 1e-6


def test_gqsp_bad_input():
    with pytest.raises(ValueError, match="below 1"):
        solve_gqsp_phases(np.array([0.0, 1.2]))
    with pytest.raises(ValueError, match="p_coeffs"):
        solve_gqsp_phases(np.array([0.5]))
    coeffs = fourier_sign_series(0.2, 0.05, 1e-6, 1.0).coeffs
    with pytest.raises(ValueError, match="n_fft"):
        solve_gqsp_phases(coeffs, n_fft=64)
    with pytest.raises(PhaseSolverError, match="rebuild"):
        # the smallest FFT grid aliases log(1 - |P|^2) (measured rebuild error 1.6e-6): the check must fail
        solve_gqsp_phases(coeffs, n_fft=2 * coeffs.size)
