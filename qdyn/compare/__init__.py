"""Solver comparison: several solvers on one problem, one table.

::

    problem = qdyn.compare.eigen_problem(qdyn.models.tfim(8, 1.0, 1.0, True), refs=plus_state(8))
    table = qdyn.compare.compare(problem)                     # exact, lanczos, vqpe, ..., cooling
    table, runs = qdyn.compare.compare(problem, ["exact", "vqpe"], return_runs=True)

Three problem kinds, each with a default reference: :func:`eigen_problem` (dense diagonalisation),
:func:`open_problem` (QuTiP) and :func:`schrodinger_problem` (analytic levels). Solvers are small
adapters in a registry per kind (:func:`register`, :func:`solver_names`); each row reads the solver's own
result dataclass.
"""

from qdyn.compare import eigen as _eigen  # noqa: F401  (registers the adapters)
from qdyn.compare import open_system as _open_system  # noqa: F401
from qdyn.compare import schrodinger as _schrodinger  # noqa: F401
from qdyn.compare.eigen import EigenProblem, eigen_problem
from qdyn.compare.open_system import OpenProblem, open_problem
from qdyn.compare.registry import KINDS, Adapter, adapter, register, solver_names
from qdyn.compare.schrodinger import SchrodingerProblem, schrodinger_problem
from qdyn.compare.table import COLUMNS, SolverRun, compare, run_solvers, table

__all__ = [
    "COLUMNS",
    "KINDS",
    "Adapter",
    "EigenProblem",
    "OpenProblem",
    "SchrodingerProblem",
    "SolverRun",
    "adapter",
    "compare",
    "eigen_problem",
    "open_problem",
    "register",
    "run_solvers",
    "schrodinger_problem",
    "solver_names",
    "table",
]
