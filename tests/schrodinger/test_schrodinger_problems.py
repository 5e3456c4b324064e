"""Problems, potentials, units and the front door's input checks."""

import numpy as np
import pytest

import qdyn.schrodinger as S


def test_units():
    assert S.as_units("natural").hbar2_over_2m == 1.0
    assert S.as_units("atomic").hbar2_over_2m == 0.5
    assert S.infinite_well(units="atomic").exact(1)[0] == pytest.approx(np.pi**2 / 2, rel=1e-15)
    with pytest.raises(ValueError, match="units"):
        S.as_units("imperial")
    with pytest.raises(TypeError, match="units"):
        S.as_units(1.0)
    with pytest.raises(ValueError, match="hbar2_over_2m"):
        S.Units(-1.0, "bad")


def test_potential_declares_its_jumps_and_symmetry():
    problem = S.finite_well()
    assert np.allclose(problem.breakpoints, [-6.0, -1.7, 1.7, 6.0])
    assert problem.parity_center == 0.0
    assert S.morse().parity_center is None
    assert problem.V(np.array([0.0, 2.0])).tolist() == [0.0, 20.0]


def test_custom_potential_and_problem():
    pot = S.potentials.custom(lambda x: np.where(x > 0.3, 5.0, 0.0), discontinuities=[0.3])
    problem = S.Problem(pot, (0.0, 1.0))
    assert np.allclose(problem.breakpoints, [0.0, 0.3, 1.0])
    result = S.solve_eigen(problem, 2, method="cheb", n=40)
    fd = S.solve_eigen(problem, 2, method="fd", n=4000)
    # Second-order FD at h = 2.5e-4: ~1e-6 relative.
    assert np.allclose(result.energies, fd.energies, rtol=1e-5)


def test_domain_with_a_not_below_b_is_an_error():
    with pytest.raises(ValueError, match="a < b"):
        S.Problem(S.potentials.constant(), (1.0, 1.0))
    with pytest.raises(ValueError, match="a < b"):
        S.Problem(S.potentials.constant(), (2.0, 1.0))
    with pytest.raises(TypeError, match="domain"):
        S.Problem(S.potentials.constant(), "ab")


def test_nan_potential_is_an_error():
    with np.errstate(invalid="ignore"), pytest.raises(ValueError, match="non-finite"):
        S.Problem(S.potentials.custom(lambda x: np.sqrt(x - 0.5)), (0.0, 1.0))


def test_a_potential_of_the_wrong_shape_or_type_is_an_error_naming_it():
    def pairs(x):
        return np.stack([x, x], axis=-1)

    def short(x):
        return x[:-1] ** 2

    def words(x):
        return "deep well"

    def nothing(x):
        return None

    with pytest.raises(ValueError, match=r"potential 'pairs' returned an array of shape \(33, 2\)"):
        S.Problem(pairs, (0.0, 1.0))
    with pytest.raises(ValueError, match="potential 'short'.*vectorised"):
        S.Problem(short, (0.0, 1.0))
    with pytest.raises(TypeError, match="potential 'words' must return real numbers"):
        S.Problem(words, (0.0, 1.0))
    with pytest.raises(TypeError, match="potential 'nothing' returned None"):
        S.Problem(nothing, (0.0, 1.0))
    # one number is a constant potential
    assert S.Problem(lambda x: 2.0, (0.0, 1.0)).V(np.array([0.2, 0.7])).tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="domain must be finite"):
        S.Problem(S.potentials.constant(), (0.0, np.inf))


def test_bad_arguments():
    problem = S.infinite_well()
    with pytest.raises(ValueError, match="k must be >= 1"):
        S.solve_eigen(problem, 0)
    with pytest.raises(TypeError, match="k must be an integer"):
        S.solve_eigen(problem, 1.5)
    with pytest.raises(ValueError, match="method"):
        S.solve_eigen(problem, 1, method="magic")
    with pytest.raises(TypeError, match="problem"):
        S.solve_eigen("well", 1)
    with pytest.raises(ValueError, match="boundary"):
        S.Problem(S.potentials.constant(), (0.0, 1.0), boundary="periodic")
    with pytest.raises(ValueError, match="half_width"):
        S.finite_well(half_width=7.0, wall=6.0)
    with pytest.raises(ValueError, match="depth"):
        S.finite_well(depth=-1.0)
    with pytest.raises(ValueError, match="discontinuities"):
        S.potentials.custom(lambda x: x, discontinuities=[np.nan])


def test_result_to_dict():
    result = S.solve_eigen(S.harmonic_oscillator(), 2, method="dvr", n=100)
    d = result.to_dict()
    assert d["method"] == "dvr" and len(d["energies"]) == 2
