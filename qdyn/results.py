"""Result containers shared by every solver.

A result is a frozen dataclass holding the numbers, the convergence history, the :class:`Resources` spent and
the :class:`Metadata` of the run. :func:`qdyn.compare` (and users) read these fields, so every solver fills them.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Resources", "Metadata", "Result", "make_metadata", "Stopwatch"]


@dataclass(frozen=True)
class Resources:
    """What a run spent. Counters that do not apply to a solver stay 0."""

    evolutions: int = 0  #: applications of a time-evolution operator (or its queries)
    queries: int = 0  #: oracle / block-encoding queries
    matvecs: int = 0  #: Hamiltonian-vector products on the exact engine
    circuits: int = 0  #: circuits executed
    shots: int = 0  #: total measurement shots
    depth: int = 0  #: largest circuit depth
    two_qubit_gates: int = 0  #: largest two-qubit gate count of one circuit
    epochs: int = 0  #: optimiser iterations
    samples: int = 0  #: Monte-Carlo samples drawn
    wall_time: float = 0.0  #: seconds


@dataclass(frozen=True)
class Metadata:
    """Where and how a result was produced."""

    seed: int | None = None
    backend: str = "exact"
    device: str = "cpu"
    versions: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)


def _package_versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("qdyn-toolkit", "numpy", "scipy", "qiskit", "qiskit-aer", "torch", "qutip", "pennylane"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return out


_VERSIONS: dict | None = None


def make_metadata(*, seed=None, backend: str = "exact", device: str = "cpu", **options) -> Metadata:
    """Metadata with the installed package versions (read once per process)."""
    global _VERSIONS
    if _VERSIONS is None:
        _VERSIONS = _package_versions()
    return Metadata(seed=seed, backend=backend, device=device, versions=dict(_VERSIONS), options=options)


def _plain(value: Any) -> Any:
    """Convert numpy/dataclass values to plain Python for ``to_dict`` (JSON-friendly)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        if np.iscomplexobj(value):
            return {"real": value.real.tolist(), "imag": value.imag.tolist()}
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, complex):
        return {"real": value.real, "imag": value.imag}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Result:
    """Mixin for frozen result dataclasses: ``to_dict()`` and ``to_pandas()``."""

    def to_dict(self) -> dict:
        """All fields as plain Python values (arrays become lists, complex arrays real/imag pairs)."""
        return _plain(self)

    def summary(self) -> dict:
        """The scalar fields, flattened with the resources and metadata (one table row)."""
        row = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Resources):
                row.update({k: getattr(value, k) for k in (g.name for g in dataclasses.fields(value))})
            elif isinstance(value, Metadata):
                row.update(seed=value.seed, backend=value.backend, device=value.device)
            elif isinstance(value, int | float | str | bool | np.generic) or value is None:
                row[f.name] = value.item() if isinstance(value, np.generic) else value
            elif isinstance(value, np.ndarray) and value.ndim == 0:
                row[f.name] = value.item()
        return row

    def to_pandas(self):
        """One-row ``pandas.DataFrame`` of :meth:`summary` (needs pandas)."""
        from qdyn.errors import require

        pd = require("pandas", purpose="to_pandas()")
        return pd.DataFrame([self.summary()])


class Stopwatch:
    """Context manager measuring wall time in seconds (``.elapsed``)."""

    def __enter__(self):
        self._start = time.perf_counter()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self._start
        return False
