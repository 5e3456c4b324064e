"""What this installation can run on: package versions, devices, simulators, IBM credentials.

The IBM token itself is never read into the report: only whether one is configured and where from.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import os
from pathlib import Path

__all__ = ["environment_report", "ibm_credentials_source"]

_PACKAGES = ("qdyn-toolkit", "numpy", "scipy", "qiskit", "qiskit-aer", "qiskit-aer-gpu", "qiskit-ibm-runtime",
             "qutip", "pennylane", "pennylane-lightning", "pennylane-lightning-gpu", "torch", "matplotlib")


def ibm_credentials_source() -> str | None:
    """Where IBM Quantum credentials would come from (``None`` when none are configured)."""
    if os.environ.get("QISKIT_IBM_TOKEN"):
        return "environment variable QISKIT_IBM_TOKEN"
    saved = Path(os.environ.get("QISKIT_IBM_RUNTIME_CONFIG", Path.home() / ".qiskit" / "qiskit-ibm.json"))
    if saved.is_file() and saved.stat().st_size > 2:
        return f"saved account ({saved})"
    return None


def _aer_devices() -> list[str]:
    if importlib.util.find_spec("qiskit_aer") is None:
        return []
    from qiskit_aer import AerSimulator

    return list(AerSimulator().available_devices())


def _lightning_devices() -> list[str]:
    found = []
    for name, module in (("lightning.qubit", "pennylane_lightning.lightning_qubit_ops"),
                         ("lightning.gpu", "pennylane_lightning.lightning_gpu_ops")):
        try:
            if importlib.util.find_spec(module) is not None:
                found.append(name)
        except ModuleNotFoundError:
            continue
    return found


def environment_report() -> dict:
    """Versions, torch devices, simulator back ends and the IBM credential source."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    from qdyn.devices import cuda_works

    devices = ["cpu"]
    gpu_name = None
    if cuda_works():
        import torch

        devices.append("cuda")
        gpu_name = torch.cuda.get_device_name(0)
    return {
        "versions": versions,
        "torch_devices": devices,
        "gpu": gpu_name,
        "aer_devices": _aer_devices(),
        "lightning_devices": _lightning_devices(),
        "ibm_credentials": ibm_credentials_source() or "not configured (set QISKIT_IBM_TOKEN or save an account)",
    }
