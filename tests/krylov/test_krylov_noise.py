"""Noisy Krylov data: the automatic threshold against a sweep, and bootstrap coverage."""

import numpy as np
import pytest

import qdyn.krylov as kr
from qdyn import models, states

SEEDS = range(6)


@pytest.fixture(scope="module")
def noisy_runs():
    H = models.tfim(8, J=1.0, g=1.0, periodic=True)
    e0 = np.linalg.eigvalsh(H.to_matrix())[0]  # exact diagonalisation
    grid = kr.time_grid(kr.choose_dt(H), 17)
    # 10^6 shots per Hadamard test: standard error ~1e-3 per overlap (the noise level)
    runs = [kr.acquire(H, states.plus_state(8), grid, backend="shots", shots=10**6, seed=s) for s in SEEDS]
    return e0, runs


def test_noise_level_is_shot_noise(noisy_runs):
    _, runs = noisy_runs
    # rms standard error of a complex element: sqrt(2 (1 - x^2)/shots) <= 1.5e-3
    assert 5e-4 < runs[0].noise_level < 1.5e-3
    assert runs[0].noisy


@pytest.mark.filterwarnings("ignore::qdyn.errors.PhysicsWarning")  # the sweep's small thresholds break the floor
@pytest.mark.parametrize("method", ["vqpe", "uvqpe"])
def test_auto_threshold_within_twice_best_fixed(noisy_runs, method):
    e0, runs = noisy_runs
    sweep = 10.0 ** np.arange(-4.0, 0.01, 0.25)
    # the threshold alone: damping=0 (the correction for a decay of the overlaps also stabilises small thresholds)
    fixed = np.array([[abs(kr.solve(d, method, threshold=t, bootstrap=0, damping=0.0).energy - e0) for t in sweep]
                      for d in runs])
    auto = np.array([abs(kr.solve(d, method, bootstrap=0, damping=0.0).energy - e0) for d in runs])
    # compare mean errors over noise realisations (a single realisation's sweep minimum is luck, not a rule)
    best = fixed.mean(axis=0).min()
    assert auto.mean() <= 2 * best, (auto.mean(), best)
    assert auto.mean() < 0.5 * fixed.mean(axis=0)[0]  # and far better than no truncation (threshold 1e-4)
    # the whole default pipeline (automatic threshold and damping correction) stays within twice the best too
    default = np.array([abs(kr.solve(d, method, bootstrap=0).energy - e0) for d in runs])
    assert default.mean() <= 2 * best, (default.mean(), best)


@pytest.mark.parametrize("method", ["vqpe", "uvqpe"])
def test_bootstrap_error_bar_covers_true_error(noisy_runs, method):
    e0, runs = noisy_runs
    covered = []
    for seed, d in enumerate(runs):
        result = kr.solve(d, method, bootstrap=60, seed=seed)
        assert result.energy_err is not None and result.energy_err > 0
        covered.append(abs(result.energy - e0) <= 2 * result.energy_err)
    # a 2-sigma bar covers ~95%; demand 5 of 6 realisations
    assert sum(covered) >= 5, covered


def test_exact_data_has_no_bootstrap():
    H = models.tfim(4)
    result = kr.solve(kr.acquire(H, states.plus_state(4), kr.time_grid(0.3, 6)), "vqpe")
    assert result.metadata.options["bootstrap"] == 0 and result.threshold == pytest.approx(1e-11)
    # the bar is the threshold / K spread alone: an estimate, at the rounding level once converged
    assert result.error_kind == "estimate" and result.energy_err < 1e-9
