"""Torch networks and training loops (imported lazily: ``import qdyn.nets`` does not import torch).

* :mod:`qdyn.nets.pinn` - PINN trial wavefunctions; :mod:`qdyn.nets.pinn_training` - their training loops;
* :mod:`qdyn.nets.training` - progress bars and atomic checkpoints shared by training loops;
* :mod:`qdyn.nets.optimisers` - decayed Adam steps and a loop keeping the best-scored parameters;
  :mod:`qdyn.nets.levenberg_marquardt` - Levenberg-Marquardt for a sparse linear map of a network's outputs;
* :mod:`qdyn.nets.povm_transformer` - the autoregressive POVM transformer; :mod:`qdyn.nets.string_states` - its
  average over site orderings (String States).
"""

from importlib import import_module

_LAZY = {
    "PINNWavefunction": "qdyn.nets.pinn",
    "save_checkpoint": "qdyn.nets.training",
    "load_checkpoint": "qdyn.nets.training",
    "progress_bar": "qdyn.nets.training",
    "CheckpointError": "qdyn.nets.training",
    "digest": "qdyn.nets.training",
    "Adam": "qdyn.nets.optimisers",
    "Minimisation": "qdyn.nets.optimisers",
    "minimise": "qdyn.nets.optimisers",
    "LevenbergMarquardt": "qdyn.nets.levenberg_marquardt",
    "POVMTransformer": "qdyn.nets.povm_transformer",
    "all_outcome_strings": "qdyn.nets.povm_transformer",
    "StringState": "qdyn.nets.string_states",
    "chain_strings": "qdyn.nets.string_states",
    "snake_strings": "qdyn.nets.string_states",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qdyn.nets' has no attribute {name!r}")
