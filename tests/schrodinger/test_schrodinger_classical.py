"""Classical solvers: machine precision where the grid is split at the jumps, second-order finite
differences."""

import numpy as np
import pytest

import qdyn.schrodinger as S


@pytest.mark.parametrize("method,options", [("cheb", {"n": 64, "subdivide": 4}), ("dvr", {"n": 300})])
@pytest.mark.parametrize(
    "problem",
    [S.harmonic_oscillator(), S.poschl_teller(), S.morse()],
    ids=["harmonic", "poschl_teller", "morse"],
)
def test_spectral_solvers_reach_1e_10_on_smooth_potentials(method, options, problem):
    result = S.solve_eigen(problem, 4, method=method, **options)
    # Spectral convergence: 1e-10 relative is the bar (observed ~1e-13).
    assert np.max(result.relative_errors) < 1e-10


def test_chebyshev_and_dvr_agree_on_the_double_well():
    """No closed form: two independent spectral discretisations must agree."""
    problem = S.double_well()
    cheb = S.solve_eigen(problem, 4, method="cheb", n=64, subdivide=4).energies
    dvr = S.solve_eigen(problem, 4, method="dvr", n=300).energies
    assert np.max(np.abs(cheb - dvr) / np.abs(dvr)) < 1e-10


@pytest.mark.parametrize("problem", [S.finite_well(), S.barrier()], ids=["finite_well", "barrier"])
def test_split_chebyshev_reaches_1e_10_across_jumps(problem):
    result = S.solve_eigen(problem, 4, method="cheb", n=48)
    assert np.max(result.relative_errors) < 1e-10


def test_sine_dvr_is_exact_for_the_empty_box():
    # The particle-in-a-box DVR diagonalises the free box exactly for the levels it holds.
    result = S.solve_eigen(S.infinite_well(), 5, method="dvr", n=40)
    assert np.max(result.relative_errors) < 1e-12


def _observed_order(problem, ns, **options):
    errors = [S.solve_eigen(problem, 1, method="fd", n=n, **options).errors[0] for n in ns]
    slope = np.polyfit(np.log(ns), np.log(errors), 1)[0]
    return -slope


def test_finite_differences_converge_at_second_order():
    # The free box: E_h = (2/h^2)(1 - cos(pi h)) = pi^2 - pi^4 h^2 / 12 + ... exactly second order.
    assert abs(_observed_order(S.infinite_well(), [100, 200, 400, 800]) - 2.0) < 0.05
    # Across the finite well's jumps with cell-averaged V: still second order.
    assert abs(_observed_order(S.finite_well(), [601, 1201, 2401, 4801]) - 2.0) < 0.15
    # Smooth potential on the line.
    assert abs(_observed_order(S.harmonic_oscillator(), [500, 1000, 2000, 4000]) - 2.0) < 0.05


def test_finite_differences_are_first_order_across_an_unsplit_jump():
    order = _observed_order(S.finite_well(), [601, 1201, 2401, 4801], split=False)
    assert abs(order - 1.0) < 0.15


def test_states_are_normalised_orthogonal_and_match_the_oscillator():
    result = S.solve_eigen(S.harmonic_oscillator(), 3, method="cheb", n=64, subdivide=4)
    gram = (result.states * result.weights) @ result.states.T
    # Clenshaw-Curtis on resolved states: orthonormal to ~1e-12.
    assert np.allclose(gram, np.eye(3), atol=1e-10)
    ground = np.pi**-0.25 * np.exp(-(result.x**2) / 2)  # -psi'' + x^2 psi = psi
    assert np.max(np.abs(result.states[0] - ground)) < 1e-9


def test_finite_well_ground_state_is_continuous_with_continuous_slope():
    result = S.solve_eigen(S.finite_well(), 1, method="cheb", n=48)
    psi, x = result.states[0], result.x
    a = 1.7
    k = np.sqrt(result.energy / 0.5)
    inside = np.abs(x) < a
    # Inside the well the ground state is A cos(kx) (analytic form; normalisation from the solver).
    amplitude = psi[np.argmin(np.abs(x))]
    assert np.allclose(psi[inside], amplitude * np.cos(k * x[inside]), atol=1e-9)


def test_classical_result_fields():
    result = S.solve_eigen(S.finite_well(), 2, method="fd", n=500)
    assert result.method == "fd" and result.grid == 500
    assert np.all(np.isnan(result.residuals))
    assert result.resources.wall_time > 0
    assert result.summary()["method"] == "fd"


def test_classical_to_pandas_holds_the_levels_and_the_analytic_references():
    # Harmonic oscillator V = x^2, -psi'' + V psi (natural units): E_n = 2n + 1. Chebyshev reaches ~1e-10 here;
    # the table copies the result's arrays exactly, and a classical solver has no residual bound (NaN).
    result = S.solve_eigen(S.harmonic_oscillator(), 3, method="cheb")
    table = result.to_pandas()
    assert list(table["level"]) == [0, 1, 2] and set(table["quantity"]) == {"energy"}
    assert np.array_equal(table["value"], result.energies)
    np.testing.assert_allclose(table["value"], [1.0, 3.0, 5.0], atol=1e-9)
    np.testing.assert_allclose(table["reference"], [1.0, 3.0, 5.0], rtol=1e-14)
    assert table["error"].isna().all()
