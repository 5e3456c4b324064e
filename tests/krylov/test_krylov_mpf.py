"""Multi-product formulas for Krylov overlaps (qdyn.krylov.mpf), checked against the exact engine."""

import numpy as np
import pytest

import qdyn.krylov as kr
from qdyn import models, states
from qdyn.krylov.mpf import mpf_coefficients


def test_static_coefficients_match_the_analytic_two_term_formula():
    # symmetric second order, k = (1, 2): c_j = prod_{i != j} k_j^2 / (k_j^2 - k_i^2) = (-1/3, 4/3)
    assert np.allclose(mpf_coefficients((1, 2), 2), [-1 / 3, 4 / 3], atol=1e-12)
    # Lie-Trotter (error in 1/k), k = (1, 2): c = (-1, 2)
    assert np.allclose(mpf_coefficients((2, 1), 1), [-1, 2], atol=1e-12)


@pytest.mark.parametrize("H, ref", [
    (models.tfim(5, 1.0, 0.7, periodic=True), states.plus_state(5)),
    (models.heisenberg(5, delta=0.6, periodic=False), states.neel_state(5)),
])
def test_mpf_overlaps_are_closer_to_the_exact_ones_than_their_product_formulas(H, ref):
    # Models not used to build the feature. Reference: the exact engine's Lanczos rows (1e-13).
    grid = kr.time_grid(0.3, 6)
    exact = kr.acquire(H, ref, grid, backend="exact", with_h=True).s
    error = {}
    for key, trotter in (("k=2", {"steps_per_dt": 2}), ("mpf", {"mpf": (1, 2)}), ("mpf3", {"mpf": (1, 2, 3)})):
        data = kr.acquire(H, ref, grid, backend="trotter", trotter=trotter, with_h=True)
        error[key] = np.abs(data.s - exact).max()
    # cancelling the dt^2 term leaves dt^4: an order of magnitude at dt = 0.3, two with three formulas
    assert error["mpf"] < 0.2 * error["k=2"]
    assert error["mpf3"] < 0.1 * error["mpf"]


def test_mpf_errors_combine_with_the_squared_coefficients():
    H, ref, grid = models.tfim(4, 1.0, 0.8), states.plus_state(4), kr.time_grid(0.3, 5)
    data = kr.acquire(H, ref, grid, backend="shots", shots=2000, trotter={"mpf": (1, 3)}, seed=5, with_h=False)
    c = np.array(data.metadata.options["mpf"]["coefficients"])
    assert np.isclose(c.sum(), 1.0)
    parts = [kr.acquire(H, ref, grid, backend="shots", shots=2000, trotter={"steps_per_dt": k}, seed=1,
                        with_h=False) for k in (1, 3)]
    # binomial errors depend only on the true overlaps, not on the draw: the same for any seed
    expected = np.sqrt(sum((ck * p.s_err.real) ** 2 for ck, p in zip(c, parts, strict=True)))
    assert np.allclose(data.s_err.real, expected, rtol=1e-12)
    assert data.resources.circuits == sum(p.resources.circuits for p in parts)
    assert data.metadata.seed == 5


def test_plan_counts_the_circuits_of_every_product_formula():
    H, ref, grid = models.heisenberg(4, periodic=False), states.neel_state(4), kr.time_grid(0.4, 4)
    parts = [kr.plan(H, ref, grid, backend="fake:FakeManilaV2", shots=500, trotter={"steps_per_dt": k},
                     with_h=False, seed=0) for k in (1, 2)]
    both = kr.plan(H, ref, grid, backend="fake:FakeManilaV2", shots=500, trotter={"mpf": (1, 2)}, with_h=False,
                   seed=0)
    assert both.shots == sum(p.shots for p in parts)
    assert both.executed_circuits == sum(p.executed_circuits for p in parts)
    assert both.resources.two_qubit_gates == max(p.resources.two_qubit_gates for p in parts)
    assert np.isclose(both.device_time, sum(p.device_time for p in parts))


@pytest.mark.parametrize("trotter, error", [
    ({"mpf": (2, 2)}, ValueError), ({"mpf": (1,)}, ValueError), ({"mpf": 2}, TypeError),
    ({"mpf": (1, 2), "steps_per_dt": 1}, TypeError), ({"mpf": (0, 2)}, ValueError),
])
def test_bad_mpf_input_names_the_argument(trotter, error):
    H, ref = models.tfim(3, 1.0, 0.5), states.plus_state(3)
    with pytest.raises(error, match="trotter"):
        kr.acquire(H, ref, kr.time_grid(0.3, 3), backend="trotter", trotter=trotter)
