"""POVM transformer states: construction from a product state, exact sampling, enumeration, and observables.

A state is a normalised distribution ``P_theta(a)`` over POVM outcome strings ``a`` (``(B, N)`` int64 tensors),
a :class:`qdyn.nets.povm_transformer.POVMTransformer` or a :class:`qdyn.nets.string_states.StringState`
(Luo, Chen, Carrasquilla, Clark, PRL 128, 090501 (2022)). Observables are POVM averages:

    <O> = E_{a ~ P}[O(a)],   O(a) = sum_t c_t prod_i Tr[sigma_{t,i} N^{a_i}]

for a Pauli sum ``O = sum_t c_t sigma_t`` (:meth:`qdyn.open.povm.POVM.pauli_values`), estimated on exact
samples with the Monte-Carlo standard error, or summed exactly over all ``4^N`` strings (``N <= 8``).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from qdyn.errors import check_int
from qdyn.results import Result
from qdyn.seeding import make_rng

__all__ = ["MAX_EXACT_SITES", "ObservableEstimate", "observables", "povm_transformer_state"]

#: Largest N for exact enumeration (``n_samples=None``): all 4^N strings are evaluated at every iteration.
MAX_EXACT_SITES = 8
#: Samples drawn per call of the network's sampler (bounds its key/value cache).
_SAMPLE_BLOCK = 10_000


@dataclass(frozen=True)
class ObservableEstimate(Result):
    """Estimates ``<O>`` and their standard errors (zero when summed exactly), keyed by observable name."""

    values: dict
    errors: dict
    n_samples: int  #: samples used (0 for an exact sum)


def povm_transformer_state(povm, site_states, *, strings=None, **network_options):
    """A :class:`~qdyn.nets.povm_transformer.POVMTransformer` that represents a product state exactly.

    ``site_states``: per qubit a label ("0", "1", "+", "-", "+i", "-i"), a 2-vector or a 2x2 density matrix;
    the output bias is ``log Tr[rho_i M^a]``. ``strings`` (an ``(S, N)`` array of site orderings) wraps the
    network in a :class:`~qdyn.nets.string_states.StringState`. ``network_options`` go to the network
    (``d_model``, ``n_layers``, ``n_heads``, ``precision``, ``device``, ``seed``, ...).
    """
    from qdyn.nets.povm_transformer import POVMTransformer

    probs = povm.product_probabilities(list(site_states))
    net = POVMTransformer(len(probs), initial_probs=probs, **network_options)
    if strings is None:
        return net
    from qdyn.nets.string_states import StringState

    return StringState(net, strings)


def check_state(state):
    """``state`` if it has the interface of a POVM state (``log_prob``, ``sample``, ``n_sites``, parameters)."""
    if not all(hasattr(state, k) for k in ("log_prob", "sample", "n_sites", "parameters")):
        raise TypeError("state must be a POVMTransformer or a StringState (log_prob, sample, n_sites), "
                        f"got {type(state).__name__}")
    return state


def povm_and_e_ops(lindbladian, povm, e_ops, n_sites: int):
    """The POVM of a driver run (``povm``, else the POVM-space Lindbladian's own) and its named observables;
    observables without a POVM are a ``ValueError``."""
    from qdyn.open.named_observables import named_e_ops

    povm = povm if povm is not None else getattr(lindbladian, "povm", None)
    ops = named_e_ops(e_ops, n_sites) if e_ops else {}
    if ops and povm is None:
        raise ValueError("e_ops need the POVM: pass povm= (the lindbladian has no .povm)")
    return povm, ops


def freeze(state):
    """A copy of ``state`` without gradients (the previous time step's distribution)."""
    frozen = copy.deepcopy(state)
    for p in frozen.parameters():
        p.requires_grad_(False)
    return frozen


def step_generator(seed: int, device, *stream):
    """The torch generator of one stream of a run, seeded from ``(seed, *stream)`` (e.g. the time step), so that
    a resumed run draws the same numbers as an uninterrupted one."""
    from qdyn.seeding import torch_generator

    derived = int(np.random.SeedSequence([int(seed), *map(int, stream)]).generate_state(1, dtype=np.uint64)[0] >> 1)
    return torch_generator(derived, str(device))


def derived_seed(seed: int, *stream) -> int:
    """An integer seed for one stream of a run, derived from ``(seed, *stream)``."""
    return int(np.random.SeedSequence([int(seed), *map(int, stream)]).generate_state(1)[0])


def sample(state, n_samples: int, generator):
    """``n_samples`` exact samples, drawn in fixed blocks (the numbers drawn depend only on the generator)."""
    import torch

    parts = [state.sample(min(_SAMPLE_BLOCK, n_samples - start), generator=generator)
             for start in range(0, n_samples, _SAMPLE_BLOCK)]
    return torch.cat(parts)


def all_strings(state):
    """All ``4^N`` outcome strings on the state's device (``N <= MAX_EXACT_SITES``), row ``j`` = flat index ``j``."""
    from qdyn.nets.povm_transformer import all_outcome_strings

    if state.n_sites > MAX_EXACT_SITES:
        raise ValueError(f"exact enumeration (n_samples=None) sums over 4^N strings and needs N <= "
                         f"{MAX_EXACT_SITES}, got N = {state.n_sites}")
    return all_outcome_strings(state.n_sites).to(state.device)


def all_probabilities(state, chunk_size: int = 20_000):
    """``(strings, P(strings))`` over all ``4^N`` strings, evaluated ``chunk_size`` strings at a time."""
    import torch

    strings = all_strings(state)
    with torch.no_grad():
        logp = torch.cat([state.log_prob(strings[i:i + chunk_size]) for i in range(0, len(strings), chunk_size)])
    return strings, torch.exp(logp)


def _pauli_values(povm, op, strings):
    import torch

    out = povm.pauli_values(op, strings)
    return out.real if torch.is_complex(out) else out


def observables(state, povm, ops: dict, *, n_samples: int | None = 10_000, seed=None,
                chunk_size: int = 20_000) -> ObservableEstimate:
    """``<O>`` for each named Pauli sum in ``ops`` (SparsePauliOp, or anything :mod:`qdyn.operators` accepts),
    with Monte-Carlo standard errors over ``n_samples`` exact samples of ``state`` (formula in the module
    docstring). ``n_samples=None`` sums exactly over all ``4^N`` strings (N <= 8; errors 0)."""
    import torch

    if not isinstance(ops, dict) or not ops:
        raise TypeError("ops must be a non-empty dict {name: operator}")
    with torch.no_grad():
        if n_samples is None:
            strings, weights = all_probabilities(state, chunk_size)
            values = {k: float((weights * _pauli_values(povm, op, strings)).sum()) for k, op in ops.items()}
            return ObservableEstimate(values=values, errors=dict.fromkeys(ops, 0.0), n_samples=0)
        n_samples = check_int("n_samples", n_samples, minimum=2)
        _, recorded = make_rng(seed)
        strings = sample(state, n_samples, step_generator(recorded, state.device, 0))
        values, errors = {}, {}
        for name, op in ops.items():
            v = _pauli_values(povm, op, strings)
            values[name] = float(v.mean())
            errors[name] = float(v.std() / math.sqrt(n_samples))
    return ObservableEstimate(values=values, errors=errors, n_samples=n_samples)
