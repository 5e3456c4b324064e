"""Open systems: Lindblad dynamics of site-averaged observables from a product state.

The reference is QuTiP's ``mesolve`` (:func:`qdyn.open.qutip_mesolve`, tolerances 1e-10). Rows:

* ``qutip`` - the reference itself;
* ``liouvillian`` - the exact vectorised Liouvillian propagator (:func:`qdyn.open.evolve_density`);
* ``exact_povm`` - the full POVM distribution evolved by the trapezoid rule with the problem's step ``tau``
  (:func:`qdyn.open.evolve_povm`), i.e. what the transformer would reach with a perfect network;
* ``transformer`` - the autoregressive POVM transformer trained step by step
  (:func:`qdyn.open.povm_evolution.evolve`), with Monte-Carlo error bars.

Values are ``<O_k>(t_i)`` for the observables (rows) at ``times = tau * (0, 1, ..., t_final/tau)``;
``value`` is the first observable at ``t_final`` and ``max_error`` the largest deviation from QuTiP over all
observables and times. Times are in the units of ``1/H``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from qdyn.compare.registry import register
from qdyn.compare.table import SolverRun
from qdyn.errors import check_positive

__all__ = ["OpenProblem", "open_problem"]


@dataclass(frozen=True, eq=False)
class OpenProblem:
    """Dynamics of ``observables`` under ``lindbladian`` from the product state ``initial`` (site labels)."""

    kind: ClassVar[str] = "open"
    lindbladian: object
    initial: tuple[str, ...]
    t_final: float
    tau: float
    observables: dict
    povm: str = "tetra"
    seed: int | None = None
    name: str = "open system"

    @property
    def headline(self) -> str:
        """What the table's ``value`` column holds: the first observable at the final time."""
        return f"<{next(iter(self.observables))}>(t={self.t_final:g})"

    @property
    def times(self) -> np.ndarray:
        return self.tau * np.arange(int(round(self.t_final / self.tau)) + 1)

    @property
    def rho0(self) -> np.ndarray:
        from qdyn.states import product_state

        psi = product_state(list(self.initial))
        return np.outer(psi, psi.conj())

    @cached_property
    def _qutip(self):
        from qdyn.open import qutip_mesolve

        return qutip_mesolve(self.lindbladian, self.rho0, self.times, list(self.observables.values()))

    @cached_property
    def reference(self) -> np.ndarray:
        """``<O_k>(t_i)`` from QuTiP, shape ``(n_observables, n_times)``."""
        return np.asarray(self._qutip.expect, dtype=float)


def open_problem(lindbladian, initial="0", *, t_final: float = 1.0, tau: float = 0.05, observables=None,
                 povm: str = "tetra", seed: int | None = 0, name: str | None = None) -> OpenProblem:
    """An open-system problem for :func:`qdyn.compare.compare`.

    ``lindbladian``: a :class:`qdyn.open.Lindbladian` (e.g. :func:`qdyn.open.dissipative_ising`).
    ``initial``: one site label for every qubit, or a list of labels ("0", "1", "+", "-", "+i", "-i").
    ``t_final`` must be a whole number of steps ``tau``. ``observables``: ``{name: operator}`` (default the
    site averages of X, Y, Z from :func:`qdyn.open.povm_evolution.site_average_paulis`).
    """
    from qdyn.open import Lindbladian
    from qdyn.open.povm_evolution import site_average_paulis

    if not isinstance(lindbladian, Lindbladian):
        raise TypeError(f"lindbladian must be a qdyn.open.Lindbladian, got {type(lindbladian).__name__}")
    n = lindbladian.num_qubits
    labels = (initial,) * n if isinstance(initial, str) else tuple(initial)
    if len(labels) != n or not all(isinstance(s, str) for s in labels):
        raise ValueError(f"initial must be one label or a list of {n} labels, got {initial!r}")
    t_final = check_positive("t_final", t_final)
    tau = check_positive("tau", tau)
    steps = t_final / tau
    if round(steps) < 1 or abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
        raise ValueError(f"t_final={t_final} must be a positive whole number of steps tau={tau}")
    obs = site_average_paulis(n) if observables is None else dict(observables)
    if not obs:
        raise ValueError("observables must name at least one operator")
    return OpenProblem(lindbladian, labels, t_final, tau, obs, povm, seed, name or f"{n}-qubit open system")


@register("open", "qutip", requires=("qutip",), description="QuTiP mesolve (the reference)")
def _qutip(problem: OpenProblem) -> SolverRun:
    result = problem._qutip
    return SolverRun("qutip", np.asarray(result.expect, dtype=float), result,
                     wall_time=result.resources.wall_time)


@register("open", "liouvillian", description="exact vectorised Liouvillian propagator")
def _liouvillian(problem: OpenProblem, device: str = "cpu", tol: float = 1e-12) -> SolverRun:
    from qdyn.open import evolve_density

    result = evolve_density(problem.lindbladian, problem.rho0, problem.times,
                            list(problem.observables.values()), device=device, tol=tol)
    return SolverRun("liouvillian", np.asarray(result.expect, dtype=float), result)


@register("open", "exact_povm", description="full POVM distribution, trapezoid rule with step tau")
def _exact_povm(problem: OpenProblem, method: str = "trapezoid") -> SolverRun:
    from qdyn.open import POVM, POVMLindbladian, evolve_povm

    povm = POVM(problem.povm)
    generator = POVMLindbladian(problem.lindbladian, povm)
    options = {"tau": problem.tau} if method == "trapezoid" else {}
    result = evolve_povm(generator, povm.probabilities(problem.rho0), problem.times,
                         list(problem.observables.values()), method=method, **options)
    return SolverRun("exact_povm", np.asarray(result.expect, dtype=float), result)


@register("open", "transformer", requires=("torch", "qdyn.nets.povm_transformer", "qdyn.open.povm_evolution"),
          description="autoregressive POVM transformer, trapezoid steps")
def _transformer(problem: OpenProblem, *, network: dict | None = None, **options) -> SolverRun:
    """``network``: options of the transformer (``d_model``, ``n_layers``, ``n_heads``, ``device``, ...);
    ``options``: of :func:`qdyn.open.povm_evolution.evolve` (``mode``, ``n_samples``, ``iterations``, ...)."""
    from qdyn.open import POVM, POVMLindbladian
    from qdyn.open.povm_evolution import evolve, povm_transformer_state

    povm = POVM(problem.povm)
    net_options = {"d_model": 16, "n_layers": 1, "n_heads": 2, "seed": problem.seed, **(network or {})}
    state = povm_transformer_state(povm, list(problem.initial), **net_options)
    run_options = {"mode": "sampled", "n_samples": 400, "iterations": 30, "seed": problem.seed, **options}
    result = evolve(state, POVMLindbladian(problem.lindbladian, povm), problem.t_final, problem.tau,
                    observables_ops=problem.observables, **run_options)
    names = list(problem.observables)
    values = np.array([result.expect[k] for k in names], dtype=float)
    errors = np.array([result.expect_errors[k] for k in names], dtype=float)
    return SolverRun("transformer", values, result, errors=errors)
