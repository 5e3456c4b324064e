"""Analytic levels (transcendental equations by bracketing, closed forms) against split Chebyshev
collocation."""

import numpy as np
import pytest

import qdyn.schrodinger as S
from qdyn.schrodinger import exact

# Published reference (the issue): -psi''/2 + V psi, V = 20 outside |x| < 1.7, walls at +-6.
FINITE_WELL = [0.357144008083, 1.426322071357, 3.200235780934, 5.664576430462]


def test_finite_well_matches_the_published_values():
    levels = exact.symmetric_box_levels(4, 0.0, 20.0, 1.7, 6.0, "atomic")
    # The published values carry 12 decimals: agreement to 1e-11 absolute is all they can show.
    assert np.max(np.abs(levels - FINITE_WELL)) < 1e-11


def test_finite_well_satisfies_the_textbook_matching_conditions():
    """k tan(ka) = kappa coth(kappa(b-a)) for even levels, k cot(ka) = -kappa coth(kappa(b-a)) for odd."""
    a, b, v0, c = 1.7, 6.0, 20.0, 0.5
    for n, e in enumerate(exact.symmetric_box_levels(4, 0.0, v0, a, b, "atomic")):
        k, kappa = np.sqrt(e / c), np.sqrt((v0 - e) / c)
        lhs = k * np.tan(k * a) if n % 2 == 0 else k / np.tan(k * a)
        rhs = kappa / np.tanh(kappa * (b - a)) * (1 if n % 2 == 0 else -1)
        # Brent's method converges E to ~1e-15; the condition's slope in E is O(10) here.
        assert abs(lhs - rhs) < 1e-11 * max(1.0, abs(rhs))


@pytest.mark.parametrize(
    "problem,k",
    [
        (S.infinite_well(), 5),
        (S.finite_well(), 4),
        (S.barrier(), 4),
        (S.harmonic_oscillator(), 5),
        (S.poschl_teller(), 4),
        (S.morse(), 4),
    ],
    ids=["infinite_well", "finite_well", "barrier", "harmonic", "poschl_teller", "morse"],
)
def test_exact_levels_agree_with_split_chebyshev(problem, k):
    subdivide = 1 if problem.boundary == "dirichlet" else 4
    cheb = S.solve_eigen(problem, k, method="cheb", n=64, subdivide=subdivide).energies
    ref = problem.exact(k)
    # Both sides are converged to ~1e-13; 1e-10 relative is the bar.
    assert np.max(np.abs(cheb - ref) / np.abs(ref)) < 1e-10


def test_closed_forms():
    assert np.allclose(S.infinite_well().exact(3), np.pi**2 * np.array([1, 4, 9]), rtol=1e-15)
    assert np.allclose(S.harmonic_oscillator().exact(4), [1, 3, 5, 7], rtol=1e-15)
    assert np.allclose(S.harmonic_oscillator(strength=0.5, units="atomic").exact(2), [0.5, 1.5], rtol=1e-15)
    # lambda(lambda+1) = 20 -> lambda = 4: E_n = -(4 - n)^2.
    assert np.allclose(S.poschl_teller().exact(4), [-16, -9, -4, -1], rtol=1e-15)


def test_too_many_bound_states_is_an_error():
    with pytest.raises(ValueError, match="bound states"):
        S.poschl_teller().exact(5)
    with pytest.raises(ValueError, match="bound states"):
        S.morse().exact(5)


def test_reference_levels_are_analytic_or_converged():
    # no closed form: the converged Chebyshev levels (the double well agrees with the sinc DVR to 1e-10)
    problem = S.double_well()
    np.testing.assert_allclose(S.reference_levels(problem, 3), S.solve_eigen(problem, 3, method="dvr").energies,
                               rtol=1e-10)
    assert np.array_equal(S.reference_levels(S.morse(), 3), S.morse().exact(3))
    with pytest.warns(DeprecationWarning, match="tol"):  # the former fixed grid size: ignored, one release
        np.testing.assert_array_equal(S.reference_levels(problem, 3, n=96), S.reference_levels(problem, 3))
