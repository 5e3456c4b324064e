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

__all__ = ["Resources", "Metadata", "Result", "make_metadata", "Stopwatch", "value_rows", "series_rows"]


@dataclass(frozen=True)
class Resources:
    """What a run spent, one meaning per field. Counters that do not apply to a solver stay 0.

    ``evolutions`` counts applications of a time-evolution operator ``exp(-iHt)`` (one per Krylov overlap
    state, Trotter circuit or propagator call), ``queries`` calls of a block-encoding oracle (QSP/QSVT degree
    summed over steps, post-selection retries included), never the other way round.
    """

    evolutions: int = 0  #: applications of a time-evolution operator exp(-iHt)
    queries: int = 0  #: block-encoding (oracle) queries, post-selection overhead included
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

    def rows(self) -> list[dict]:
        """The result as table rows: one per root, observable or time (see :func:`value_rows`,
        :func:`series_rows`). Results with arrays override this; the default is the one :meth:`summary` row."""
        return [self.summary()]

    def to_pandas(self):
        """``pandas.DataFrame`` of :meth:`rows`: one row per root, observable or time, with the value, its error
        bar and the reference where known."""
        import pandas as pd

        return pd.DataFrame(self.rows())


def _optional(values, i):
    if values is None:
        return np.nan
    values = np.asarray(values)
    if values.ndim == 0:
        return values.item()
    return values[i].item() if i < values.shape[0] else np.nan


def value_rows(quantity: str, values, *, errors=None, references=None, index: str = "root") -> list[dict]:
    """Rows ``{index: i, "quantity": quantity, "value", "error", "reference"}`` for an array of values (energies,
    levels, ...). ``errors`` and ``references`` are optional arrays of the same length (NaN where unknown)."""
    values = np.atleast_1d(np.asarray(values))
    return [{index: i, "quantity": quantity, "value": values[i].item(), "error": _optional(errors, i),
             "reference": _optional(references, i)} for i in range(values.shape[0])]


def series_rows(times, values: dict, *, errors: dict | None = None, references: dict | None = None) -> list[dict]:
    """Rows ``{"time", "observable", "value", "error", "reference"}``: one per time and observable of a time
    series. ``values`` maps observable names to arrays over ``times``; ``errors``/``references`` likewise (NaN
    where absent). Complex values keep their imaginary part only when it is not zero."""
    times = np.atleast_1d(np.asarray(times, dtype=float))
    errors = errors or {}
    references = references or {}
    rows = []
    for name, series in values.items():
        series = np.asarray(series)
        if np.iscomplexobj(series) and np.allclose(series.imag, 0.0):
            series = series.real
        for i, t in enumerate(times):
            rows.append({"time": float(t), "observable": str(name), "value": series[i].item(),
                         "error": _optional(errors.get(name), i), "reference": _optional(references.get(name), i)})
    return rows


class Stopwatch:
    """Context manager measuring wall time in seconds (``.elapsed``)."""

    def __enter__(self):
        self._start = time.perf_counter()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self._start
        return False
