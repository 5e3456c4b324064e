"""The old call of the open-system front doors: ``evolve(state, lindbladian, t_final, tau, ...)`` and
``steady_state(state, lindbladian, ...)`` with a POVM network first were the neural drivers, now
:func:`qdyn.open.evolve_transformer` / :func:`qdyn.open.steady_state_transformer`. For one release such a call
still reaches them, with a ``DeprecationWarning`` naming the new function."""

from __future__ import annotations

import functools
from importlib import import_module

from qdyn.deprecation import warn_deprecated

__all__ = ["accepts_neural_call"]


def _is_povm_state(obj) -> bool:
    return all(hasattr(obj, k) for k in ("log_prob", "sample", "n_sites", "parameters"))


def accepts_neural_call(driver: str):
    """Decorator of a front door: a call whose first argument is a POVM network goes to ``driver``
    (``"module:function"``, imported on first use) with a ``DeprecationWarning``."""
    module, _, name = driver.partition(":")

    def decorate(front):
        @functools.wraps(front)
        def wrapper(*args, **kwargs):
            if args and _is_povm_state(args[0]):
                warn_deprecated(f"qdyn.open.{front.__name__}(state, lindbladian, ...) with a POVM network first is "
                                f"deprecated; call qdyn.open.{name}(state, lindbladian, ...) (same arguments), or "
                                f"qdyn.open.{front.__name__}(lindbladian, ..., method='transformer')")
                return getattr(import_module(module), name)(*args, **kwargs)
            return front(*args, **kwargs)

        return wrapper

    return decorate
