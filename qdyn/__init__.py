"""qdyn: quantum dynamics on classical and quantum hardware.

Import is light: every submodule below is an attribute of ``qdyn`` loaded on first use, and the heavy stacks
(torch, pennylane, qutip, qiskit-ibm-runtime) load inside the functions that need them.

Layers (each imports only those below it; see DESIGN.md):

* ground: :mod:`qdyn.errors`, :mod:`qdyn.seeding`, :mod:`qdyn.devices`, :mod:`qdyn.results`,
  :mod:`qdyn.operators`, :mod:`qdyn.models`, :mod:`qdyn.states`;
* engines: :mod:`qdyn.exact`, :mod:`qdyn.qsp`, :mod:`qdyn.circuits`, :mod:`qdyn.nets`;
* algorithms: :mod:`qdyn.krylov`, :mod:`qdyn.cooling`, :mod:`qdyn.open`, :mod:`qdyn.schrodinger`;
* top: :mod:`qdyn.compare`, :mod:`qdyn.plot`, :mod:`qdyn.demo`, :mod:`qdyn.cli`.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qdyn-toolkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
    __version__ = "0+unknown"

_SUBMODULES = {"operators", "models", "states", "exact", "qsp", "results", "seeding", "devices", "errors",
               "krylov", "open", "schrodinger", "cooling", "circuits", "nets", "compare", "plot", "demo", "cli"}

__all__ = sorted(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"qdyn.{name}")
    raise AttributeError(f"module 'qdyn' has no attribute {name!r}")
