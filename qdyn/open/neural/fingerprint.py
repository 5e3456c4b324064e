"""The fingerprint of a neural run: what its checkpoints record so that another problem's run cannot resume them.

A fingerprint is a flat dict (:mod:`qdyn.nets.training`): the driver (``"kind"``), the settings that change the
numbers (``tau``, the sampling, the optimiser and its options, ``iterations``, ``tol``, ``seed``) as plain
values, and digests of

* ``"lindbladian"`` - the POVM-space generator: the sites and local tensors of every term of a
  :class:`~qdyn.open.povm_lindbladian.POVMLindbladian` (so the Hamiltonian's terms and coefficients, the jump
  operators, the rates and the POVM all enter), or, for a callable local action, its output on 32 fixed probe
  strings;
* ``"povm"`` - the POVM elements used for the observables;
* ``"network"`` - the network's class, size, precision and the name and shape of every tensor of its
  ``state_dict`` (the layout: ``d_model``, layers, heads, ...), with the values of its integer tensors (a string
  state's orderings);
* ``"e_ops"`` - the observables recorded (names, Pauli labels and coefficients).

``iterations`` is part of it: it sets the learning-rate decay and the history's layout, so a run with another
count is another computation; ``t_final`` is not (a run may be extended by resuming it with a later
``t_final``). ``chunk_size`` and ``prefix_sharing`` only regroup the same sums and are left out.
"""

from __future__ import annotations

import numpy as np

__all__ = ["run_fingerprint"]

#: Probe strings digested for a callable local action (no tensors to read).
_PROBES = 32


def _operator_digest(lindbladian, state) -> str:
    from qdyn.nets.training import digest
    from qdyn.open.neural.connections import apply_action, local_action
    from qdyn.open.povm_lindbladian import POVMLindbladian

    if isinstance(lindbladian, POVMLindbladian):
        return digest([(term.sites, term.tensor) for term in lindbladian.terms])
    import torch

    probes = np.random.default_rng(0).integers(0, 4, size=(_PROBES, state.n_sites))
    connected, values = apply_action(local_action(lindbladian), torch.as_tensor(probes, device=state.device))
    return digest((connected, values))


def _network_digest(state) -> str:
    import torch

    from qdyn.nets.training import digest

    layout = [(name, tuple(t.shape), str(t.dtype), None if torch.is_floating_point(t) else t)
              for name, t in state.state_dict().items()]
    return digest({"class": type(state).__name__, "n_sites": int(state.n_sites), "layout": layout})


def _e_ops_digest(ops: dict) -> str | None:
    from qdyn.nets.training import digest
    from qdyn.operators import as_pauli_op

    if not ops:
        return None
    parts = {}
    for name, op in ops.items():
        pauli = as_pauli_op(op, name=f"e_ops[{name!r}]", hermitian=False)
        parts[str(name)] = (tuple(pauli.paulis.to_labels()), np.asarray(pauli.coeffs))
    return digest(parts)


def run_fingerprint(kind: str, state, lindbladian, povm, ops: dict, **settings) -> dict:
    """The fingerprint of a run of the driver ``kind`` (module docstring); ``settings`` are plain values
    (numbers, strings, None)."""
    from qdyn.nets.training import digest

    return {"kind": kind, "lindbladian": _operator_digest(lindbladian, state),
            "povm": None if povm is None else digest(np.asarray(povm.elements)),
            "network": _network_digest(state), "e_ops": _e_ops_digest(ops), **settings}
