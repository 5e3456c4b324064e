"""Krylov error bars that hold: on generated problems with exact references (exact diagonalisation), the true error
of the lowest energy lies within two reported sigma in >= 90 % of seeded trials, for every method.

The error bars were calibrated on TFIM (n = 6, periodic, |+>) and Heisenberg (n = 6, Neel) shot data
(:mod:`qdyn.krylov.errorbars`); the problems here are different chains, sizes, fields and references.
A solve that reports ``converged=False`` (and warns) makes no claim: its bar is infinite. The coverage counts the
converged trials, and the tests demand that most trials converge, so that the claim is not vacuous.
"""

import itertools
import warnings

import numpy as np
import pytest

import qdyn.krylov as kr
from qdyn import models, states


def _perturbed_ground(H, n, seed, weight=0.7):
    """``weight |E0> + noise``, normalised: a random reference with a known ground-state overlap."""
    rng = np.random.default_rng(seed)
    ground = np.linalg.eigh(H.to_matrix())[1][:, 0]
    ref = weight * ground + 0.15 * (rng.normal(size=2**n) + 1j * rng.normal(size=2**n))
    return ref / np.linalg.norm(ref)


PROBLEMS = {
    "xxz5": lambda: (models.heisenberg(5, delta=0.8, periodic=True), states.neel_state(5)),
    "tfim5_open": lambda: (models.tfim(5, J=1.0, g=1.3, periodic=False), states.plus_state(5)),
    "heis4_random": lambda: (H := models.heisenberg(4, delta=1.0, h=0.2, periodic=False),
                             _perturbed_ground(H, 4, seed=17)),
}


def _trials(names, lags, shots_list, seeds, methods):
    """``{method: [(|E - E0|, sigma, converged), ...]}`` over the product of problems, lags, shots and seeds."""
    out = {m: [] for m in methods}
    for name in names:
        H, ref = PROBLEMS[name]()
        e0 = float(np.linalg.eigvalsh(H.to_matrix())[0])  # exact diagonalisation: the independent reference
        dt = kr.choose_dt(H)
        for n_times, shots, seed in itertools.product(lags, shots_list, seeds):
            data = kr.acquire(H, ref, kr.time_grid(dt, n_times), backend="shots", shots=shots,
                              seed=1000 + 31 * seed + n_times)
            for method in methods:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = kr.solve(data, method, seed=seed, bootstrap=60)
                assert result.error_kind == "statistical"
                out[method].append((abs(result.energy - e0), result.energy_err, result.converged))
    return out


def _check_coverage(trials, min_converged):
    for method, rows in trials.items():
        converged = [(err, sigma) for err, sigma, ok in rows if ok]
        assert len(converged) >= min_converged * len(rows), (method, len(converged), len(rows))
        assert all(np.isinf(sigma) for _, sigma, ok in rows if not ok)  # not converged: no claim, an infinite bar
        # a 2-sigma statistical bar: at least 90 % of seeded trials (conventions of the issue)
        covered = [err <= 2 * sigma for err, sigma in converged]
        assert np.mean(covered) >= 0.9, (method, sum(covered), len(covered))


def test_statistical_bars_cover_in_ninety_percent_of_trials():
    # 2 problems x 5 seeds x 2 shot counts = 20 trials per method (10^4 and 10^5 shots per Hadamard test)
    trials = _trials(["xxz5", "tfim5_open"], [16], [10**4, 10**5], range(5), kr.METHODS)
    _check_coverage(trials, min_converged=0.8)


@pytest.mark.slow
def test_statistical_bars_cover_on_the_bigger_family():
    # 3 problems x 3 lag counts x 3 shot counts x 5 seeds = 135 trials per method
    trials = _trials(list(PROBLEMS), [10, 16, 24], [10**4, 10**5, 10**6], range(5), kr.METHODS)
    _check_coverage(trials, min_converged=0.5)


def test_noiseless_estimate_covers_the_truncation_error():
    # exact data: the bar is the threshold / K spread alone ("estimate"); it must cover the error of every converged
    # solve, whether K has just converged (error ~1e-5) or long since (error ~1e-14)
    covered, bars = 0, []
    for name in PROBLEMS:
        H, ref = PROBLEMS[name]()
        e0 = float(np.linalg.eigvalsh(H.to_matrix())[0])
        data = kr.acquire(H, ref, kr.time_grid(kr.choose_dt(H), 24))
        for method, K in itertools.product(kr.METHODS, (4, 6, 9, 14, 20)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = kr.solve(data, method, K=K)
            if not result.converged:  # too few lags for this reference: no claim (an infinite bar)
                assert np.all(np.isinf(result.energies_err))
                continue
            assert result.error_kind == "estimate" and np.all(result.energies_err >= 0)
            bars.append(result.energy_err)
            covered += abs(result.energy - e0) <= 2 * result.energy_err + 1e-10  # 1e-10: rounding of the data
    assert len(bars) >= 20 and np.median(bars) < 1e-6  # a useful bar: converged exact data give tiny ones
    assert covered >= 0.9 * len(bars), (covered, len(bars))
