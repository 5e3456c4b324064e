"""The result of :func:`qdyn.schrodinger.solve_eigen`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qdyn.deprecation import warn_deprecated
from qdyn.results import Metadata, Resources, Result, value_rows

__all__ = ["EigenResult"]


@dataclass(frozen=True)
class EigenResult(Result):
    """The ``k`` lowest eigenpairs of a 1D problem.

    * ``energies`` (k,): the eigenvalues, lowest first.
    * ``x``, ``states`` (k, len(x)), ``weights``: the wavefunctions sampled at ``x``, real, normalised so that
      ``sum(weights * states[n]**2) = 1`` (``weights`` is the quadrature rule of the grid), sign fixed so that
      the largest lobe nearest to ``a`` is positive.
    * ``method``: the ``solve_eigen`` method (``"fd"``, ``"cheb"``, ``"dvr"``, ``"pinn"``, ``"pinn-paper"``).
    * ``error_estimates`` (k,) of the kind ``error_kind``: what the solver says about ``|E_n - E_n(exact)|``.
      Classical solvers: ``"estimate"``, the difference between the last two refinements made safe (see
      :mod:`qdyn.schrodinger.refine`). ``method="pinn"``: ``"bound"``, the Kato-Temple bound ``r^2 / gap``
      (:mod:`qdyn.schrodinger.bounds`). ``method="pinn-paper"``: ``"bound"``, the Krylov-Weinstein ``r``.
    * ``converged``: whether every ``error_estimates[n] <= tol * max(|E_n|, c (pi / L)^2)``; when not, the solver
      warned with :class:`qdyn.errors.ConvergenceWarning` saying what to change. ``tol`` the target it had.
    * ``residuals`` (k,): ``r = ||H psi - E psi||`` for the normalised ``psi`` in L2 of the domain, computed for
      the continuous trial function (PINN); an exact eigenvalue lies within ``r`` of ``E`` (Krylov-Weinstein).
      ``NaN`` for the classical solvers, whose discrete residual says nothing about the continuum problem.
    * ``reference`` (k,): the analytic levels when the problem has them, else (PINN) the converged Chebyshev
      levels, else ``NaN``; ``errors = |energies - reference|``, ``relative_errors = errors / |reference|``.
    * ``history``: for the PINN one dict with the training history (``loss``, ``energy`` per epoch; for
      ``"pinn-paper"`` also ``best_epoch``), empty otherwise.
    * ``grid``: the discretisation size (points in total for the classical solvers; network parameters for the
      PINN); ``discretisation`` says what was used: for the classical solvers ``n`` (nodes per piece for
      Chebyshev, points for fd/DVR), ``pieces``, ``window`` (the domain solved on, widened on the line when the
      states had not decayed) and ``refinements``; for the PINN ``window``, ``pieces`` and ``nodes`` of its
      quadrature and ``rounds`` of training.
    """

    energies: np.ndarray
    x: np.ndarray
    states: np.ndarray
    weights: np.ndarray
    method: str
    grid: int
    residuals: np.ndarray
    reference: np.ndarray
    history: tuple = ()
    resources: Resources = field(default_factory=Resources)
    metadata: Metadata = field(default_factory=Metadata)
    error_estimates: np.ndarray | None = None
    error_kind: str = "estimate"
    converged: bool = True
    tol: float = float("nan")
    discretisation: dict = field(default_factory=dict)

    @property
    def energy(self) -> float:
        """The lowest energy."""
        return float(self.energies[0])

    @property
    def errors(self) -> np.ndarray:
        return np.abs(self.energies - self.reference)

    @property
    def relative_errors(self) -> np.ndarray:
        return self.errors / np.abs(self.reference)

    @property
    def mode(self) -> str | None:
        """Deprecated: the former PINN mode, ``"default"`` for ``method="pinn"`` and ``"paper"`` for
        ``method="pinn-paper"`` (``None`` otherwise); read :attr:`method`."""
        warn_deprecated("EigenResult.mode is deprecated; read EigenResult.method ('pinn' was mode 'default', "
                        "'pinn-paper' mode 'paper')")
        return {"pinn": "default", "pinn-paper": "paper"}.get(self.method)

    def rows(self) -> list[dict]:
        """One row per level: ``value`` the energy, ``error`` its error estimate (of the kind
        :attr:`error_kind`), ``reference`` the reference level (NaN where unknown)."""
        return value_rows("energy", self.energies, errors=self.error_estimates, references=self.reference,
                          index="level")


def normalise_states(states: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rows of ``states`` scaled to ``sum(weights psi^2) = 1`` with the first large lobe positive."""
    states = np.atleast_2d(np.asarray(states, dtype=np.float64))
    norms = np.sqrt(np.einsum("kx,x,kx->k", states, weights, states))
    states = states / norms[:, None]
    for row in states:
        big = np.nonzero(np.abs(row) > 0.5 * np.max(np.abs(row)))[0][0]
        if row[big] < 0:
            row *= -1.0
    return states
