"""QSP phases: rebuild to 1e-12 at degree 1001 and within 1e-10 of |p| = 1, the Jacobian against finite
differences, three solvers (NLFT, Newton from the Chebyshev guess, Levenberg-Marquardt) agreeing to degree 301,
conventions, errors and warnings."""

import numpy as np
import pytest

from qdyn.errors import ConvergenceWarning
from qdyn.qsp import (
    erf_polynomial,
    of_degree,
    qetu_sign_polynomial,
    qsp_response,
    sign_polynomial,
    solve_phases_lm,
    solve_phases_newton,
)
from qdyn.qsp.phases import _response_and_jacobian, _verify


def _sign_of_degree(target_degree):
    """The sign polynomial (delta = 1e-6) of the largest degree at most ``target_degree``."""
    return of_degree(lambda eps: sign_polynomial(eps, 1e-6), target_degree, 1e-3, 0.9, increasing=False)


def _independent_response(phases, x):
    """Reference: the QSP unitary built with scipy's expm of the generators, one matrix per point."""
    from scipy.linalg import expm

    z, xx = np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]])
    out = []
    for xv in x:
        w = expm(1j * np.arccos(xv) * xx)
        u = expm(1j * phases[0] * z)
        for phi in phases[1:]:
            u = u @ w @ expm(1j * phi * z)
        out.append(u[0, 0])
    return np.array(out)


def test_degree_1001_rebuilds_to_1e12():
    p = _sign_of_degree(1001)
    assert 950 <= p.degree <= 1051
    phases = solve_phases_newton(p)
    # the solver's own check used >= 2d points; re-check here on a fresh grid including the endpoints
    x = np.cos(np.linspace(0, np.pi, 2 * p.degree + 3))
    assert np.max(np.abs(qsp_response(phases.phases, x).imag - p(x))) <= 1e-12
    assert phases.max_error <= 1e-12 and phases.n_check_points >= 2 * p.degree
    assert np.allclose(phases.phases, phases.phases[::-1], atol=0)  # symmetric


def test_near_unit_norm_rebuilds_to_1e12():
    # erf polynomial with clipping margin delta/8 = 2.5e-11: max|p| within 1e-10 of 1 (nlft-qsp refuses below 1e-8)
    p = erf_polynomial(60.0, 2e-10)
    x = np.cos(np.linspace(0, np.pi, 2 * p.degree + 3))  # fresh grid, endpoints included
    assert p.degree >= 501 and 0 < 1 - np.max(np.abs(p(np.cos(np.linspace(0, np.pi, 8 * p.degree))))) < 1e-10
    phases = solve_phases_newton(p)
    assert phases.max_error <= 1e-12 and phases.n_check_points >= 2 * p.degree + 2
    assert np.max(np.abs(qsp_response(phases.phases, x).imag - p(x))) <= 1e-12
    # independent reference at a few points (one expm per factor): rounding of ~2d 2x2 products, ~1e-13
    xs = np.array([-0.97, -0.2, 0.003, 0.05, 0.6])
    assert np.max(np.abs(_independent_response(phases.phases, xs).imag - p(xs))) <= 1e-12


@pytest.mark.parametrize("degree", [1, 8, 9, 40])
def test_jacobian_against_finite_differences(degree):
    rng = np.random.default_rng(degree)
    reduced = rng.uniform(-1, 1, (degree + 2) // 2)
    x = np.cos(rng.uniform(0, np.pi, 7))
    _, jac = _response_and_jacobian(reduced, degree, x)
    step = 1e-6
    for j in range(reduced.size):
        up, down = reduced.copy(), reduced.copy()
        up[j] += step
        down[j] -= step
        central = (_response_and_jacobian(up, degree, x)[0] - _response_and_jacobian(down, degree, x)[0]) / (2 * step)
        # central differences: truncation ~ step^2 * (third derivative ~ d^3) plus rounding ~ 1e-16 / step
        assert np.max(np.abs(jac[:, j] - central)) <= 1e-7


def test_response_against_expm_reference():
    p = sign_polynomial(0.3, 1e-4)
    phases = solve_phases_newton(p).phases
    x = np.linspace(-1, 1, 41)
    ref = _independent_response(phases, x)
    assert np.max(np.abs(ref.imag - p(x))) <= 1e-12  # rounding of ~2d products of 2x2 matrices


@pytest.mark.parametrize("degree", [21, 101, 301])
def test_nlft_newton_and_levenberg_marquardt_agree(degree):
    p = _sign_of_degree(degree)
    a, b, c = solve_phases_newton(p), solve_phases_lm(p), solve_phases_newton(p, start="chebyshev")
    # the symmetric solution near Phi = 0 is unique: the phases themselves agree (conditioning ~ d * 1e-14)
    assert np.max(np.abs(a.phases - b.phases)) <= 1e-9 and np.max(np.abs(a.phases - c.phases)) <= 1e-9
    assert max(a.max_error, b.max_error, c.max_error) <= 1e-12
    assert a.solver == "nlft" and a.iterations == 0 and c.solver == "newton"


def test_qsvt_convention_real_part_rebuilds():
    p = sign_polynomial(0.1, 1e-6)
    phases = solve_phases_newton(p, convention="qsvt")
    x = np.linspace(-1, 1, 501)
    # reference: Re <0|U_R(x, Psi)|0> must equal p(x); Psi and -Psi give complex-conjugate responses
    assert np.max(np.abs(qsp_response(phases.phases, x, "qsvt").real - p(x))) <= 1e-12
    conj = np.conj(qsp_response(phases.phases, x, "qsvt"))
    assert np.allclose(qsp_response(-phases.phases, x, "qsvt"), conj)


def test_failed_verification_warns():
    p = sign_polynomial(0.3, 1e-4)
    good = solve_phases_newton(p).phases
    with pytest.warns(ConvergenceWarning, match="rebuild"):
        result = _verify(good + 1e-6, p.coeffs, "wx", 1e-12, "test", 0, 1e-4)
    assert not result.converged and result.max_error > 1e-12


def test_bad_polynomials():
    with pytest.raises(ValueError, match="parity"):
        solve_phases_newton(np.array([0.1, 0.2, 0.1]))
    with pytest.raises(ValueError, match=r"\|p\(x\)\| < 1"):
        solve_phases_newton(np.array([0.0, 1.2]))
    with pytest.raises(ValueError, match="max_degree"):
        solve_phases_newton(sign_polynomial(0.3, 1e-4), max_degree=5)
    with pytest.raises(ValueError, match="convention"):
        solve_phases_newton(sign_polynomial(0.3, 1e-4), convention="gqsp")
    with pytest.raises(ValueError, match="start"):
        solve_phases_newton(sign_polynomial(0.3, 1e-4), start="zero")
    with pytest.raises(ValueError, match="tol"):
        solve_phases_newton(sign_polynomial(0.3, 1e-4), tol=-1.0)
    with pytest.raises(ValueError, match="constant"):
        solve_phases_newton(np.array([0.5]))


def test_too_few_iterations_warn():
    # two Newton steps from the Chebyshev guess cannot reach 1e-12 this close to |p| = 1: converged=False, a warning
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        result = solve_phases_newton(erf_polynomial(20.0, 1e-8), max_iter=2, start="chebyshev")
    assert not result.converged and result.iterations == 2


def test_qetu_convention_against_expm():
    p = qetu_sign_polynomial(1.2, 0.3, 1e-4, 1.0)
    phases = solve_phases_newton(p, convention="qetu").phases
    from scipy.linalg import expm

    x_gate, z_gate = np.array([[0.0, 1.0], [1.0, 0.0]]), np.diag([1.0, -1.0])
    for theta in np.linspace(0.05, np.pi - 0.05, 9):
        # reference: the QETU product e^{i psi_0 X} prod e^{-i theta Z} e^{i psi_k X} built with expm
        u = expm(1j * phases[0] * x_gate)
        for psi in phases[1:]:
            u = u @ expm(-1j * theta * z_gate) @ expm(1j * psi * x_gate)
        assert u[0, 0].real == pytest.approx(p(np.cos(theta)), abs=1e-12)


@pytest.mark.skipif(np.finfo(np.longdouble).eps >= np.finfo(float).eps, reason="numpy longdouble is plain double")
def test_response_free_of_norm_drift_at_high_degree():
    # zero phases: <0|W^d|0> = cos(d theta') with theta' = atan2(s, x) the rotation the rounded (x, s) realise;
    # reference in extended precision. Without dividing out r^d (r^2 = x^2 + s^2 != 1 in floating point) the
    # error is ~d * 1e-16 = 2e-12; with it, the random-walk rounding ~sqrt(d) * 1e-16 ~ 1e-14 remains.
    d = 20001
    x = np.cos(np.linspace(0.01, np.pi - 0.01, 64))
    theta = np.arctan2(np.sqrt(1 - x * x).astype(np.longdouble), x.astype(np.longdouble))
    reference = np.cos(np.longdouble(d) * theta)
    assert np.max(np.abs(qsp_response(np.zeros(d + 1), x).real - reference)) <= 1e-13
