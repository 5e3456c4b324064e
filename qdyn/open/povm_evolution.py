"""Deprecated module: the POVM neural drivers moved to :mod:`qdyn.open.neural` (the old ``evolve`` and
``steady_state`` are now :func:`qdyn.open.evolve_transformer` and :func:`qdyn.open.steady_state_transformer`), and
:func:`site_average_paulis` to :mod:`qdyn.open.named_observables`. The old names resolve for one release, with a
``DeprecationWarning`` naming the new place."""

from qdyn.deprecation import moved_names

__getattr__ = moved_names(__name__, {
    "NeuralEvolution": "qdyn.open.neural.evolution",
    "NeuralSteadyState": "qdyn.open.neural.steady",
    "ObservableEstimate": "qdyn.open.neural.states",
    "observables": "qdyn.open.neural.states",
    "povm_transformer_state": "qdyn.open.neural.states",
    "site_average_paulis": "qdyn.open.named_observables",
    "evolve": "qdyn.open.neural.evolution:evolve_transformer",
    "steady_state": "qdyn.open.neural.steady:steady_state_transformer",
})
