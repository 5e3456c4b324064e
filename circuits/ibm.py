"""The one adapter for qiskit-ibm-runtime: fake devices in local testing mode, real IBM backends, job retrieval.

* :func:`fake_backend` — a ``qiskit_ibm_runtime.fake_provider`` device by class name (``"FakeManilaV2"``) or
  backend name (``"fake_manila"``); it runs locally on Aer with the device's noise model.
* :func:`ibm_service` / :func:`ibm_backend` — ``QiskitRuntimeService`` with the token from the environment
  (``QISKIT_IBM_TOKEN``, optional ``QISKIT_IBM_INSTANCE`` and ``QISKIT_IBM_CHANNEL``) or Qiskit's saved account.
  Without either, a ``ValueError`` says how to provide one. Credentials are never printed, logged or stored.
* :func:`sampler` — a runtime ``SamplerV2`` in job mode (the backend itself) or batch mode (open-plan accounts
  have no sessions); local fake devices take ``seed_simulator``.
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

import os
import socket
import warnings
from contextlib import contextmanager

from qdyn.errors import require

__all__ = ["IBMConnectionError", "fake_backend", "ibm_service", "ibm_backend", "sampler", "fetch_job", "is_fake"]


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
    """A fake IBM device by class name (``"FakeManilaV2"``, ``"FakeTorino"``) or backend name (``"fake_torino"``)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"the fake device name must be a non-empty string, got {name!r}")
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


def sampler(backend, *, shots: int, seed: int | None = None, execution: str = "job", noise: bool = True):
    """A runtime ``SamplerV2`` for ``backend``; returns ``(sampler, batch_or_None)`` (close the batch when done).

    For a fake device, ``noise=False`` replaces its noise model by an empty one (ideal local simulation through the
    same transpile-and-run path).
    """
    runtime = _runtime()
    if execution not in ("job", "batch"):
        raise ValueError(f"unknown execution mode {execution!r}; expected 'job' or 'batch'")
    options = {"default_shots": int(shots)}
    if is_fake(backend):
        options["simulator"] = {} if seed is None else {"seed_simulator": int(seed)}
        if not noise:
            from qiskit_aer.noise import NoiseModel

            options["simulator"]["noise_model"] = NoiseModel()
    with _reaching_ibm("opening a batch"):
        batch = runtime.Batch(backend=backend) if execution == "batch" and not is_fake(backend) else None
    with warnings.catch_warnings():  # SamplerV2 is the documented primitive for the pinned runtime (<0.52)
        warnings.simplefilter("ignore", DeprecationWarning)
        return runtime.SamplerV2(mode=batch or backend, options=options), batch


def fetch_job(job_id: str, service=None):
    """The primitive result of an IBM job sent earlier, by its id (works from a new kernel)."""
    if not isinstance(job_id, str) or not job_id:
        raise ValueError(f"job_id must be a non-empty string, got {job_id!r}")
    service = service or ibm_service()
    with _reaching_ibm(f"fetching the job {job_id!r}"):
        return service.job(job_id).result()
