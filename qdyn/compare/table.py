"""``compare(problem, solvers)``: run several solvers on one problem and return one table.

Every row reads the solver's own result dataclass (:mod:`qdyn.results`): the values it produced, their error
against the problem's reference, the :class:`~qdyn.results.Resources` it spent and the backend/device of its
:class:`~qdyn.results.Metadata`. Columns:

* ``problem``, ``solver``;
* ``quantity`` - what ``value`` is (the problem's ``headline``, e.g. ``E0`` or ``<Z>(t=0.5)``);
* ``value`` - the headline number (lowest energy; first observable at the final time), ``value_err`` its
  statistical error bar when the solver reports one (shots, Monte-Carlo samples), else NaN;
* ``reference`` - the reference for ``value``; ``error = |value - reference|``; ``max_error`` the largest
  absolute error over all values the solver returned (every root, or every observable at every time);
* the resources ``evolutions``, ``queries``, ``matvecs``, ``circuits``, ``shots``, ``depth``,
  ``two_qubit_gates``, ``epochs``, ``samples``, and ``wall_time`` (seconds, what the row cost including any
  data acquisition it reads);
* ``backend``, ``device``, ``seed``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from qdyn.compare.registry import adapter, solver_names
from qdyn.results import Resources, Stopwatch

__all__ = ["COLUMNS", "SolverRun", "compare", "run_solvers", "table"]

_RESOURCE_COLUMNS = tuple(f.name for f in dataclasses.fields(Resources) if f.name != "wall_time")
COLUMNS = ("problem", "solver", "quantity", "value", "value_err", "reference", "error", "max_error", *_RESOURCE_COLUMNS,
           "wall_time", "backend", "device", "seed")


@dataclass(frozen=True, eq=False)
class SolverRun:
    """What one adapter returns.

    ``values`` has the shape of the problem's reference (NaN where the solver gave nothing), ``errors`` the
    statistical error bars of ``values`` (same shape) or ``None``; ``result`` is the module's own result;
    ``resources`` defaults to ``result.resources`` (an adapter may add shared costs, e.g. Krylov data
    acquisition); ``wall_time`` is NaN to use the time ``compare`` measured around the adapter call.
    """

    solver: str
    values: np.ndarray
    result: object
    errors: np.ndarray | None = None
    resources: Resources | None = None
    wall_time: float = float("nan")
    extras: dict = field(default_factory=dict)


def run_solvers(problem, solvers=None, *, options: dict | None = None, progress: bool = False
                ) -> dict[str, SolverRun]:
    """Run ``solvers`` (default: every runnable solver of the problem's kind) on ``problem``.

    ``options`` maps a solver name to keyword arguments for its adapter (e.g. ``{"cooling": {"steps": 40}}``).
    Returns ``{solver: SolverRun}`` in the order asked.
    """
    kind = getattr(problem, "kind", None)
    if kind is None:
        raise TypeError("problem must come from eigen_problem, open_problem or schrodinger_problem, "
                        f"got {type(problem).__name__}")
    if solvers is None:
        names = solver_names(kind)
    else:
        names = [solvers] if isinstance(solvers, str) else list(solvers)
    if not names:
        raise ValueError("solvers must name at least one solver")
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise TypeError("options must be a dict {solver: {keyword: value}}")
    unknown = set(options) - set(names)
    if unknown:
        raise ValueError(f"options given for solvers not being run: {sorted(unknown)}")
    adapters = [adapter(kind, name) for name in names]  # validate every name before running anything
    runs = {}
    iterator = adapters
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(adapters, desc=f"compare ({kind})")
    for a in iterator:
        with Stopwatch() as clock:
            run = a.run(problem, **options.get(a.name, {}))
        if np.isnan(run.wall_time):
            run = dataclasses.replace(run, wall_time=clock.elapsed)
        runs[a.name] = run
    return runs


def _headline(array: np.ndarray) -> float:
    """The first value of the root list, or of the first observable at the final time."""
    a = np.asarray(array, dtype=float)
    return float(a.reshape(-1)[0]) if a.ndim == 1 else float(a[0, -1])


def table(problem, runs: dict[str, SolverRun]):
    """The comparison DataFrame (see the module docstring) of ``runs`` against ``problem.reference``."""
    from qdyn.errors import require

    pd = require("pandas", purpose="qdyn.compare tables")
    reference = np.asarray(problem.reference, dtype=float)
    rows = []
    for name, run in runs.items():
        values = np.asarray(run.values, dtype=float)
        if values.shape != reference.shape:
            raise ValueError(f"solver {name!r} returned values of shape {values.shape}, "
                             f"the reference has shape {reference.shape}")
        diff = np.abs(values - reference)
        resources = run.resources if run.resources is not None else run.result.resources
        meta = run.result.metadata
        row = {"problem": problem.name, "solver": name, "quantity": str(problem.headline),
               "value": _headline(values),
               "value_err": _headline(run.errors) if run.errors is not None else np.nan,
               "reference": _headline(reference), "error": _headline(diff),
               "max_error": float(np.nanmax(diff)) if np.any(np.isfinite(diff)) else np.nan}
        row.update({k: getattr(resources, k) for k in _RESOURCE_COLUMNS})
        row.update(wall_time=run.wall_time, backend=str(meta.backend), device=str(meta.device),
                   seed=meta.seed)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def compare(problem, solvers=None, *, options: dict | None = None, progress: bool = False,
            return_runs: bool = False):
    """Run ``solvers`` on ``problem`` and return the comparison table (a ``pandas.DataFrame``).

    ``problem`` comes from :func:`~qdyn.compare.eigen_problem`, :func:`~qdyn.compare.open_problem` or
    :func:`~qdyn.compare.schrodinger_problem`; ``solvers`` defaults to every runnable solver of its kind (see
    :func:`~qdyn.compare.solver_names`); ``options`` maps a solver to keyword arguments of its adapter. With
    ``return_runs=True`` returns ``(table, runs)``, ``runs`` being ``{solver: SolverRun}`` holding each
    module's own result (for the figures of :mod:`qdyn.plot`).
    """
    runs = run_solvers(problem, solvers, options=options, progress=progress)
    out = table(problem, runs)
    return (out, runs) if return_runs else out
