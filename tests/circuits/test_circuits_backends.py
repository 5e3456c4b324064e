"""The backend layer: targets, exact and sampled estimates with standard errors, device paths, clear errors."""

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

from qdyn.circuits.backends import estimate, resolve_target


@pytest.fixture(scope="module")
def pub():
    qc = QuantumCircuit(3)
    qc.ry(0.7, 0)
    qc.cx(0, 1)
    qc.rx(0.4, 2)
    qc.h(1)
    obs = [SparsePauliOp(["ZZI", "XIZ", "IIX", "III"], [0.5, -0.3, 0.2, 1.0]), SparsePauliOp("XIY")]
    exact = np.array([Statevector(qc).expectation_value(o).real for o in obs])  # independent: quantum_info
    return qc, obs, exact


@pytest.mark.parametrize("target", ["statevector", "aer", "lightning"])
def test_exact_estimates(pub, target):
    qc, obs, exact = pub
    est = estimate([(qc, obs)], target)
    np.testing.assert_allclose(est.values[0], exact, atol=1e-12)
    assert np.all(est.std_errors == 0)
    assert est.resources.depth > 0 and est.resources.two_qubit_gates == 1


@pytest.mark.parametrize("target", ["statevector", "aer", "lightning"])
def test_sampled_estimates_and_errors(pub, target):
    qc, obs, exact = pub
    shots = 20000
    runs = [estimate([(qc, obs)], target, shots=shots, seed=s) for s in range(5)]
    values = np.array([r.values[0] for r in runs])
    errors = np.array([r.std_errors[0] for r in runs])
    # every estimate within 4.5 standard errors (a Gaussian tail of 7e-6 per value)
    assert np.all(np.abs(values - exact) < 4.5 * errors)
    # the single-Pauli observable has the binomial error sqrt((1 - <P>^2)/N)
    np.testing.assert_allclose(errors[:, 1], np.sqrt((1 - exact[1] ** 2) / shots), rtol=0.05)
    assert runs[0].resources.shots == runs[0].resources.circuits * shots
    assert runs[0].metadata.seed == 0
    again = estimate([(qc, obs)], target, shots=shots, seed=0)
    np.testing.assert_array_equal(again.values, runs[0].values)  # same seed, same numbers


def test_fake_device_transpiles_and_runs_offline(pub):
    qc, obs, exact = pub
    ideal = estimate([(qc, obs)], resolve_target("fake:FakeManilaV2", noise=False), shots=8000, seed=3)
    # ISA circuits on the device's coupling map, ideal simulation: within 4.5 sigma of the exact values
    assert np.all(np.abs(ideal.values[0] - exact) < 4.5 * ideal.std_errors[0])
    noisy = estimate([(qc, obs)], "fake:FakeManilaV2", shots=8000, seed=3)
    assert noisy.job_ids and noisy.metadata.options["job_ids"] == list(noisy.job_ids)
    assert noisy.resources.depth >= ideal.resources.depth > 0
    with pytest.raises(ValueError, match="shots"):
        estimate([(qc, obs)], "fake:FakeManilaV2")


def test_target_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="unknown target"):
        resolve_target("qpu")
    with pytest.raises(ValueError, match="unknown fake IBM device"):
        resolve_target("fake:FakeNowhere")
    with pytest.raises(TypeError, match="target"):
        resolve_target(3.0)
    with pytest.raises(ValueError, match="GPU"):  # this machine has no GPU
        resolve_target("aer-gpu")
    with pytest.raises(ValueError, match="lightning.gpu"):
        resolve_target("lightning.gpu")
    with pytest.raises(ValueError, match="noise=False"):
        resolve_target("aer", noise=False)
    # no token in the environment and no saved account: a clear error, before any network call
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    with pytest.raises(ValueError, match="QISKIT_IBM_TOKEN"):
        resolve_target("ibm:ibm_torino")
    from qdyn.circuits.ibm import fetch_job

    with pytest.raises(ValueError, match="QISKIT_IBM_TOKEN"):  # fetching a job by id needs the same account
        fetch_job("d0abc123")


def test_bad_pubs(pub):
    qc, obs, _ = pub
    with pytest.raises(TypeError, match="pubs"):
        estimate([], "statevector")
    with pytest.raises(ValueError, match="3 qubits"):
        estimate([(qc, SparsePauliOp("XX"))], "statevector")
    measured = qc.copy()
    measured.measure_all()
    with pytest.raises(ValueError, match="must not measure"):
        estimate([(measured, obs)], "statevector")
    with pytest.raises(ValueError, match="shots"):
        estimate([(qc, obs)], "aer", shots=0)


# -- IBM Quantum unreachable: "no connection", never "bad token" -------------------------------------------------
_TOKEN = "not-a-real-token-0123456789"


def _offline(monkeypatch, tmp_path):
    """No saved account, a token in the environment, and every HTTP request failing as with no network (DNS)."""
    import requests

    def unreachable(self, method, url, *args, **kwargs):
        host = url.split("/")[2]
        raise requests.exceptions.ConnectionError(f"HTTPSConnectionPool(host='{host}', port=443): Max retries "
                                                  "exceeded (NameResolutionError)")

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    monkeypatch.setenv("QISKIT_IBM_TOKEN", _TOKEN)
    monkeypatch.delenv("QISKIT_IBM_INSTANCE", raising=False)
    monkeypatch.setattr(requests.sessions.Session, "request", unreachable)


def test_unreachable_ibm_is_no_connection_not_a_bad_token(monkeypatch, tmp_path, capsys):
    # The real qiskit-ibm-runtime 0.51 constructor, offline: it wraps the ConnectionError of its instance lookup in
    # InvalidAccountError("... check that you are using a valid API token"); qdyn names the real cause.
    from qdyn.circuits.ibm import IBMConnectionError, fetch_job, ibm_service

    _offline(monkeypatch, tmp_path)
    import qiskit_ibm_runtime
    import requests
    from qiskit_ibm_runtime.accounts import InvalidAccountError

    with pytest.raises(InvalidAccountError, match="valid API token"):  # what the runtime itself says
        qiskit_ibm_runtime.QiskitRuntimeService(channel="ibm_quantum_platform", token=_TOKEN)
    for call in (ibm_service, lambda: resolve_target("ibm:ibm_torino"), lambda: fetch_job("d0abc123")):
        with pytest.raises(IBMConnectionError, match="no connection to IBM Quantum") as info:
            call()
        assert "token was not checked" in str(info.value) and _TOKEN not in str(info.value)
        assert isinstance(info.value.__cause__, requests.exceptions.ConnectionError)  # the real cause, chained
    captured = capsys.readouterr()
    assert _TOKEN not in captured.out + captured.err  # never printed


def test_runtime_errors_raised_by_connection_failures_and_by_a_rejected_token(monkeypatch, tmp_path):
    # The runtime's API session wraps a requests ConnectionError in RequestsApiError (status -1) and an HTTP 401
    # in IBMNotAuthorizedError: the first is "no connection", the second stays the runtime's own error.
    import qiskit_ibm_runtime
    import requests
    from qiskit_ibm_runtime.api.exceptions import RequestsApiError
    from qiskit_ibm_runtime.exceptions import IBMNotAuthorizedError

    from qdyn.circuits.ibm import IBMConnectionError, ibm_service

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("QISKIT_IBM_TOKEN", _TOKEN)

    def wrapped(error):
        def constructor(**kwargs):
            try:
                raise requests.exceptions.ConnectTimeout("connect timeout=30")
            except requests.exceptions.RequestException as exc:
                raise error from exc
        return constructor

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", wrapped(RequestsApiError("timeout", -1)))
    with pytest.raises(IBMConnectionError, match=r"no connection to IBM Quantum .*ConnectTimeout"):
        ibm_service()

    def rejected(**kwargs):
        raise IBMNotAuthorizedError("401 Client Error: Unauthorized")

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", rejected)
    with pytest.raises(IBMNotAuthorizedError):
        ibm_service()


def test_fake_device_noise_model_restricted_to_the_qubits_in_use():
    # Errors on qubits a circuit never touches never act: the restricted model gives the same counts, seed for seed,
    # as the device's full model (and runs much faster on large devices).
    from qiskit.transpiler import generate_preset_pass_manager

    from qdyn.circuits.ibm import active_noise_model, fake_backend, sampler

    backend = fake_backend("FakeManilaV2")
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()  # into the register "meas"
    isa = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=1).run(qc)
    used = sorted({isa.find_bit(q).index for inst in isa.data for q in inst.qubits})
    model = active_noise_model(backend, used)
    assert set(model.noise_qubits) <= set(used) and len(used) < backend.num_qubits
    counts = [sampler(backend, shots=2000, seed=4, qubits=qubits)[0].run([isa]).result()[0].data.meas.get_counts()
              for qubits in (None, used)]
    assert counts[0] == counts[1]
