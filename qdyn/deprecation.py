"""Deprecated names: one release of grace with a ``DeprecationWarning`` that names the new one.

Two cases, one helper each:

* a renamed keyword argument (``cool(backend=...)`` became ``cool(method=...)``): :func:`renamed_arguments`;
* a public name that moved to another module (``qdyn.circuits.CoherentCoolingStep`` now lives in
  :mod:`qdyn.cooling`): :func:`moved_names` builds the module ``__getattr__`` that resolves the old name lazily,
  so the old package face does not import the new layer at import time (the layer contracts stay intact).

Python's default warning filter shows each warning once per calling line.
"""

from __future__ import annotations

import functools
import warnings
from importlib import import_module

__all__ = ["renamed_arguments", "moved_names", "warn_deprecated"]

def warn_deprecated(message: str, *, stacklevel: int = 3) -> None:
    """Issue ``DeprecationWarning(message)``; Python's default filter shows it once per calling line."""
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel)


def renamed_arguments(**renames: str):
    """Decorator for renamed keyword arguments: ``@renamed_arguments(backend="method")`` lets a caller still
    pass ``backend=...``, warns once that ``method`` replaced it, and calls the function with ``method=...``.
    Passing both names is a ``TypeError``.
    """

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{function.__name__}() got both {old!r} (deprecated) and {new!r}; "
                                        f"pass only {new!r}")
                    warn_deprecated(f"{function.__module__}.{function.__name__}({old}=...) is deprecated; use "
                                    f"{new}=...", stacklevel=3)
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper

    return decorate


def moved_names(module: str, moves: dict[str, str]):
    """A module ``__getattr__`` for names that moved: ``moves`` maps each old name to ``"new.module"`` or
    ``"new.module:new_name"``. The new module is imported on first access and the warning names it."""

    def __getattr__(name: str):
        target = moves.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        new_module, _, new_name = target.partition(":")
        new_name = new_name or name
        warn_deprecated(f"{module}.{name} has moved to {new_module}.{new_name}; import it from there", stacklevel=3)
        return getattr(import_module(new_module), new_name)

    return __getattr__
