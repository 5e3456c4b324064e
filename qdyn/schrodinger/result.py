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
    * ``residuals`` (k,): ``r = ||H psi - E psi||`` for the normalised ``psi`` in L2 of the domain, computed for
      the continuous trial function (PINN); an exact eigenvalue lies within ``r`` of ``E``. ``NaN`` for the
      classical solvers, whose discrete residual says nothing about the continuum problem.
    * ``reference`` (k,): the analytic levels when the problem has them, else (PINN) a Chebyshev reference,
      else ``NaN``; ``errors = |energies - reference|``, ``relative_errors = errors / |reference|``.
    * ``history``: for the PINN one dict with the training history (``loss``, ``energy`` per epoch; for
      ``"pinn-paper"`` also ``best_epoch``), empty otherwise.
    * ``grid``: the discretisation size (points in total, or nodes per piece for Chebyshev; network parameters
      for the PINN).
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
        """One row per level: ``value`` the energy, ``error`` its residual bound (PINN; NaN for the classical
        solvers), ``reference`` the reference level (NaN where unknown)."""
        return value_rows("energy", self.energies, errors=self.residuals, references=self.reference,
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
