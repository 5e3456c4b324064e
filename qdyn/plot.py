"""The figures of a solver comparison (matplotlib, imported lazily; the Agg backend when there is no display).

* :func:`error_vs_cost` - error against a resource column of a :func:`qdyn.compare.compare` table (log-log);
* :func:`convergence` - ``|E - E_0|`` against the Krylov dimension (:class:`qdyn.krylov.KrylovResult`
  histories) and/or the cooling step (:class:`qdyn.cooling.CoolingResult` energies);
* :func:`observables_vs_time` - one observable of an open-system comparison against time, with error bars;
* :func:`wavefunctions` - the 1D eigenfunctions of several solvers against the reference solver's.

Every function returns the :class:`matplotlib.figure.Figure`, and writes a PNG when ``path`` is given. Axes
are labelled with their units: energies in the units of the Hamiltonian (``energy_unit``), times in
``1/energy``, wall time in seconds, resources as counts.
"""

from __future__ import annotations

import os
import sys

import numpy as np

__all__ = ["COST_LABELS", "convergence", "error_vs_cost", "observables_vs_time", "wavefunctions"]

#: Axis labels (with units) of the resource columns of a comparison table.
COST_LABELS = {
    "wall_time": "wall time (s)",
    "evolutions": "time evolutions exp(-iHt) (count)",
    "queries": "block-encoding queries (count)",
    "matvecs": "H·v products (count)",
    "circuits": "circuits (count)",
    "shots": "shots (count)",
    "depth": "circuit depth (layers)",
    "two_qubit_gates": "two-qubit gates (count)",
    "epochs": "optimiser epochs (count)",
    "samples": "Monte-Carlo samples (count)",
}
_FLOOR = 1e-16  #: errors below this (exact zeros) are drawn at this floor on log axes
_DPI = 120


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _pyplot():
    """``matplotlib.pyplot``, switched to Agg when there is no display (notebook inline backends are kept)."""
    from qdyn.errors import require

    matplotlib = require("matplotlib", purpose="qdyn.plot")
    backend = str(matplotlib.rcParams["backend"]).lower()
    if not _has_display() and "inline" not in backend and backend != "agg":
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        fig.savefig(os.fspath(path), dpi=_DPI)
    return fig


def _unwrap(item):
    """A module result and its energy scale from a :class:`qdyn.compare.SolverRun` or a bare result."""
    result = getattr(item, "result", item)
    extras = getattr(item, "extras", {}) or {}
    return result, float(extras.get("scale", 1.0))


def error_vs_cost(table, cost: str = "wall_time", *, error: str = "error", energy_unit: str = "units of H",
                  title: str | None = None, path=None):
    """Each solver's ``error`` against its ``cost`` column (log-log; zeros drawn at ``1e-16``)."""
    plt = _pyplot()
    for column in (cost, error, "solver"):
        if column not in table.columns:
            raise ValueError(f"the table has no column {column!r}; columns: {list(table.columns)}")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    markers = "osD^vP*Xh<>p"
    for i, (_, row) in enumerate(table.iterrows()):
        x, y = float(row[cost]), float(row[error])
        if not (np.isfinite(x) and np.isfinite(y)) or x <= 0:
            continue  # a solver that spent none of this resource has no place on a log axis
        # a legend instead of text beside each point: solvers with similar costs and errors never overlap
        ax.scatter([x], [max(y, _FLOOR)], s=45, marker=markers[i % len(markers)], label=str(row["solver"]))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(COST_LABELS.get(cost, cost))
    ax.set_ylabel(f"|error| ({energy_unit})" if error in ("error", "max_error") else error)
    default_title = str(table["problem"].iloc[0]) if "problem" in table.columns and len(table) else ""
    ax.set_title(title or default_title)
    ax.grid(True, which="both", alpha=0.3)
    return _finish(fig, path)


def convergence(results: dict, reference: float, *, energy_unit: str = "units of H", title: str | None = None,
                path=None):
    """``|E - reference|`` against the Krylov dimension (Krylov results) and the cooling step (cooling runs).

    ``results``: ``{label: KrylovResult | CoolingResult | SolverRun}``; cooling energies are in the units of
    ``H`` (a ``SolverRun`` extra ``"scale"``, if any, still multiplies them). One panel per kind present.
    """
    from qdyn.cooling.result import CoolingResult
    from qdyn.krylov import KrylovResult

    plt = _pyplot()
    if not isinstance(results, dict) or not results:
        raise TypeError("results must be a non-empty dict {label: KrylovResult | CoolingResult | SolverRun}")
    krylov, cooling = {}, {}
    for label, item in results.items():
        result, scale = _unwrap(item)
        if isinstance(result, KrylovResult):
            krylov[label] = np.asarray(result.history, dtype=float)
        elif isinstance(result, CoolingResult):
            cooling[label] = scale * np.asarray(result.energies, dtype=float)
        else:
            raise TypeError(f"results[{label!r}] is a {type(result).__name__}; expected a KrylovResult or "
                            "CoolingResult (or a SolverRun holding one)")
    panels = [(k, v) for k, v in (("krylov", krylov), ("cooling", cooling)) if v]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, (kind, curves) in zip(axes[0], panels, strict=True):
        for label, energies in curves.items():
            steps = np.arange(1, energies.size + 1) if kind == "krylov" else np.arange(energies.size)
            ok = np.isfinite(energies)
            error = np.maximum(np.abs(energies[ok] - reference), _FLOOR)
            ax.semilogy(steps[ok], error, marker=".", label=label)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("Krylov dimension K" if kind == "krylov" else "cooling step")
        ax.set_ylabel(f"|E - E0| ({energy_unit})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_title(title or "convergence to the ground energy")
    return _finish(fig, path)


def observables_vs_time(problem, runs: dict, observable=0, *, time_unit: str = "1/(units of H)",
                        title: str | None = None, path=None):
    """One observable of an open-system comparison against time, with the solvers' error bars.

    ``problem`` from :func:`qdyn.compare.open_problem`; ``runs`` the ``{solver: SolverRun}`` of
    ``compare(..., return_runs=True)``; ``observable`` a name of ``problem.observables`` or its index.
    """
    plt = _pyplot()
    names = list(problem.observables)
    if isinstance(observable, str):
        if observable not in names:
            raise ValueError(f"observable {observable!r} is not one of {names}")
        index = names.index(observable)
    else:
        index = int(observable)
        if not 0 <= index < len(names):
            raise ValueError(f"observable index {observable} is out of range for {len(names)} observables")
    times = problem.times
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    ax.plot(times, problem.reference[index], "k-", lw=2.5, alpha=0.35, label="reference (QuTiP)")
    for label, run in runs.items():
        values = np.asarray(run.values)[index]
        errors = None if run.errors is None else np.asarray(run.errors)[index]
        ax.errorbar(times, values, yerr=errors, marker=".", ms=4, capsize=2, lw=1, label=label)
    ax.set_xlabel(f"time t ({time_unit})")
    ax.set_ylabel(f"<{names[index]}> (dimensionless)")
    ax.set_title(title or problem.name)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, path)


def wavefunctions(results: dict, *, reference: str | None = None, n_states: int | None = None,
                  title: str | None = None, path=None):
    """The eigenfunctions ``psi_n(x)`` of several solvers, one panel per level, the reference solver dashed.

    ``results``: ``{label: EigenResult | SolverRun}`` (from :func:`qdyn.schrodinger.solve_eigen` or a
    Schrodinger comparison); ``reference`` the label drawn as the exact curve (default the first);
    ``x`` is in the problem's length unit and ``psi`` in ``length^(-1/2)``.
    """
    from qdyn.schrodinger import EigenResult

    plt = _pyplot()
    if not isinstance(results, dict) or not results:
        raise TypeError("results must be a non-empty dict {label: EigenResult | SolverRun}")
    found = {}
    for label, item in results.items():
        result, _ = _unwrap(item)
        if not isinstance(result, EigenResult):
            raise TypeError(f"results[{label!r}] is a {type(result).__name__}; expected an EigenResult")
        found[label] = result
    reference = next(iter(found)) if reference is None else reference
    if reference not in found:
        raise ValueError(f"reference {reference!r} is not one of {list(found)}")
    n = found[reference].states.shape[0] if n_states is None else int(n_states)
    fig, axes = plt.subplots(1, n, figsize=(4.0 * n, 3.6), squeeze=False)
    for level, ax in enumerate(axes[0]):
        for label, result in found.items():
            if level >= result.states.shape[0]:
                continue
            style = {"color": "k", "ls": "--", "lw": 2.0, "alpha": 0.6} if label == reference else {"lw": 1.2}
            name = f"{label} (E = {result.energies[level]:.6g})"
            ax.plot(result.x, result.states[level], label=name, **style)
        ax.set_xlabel("x (length units of the problem)")
        ax.set_ylabel(f"psi_{level}(x) (length^-1/2)")
        ax.set_title(f"level {level}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)
