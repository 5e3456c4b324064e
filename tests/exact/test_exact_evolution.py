"""Exact and Trotterised evolution against scipy.linalg.expm, with the sign of time checked."""

import numpy as np
import pytest
from scipy.linalg import expm

from qdyn import exact, models, states


@pytest.fixture(scope="module")
def system():
    H = models.heisenberg(6, delta=0.7, h=0.3)
    psi = states.haar_random_state(6, seed=11)
    return H, H.to_matrix(), psi


@pytest.mark.parametrize("t", [0.05, 1.0, 7.5])
def test_evolve_matches_expm(system, t):
    H, matrix, psi = system
    # 1e-10: the Chebyshev series is cut at 1e-13; expm is accurate to rounding.
    np.testing.assert_allclose(exact.evolve(H, psi, t), expm(-1j * t * matrix) @ psi, atol=1e-10)


def test_time_sign_is_exp_minus_iHt():
    # A single qubit H = Z: exp(-iZt)|+> has relative phase exp(+2it) on |1> relative to |0>.
    H = models.tfim(2, J=0.0, g=0.0) + models.heisenberg(2, J=0.0, h=1.0)
    psi = states.plus_state(2)
    t = 0.3
    out = exact.evolve(H, psi, t)
    diag = np.diag(H.to_matrix()).real
    np.testing.assert_allclose(out, np.exp(-1j * diag * t) * psi, atol=1e-12)


def test_evolve_on_a_time_grid(system):
    H, matrix, psi = system
    times = np.array([0.0, 0.4, 0.8, 2.0])
    out = exact.evolve(H, psi, times)
    for state, t in zip(out, times, strict=True):
        np.testing.assert_allclose(state, expm(-1j * t * matrix) @ psi, atol=1e-10)


def test_evolve_on_torch_cpu(system):
    H, matrix, psi = system
    out = exact.evolve(H, psi, 1.3, device="torch-cpu")
    np.testing.assert_allclose(out.numpy(), expm(-1.3j * matrix) @ psi, atol=1e-10)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_trotter_error_scales_with_the_order(system, order):
    H, matrix, psi = system
    t = 1.0
    reference = expm(-1j * t * matrix) @ psi
    steps = np.array([8, 16, 32]) if order < 4 else np.array([4, 8, 16])
    errors = [np.linalg.norm(exact.trotter_evolve(H, psi, t, steps=int(s), order=order) - reference)
              for s in steps]
    slope = np.polyfit(np.log(t / steps), np.log(errors), 1)[0]
    # The leading error term is O(dt^order); the fitted slope is within 0.2 of it in the asymptotic regime.
    assert abs(slope - order) < 0.2, (order, slope, errors)


def test_single_step_first_order_is_the_plain_product(system):
    H, _, psi = system
    expected = psi.copy()
    for label, c in zip(H.paulis, H.coeffs, strict=True):
        expected = expm(-1j * 0.2 * c.real * label.to_matrix()) @ expected
    np.testing.assert_allclose(exact.trotter_evolve(H, psi, 0.2, steps=1, order=1), expected, atol=1e-12)
