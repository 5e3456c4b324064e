"""qdyn: quantum dynamics on classical and quantum hardware.

Import is light: the heavy optional stacks (torch, pennylane, qutip, qiskit-ibm-runtime) load inside the
functions that need them. Submodules: :mod:`qdyn.operators`, :mod:`qdyn.models`, :mod:`qdyn.states`,
:mod:`qdyn.exact`, and the circuit and network layers :mod:`qdyn.circuits`, :mod:`qdyn.nets`.
"""

from importlib import import_module

__version__ = "0.1.0"

_SUBMODULES = {"operators", "models", "states", "exact", "results", "seeding", "devices", "errors",
               "krylov", "open", "schrodinger", "cooling", "circuits", "nets", "cli"}

__all__ = sorted(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"qdyn.{name}")
    raise AttributeError(f"module 'qdyn' has no attribute {name!r}")
