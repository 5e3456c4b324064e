"""1D Schrodinger eigenproblems: finite differences, Chebyshev, DVR and the PINN in its two modes.

The reference is :func:`qdyn.schrodinger.reference_levels` (the analytic levels when the problem has them,
e.g. the finite well's transcendental equations, else split Chebyshev). Rows: ``fd``, ``cheb``, ``dvr``
(:func:`qdyn.schrodinger.solve_eigen`), ``pinn_default`` (Rayleigh-Ritz PINN, all ``k`` levels) and
``pinn_paper`` (the paper's PINN, lowest level only). Energies are in the problem's units
(:class:`qdyn.schrodinger.Units`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from qdyn.compare.registry import register
from qdyn.compare.table import SolverRun
from qdyn.errors import check_int

__all__ = ["SchrodingerProblem", "schrodinger_problem"]


@dataclass(frozen=True, eq=False)
class SchrodingerProblem:
    """The ``k`` lowest levels of a :class:`qdyn.schrodinger.Problem`."""

    kind: ClassVar[str] = "schrodinger"
    problem: object
    k: int = 1
    seed: int | None = 0
    name: str = "schrodinger"

    headline: ClassVar[str] = "E0"  #: what the table's ``value`` column holds: the lowest level

    @cached_property
    def reference(self) -> np.ndarray:
        from qdyn.schrodinger import reference_levels

        return np.asarray(reference_levels(self.problem, self.k), dtype=float)


def schrodinger_problem(problem, k: int = 3, *, seed: int | None = 0, name: str | None = None
                        ) -> SchrodingerProblem:
    """The ``k`` lowest levels of ``problem`` (e.g. :func:`qdyn.schrodinger.finite_well`) as a comparison."""
    from qdyn.schrodinger import Problem

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a qdyn.schrodinger.Problem, got {type(problem).__name__}")
    return SchrodingerProblem(problem, check_int("k", k, minimum=1), seed, name or problem.name)


def _run(problem: SchrodingerProblem, solver: str, k: int, **options) -> SolverRun:
    from qdyn.schrodinger import solve_eigen

    result = solve_eigen(problem.problem, k, **options)
    values = np.full(problem.k, np.nan)
    values[:k] = result.energies[:problem.k]
    return SolverRun(solver, values, result)


def _classical(method: str):
    def run(problem: SchrodingerProblem, **options) -> SolverRun:
        return _run(problem, method, problem.k, method=method, **options)

    run.__doc__ = f"qdyn.schrodinger.solve_eigen(problem, k, method={method!r})"
    return run


for _method in ("fd", "cheb", "dvr"):
    register("schrodinger", _method, requires=("qdyn.schrodinger",))(_classical(_method))

_PINN = ("torch", "qdyn.schrodinger.pinn", "qdyn.nets.pinn")


@register("schrodinger", "pinn_default", requires=_PINN, description="PINN, default (Rayleigh-Ritz) mode")
def _pinn_default(problem: SchrodingerProblem, **options) -> SolverRun:
    options.setdefault("seed", problem.seed)
    return _run(problem, "pinn_default", problem.k, method="pinn", **options)


@register("schrodinger", "pinn_paper", requires=_PINN, description="PINN, paper mode (lowest level)")
def _pinn_paper(problem: SchrodingerProblem, **options) -> SolverRun:
    options.setdefault("seed", problem.seed)
    return _run(problem, "pinn_paper", 1, method="pinn-paper", **options)
