"""Noise-aware Krylov solving on data shaped like a noisy device's: overlaps damped by depolarisation, a lag-0
amplitude below 1, and references whose ground-state weight the noise does not resolve.

Damped data are built from the exact engine's rows as ``A exp(-gamma t_m) s(t_m)`` plus Gaussian shot noise of the
given standard errors (the global-depolarising model of :mod:`qdyn.krylov.damping`); the reference energies come
from exact diagonalisation. The damping correction was developed on Heisenberg n = 6 (open, Neel), TFIM n = 6
(periodic, |+>) and XXZ n = 5 (periodic, Neel), and its estimator chosen on the first three problems below; the
damped-data coverage runs on two problems added afterwards, unseen, and one of those three.
"""

import itertools
import warnings

import numpy as np
import pytest

import qdyn.krylov as kr
from qdyn import models, states
from qdyn.errors import ConvergenceWarning, PhysicsWarning
from qdyn.krylov.damping import normalise, undamp

PROBLEMS = {
    "xxz5_open": lambda: (models.heisenberg(5, delta=1.5, periodic=False), states.neel_state(5)),
    "tfim5_open": lambda: (models.tfim(5, J=1.0, g=0.8, periodic=False), states.plus_state(5)),
    "heis6_pbc": lambda: (models.heisenberg(6, periodic=True), states.neel_state(6)),
    "xxz6_field": lambda: (models.heisenberg(6, delta=0.8, h=0.25, periodic=False), states.neel_state(6)),
    "tfim6_strong": lambda: (models.tfim(6, J=1.0, g=1.6, periodic=True), states.plus_state(6)),
}
DAMPED = ("xxz6_field", "tfim6_strong", "heis6_pbc")  #: the damped-data trials (the first two added unseen)


def _damped(exact, gamma, amp, shots, seed):
    """``amp exp(-gamma t) (s, h)`` with binomial-sized Gaussian noise of ``shots`` shots per element."""
    rng = np.random.default_rng(seed)
    scale = amp * np.exp(-gamma * exact.times)
    out = {}
    for name, unit in (("s", 1.0), ("h", 3.0)):
        x = getattr(exact, name) * scale
        err = unit * (np.sqrt(np.clip(1 - (x.real / unit) ** 2, 0, None) / shots)
                      + 1j * np.sqrt(np.clip(1 - (x.imag / unit) ** 2, 0, None) / shots))
        x = x + err.real * rng.standard_normal(x.shape) + 1j * err.imag * rng.standard_normal(x.shape)
        x[:, :, 0] = x[:, :, 0].real
        out[name], out[name + "_err"] = x, err
    return exact.replace(**out)


def _solve(data, method, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = kr.solve(data, method, **options)
    return result, caught


@pytest.fixture(scope="module")
def damped_trials():
    """``{(gamma, method): [(|E - E0|, sigma, converged, damped, |E_uncorrected - E0|, rate), ...]}``."""
    out = {}
    for name in DAMPED:
        H, ref = PROBLEMS[name]()
        e0 = float(np.linalg.eigvalsh(H.to_matrix())[0])  # exact diagonalisation
        exact = kr.acquire(H, ref, kr.time_grid(kr.choose_dt(H), 12))
        for gamma, seed, method in itertools.product((0.05, 0.15), range(4), ("vqpe", "uvqpe")):
            data = _damped(exact, gamma, 0.95, 20_000, seed)
            result, _ = _solve(data, method, seed=seed, bootstrap=40)
            plain, _ = _solve(data, method, bootstrap=0, damping=0.0)
            out.setdefault((gamma, method), []).append(
                (abs(result.energy - e0), result.energy_err, result.converged, result.damped,
                 abs(plain.energy - e0), result.damping))
    return out


@pytest.mark.parametrize("method", ["vqpe", "uvqpe"])
@pytest.mark.parametrize("gamma", [0.05, 0.15])
def test_damped_data_bars_cover_in_ninety_percent(damped_trials, gamma, method):
    rows = damped_trials[(gamma, method)]
    converged = [(err, sigma) for err, sigma, ok, *_ in rows if ok]
    assert len(converged) >= 0.8 * len(rows), (len(converged), len(rows))
    # a 2-sigma statistical bar: >= 90 % of the seeded trials (conventions of the issue)
    assert np.mean([err <= 2 * sigma for err, sigma in converged]) >= 0.9


def test_damping_correction_removes_the_uvqpe_bias(damped_trials):
    # uncorrected UVQPE on damped data finds roots 0.1-0.5 below E0; corrected it is within a few 1e-2
    for gamma in (0.05, 0.15):
        rows = damped_trials[(gamma, "uvqpe")]
        corrected, plain = np.mean([r[0] for r in rows]), np.mean([r[4] for r in rows])
        assert corrected < plain / 3, (gamma, corrected, plain)
        assert corrected < 0.05  # 2e4 shots per overlap: noise ~7e-3 per element
    strong = damped_trials[(0.15, "uvqpe")]
    assert np.median([r[5] for r in strong]) == pytest.approx(0.15, rel=0.5)  # the rate undone is the decay
    assert sum(r[3] for r in strong) >= 0.5 * len(strong)  # flagged where the correction mattered


def test_damped_data_warn_what_to_change():
    H, ref = PROBLEMS["tfim5_open"]()
    data = _damped(kr.acquire(H, ref, kr.time_grid(kr.choose_dt(H), 12)), 0.15, 0.9, 20_000, seed=7)
    result, caught = _solve(data, "uvqpe", seed=0, bootstrap=20)
    warned = [str(w.message) for w in caught if w.category is PhysicsWarning]
    assert result.damped and result.damping > 0.05
    assert any("decay as exp(-gamma t)" in m and "mitigate more" in m and "fewer lags" in m for m in warned), warned
    assert result.metadata.options["damping"] == "auto"


def test_shot_data_without_decay_are_left_alone():
    # the "shots" backend is unitary: no damping is flagged and the rate found is small
    H = models.heisenberg(5, delta=0.7, h=0.3, periodic=False)
    data = kr.acquire(H, states.neel_state(5), kr.time_grid(kr.choose_dt(H), 16), backend="shots", shots=10**5,
                      seed=3)
    for method in ("vqpe", "uvqpe"):
        result, caught = _solve(data, method, seed=0, bootstrap=20)
        assert not result.damped and PhysicsWarning not in [w.category for w in caught]
        assert result.damping * data.times[-1] < 0.05


def test_lag0_amplitude_does_not_move_the_roots():
    # state preparation and measurement errors scale the rows; renormalising the lag-0 diagonal undoes it exactly
    H, ref = PROBLEMS["xxz5_open"]()
    e0 = float(np.linalg.eigvalsh(H.to_matrix())[0])
    exact = kr.acquire(H, ref, kr.time_grid(kr.choose_dt(H), 14))
    scaled = exact.replace(s=0.8 * exact.s, h=0.8 * exact.h)
    np.testing.assert_allclose(normalise(scaled).s, exact.s, atol=1e-14)
    for method in ("vqpe", "uvqpe"):
        result, _ = _solve(scaled, method, damping=0.0)
        assert abs(result.energy - e0) < 1e-6  # exact rows: converged to the Krylov error at K = 13
    # a known rate is undone for every method: the Hankel methods then see a unitary signal
    damped = exact.replace(s=exact.s * np.exp(-0.2 * exact.times))
    np.testing.assert_allclose(undamp(damped, 0.2).s, exact.s, atol=1e-14)
    result, _ = _solve(damped, "matrix_pencil", damping=0.2)
    assert result.damping == 0.2 and np.max(np.abs(result.decay_rates)) < 1e-6


def test_no_signal_at_lag0_is_an_error():
    H, ref = PROBLEMS["tfim5_open"]()
    exact = kr.acquire(H, ref, kr.time_grid(0.3, 6))
    with pytest.raises(ValueError, match="no signal at lag 0"):
        kr.solve(exact.replace(s=-exact.s), "uvqpe", damping=0.0)


@pytest.mark.parametrize("bad, error", [("fast", ValueError), (-0.1, ValueError), (np.inf, ValueError),
                                        (True, TypeError), ([0.1], TypeError)])
def test_damping_bad_input(bad, error):
    H, ref = PROBLEMS["tfim5_open"]()
    data = kr.acquire(H, ref, kr.time_grid(0.3, 6))
    with pytest.raises(error, match="damping"):
        kr.solve(data, "uvqpe", damping=bad)


def _haar(n, seed):
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    return ref / np.linalg.norm(ref)


@pytest.mark.parametrize("name", ["heis7_random", "tfim7_random"])
def test_random_reference_at_the_noise_floor_covers_or_warns(name):
    # a Haar-random reference on 7 qubits gives the ground state a weight ~1/128, near 1e5 shots' noise: the issue's
    # case (Heisenberg Delta = 0.6, h = 0.2, seed 2: VQPE 2.2 off with a 0.39 bar, no warning). Every solve must now
    # either cover the true error within two bars or say it has not converged (weight not resolved).
    H = (models.heisenberg(7, delta=0.6, h=0.2, periodic=False) if name == "heis7_random"
         else models.tfim(7, J=1.0, g=1.2, periodic=False))
    e0 = float(np.linalg.eigvalsh(H.to_matrix())[0])
    dt = kr.choose_dt(H)
    outcomes = []
    for seed in (2, 5):
        data = kr.acquire(H, _haar(7, seed), kr.time_grid(dt, 31), backend="shots", shots=10**5, seed=seed)
        for method in ("vqpe", "uvqpe"):
            result, caught = _solve(data, method, seed=0, bootstrap=30)
            if result.converged:
                outcomes.append("covered" if abs(result.energy - e0) <= 2 * result.energy_err else "missed")
            else:
                assert any(w.category is ConvergenceWarning for w in caught)
                assert np.isinf(result.energy_err)
                outcomes.append("warned")
    assert "missed" not in outcomes and "covered" in outcomes, outcomes


def _fake_device_trials(H, ref, grid, trotter, seeds, mitigation):
    """``[(|E - E_trot|, sigma, converged), ...]`` of UVQPE on fake:FakeManilaV2 (its noise model), against the
    energy the same K and Trotter circuits give without noise (the exact engine's ``"trotter"`` backend)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e_trot = kr.solve(kr.acquire(H, ref, grid, backend="trotter", trotter=trotter, with_h=False), "uvqpe").energy
        out = []
        for seed in seeds:
            data = kr.acquire(H, ref, grid, backend="fake:FakeManilaV2", shots=4000, trotter=trotter,
                              with_h=False, seed=seed, mitigation=mitigation)
            result = kr.solve(data, "uvqpe", seed=seed, bootstrap=60)
            out.append((abs(result.energy - e_trot), result.energy_err, result.converged))
    return out


def test_fake_device_bars_cover_the_noise():
    # XXZ n = 4 with a field, from the Neel state: control-free circuits under FakeManilaV2's noise model (lag-0
    # overlap ~0.9, decay with the lag). The bar covers what the noise leaves, not the Trotter bias: E_trot.
    from qdyn.circuits.mitigation import Mitigation

    H = models.heisenberg(4, delta=0.7, h=0.3, periodic=False)
    grid, trotter = kr.time_grid(0.35, 6), {"steps_per_dt": 1, "order": 2}
    trials = _fake_device_trials(H, states.neel_state(4), grid, trotter, (0,), None)
    trials += _fake_device_trials(H, states.neel_state(4), grid, trotter, (1,),
                                  Mitigation(twirling=2, readout=True, zne=(1, 3)))
    assert all(ok for *_, ok in trials), trials
    assert all(err <= 2 * sigma for err, sigma, _ in trials), trials


@pytest.mark.slow
def test_fake_device_bars_cover_over_seeds():
    H = models.heisenberg(4, delta=1.3, periodic=False)
    grid, trotter = kr.time_grid(0.4, 7), {"steps_per_dt": 1, "order": 2}
    trials = _fake_device_trials(H, states.neel_state(4), grid, trotter, range(10), None)
    converged = [(err, sigma) for err, sigma, ok in trials if ok]
    assert len(converged) >= 8
    assert np.mean([err <= 2 * sigma for err, sigma in converged]) >= 0.9, trials
