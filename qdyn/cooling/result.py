"""The result shared by dynamical cooling and the ground-state-preparation baselines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdyn.results import Metadata, Resources, Result

__all__ = ["CoolingResult"]


@dataclass(frozen=True)
class CoolingResult(Result):
    """A ground-state preparation run, step by step.

    Arrays have one entry per step, entry 0 being the initial state (no queries spent). ``queries_h`` counts
    queries to the Hamiltonian oracle (block encoding of ``H``, or ``e^{-i tau H}``) spent by each step,
    ``queries_v`` queries to the perturbation ``V``; ``success_probabilities`` are post-selection
    probabilities
    (1 where nothing is post-selected). ``fidelities`` are ``|<E_0|psi>|^2`` (NaN when no exact ground
    state was
    computed), ``weights_below`` the weight of the state on eigenvalues below ``mu`` (NaN where not defined).
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

    @property
    def energy_error(self) -> float:
        return float(self.energy - self.ground_energy)
