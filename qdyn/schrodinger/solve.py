"""``solve_eigen(problem, k, method=...)``: one front door to every 1D eigen-solver.

* ``"fd"`` - second-order finite differences (:mod:`qdyn.schrodinger.fd`), option ``n`` (points), ``split``;
* ``"cheb"`` - multi-domain Chebyshev collocation split at the jumps (:mod:`qdyn.schrodinger.chebyshev`),
  option ``n`` (nodes per piece);
* ``"dvr"`` - sinc-DVR on the line / sine-DVR in a box (:mod:`qdyn.schrodinger.dvr`), option ``n``;
* ``"pinn"`` - Rayleigh-Ritz physics-informed neural network, all ``k`` levels
  (:func:`qdyn.schrodinger.pinn_ritz.solve_pinn_ritz`);
* ``"pinn-paper"`` - the paper's residual PINN, the lowest level only
  (:func:`qdyn.schrodinger.pinn_paper.solve_pinn_paper`).

``method="pinn"`` with the former ``mode="default" | "paper"`` still works for one release (deprecated).
"""

from __future__ import annotations

import numpy as np

from qdyn.errors import check_choice, check_int
from qdyn.results import Resources, Stopwatch, make_metadata
from qdyn.schrodinger.chebyshev import cheb_eigen
from qdyn.schrodinger.dvr import dvr_eigen
from qdyn.schrodinger.fd import fd_eigen
from qdyn.schrodinger.problems import Problem
from qdyn.schrodinger.result import EigenResult, normalise_states

__all__ = ["METHODS", "solve_eigen"]

METHODS = ("fd", "cheb", "dvr", "pinn", "pinn-paper")
_CLASSICAL = {"fd": fd_eigen, "cheb": cheb_eigen, "dvr": dvr_eigen}


def solve_eigen(problem: Problem, k: int = 1, method: str = "cheb", **options) -> EigenResult:
    """The ``k`` lowest eigenpairs of ``problem`` by ``method`` (see the module docstring for the options)."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a qdyn.schrodinger.Problem, got {type(problem).__name__}")
    k = check_int("k", k, minimum=1)
    check_choice("method", method, METHODS)
    if method in ("pinn", "pinn-paper"):
        from qdyn.schrodinger.pinn import PINN_SOLVERS, method_for_mode

        if method == "pinn" and "mode" in options:
            method = method_for_mode(options.pop("mode"))
        return PINN_SOLVERS[method](problem, k, **options)
    with Stopwatch() as clock:
        energies, x, states, weights = _CLASSICAL[method](problem, k, **options)
    exact = (
        np.asarray(problem.exact(k), dtype=np.float64) if problem.exact is not None else np.full(k, np.nan)
    )
    return EigenResult(
        energies=np.asarray(energies, dtype=np.float64),
        x=x,
        states=normalise_states(states, weights),
        weights=weights,
        method=method,
        grid=int(x.size),
        residuals=np.full(k, np.nan),
        reference=exact,
        resources=Resources(wall_time=clock.elapsed),
        metadata=make_metadata(backend=method, device="cpu", problem=problem.name, **options),
    )
