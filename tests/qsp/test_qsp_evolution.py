"""Jacobi-Anger polynomials of cos(tau x), sin(tau x) and their QSVT phases."""

import numpy as np
import pytest

from qdyn.exact.evolution import chebyshev_coefficients
from qdyn.qsp import evolution_phases, jacobi_anger_polynomials, qsp_response


@pytest.mark.parametrize("tau", [0.7, 7.5, 30.0])
def test_polynomials_approximate_cos_and_sin(tau):
    eta = 1e-4
    degree = chebyshev_coefficients(tau, tol=1e-13).size - 1  # where the classical propagator stops
    cos_p, sin_p = jacobi_anger_polynomials(tau, degree, eta=eta)
    x = np.linspace(-1, 1, 2001)
    # reference: numpy's cos and sin; the truncation error is the Bessel tail, below 1e-12 at this degree
    assert np.max(np.abs(cos_p(x) - (1 - eta) * np.cos(tau * x))) <= max(cos_p.error_bound, 1e-14) + 1e-14
    assert np.max(np.abs(sin_p(x) - (1 - eta) * np.sin(tau * x))) <= max(sin_p.error_bound, 1e-14) + 1e-14
    assert cos_p.error_bound <= 1e-12 and cos_p.parity == 0 and sin_p.parity == 1
    # C - i S is 1 - eta times the classical propagator's coefficients, term by term
    a = chebyshev_coefficients(tau, tol=1e-13)
    assert np.allclose(cos_p.coeffs - 1j * sin_p.coeffs, (1 - eta) * a, rtol=0, atol=1e-16)


def test_phases_rebuild_the_polynomials():
    tau, degree = 7.5, chebyshev_coefficients(7.5, tol=1e-13).size - 1
    cos_ph, sin_ph = evolution_phases(tau, degree)
    cos_p, sin_p = jacobi_anger_polynomials(tau, degree)
    x = np.linspace(-1, 1, 501)
    # "qsvt" convention: Re <0|U_R(x, Psi)|0> = p(x); the solver verifies to 1e-12
    assert np.max(np.abs(qsp_response(cos_ph.phases, x, "qsvt").real - cos_p(x))) <= 1e-11
    assert np.max(np.abs(qsp_response(sin_ph.phases, x, "qsvt").real - sin_p(x))) <= 1e-11


def test_bad_input():
    with pytest.raises(ValueError, match="too small"):
        evolution_phases(1e-9, 1)
    with pytest.raises(ValueError, match="eta"):
        jacobi_anger_polynomials(1.0, 5, eta=1.0)
    with pytest.raises(ValueError, match="degree"):
        jacobi_anger_polynomials(1.0, 0)
    with pytest.raises(ValueError, match="tau"):
        jacobi_anger_polynomials(-1.0, 5)
