"""Open systems: Lindblad dynamics of site-averaged observables from a product state.

Every row goes through the front door :func:`qdyn.open.evolve`, one method each; the reference is its
``method="qutip"`` (QuTiP's ``mesolve``, tolerances 1e-10). Rows:

* ``qutip`` - the reference itself;
* ``liouvillian`` - the exact vectorised Liouvillian propagator (``method="liouvillian"``);
* ``exact_povm`` - the full POVM distribution evolved by the trapezoid rule with the problem's step ``tau``
  (``method="povm"``), i.e. what the transformer would reach with a perfect network;
* ``transformer`` - the autoregressive POVM transformer trained step by step (``method="transformer"``), with
  Monte-Carlo error bars.

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
from qdyn.deprecation import renamed_arguments
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

    def evolve(self, method: str, **options):
        """:func:`qdyn.open.evolve` of this problem with ``method`` (an :class:`qdyn.open.OpenEvolution`)."""
        from qdyn.open import evolve

        return evolve(self.lindbladian, list(self.initial), self.times, method=method, e_ops=self.observables,
                      seed=self.seed, **options)

    def values(self, result) -> np.ndarray:
        """``result.expect`` as an array ``(n_observables, n_times)`` in the order of :attr:`observables`."""
        return np.array([result.expect[k] for k in self.observables], dtype=float)

    @cached_property
    def _qutip(self):
        return self.evolve("qutip")

    @cached_property
    def reference(self) -> np.ndarray:
        """``<O_k>(t_i)`` from QuTiP, shape ``(n_observables, n_times)``."""
        return self.values(self._qutip)


def open_problem(lindbladian, initial="0", *, t_final: float = 1.0, tau: float = 0.05, observables=None,
                 povm: str = "tetra", seed: int | None = 0, name: str | None = None) -> OpenProblem:
    """An open-system problem for :func:`qdyn.compare.compare`.

    ``lindbladian``: a :class:`qdyn.open.Lindbladian` (e.g. :func:`qdyn.open.dissipative_ising`).
    ``initial``: one site label for every qubit, or a list of labels ("0", "1", "+", "-", "+i", "-i").
    ``t_final`` must be a whole number of steps ``tau``. ``observables``: ``{name: operator}`` (default the
    site averages of X, Y, Z from :func:`qdyn.open.site_average_paulis`).
    """
    from qdyn.open import Lindbladian, site_average_paulis

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
    return SolverRun("qutip", problem.values(result), result, wall_time=result.resources.wall_time)


@register("open", "liouvillian", description="exact vectorised Liouvillian propagator")
def _liouvillian(problem: OpenProblem, **options) -> SolverRun:
    """``options`` of ``method="liouvillian"`` (``device``, ``tol``, ``precision``)."""
    result = problem.evolve("liouvillian", **options)
    return SolverRun("liouvillian", problem.values(result), result)


@register("open", "exact_povm", description="full POVM distribution, trapezoid rule with step tau")
@renamed_arguments(method="integrator")
def _exact_povm(problem: OpenProblem, **options) -> SolverRun:
    """``options`` of ``method="povm"`` (``integrator="ode"`` for the adaptive ODE instead of the trapezoid rule
    with the problem's ``tau``, ``rtol``, ``atol``)."""
    result = problem.evolve("povm", **{"povm": problem.povm, "tau": problem.tau, **options})
    return SolverRun("exact_povm", problem.values(result), result)


@register("open", "transformer", requires=("torch", "qdyn.nets.povm_transformer"),
          description="autoregressive POVM transformer, trapezoid steps")
def _transformer(problem: OpenProblem, *, network: dict | None = None, **options) -> SolverRun:
    """``network``: options of the transformer (``d_model``, ``n_layers``, ``n_heads``, ...); ``options``: of
    ``method="transformer"`` (``n_samples``, ``iterations``, ``optimizer``, ``device``, ...)."""
    result = problem.evolve("transformer", **{"povm": problem.povm, "tau": problem.tau, "n_samples": 400,
                                              "iterations": 30, **options,
                                              "network": {"d_model": 16, "n_layers": 1, "n_heads": 2,
                                                          **(network or {})}})
    return SolverRun("transformer", problem.values(result), result,
                     errors=np.array([result.errors[k] for k in problem.observables], dtype=float))
