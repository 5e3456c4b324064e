"""Lindblad dynamics and steady states with autoregressive POVM states (networks in :mod:`qdyn.nets`).

* :mod:`~qdyn.open.neural.states` - the states: :func:`povm_transformer_state` (a product state, exactly),
  exact sampling and enumeration, :func:`observables` with Monte-Carlo error bars;
* :mod:`~qdyn.open.neural.connections` - the local action of ``L`` on outcome strings and ``log P`` of the
  connected strings (prefix sharing);
* :mod:`~qdyn.open.neural.losses` - the trapezoid-step and stationarity residuals, exact or sampled;
* :mod:`~qdyn.open.neural.strategies` - one step strategy per (sampling, optimiser) combination;
* the drivers :func:`evolve_transformer` (:mod:`~qdyn.open.neural.evolution`) and
  :func:`steady_state_transformer` (:mod:`~qdyn.open.neural.steady`).

The front doors :func:`qdyn.open.evolve` / :func:`qdyn.open.steady_state` with ``method="transformer"`` build the
state and call these drivers; call the drivers directly for full control over the network.
"""

from qdyn.open.neural.evolution import NeuralEvolution, evolve_transformer
from qdyn.open.neural.states import ObservableEstimate, observables, povm_transformer_state
from qdyn.open.neural.steady import NeuralSteadyState, steady_state_transformer

__all__ = [
    "NeuralEvolution",
    "NeuralSteadyState",
    "ObservableEstimate",
    "evolve_transformer",
    "observables",
    "povm_transformer_state",
    "steady_state_transformer",
]
