"""Shared input checks and error helpers.

Every public function validates its arguments through these helpers so that a bad value raises a
``ValueError`` or ``TypeError`` whose message names the argument and what was expected.
"""

from __future__ import annotations

import importlib
from numbers import Real

import numpy as np

__all__ = [
    "ConvergenceWarning",
    "PhysicsWarning",
    "InsufficientMemoryError",
    "MissingDependencyError",
    "require",
    "check_positive",
    "check_int",
    "check_choice",
    "check_state",
    "check_finite",
    "check_memory",
]


class ConvergenceWarning(UserWarning):
    """A solver stopped short of its documented tolerance; the result says ``converged=False`` and the message
    says what to change."""


class PhysicsWarning(UserWarning):
    """A result violates a physical bound or assumption (an energy below a lower bound, a non-physical or
    non-unique state); the result carries a flag saying so."""


class InsufficientMemoryError(MemoryError):
    """A call would need more memory than the machine has; raised before allocating, with the size and what to
    change."""


class MissingDependencyError(ImportError):
    """An optional dependency is missing; the message gives the ``pip install`` that fixes it."""


def require(module: str, pip_name: str | None = None, purpose: str = ""):
    """Import ``module`` or raise :class:`MissingDependencyError` naming the package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the package
        what = f" for {purpose}" if purpose else ""
        raise MissingDependencyError(
            f"{module!r} is needed{what}; install it with `pip install {pip_name or module}`"
        ) from exc


def check_positive(name: str, value, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, raising ``ValueError`` unless it is finite and > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


def check_int(name: str, value, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, raising unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; expected one of {sorted(choices)}")
    return value


def check_state(psi, n_qubits: int | None = None, *, name: str = "psi", normalised: bool = True,
                atol: float = 1e-8) -> np.ndarray:
    """Validate a state vector: 1-D, length ``2**n_qubits``, unit norm (when ``normalised``).

    Returns the state as a complex128 array (a copy only when a conversion is needed).
    """
    arr = np.asarray(psi)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D state vector, got shape {arr.shape}")
    dim = arr.shape[0]
    if dim == 0 or dim & (dim - 1):
        raise ValueError(f"{name} must have length 2**n, got {dim}")
    if n_qubits is not None and dim != 2**n_qubits:
        raise ValueError(f"{name} has length {dim} but the operator acts on {n_qubits} qubits "
                         f"(expected length {2**n_qubits})")
    arr = arr.astype(np.complex128, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite amplitudes")
    if normalised:
        norm = float(np.linalg.norm(arr))
        if abs(norm - 1.0) > atol:
            raise ValueError(f"{name} must be normalised, got norm {norm:.12g}")
    return arr


def check_finite(name: str, values) -> np.ndarray:
    """``values`` as an array, raising ``ValueError`` naming ``name`` when it holds NaN or inf."""
    arr = np.asarray(values)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def available_memory() -> int:
    """Bytes of memory available to this process now (``MemAvailable`` on Linux; 16 GiB where unknown)."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return 16 * 2**30  # pragma: no cover


def check_memory(nbytes: float, what: str, alternative: str) -> None:
    """Raise :class:`InsufficientMemoryError` before allocating when ``nbytes`` exceeds 80 % of the available
    memory. ``what`` names the allocation (e.g. "the 40-qubit state vector"), ``alternative`` what to do instead."""
    limit = 0.8 * available_memory()
    if nbytes > limit:
        raise InsufficientMemoryError(f"{what} needs {_bytes(nbytes)} but {_bytes(limit)} is available; "
                                      f"{alternative}")


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover
