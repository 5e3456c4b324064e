"""Error bars that hold: on problems with analytic levels the solvers were not tuned on, the true error of every
level lies within the reported estimate, every time, for every classical method and several tolerances.

The problems are the named families at parameters no other test uses (other depths, widths, units and windows,
one window too small for its states). The references are the closed forms and the transcendental matching
conditions of :mod:`qdyn.schrodinger.exact`, independent of the discretisations under test.
"""

import warnings

import numpy as np
import pytest

import qdyn.schrodinger as S
from qdyn.errors import ConvergenceWarning

PROBLEMS = {
    "harmonic": (S.harmonic_oscillator(strength=0.7, window=7.0, units="atomic"), 4),
    "harmonic, small window": (S.harmonic_oscillator(strength=2.0, window=2.0), 3),
    "poschl_teller": (S.poschl_teller(depth=12.0, alpha=1.3, window=15.0, units="atomic"), 3),
    "morse": (S.morse(depth=15.0, a=0.8, window=(-1.5, 30.0), units="atomic"), 4),
    "infinite_well": (S.infinite_well(length=2.3, units="atomic"), 4),
    "finite_well": (S.finite_well(depth=8.0, half_width=0.9, wall=4.0), 3),
    "barrier": (S.barrier(height=7.0, half_width=0.3, wall=1.5), 4),
}

# (method, tol): each method's default (None) and a looser target, where the estimate comes from a coarser grid
RUNS = [("cheb", None), ("cheb", 1e-6), ("dvr", None), ("dvr", 1e-5), ("fd", None), ("fd", 1e-4)]


@pytest.mark.parametrize("method,tol", RUNS, ids=[f"{m}-{t}" for m, t in RUNS])
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_the_true_error_lies_within_the_estimate(name, method, tol):
    problem, k = PROBLEMS[name]
    erratic = method == "dvr" and problem.breakpoints.size > 2  # 1/n, erratic: it may say it did not converge
    if erratic and tol is not None:
        # beyond the DVR across a jump (it converges like 1/n): it must say so, and its estimate must still hold
        with pytest.warns(ConvergenceWarning, match="did not reach tol"):
            result = S.solve_eigen(problem, k, method=method, tol=tol)
        assert not result.converged
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore" if erratic else "error", ConvergenceWarning)
            result = S.solve_eigen(problem, k, method=method, tol=tol)
    assert (result.converged or erratic) and result.error_kind == "estimate"
    # every level, every time: the error bar holds (the references are exact to ~1e-15 relative)
    assert np.all(result.errors <= result.error_estimates + 4e-15 * np.abs(result.reference))
    if result.converged:
        scale = np.maximum(np.abs(result.reference), problem.c * (np.pi / np.ptp(result.discretisation["window"])) ** 2)
        assert np.all(result.error_estimates <= result.tol * scale)
