"""The registry of solver adapters, one table per problem kind.

An adapter is a small function ``run(problem, **options) -> SolverRun`` that calls one solver of a qdyn module
on a comparison problem and hands back that module's own result dataclass (resources and metadata included).
Adding a solver to :func:`qdyn.compare.compare` is one decorated function::

    @register("eigen", "my_solver", requires=("qdyn.my_module",))
    def _my_solver(problem, **options) -> SolverRun: ...

``requires`` lists importable modules; a solver whose modules are missing is left out of the default solver
list and asking for it by name is a clear error.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["KINDS", "Adapter", "adapter", "register", "solver_names"]

KINDS = ("eigen", "open", "schrodinger")
_REGISTRY: dict[str, dict[str, Adapter]] = {kind: {} for kind in KINDS}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing or broken
        return False


@dataclass(frozen=True)
class Adapter:
    """One solver of one problem kind: ``run(problem, **options)`` and the modules it needs."""

    kind: str
    name: str
    run: Callable
    requires: tuple[str, ...] = ()
    description: str = ""

    def missing(self) -> list[str]:
        """The required modules that cannot be imported here."""
        return [m for m in self.requires if not _importable(m)]

    @property
    def available(self) -> bool:
        return not self.missing()


def register(kind: str, name: str, *, requires: tuple[str, ...] = (), description: str = ""):
    """Decorator adding ``run`` as solver ``name`` of problem kind ``kind`` (see the module docstring)."""
    if kind not in _REGISTRY:
        raise ValueError(f"unknown problem kind {kind!r}; expected one of {KINDS}")

    def decorate(run: Callable) -> Callable:
        _REGISTRY[kind][name] = Adapter(kind, name, run, tuple(requires), description or (run.__doc__ or ""))
        return run

    return decorate


def solver_names(kind: str, *, available_only: bool = True) -> list[str]:
    """The solvers registered for ``kind``, in registration order (only the runnable ones by default)."""
    if kind not in _REGISTRY:
        raise ValueError(f"unknown problem kind {kind!r}; expected one of {KINDS}")
    return [name for name, a in _REGISTRY[kind].items() if a.available or not available_only]


def adapter(kind: str, name: str) -> Adapter:
    """The adapter of solver ``name`` for ``kind``; ``ValueError`` if unknown or its modules are missing."""
    table = _REGISTRY.get(kind)
    if table is None:
        raise ValueError(f"unknown problem kind {kind!r}; expected one of {KINDS}")
    if name not in table:
        raise ValueError(f"unknown solver {name!r} for {kind} problems; expected one of {list(table)}")
    found = table[name]
    missing = found.missing()
    if missing:
        raise ValueError(f"solver {name!r} needs {', '.join(missing)}, which cannot be imported here")
    return found
