"""Error mitigation in the backend layer: settings and cost, client-side twirling / TREX / ZNE / DD on a noisy fake
device against statevector values, and the runtime EstimatorV2 path in local mode."""

import warnings

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

from qdyn.circuits.backends import Target, estimate, resolve_target
from qdyn.circuits.mitigation import Mitigation, resolve_mitigation

DEVICE = "fake:FakeManilaV2"  # 5 qubits, readout errors of a few per cent, CX errors ~1e-2: a quick noisy device


def _ladder(layers: int, *, start: float, per_qubit: float, per_layer: float) -> QuantumCircuit:
    """``layers`` layers of RY rotations (angle ``start + per_qubit q + per_layer layer``) and a CX ladder on 4
    qubits."""
    qc = QuantumCircuit(4)
    for layer in range(layers):
        for q in range(4):
            qc.ry(start + per_qubit * q + per_layer * layer, q)
        for q in range(3):
            qc.cx(q, q + 1)
    return qc


@pytest.fixture(scope="module")
def layered():
    """Three layers of RY rotations and a CX ladder on 4 qubits; exact values from the statevector."""
    qc = _ladder(3, start=0.3, per_qubit=0.2, per_layer=0.1)
    obs = [SparsePauliOp("IIZZ"), SparsePauliOp("ZIIZ"), SparsePauliOp("IZZI"),
           SparsePauliOp(["ZIII", "IIIZ"], [0.5, 0.5])]
    exact = np.array([Statevector(qc).expectation_value(o).real for o in obs])
    return qc, obs, exact


def _errors(qc, obs, exact, target, mitigation, seeds, shots=4000):
    runs = [estimate([(qc, obs)], target, shots=shots, seed=s, mitigation=mitigation) for s in seeds]
    return np.array([r.values[0] - exact for r in runs]), np.array([r.std_errors[0] for r in runs]), runs[-1]


def test_settings_overhead_and_zne_weights():
    m = Mitigation(twirling=8, readout=True, zne=(1, 3))
    over = m.overhead(4000)
    # 2 noise factors x 8 randomizations of 500 shots; TREX calibration: 8 circuits of 500 shots
    assert (over.circuits, over.shots, over.calibration_circuits, over.calibration_shots) == (16, 8000, 8, 4000)
    np.testing.assert_allclose(m.zne_weights(), [1.5, -0.5])  # the line through (1, y1), (3, y3) at 0
    assert over.variance_factor == pytest.approx(2.5)
    # Richardson through 1, 3, 5: Lagrange weights at 0 are (15, -10, 3) / 8
    np.testing.assert_allclose(Mitigation(zne=(1, 3, 5), extrapolator="richardson").zne_weights(),
                               np.array([15, -10, 3]) / 8, atol=1e-12)
    readout_only = Mitigation(readout=True)
    assert readout_only.randomizations == 2 and readout_only.overhead(1000).circuits == 2  # a complementary pair
    assert Mitigation(twirling=3, readout=True).randomizations == 4
    plain = Mitigation(twirling=5).overhead(1001)
    assert (plain.circuits, plain.shots, plain.calibration_circuits, plain.variance_factor) == (5, 1005, 0, 1.0)
    assert m.to_dict() == {"twirling": 8, "readout": True, "dd": None, "zne": [1.0, 3.0], "extrapolator": "linear"}
    assert resolve_mitigation("auto", noisy=False) is None and resolve_mitigation(Mitigation(), noisy=True) is None
    assert resolve_mitigation("auto", noisy=True).active


def test_bad_settings():
    with pytest.raises(ValueError, match="twirling"):
        Mitigation(twirling=-1)
    with pytest.raises(TypeError, match="readout"):
        Mitigation(readout=1)
    with pytest.raises(ValueError, match="dd"):
        Mitigation(dd="XZ")
    with pytest.raises(ValueError, match="zne"):
        Mitigation(zne=(1,))
    with pytest.raises(ValueError, match="zne"):
        Mitigation(zne=(0.5, 1))
    with pytest.raises(ValueError, match="quadratic"):
        Mitigation(zne=(1, 3), extrapolator="quadratic")
    with pytest.raises(ValueError, match="extrapolator"):
        Mitigation(zne=(1, 3), extrapolator="cubic")
    with pytest.raises(ValueError, match="mitigation"):
        resolve_mitigation("best", noisy=True)
    with pytest.raises(TypeError, match="mitigation"):
        resolve_mitigation({"twirling": 4}, noisy=True)


def test_mitigation_errors_in_estimate(layered):
    qc, obs, _ = layered
    with pytest.raises(ValueError, match="shots"):
        estimate([(qc, obs)], "aer", mitigation=Mitigation(readout=True))
    with pytest.raises(ValueError, match="device target"):
        estimate([(qc, obs)], "aer", shots=100, mitigation=Mitigation(dd="XX"))
    with pytest.raises(ValueError, match="'XX' sequence only"):
        estimate([(qc, obs)], DEVICE, shots=100, mitigation=Mitigation(dd="XY4"))


def test_transformations_keep_ideal_values(layered):
    # Folding, twirling, measurement flips and DD are identities without noise: on the device's transpile-and-run
    # path with an empty noise model, every value lies within 4 standard errors of the statevector value
    # (Gaussian tail 6e-5 per value); the TREX factors are exactly 1 there (no readout error).
    qc, obs, exact = layered
    ideal = resolve_target(DEVICE, noise=False)
    full = Mitigation(twirling=4, readout=True, dd="XX", zne=(1, 3))
    est = estimate([(qc, obs)], ideal, shots=4000, seed=5, mitigation=full)
    assert np.all(np.abs(est.values[0] - exact) < 4 * est.std_errors[0])
    assert est.metadata.options["mitigation"] == full.to_dict()
    over = full.overhead(4000)
    assert est.resources.circuits == over.circuits + over.calibration_circuits  # one measurement group
    assert est.resources.shots == over.shots + over.calibration_shots
    again = estimate([(qc, obs)], ideal, shots=4000, seed=5, mitigation=full)
    np.testing.assert_array_equal(again.values, est.values)  # every stochastic part follows the seed
    sim = estimate([(qc, obs)], "aer", shots=4000, seed=6, mitigation=Mitigation(twirling=4, readout=True,
                                                                                    zne=(1, 3, 5)))
    assert np.all(np.abs(sim.values[0] - exact) < 4 * sim.std_errors[0])  # the same on a logical simulator


def _aer_with_readout_error():
    """Aer with an asymmetric readout error on every qubit (P(1|0) = 0.02, P(0|1) = 0.06) and nothing else."""
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import NoiseModel, ReadoutError

    noise = NoiseModel()
    noise.add_all_qubit_readout_error(ReadoutError([[0.98, 0.02], [0.06, 0.94]]))
    return AerSimulator(noise_model=noise)


@pytest.mark.parametrize("target", [DEVICE, "aer+readout"])
def test_readout_mitigation_removes_readout_bias_on_a_product_state(target):
    # |0 1 0 1> (qubits 0 and 2 flipped): only single-qubit X gates (error ~3e-4 on the device) and readout error
    # (~2-5 %) act, so the unmitigated <Z> are biased by ~2 p_readout and TREX leaves only the X-gate error.
    target = _aer_with_readout_error() if target == "aer+readout" else target
    qc = QuantumCircuit(4)
    qc.x([0, 2])
    obs = [SparsePauliOp(lab) for lab in ("IIIZ", "IIZI", "IZII", "ZIII", "IZIZ", "ZZZZ")]
    exact = np.array([-1.0, 1.0, -1.0, 1.0, 1.0, 1.0])
    raw_err, raw_bar, _ = _errors(qc, obs, exact, target, None, seeds=[0, 1], shots=8000)
    mit_err, mit_bar, _ = _errors(qc, obs, exact, target, Mitigation(readout=True), seeds=[0, 1], shots=8000)
    assert np.abs(raw_err).mean() > 0.02 and np.mean(np.abs(raw_err) > 3 * raw_bar) > 0.5  # a real, visible bias
    assert np.abs(mit_err).mean() < 0.25 * np.abs(raw_err).mean()
    assert np.mean(np.abs(mit_err) < 2 * mit_bar) >= 0.9  # the bars cover (>= 90 % at 2 sigma)


def test_full_mitigation_closer_to_exact_with_covering_error_bars(layered):
    # 4 qubits, 9 CX on a noisy device: twirling + TREX + linear ZNE (1, 3) against no mitigation, 4 seeds.
    qc, obs, exact = layered
    seeds = range(4)
    raw_err, raw_bar, _ = _errors(qc, obs, exact, DEVICE, None, seeds)
    mit_err, mit_bar, last = _errors(qc, obs, exact, DEVICE, "auto", seeds)
    assert np.abs(mit_err).mean() < 0.5 * np.abs(raw_err).mean()
    assert np.mean(np.abs(raw_err) < 2 * raw_bar) < 0.6  # the unmitigated bars do not cover the bias ...
    assert np.mean(np.abs(mit_err) < 2 * mit_bar) >= 0.9  # ... the mitigated ones do (>= 90 % at 2 sigma)
    assert last.metadata.options["mitigation"] == resolve_mitigation("auto", noisy=True).to_dict()


def test_zne_extrapolates_towards_the_ideal_value():
    # 8 layers (24 CX) on the noisy device, 4 seeds: folding to noise factor 3 visibly shrinks the signal; after
    # twirling and TREX the remaining bias is CX error, which the linear fit through factors 1 and 3 removes in
    # part and the exponential fit ("auto") removes within its error bars.
    qc = _ladder(8, start=0.2, per_qubit=0.1, per_layer=0.05)
    obs = [SparsePauliOp("ZIIZ"), SparsePauliOp("IZZI"), SparsePauliOp(["ZIII", "IIIZ"], [0.5, 0.5])]
    exact = np.array([Statevector(qc).expectation_value(o).real for o in obs])
    seeds = range(4)
    raw, _, _ = _errors(qc, obs, exact, DEVICE, None, seeds)
    linear, _, _ = _errors(qc, obs, exact, DEVICE, Mitigation(twirling=8, readout=True, zne=(1, 3)), seeds)
    expo, expo_bar, last = _errors(qc, obs, exact, DEVICE, "auto", seeds)
    assert last.noise_factors == (1.0, 3.0)
    scaled = last.noise_scaled_values[0]  # (observables, factors)
    assert np.abs(scaled[:, 1]).sum() < 0.9 * np.abs(scaled[:, 0]).sum()  # folding amplifies the noise
    bias = {name: np.abs(e.mean(axis=0)).mean() for name, e in (("raw", raw), ("linear", linear), ("exp", expo))}
    # measured on the shared noise-aware layout: raw 0.089, linear 0.026, exponential 0.014
    assert bias["linear"] < 0.5 * bias["raw"]
    assert bias["exp"] < 0.6 * bias["linear"]
    assert np.mean(np.abs(expo) < 2 * expo_bar) >= 0.9


def test_runtime_estimator_in_local_mode(layered):
    # The IBM path: EstimatorV2 with resilience options. QiskitRuntimeService(channel="local") runs it on a fake
    # device without mitigating, so only the options object and a job that returns values are checked here.
    from qiskit_ibm_runtime import QiskitRuntimeService

    from qdyn.circuits.ibm import estimator, estimator_options

    qc, obs, exact = layered
    m = Mitigation(twirling=4, readout=True, dd="XY4", zne=(1, 3, 5), extrapolator="richardson")
    opts = estimator_options(m, shots=1000, seed=7)
    assert opts["resilience_level"] == 0 and opts["seed_estimator"] == 7
    assert opts["twirling"] == {"enable_gates": True, "enable_measure": True, "num_randomizations": 4,
                                "shots_per_randomization": 250}
    assert opts["resilience"] == {"measure_mitigation": True, "zne_mitigation": True,
                                  "measure_noise_learning": {"num_randomizations": 4,
                                                             "shots_per_randomization": 250},
                                  "zne": {"amplifier": "gate_folding", "noise_factors": [1.0, 3.0, 5.0],
                                          "extrapolator": "polynomial_degree_2"}}
    assert opts["dynamical_decoupling"] == {"enable": True, "sequence_type": "XY4"}
    with warnings.catch_warnings():  # the local service loads every fake device; some warn about their data
        warnings.simplefilter("ignore", UserWarning)
        backend = QiskitRuntimeService(channel="local").backend("fake_manila")
    runner, batch = estimator(backend, mitigation=m, shots=1000, seed=7)
    assert batch is None and runner.options.resilience.zne.noise_factors == [1.0, 3.0, 5.0]
    assert runner.options.twirling.enable_measure and runner.options.simulator.seed_simulator == 7
    target = Target(name="fake_manila(runtime)", kind="device", backend=backend, is_device=True,
                    options={"estimator": "runtime"})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*local testing mode", category=UserWarning)
        est = estimate([(qc, obs)], target, shots=4000, seed=2, mitigation=m)
    assert est.job_ids and np.all(est.std_errors[0] > 0)
    assert np.all(np.abs(est.values[0] - exact) < 0.25)  # noisy and unmitigated (local mode), but a real run
    over = m.overhead(4000)
    assert est.resources.circuits == over.circuits + over.calibration_circuits
    assert est.metadata.options["mitigation"]["zne"] == [1.0, 3.0, 5.0]


def test_trex_factor_matches_qiskit_mitigation():
    # The client-side TREX factor f_t = <prod_{q in t}(1 - 2 b_q)> on flipped-back calibration bits is the
    # inverse of qiskit-mitigation's TREX.calculate_trex_factor on the same (randomizations, shots, qubits) array.
    from qiskit_mitigation import TREX

    from qdyn.circuits.sample_statistics import readout_factors

    rng = np.random.default_rng(3)
    bits = rng.random((4, 500, 3)) < np.array([0.02, 0.05, 0.1])  # per-qubit flip rates
    physical = [7, 2, 11]  # the measured qubits of the calibration, in its classical-bit order
    columns = [[0], [1, 2], [0, 1, 2]]  # terms Z_0, Z_1 Z_2, Z_0 Z_1 Z_2 of a circuit measuring physical[0..2]
    factors, cov = readout_factors(bits.reshape(-1, 3), np.ones(2000), physical, physical, columns)
    for f, label in zip(factors, ("IIZ", "ZZI", "ZZZ"), strict=True):
        assert 1 / f == pytest.approx(TREX.calculate_trex_factor(bits, label), rel=1e-12)
    assert np.all(np.diag(cov) > 0) and cov.shape == (3, 3)
