"""Shifted-sign polynomials: sign/erf error bounds, |p| <= 1, degree scaling, the Fourier route, bad input."""

import numpy as np
import pytest
from scipy.special import erf

from qdyn.qsp import erf_polynomial, fourier_sign_series, qetu_sign_polynomial, sign_polynomial

GRID = np.cos(np.linspace(0, np.pi, 40001))  # dense grid of [-1, 1], endpoints included


@pytest.mark.parametrize(("eps", "delta"), [(0.3, 1e-3), (0.1, 1e-6), (0.02, 1e-10)])
def test_sign_polynomial_error_outside_the_gap_and_bounded(eps, delta):
    p = sign_polynomial(eps, delta)
    values = p(GRID)
    outside = np.abs(GRID) >= eps
    # reference: the sign function itself; the guarantee is delta (no slack needed)
    assert np.max(np.abs(values[outside] - np.sign(GRID[outside]))) <= delta
    assert np.max(np.abs(values)) <= 1.0
    assert p.error_bound <= delta
    assert p.degree % 2 == 1 and np.all(p.coeffs[0::2] == 0)  # odd, as symmetric QSP needs


def test_sign_polynomial_degree_scales_as_log_over_eps():
    # Low-Chuang: degree = O(log(1/delta)/eps); halving eps should roughly double it (ratio in [1.6, 2.4]).
    d1, d2 = sign_polynomial(0.1, 1e-8).degree, sign_polynomial(0.05, 1e-8).degree
    assert 1.6 <= d2 / d1 <= 2.4


def test_erf_polynomial_matches_erf():
    s, delta = 2 / 0.15, 1e-6
    p = erf_polynomial(s, delta)
    # reference: scipy's erf; tolerance delta is the stated guarantee
    assert np.max(np.abs(p(GRID) - erf(s * GRID))) <= delta
    assert np.max(np.abs(p(GRID))) < 1


def test_chebyshev_apply_matches_dense_function_of_matrix():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((16, 16))
    a = (a + a.T) / 2
    a /= 1.01 * np.max(np.abs(np.linalg.eigvalsh(a)))
    w, u = np.linalg.eigh(a)
    p = erf_polynomial(8.0, 1e-8)
    psi = rng.standard_normal(16)
    dense = u @ (p(w) * (u.T @ psi))  # reference: p on the eigenvalues
    assert np.allclose(p.apply(lambda v: a @ v, psi), dense, atol=1e-12)


def test_fourier_sign_series_on_a_spectrum():
    mu, eps, delta, tau = 0.2, 0.1, 1e-6, 1.0
    g = fourier_sign_series(mu, eps, delta, tau)
    energies = np.linspace(-1.2, 1.2, 4001)  # tau * range = 2.4 < pi
    values = g.of_energy(energies)
    far = np.abs(energies - mu) >= eps
    assert np.max(np.abs(values.imag)) < 1e-12  # a real function of theta
    assert np.max(np.abs(values.real[far] - np.sign(energies[far] - mu))) <= delta
    theta = np.linspace(-np.pi, np.pi, 20001)
    assert np.max(np.abs(g(theta))) <= 1


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"eps": 0.0, "delta": 1e-3}, "eps"),
    ({"eps": -0.1, "delta": 1e-3}, "eps"),
    ({"eps": 0.1, "delta": 0.0}, "delta"),
    ({"eps": 0.1, "delta": 1.0}, "delta"),
    ({"eps": 0.1, "delta": 2.0}, "delta"),
    ({"eps": 1e-4, "delta": 1e-6, "max_degree": 1000}, "max_degree"),
])
def test_sign_polynomial_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sign_polynomial(**kwargs)


def test_fourier_series_bad_input():
    with pytest.raises(ValueError, match="tau"):
        fourier_sign_series(0.0, 0.1, 1e-3, tau=0.0)
    with pytest.raises(ValueError, match="tau \\* eps"):
        fourier_sign_series(0.0, 1.0, 1e-3, tau=2.0)


@pytest.mark.parametrize("mu", [0.3, 1.6, 2.9])
def test_qetu_sign_polynomial_on_the_cosine_variable(mu):
    tau, eps, delta, peak = 1.0, 0.1, 1e-6, 0.9999
    p = qetu_sign_polynomial(mu, eps, delta, tau, peak=peak)
    energies = np.linspace(0, np.pi / tau, 20001)
    values = p(np.cos(tau * energies / 2))
    far = np.abs(energies - mu) >= eps
    # reference: peak * sign(E - mu); guarantee delta
    assert np.max(np.abs(values[far] - peak * np.sign(energies[far] - mu))) <= delta
    assert np.max(np.abs(p(GRID))) <= peak
    assert p.parity == 0 and np.all(p.coeffs[1::2] == 0)
    with pytest.raises(ValueError, match="mu must lie inside"):
        qetu_sign_polynomial(4.0, eps, delta, tau)
    with pytest.raises(ValueError, match="peak"):
        qetu_sign_polynomial(mu, eps, delta, tau, peak=1.5)
