"""The one adapter for qiskit-ibm-runtime: fake devices in local testing mode, real IBM backends, job retrieval.

* :func:`fake_backend` — a ``qiskit_ibm_runtime.fake_provider`` device by class name (``"FakeManilaV2"``) or
  backend name (``"fake_manila"``); it runs locally on Aer with the device's noise model.
* :func:`ibm_service` / :func:`ibm_backend` — ``QiskitRuntimeService`` with the token from the environment
  (``QISKIT_IBM_TOKEN``, optional ``QISKIT_IBM_INSTANCE`` and ``QISKIT_IBM_CHANNEL``) or Qiskit's saved account.
  Without either, a ``ValueError`` says how to provide one. Credentials are never printed, logged or stored.
* :func:`sampler` — a runtime ``SamplerV2`` in job mode (the backend itself) or batch mode (open-plan accounts
  have no sessions); fake devices run Qiskit's ``BackendSamplerV2`` locally, seeded, with the noise model restricted
  to the qubits in use (:func:`active_noise_model`).
* :func:`estimator_options` / :func:`estimator` — a runtime ``EstimatorV2`` whose resilience options carry a
  :class:`~qdyn.circuits.mitigation.Mitigation` (gate and measurement twirling, TREX ``measure_mitigation``, ZNE by
  gate folding, dynamical decoupling). In qiskit-ibm-runtime 0.51 ``EstimatorV2``/``SamplerV2`` are deprecated in
  favour of the executor primitives, which fail on large fake devices; qdyn keeps the V2 primitives here (and only
  here) until that is fixed. The runtime's local mode (fake devices) runs these options without mitigating.
* :func:`fetch_job` — a job sent earlier, fetched again by id (from a new kernel) through the service.

Network failures. qiskit-ibm-runtime 0.51 wraps a failed connection in errors that blame the credentials: the
service constructor's instance lookup turns a ``requests`` ``ConnectionError`` (no network, DNS, proxy,
firewall, timeout) into ``InvalidAccountError("... check that you are using a valid API token")``, and its API
session turns one into ``RequestsApiError`` (status -1). Every call here that reaches IBM looks through the
exception's chain for such a cause and raises :class:`IBMConnectionError` ("no connection to IBM Quantum")
instead; other errors (a token IBM rejects: ``IBMNotAuthorizedError``, HTTP 401) pass unchanged.

qiskit-ibm-runtime is imported only inside these functions, so ``import qdyn`` stays fast.
"""

from __future__ import annotations

import functools
import math
import os
import socket
import warnings
from contextlib import contextmanager

from qdyn.errors import require

__all__ = ["IBMConnectionError", "fake_backend", "ibm_service", "ibm_backend", "sampler", "estimator",
           "estimator_options", "active_noise_model", "fetch_job", "is_fake"]


class IBMConnectionError(ConnectionError):
    """IBM Quantum could not be reached (network, DNS, proxy, firewall or timeout); the credentials were not
    checked. Raised from the connection error found in the runtime's exception chain."""


def _network_cause(exc: BaseException) -> BaseException | None:
    """The first connection failure (``requests`` ``ConnectionError``/``Timeout``, or the builtin
    ``ConnectionError``, ``TimeoutError``, ``socket.gaierror``) in the chain of ``exc``, else ``None``."""
    kinds = [ConnectionError, TimeoutError, socket.gaierror]
    try:
        import requests

        kinds += [requests.exceptions.ConnectionError, requests.exceptions.Timeout]
    except ImportError:  # pragma: no cover - qiskit-ibm-runtime depends on requests
        pass
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, tuple(kinds)):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


@contextmanager
def _reaching_ibm(action: str):
    """Turn an error caused by a failed connection, raised while ``action``, into :class:`IBMConnectionError`
    (chained from the connection error itself, whose message names the host; the token is never in it)."""
    try:
        yield
    except IBMConnectionError:
        raise
    except Exception as exc:
        cause = _network_cause(exc)
        if cause is None:
            raise
        raise IBMConnectionError(
            f"no connection to IBM Quantum while {action} ({type(cause).__name__}): check the network, a proxy "
            "or firewall, and IBM Quantum's status page; this is not a credentials problem (the token was not "
            "checked). For offline runs use a fake device, e.g. target='fake:FakeManilaV2'.") from cause

_CREDENTIALS_HELP = (
    "IBM Quantum targets need credentials: set the environment variable QISKIT_IBM_TOKEN (and optionally "
    "QISKIT_IBM_INSTANCE), or save an account once with "
    "`QiskitRuntimeService.save_account(token=..., channel='ibm_quantum_platform')`. For offline runs use a fake "
    "device, e.g. target='fake:FakeManilaV2'.")


def _runtime():
    return require("qiskit_ibm_runtime", "qiskit-ibm-runtime", "IBM Quantum backends")


def fake_backend(name: str):
    """A fake IBM device by class name (``"FakeManilaV2"``, ``"FakeTorino"``) or backend name (``"fake_torino"``).

    One instance per name and process: a fake device builds its Aer noise model on its first run (about 10 s for
    the 133-qubit Heron devices) and keeps it, so later estimates on the same device skip that.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"the fake device name must be a non-empty string, got {name!r}")
    return _fake_backend(name)


@functools.cache
def _fake_backend(name: str):
    fake_provider = require("qiskit_ibm_runtime.fake_provider", "qiskit-ibm-runtime", "fake IBM devices")
    cls = getattr(fake_provider, name, None)
    if isinstance(cls, type) and name.startswith("Fake") and name != "FakeProviderForBackendV2":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return cls()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        provider = fake_provider.FakeProviderForBackendV2()
        for backend in provider.backends():
            if backend.name == name:
                return backend
    known = sorted(n for n in dir(fake_provider) if n.startswith("Fake") and n != "FakeProviderForBackendV2")
    raise ValueError(f"unknown fake IBM device {name!r}; expected one of {known[:6]}... "
                     "(any class of qiskit_ibm_runtime.fake_provider, or its backend name such as 'fake_manila')")


def is_fake(backend) -> bool:
    """True for a ``qiskit_ibm_runtime.fake_provider`` device (runs locally)."""
    return type(backend).__module__.startswith("qiskit_ibm_runtime.fake_provider")


def ibm_service():
    """``QiskitRuntimeService`` from ``QISKIT_IBM_TOKEN`` or the saved account; ``ValueError`` without either,
    :class:`IBMConnectionError` when IBM cannot be reached."""
    runtime = _runtime()
    token = os.environ.get("QISKIT_IBM_TOKEN")
    kwargs = {}
    if os.environ.get("QISKIT_IBM_INSTANCE"):
        kwargs["instance"] = os.environ["QISKIT_IBM_INSTANCE"]
    if token:
        kwargs.update(channel=os.environ.get("QISKIT_IBM_CHANNEL", "ibm_quantum_platform"), token=token)
    with _reaching_ibm("opening the account"):
        try:
            return runtime.QiskitRuntimeService(**kwargs)
        except runtime.accounts.AccountNotFoundError as exc:
            raise ValueError(_CREDENTIALS_HELP) from exc


def ibm_backend(name: str, service=None):
    """The IBM backend ``name`` (e.g. ``"ibm_torino"``) through :func:`ibm_service`."""
    if not isinstance(name, str) or not name:
        raise ValueError("an IBM target must name a backend, e.g. 'ibm:ibm_torino'")
    service = service or ibm_service()
    with _reaching_ibm(f"looking up the backend {name!r}"):
        return service.backend(name)


def sampler(backend, *, shots: int, seed: int | None = None, execution: str = "job", noise: bool = True,
            qubits=None):
    """A V2 sampler for ``backend``; returns ``(sampler, batch_or_None)`` (close the batch when done).

    IBM backends get the runtime's ``SamplerV2`` (job mode, or an open ``Batch``). Fake devices get Qiskit's
    ``BackendSamplerV2`` on the device, seeded: what the runtime's local mode runs, without the deep copy of the
    backend it makes for every job (which copies the device's whole noise model: 7-18 s a job on the 133-qubit
    devices). ``noise=False`` replaces the noise model by an empty one (ideal simulation through the same
    transpile-and-run path); ``qubits`` (the physical qubits the circuits touch) restricts it to those
    (:func:`active_noise_model`).
    """
    batch = _execution_mode(backend, execution)
    if is_fake(backend):
        from qiskit.primitives import BackendSamplerV2

        options = {"default_shots": int(shots), "seed_simulator": seed, "run_options": {}}
        model = _local_noise_model(backend, noise, qubits)
        if model is not None:
            options["run_options"]["noise_model"] = model
        return BackendSamplerV2(backend=backend, options=options), batch
    runtime = _runtime()
    with warnings.catch_warnings():  # SamplerV2 is the documented primitive for the pinned runtime (<0.52)
        warnings.simplefilter("ignore", DeprecationWarning)
        return runtime.SamplerV2(mode=batch or backend, options={"default_shots": int(shots)}), batch


_ACTIVE_NOISE_MODELS: dict = {}


def active_noise_model(backend, qubits):
    """The fake device's own Aer noise model restricted to the physical ``qubits`` a job touches: the gate and
    readout errors acting on those qubits only, the all-qubit errors, and the device's delay-relaxation pass.

    Errors on qubits a circuit never touches never act, so the restriction changes no distribution; it changes the
    speed: Aer processes every error of a model on each run, and on the 133-qubit Heron devices a 6-qubit, 120-CZ
    circuit ran in 0.4 s with the restricted model instead of 18 s with the full one. The full model is the one
    the fake device builds for itself (once per instance). Built from the noise model's tables, as
    qiskit-ibm-runtime builds it; ``None`` (the full model runs) when the fake device or Aer lack them.
    """
    key = (backend.name, tuple(sorted(qubits)))
    if key not in _ACTIVE_NOISE_MODELS:
        from qiskit_aer.noise import NoiseModel

        keep = set(key[1])
        try:
            if backend.sim is None:
                backend._setup_sim()
            full = backend.options.noise_model
            model = NoiseModel(basis_gates=full.basis_gates)
            for name, error in full._default_quantum_errors.items():
                model.add_all_qubit_quantum_error(error, name)
            if full._default_readout_error is not None:
                model.add_all_qubit_readout_error(full._default_readout_error)
            for name, errors in full._local_quantum_errors.items():
                for error_qubits, error in errors.items():
                    if set(error_qubits) <= keep:
                        model.add_quantum_error(error, name, error_qubits)
            for error_qubits, error in full._local_readout_errors.items():
                if set(error_qubits) <= keep:
                    model.add_readout_error(error, error_qubits)
            model._custom_noise_passes = list(full._custom_noise_passes)
        except AttributeError:
            model = None
        _ACTIVE_NOISE_MODELS[key] = model
    return _ACTIVE_NOISE_MODELS[key]


def _local_noise_model(backend, noise: bool, qubits):
    """The noise model a fake device runs with: empty for ``noise=False``, :func:`active_noise_model` when
    ``qubits`` are given, else ``None`` (the device's own)."""
    if not noise:
        from qiskit_aer.noise import NoiseModel

        return NoiseModel()
    return None if qubits is None else active_noise_model(backend, qubits)


def _local_options(backend, options: dict, seed: int | None, noise: bool, qubits) -> None:
    """Simulator options for a fake device in the runtime's local mode: the seed and :func:`_local_noise_model`."""
    if is_fake(backend):
        options["simulator"] = {} if seed is None else {"seed_simulator": int(seed)}
        model = _local_noise_model(backend, noise, qubits)
        if model is not None:
            options["simulator"]["noise_model"] = model


def _execution_mode(backend, execution: str):
    """The runtime mode: the backend itself (job mode, and every fake device) or an open ``Batch``."""
    if execution not in ("job", "batch"):
        raise ValueError(f"unknown execution mode {execution!r}; expected 'job' or 'batch'")
    runtime = _runtime()
    with _reaching_ibm("opening a batch"):
        return runtime.Batch(backend=backend) if execution == "batch" and not is_fake(backend) else None


_ZNE_EXTRAPOLATORS = {"linear": "linear", "quadratic": "polynomial_degree_2", "exponential": "exponential"}


def estimator_options(mitigation, *, shots: int, seed: int | None = None) -> dict:
    """``EstimatorV2`` options (a dict in the runtime's ``EstimatorOptions`` layout) for a
    :class:`~qdyn.circuits.mitigation.Mitigation` at ``shots`` shots per circuit and noise factor.

    ``resilience_level=0`` and every technique set explicitly: ``twirling`` (gates on for ``mitigation.twirling``,
    measurements on for ``readout``; ``num_randomizations`` and ``shots_per_randomization = ceil(shots / R)`` as in
    the client-side path), ``resilience.measure_mitigation`` (TREX; its calibration with the same ``R`` and shots
    per randomization, as :meth:`~qdyn.circuits.mitigation.Mitigation.overhead` counts),
    ``resilience.zne_mitigation`` with ``amplifier="gate_folding"``, the noise factors and the extrapolator
    (``"richardson"`` is the polynomial of degree ``len(zne) - 1``), ``dynamical_decoupling`` with the sequence
    ``mitigation.dd``.
    """
    r = mitigation.randomizations
    per_draw = {"num_randomizations": r, "shots_per_randomization": math.ceil(shots / r)}
    options = {
        "default_shots": int(shots),
        "resilience_level": 0,
        "twirling": {"enable_gates": bool(mitigation.twirling), "enable_measure": mitigation.readout, **per_draw},
        "resilience": {"measure_mitigation": mitigation.readout, "zne_mitigation": mitigation.zne is not None},
        "dynamical_decoupling": {"enable": mitigation.dd is not None},
    }
    if mitigation.readout:
        options["resilience"]["measure_noise_learning"] = dict(per_draw)
    if mitigation.zne is not None:
        degree = mitigation.degree_for(len(mitigation.zne))
        options["resilience"]["zne"] = {
            "amplifier": "gate_folding", "noise_factors": list(mitigation.zne),
            "extrapolator": _ZNE_EXTRAPOLATORS.get(mitigation.extrapolator, f"polynomial_degree_{degree}")}
    if mitigation.dd is not None:
        options["dynamical_decoupling"]["sequence_type"] = mitigation.dd
    if seed is not None:
        options["seed_estimator"] = int(seed)
    return options


def estimator(backend, *, mitigation, shots: int, seed: int | None = None, execution: str = "job",
              noise: bool = True, qubits=None):
    """A runtime ``EstimatorV2`` with :func:`estimator_options`; returns ``(estimator, batch_or_None)`` (close the
    batch when done). Fake devices run in the runtime's local mode (seeded, no mitigation applied; ``noise`` and
    ``qubits`` as in :func:`sampler`)."""
    runtime = _runtime()
    options = estimator_options(mitigation, shots=shots, seed=seed)
    _local_options(backend, options, seed, noise, qubits)
    batch = _execution_mode(backend, execution)
    with warnings.catch_warnings():  # EstimatorV2 is the documented primitive for the pinned runtime (<0.52)
        warnings.simplefilter("ignore", DeprecationWarning)
        return runtime.EstimatorV2(mode=batch or backend, options=options), batch


def fetch_job(job_id: str, service=None):
    """The primitive result of an IBM job sent earlier, by its id (works from a new kernel)."""
    if not isinstance(job_id, str) or not job_id:
        raise ValueError(f"job_id must be a non-empty string, got {job_id!r}")
    service = service or ibm_service()
    with _reaching_ibm(f"fetching the job {job_id!r}"):
        return service.job(job_id).result()
