"""What the open-system front doors (:func:`qdyn.open.evolve`, :func:`qdyn.open.steady_state`) share: the method
names, the metadata that records the method, the POVM option, and the transformer state built from a product
initial state."""

from __future__ import annotations

import dataclasses

from qdyn.errors import check_choice

__all__ = ["METHODS", "check_method", "density_of_network", "transformer_setup", "with_method"]

#: The methods of both front doors.
METHODS = ("liouvillian", "qutip", "povm", "transformer")


def check_method(method: str) -> str:
    return check_choice("method", method, METHODS)


def with_method(metadata, method: str):
    """``metadata`` with ``options["method"] = method``; an engine's own ``method`` option (an ODE scheme)
    is kept as ``options["integrator"]``."""
    options = dict(metadata.options)
    inner = options.pop("method", None)
    if inner is not None:
        options["integrator"] = inner
    return dataclasses.replace(metadata, options={"method": method, **options})


def as_povm(povm):
    """A :class:`qdyn.open.povm.POVM` from a POVM or its name (``"tetra"``, ``"pauli4"``)."""
    from qdyn.open.povm import POVM

    return povm if isinstance(povm, POVM) else POVM(povm)


def transformer_setup(lindbladian, initial, *, povm="tetra", network: dict | None = None, seed=None,
                      device: str | None = None):
    """``(state, povm, generator, seed)`` for the transformer method: a POVM transformer holding the product state
    ``initial`` exactly (:func:`qdyn.open.initial.product_factors`; ``ValueError`` for any other state), the
    POVM, the POVM-space Lindbladian, and the integer seed (drawn when ``seed`` is None) that initialised the
    network and is to seed the run, so that the recorded seed repeats both. ``network``: options of
    :func:`qdyn.open.neural.states.povm_transformer_state` (``d_model``, ``n_layers``, ``n_heads``, ``d_ff``,
    ``precision``, ``strings``); ``device`` places it."""
    from qdyn.open.initial import product_factors
    from qdyn.open.neural.states import povm_transformer_state
    from qdyn.open.povm_lindbladian import POVMLindbladian
    from qdyn.seeding import make_rng

    _, seed = make_rng(seed)
    povm = as_povm(povm)
    network = dict(network or {})
    if network.keys() & {"seed", "device"}:
        raise TypeError("network options take no seed or device: pass seed= and device= to the front door")
    if device is not None:
        network["device"] = device
    factors = product_factors(initial, lindbladian.num_qubits)
    state = povm_transformer_state(povm, factors, seed=seed, **network)
    return state, povm, POVMLindbladian(lindbladian, povm), seed


def density_of_network(state, povm):
    """``rho = sum_a P(a) N^a`` of a POVM network, by exact enumeration (``N <= 8``)."""
    from qdyn.open.neural.states import all_probabilities

    _, P = all_probabilities(state)
    return povm.operator_from_coefficients(P.detach().cpu().double().numpy())
