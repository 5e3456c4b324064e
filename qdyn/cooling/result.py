"""The result shared by dynamical cooling and the ground-state-preparation baselines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdyn.results import Metadata, Resources, Result, series_rows

__all__ = ["CoolingResult"]


@dataclass(frozen=True)
class CoolingResult(Result):
    """A ground-state preparation run, step by step.

    Arrays have one entry per step, entry 0 being the initial state (no queries spent). Energies, ``mus`` and
    ``ground_energy`` are in the units of the ``H`` given (the normalisation used inside, ``shift`` and ``scale``,
    is in the metadata). ``queries_h`` counts queries to the Hamiltonian oracle (block encoding of ``H``, or
    ``e^{-i tau H}``) spent by one attempt of each step, ``queries_v`` queries to the perturbation ``V``;
    ``success_probabilities`` are post-selection probabilities (1 where nothing is post-selected), and
    ``resources.queries`` includes the repetitions they imply; ``low_success_probability`` flags a run with a
    step below :data:`qdyn.cooling.accounting.MIN_SUCCESS_PROBABILITY` (1e-12), which also warned
    :class:`qdyn.errors.PhysicsWarning`. ``fidelities`` are ``|<E_0|psi>|^2`` (NaN when no
    exact ground state was computed), ``weights_below`` the weight of the state on eigenvalues below ``mu`` (NaN
    where not defined).
    """

    method: str
    state: np.ndarray
    energy: float
    fidelity: float
    ground_energy: float
    energies: np.ndarray
    fidelities: np.ndarray
    weights_below: np.ndarray
    mus: np.ndarray
    lams: np.ndarray
    times: np.ndarray
    queries_h: np.ndarray
    queries_v: np.ndarray
    wall_times: np.ndarray
    success_probabilities: np.ndarray
    total_queries_h: int
    total_queries_v: int
    resources: Resources
    metadata: Metadata
    states: np.ndarray | None = None  #: the state after every step (entry 0: the initial one), if recorded
    low_success_probability: bool = False  #: a post-selection probability fell below 1e-12

    @property
    def energy_error(self) -> float:
        return float(self.energy - self.ground_energy)

    def rows(self) -> list[dict]:
        """One row per step and quantity (long format, as :func:`qdyn.results.series_rows` with the step index
        in a column ``step``): ``energy`` (reference: the exact ground energy), ``fidelity`` and
        ``weight_below`` where known, ``mu``, ``lam``, ``time``, ``success_probability``, ``queries_h``,
        ``queries_v``. A quantity that is NaN at every step is left out."""
        series = {"energy": self.energies, "fidelity": self.fidelities, "weight_below": self.weights_below,
                  "mu": self.mus, "lam": self.lams, "time": self.times,
                  "success_probability": self.success_probabilities, "queries_h": self.queries_h,
                  "queries_v": self.queries_v}
        series = {name: values for name, values in series.items()
                  if not np.all(np.isnan(np.asarray(values, dtype=float)))}
        index = np.arange(self.energies.size)
        rows = series_rows(index, series, references={"energy": np.full(index.size, self.ground_energy)})
        return [{"step": int(row.pop("time")), **row} for row in rows]
