"""Lindblad dynamics and steady states with autoregressive POVM states (neural, exactly sampled).

The state is a normalised distribution ``P_theta(a)`` over POVM outcome strings (a
:class:`qdyn.nets.povm_transformer.POVMTransformer` or a :class:`qdyn.nets.string_states.StringState`) and the
master equation is ``dP/dt = L P`` with the POVM-space Lindbladian ``L_ab = Tr[M^a L(N^b)]``
(Luo, Chen, Carrasquilla, Clark, PRL 128, 090501 (2022)).

**Time evolution** (:func:`evolve`), forward-backward trapezoid rule: a step of size ``tau = 2 dt`` takes
``theta -> theta'`` minimising

    C(theta') = || (1 - dt L) P_theta' - (1 + dt L) P_theta ||_1 = sum_a |r(a)|,

warm-started from ``theta`` with a frozen copy holding ``P_theta``. Its minimiser solves the Crank-Nicolson
step ``(1 - tau/2 L) P(t + tau) = (1 + tau/2 L) P(t)``. Two modes:

* ``mode="sampled"``: ``C = E_{a ~ P_theta'}[ |r(a)| / P_theta'(a) ]`` estimated on exact samples of the current
  model; the denominator is detached, so the gradient of the estimate,
  ``E[ sign r(a) grad r(a) / P_theta'(a) ]``, is an unbiased estimate of ``grad C``;
* ``mode="exact"``: the sum over all ``4^N`` strings (``N <= 8``), deterministic, for tests and ablations.

``(L P)(a) = sum_b L_ab P(b)`` needs only the strings ``b`` connected to ``a`` by a local term; they come from a
batched *local action* ``strings (B, N) -> (connected (B, M, N), values (B, M))`` with
``(L P)(a_i) = sum_m values[i, m] P(connected[i, m])`` (padding entries carry ``value = 0``). All connected
strings of a batch are evaluated in one network call, each distinct string once; ratios
``P(b) / P(a)`` are formed in log space so that exponentially small probabilities at large ``N`` never
underflow, and the residual is accumulated in the network's float64 or float32 (never half precision).

**Steady state** (:func:`steady_state`): minimise ``|| L P_theta ||_1`` the same way, keeping the parameters
with the smallest loss measured by a more accurate estimate (more samples, or exactly).

**Observables** (:func:`observables`): ``<O> = E_{a ~ P}[O(a)]``, ``O(a) = sum_t c_t prod_i Tr[sigma_{t,i}
N^{a_i}]`` for a Pauli sum ``O``, with the Monte-Carlo standard error (exact sums in exact mode).

Runs take ``seed`` (the stream of every time step is derived from it and the step index, so a resumed run draws
the same samples as an uninterrupted one), show a tqdm bar (``progress=True``), and :func:`evolve` writes a
checkpoint after every time step and resumes from it (``checkpoint=path, resume=True``).
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field

import numpy as np

from qdyn.errors import check_choice, check_int, check_positive
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = [
    "NeuralEvolution",
    "NeuralSteadyState",
    "ObservableEstimate",
    "evolve",
    "steady_state",
    "observables",
    "site_average_paulis",
    "povm_transformer_state",
]

#: Largest N for ``mode="exact"`` (all 4^N strings are evaluated at every iteration).
MAX_EXACT_SITES = 8
_SAMPLE_BLOCK = 10_000


# -- results ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObservableEstimate(Result):
    """Estimates ``<O>`` and their standard errors (zero when summed exactly), keyed by observable name."""

    values: dict
    errors: dict
    n_samples: int  #: samples used (0 for an exact sum)


@dataclass(frozen=True)
class NeuralEvolution(Result):
    """A trapezoid-rule evolution with a POVM neural state.

    ``times`` has ``n_steps + 1`` entries (from 0); ``expect[name]`` and ``expect_errors[name]`` hold the
    observables at each time; ``residuals[k]`` is the trapezoid loss ``C`` after step ``k`` (estimated on fresh
    samples, with standard error ``residual_errors[k]``; exact in exact mode); ``loss_history[k]`` the
    optimiser's loss estimates during step ``k``. ``resumed_from`` is the step a resumed run started from.
    """

    times: np.ndarray
    expect: dict
    expect_errors: dict
    residuals: np.ndarray
    residual_errors: np.ndarray
    loss_history: np.ndarray
    mode: str
    tau: float
    resumed_from: int
    resources: Resources
    metadata: Metadata


@dataclass(frozen=True)
class NeuralSteadyState(Result):
    """A steady-state search: the observables of the kept (best) model and the loss ``|| L P ||_1`` history.

    ``best_loss`` (error ``best_loss_error``) is the accurate estimate that selected the kept parameters at
    iteration ``best_iteration``; ``loss_history`` holds the optimiser's per-iteration estimates and
    ``eval_iterations`` / ``eval_losses`` the accurate checks.
    """

    expect: dict
    expect_errors: dict
    best_loss: float
    best_loss_error: float
    best_iteration: int
    loss_history: np.ndarray
    eval_iterations: np.ndarray
    eval_losses: np.ndarray
    mode: str
    resources: Resources
    metadata: Metadata = field(default_factory=Metadata)


# -- states and observables ---------------------------------------------------------------------------------
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


def site_average_paulis(n_sites: int, bonds=()) -> dict:
    """Named observables: the site averages of X, Y, Z (``"X"``, ``"Y"``, ``"Z"``) and, for ``bonds``, the
    bond averages of the nearest-neighbour correlations ``"XX"``, ``"YY"``, ``"ZZ"``."""
    from qiskit.quantum_info import SparsePauliOp

    from qdyn.open.lindbladian import pauli_on

    n = check_int("n_sites", n_sites, minimum=1)
    out = {p: SparsePauliOp.sum([pauli_on(n, {i: p}, 1.0 / n) for i in range(n)]) for p in "XYZ"}
    bonds = [tuple(b) for b in bonds]
    if bonds:
        for p in "XYZ":
            out[p + p] = SparsePauliOp.sum([pauli_on(n, {i: p, j: p}, 1.0 / len(bonds)) for i, j in bonds])
    return out


def observables(state, povm, ops: dict, *, n_samples: int | None = 10_000, seed=None,
                chunk_size: int = 20_000) -> ObservableEstimate:
    """``<O>`` for each named Pauli sum in ``ops`` (SparsePauliOp, label, or anything :mod:`qdyn.operators`
    accepts), with Monte-Carlo standard errors over ``n_samples`` exact samples of ``state``.

    ``n_samples=None`` sums exactly over all ``4^N`` strings (N <= 8). ``<O> = E_{a~P}[O(a)]`` with
    ``O(a) = sum_t c_t prod_i Tr[sigma_{t,i} N^{a_i}]`` (:meth:`qdyn.open.povm.POVM.pauli_values`).
    """
    import torch

    if not isinstance(ops, dict) or not ops:
        raise TypeError("ops must be a non-empty dict {name: operator}")
    with torch.no_grad():
        if n_samples is None:
            strings, weights = _all_strings_and_probabilities(state, chunk_size)
            values = {k: float((weights * _pauli_values(povm, op, strings)).sum()) for k, op in ops.items()}
            return ObservableEstimate(values=values, errors=dict.fromkeys(ops, 0.0), n_samples=0)
        n_samples = check_int("n_samples", n_samples, minimum=2)
        _, recorded = make_rng(seed)
        strings = _sample(state, n_samples, _generator(recorded, state.device, 0))
        values, errors = {}, {}
        for name, op in ops.items():
            v = _pauli_values(povm, op, strings)
            values[name] = float(v.mean())
            errors[name] = float(v.std() / math.sqrt(n_samples))
    return ObservableEstimate(values=values, errors=errors, n_samples=n_samples)


def _pauli_values(povm, op, strings):
    import torch

    out = povm.pauli_values(op, strings)
    if torch.is_complex(out):
        out = out.real
    return out


# -- local action ---------------------------------------------------------------------------------------------
def _local_action(lindbladian):
    """The batched local action ``strings (B, N) -> (connected (B, M, N), values (B, M))`` of ``L``.

    Accepts a :class:`qdyn.open.povm_lindbladian.POVMLindbladian` (its ``connections``; padding slots carry
    value 0), or any callable with that signature.
    """
    connections = getattr(lindbladian, "connections", None)
    if callable(connections):
        def action(strings):
            conn = connections(strings)
            return conn.connected, conn.values
        return action
    if callable(lindbladian):
        return lindbladian
    raise TypeError("lindbladian must be a POVMLindbladian (qdyn.open.povm_lindbladian) or a callable "
                    f"strings -> (connected, values), got {type(lindbladian).__name__}")


def _apply_action(action, strings):
    """Call the local action and bring its output to torch on the strings' device."""
    import torch

    connected, values = action(strings)
    connected = torch.as_tensor(connected, device=strings.device).long()
    values = torch.as_tensor(values, device=strings.device)
    if connected.ndim != 3 or connected.shape[0] != strings.shape[0] or connected.shape[2] != strings.shape[1] \
            or values.shape != connected.shape[:2]:
        raise ValueError("the local action must return connected strings (B, M, N) and values (B, M); got "
                         f"{tuple(connected.shape)} and {tuple(values.shape)} for {tuple(strings.shape)} strings")
    return connected, values


# -- evaluation helpers -----------------------------------------------------------------------------------------
def _deduplicate(strings):
    """``(unique, inverse)`` of strings ``(..., N)``: ``unique[inverse]`` restores them, one row per distinct string.

    Short strings are keyed by their base-4 index; while ``4^N`` is small compared with the batch a presence table
    replaces the sort of :func:`torch.unique`.
    """
    import torch

    flat = strings.reshape(-1, strings.shape[-1])
    n = flat.shape[1]
    if n > 31:  # base-4 keys would overflow int64
        return torch.unique(flat, dim=0, return_inverse=True)
    keys = (flat * (4 ** torch.arange(n, device=flat.device, dtype=torch.int64))).sum(1)
    if 4**n <= 8 * keys.shape[0]:
        present = torch.zeros(4**n, dtype=torch.bool, device=flat.device)
        present[keys] = True
        unique_keys = torch.nonzero(present).squeeze(-1)
        inverse = (torch.cumsum(present, 0) - 1)[keys]
    else:
        unique_keys, inverse = torch.unique(keys, return_inverse=True)
    unique = (unique_keys[:, None] // (4 ** torch.arange(n, device=flat.device, dtype=torch.int64))) % 4
    return unique, inverse


def _log_prob_on(state, unique, inverse, shape):
    """``log P`` of the deduplicated strings, scattered back to ``shape`` (one network call)."""
    return state.log_prob(unique)[inverse].reshape(shape)


def _generator(seed: int, device, step: int):
    """The torch generator of time step ``step``: seeded from ``(seed, step)``, independent of earlier steps."""
    from qdyn.seeding import torch_generator

    derived = int(np.random.SeedSequence([int(seed), int(step)]).generate_state(1, dtype=np.uint64)[0] >> 1)
    return torch_generator(derived, str(device))


def _sample(state, n_samples: int, generator):
    """Exact samples drawn in fixed blocks of ``_SAMPLE_BLOCK`` (bounds the key/value cache; the numbers drawn
    depend only on the seed, not on ``chunk_size``)."""
    import torch

    parts = [state.sample(min(_SAMPLE_BLOCK, n_samples - start), generator=generator)
             for start in range(0, n_samples, _SAMPLE_BLOCK)]
    return torch.cat(parts)


def _all_strings_and_probabilities(state, chunk_size: int):
    import torch

    from qdyn.nets.povm_transformer import all_outcome_strings

    if state.n_sites > MAX_EXACT_SITES:
        raise ValueError(f"exact sums over 4^N strings need N <= {MAX_EXACT_SITES}, got N = {state.n_sites}")
    strings = all_outcome_strings(state.n_sites).to(state.device)
    logp = torch.cat([state.log_prob(strings[i:i + chunk_size]) for i in range(0, len(strings), chunk_size)])
    return strings, torch.exp(logp)


def _freeze(state):
    frozen = copy.deepcopy(state)
    for p in frozen.parameters():
        p.requires_grad_(False)
    return frozen


def _validate_state(state):
    if not all(hasattr(state, k) for k in ("log_prob", "sample", "n_sites", "parameters")):
        raise TypeError("state must be a POVMTransformer or a StringState (log_prob, sample, n_sites), "
                        f"got {type(state).__name__}")
    return state


# -- losses ---------------------------------------------------------------------------------------------------
class _ExactOperator:
    """``L`` on all ``4^N`` strings as index/value arrays: ``(L P)[i] = sum_m values[i, m] P[index[i, m]]``."""

    def __init__(self, action, state):
        import torch

        from qdyn.nets.povm_transformer import all_outcome_strings

        if state.n_sites > MAX_EXACT_SITES:
            raise ValueError(f"mode='exact' enumerates 4^N strings and needs N <= {MAX_EXACT_SITES}, "
                             f"got N = {state.n_sites}")
        strings = all_outcome_strings(state.n_sites).to(state.device)
        connected, values = _apply_action(action, strings)
        powers = 4 ** torch.arange(state.n_sites, device=state.device, dtype=torch.int64)
        self.strings = strings
        self.index = (connected * powers).sum(-1)
        self.values = values.to(state.dtype)

    def apply(self, P):
        return (self.values * P[self.index]).sum(-1)


def _trapezoid_residual_exact(state, frozen_P, op: _ExactOperator, dt: float):
    """``r = (1 - dt L) P' - (1 + dt L) P`` over all strings (with the gradient through ``P'``)."""
    import torch

    P_new = torch.exp(state.log_prob(op.strings))
    return P_new - dt * op.apply(P_new) - frozen_P - dt * op.apply(frozen_P)


def _trapezoid_ratio(state, frozen, action, a, dt: float):
    """``r(a) / P'(a)`` for samples ``a`` (denominator detached), from log-probability differences."""
    import torch

    connected, values = _apply_action(action, a)
    strings = torch.cat([a.unsqueeze(1), connected], dim=1)
    unique, inverse = _deduplicate(strings)
    logp_new = _log_prob_on(state, unique, inverse, strings.shape[:-1])
    with torch.no_grad():
        logp_old = _log_prob_on(frozen, unique, inverse, strings.shape[:-1])
        ref = logp_new[:, 0].detach()
    values = values.to(logp_new.dtype)
    new = torch.exp(logp_new - ref[:, None])
    old = torch.exp(logp_old - ref[:, None])
    return (new[:, 0] - dt * (values * new[:, 1:]).sum(1)) - (old[:, 0] + dt * (values * old[:, 1:]).sum(1))


def _stationary_ratio(state, action, a):
    """``(L P)(a) / P(a)`` for samples ``a`` (denominator detached)."""
    import torch

    connected, values = _apply_action(action, a)
    strings = torch.cat([a.unsqueeze(1), connected], dim=1)
    logp = _log_prob_on(state, *_deduplicate(strings), strings.shape[:-1])
    ref = logp[:, 0].detach()
    return (values.to(logp.dtype) * torch.exp(logp[:, 1:] - ref[:, None])).sum(1)


def _sampled_l1(ratio_fn, state, n_samples: int, generator, chunk_size: int, backward: bool, slots: int = 1):
    """Mean and standard error of ``|ratio(a)|`` over fresh samples; accumulates the gradient chunk by chunk
    (each chunk's graph is freed after its backward pass) when ``backward``. A chunk holds at most
    ``chunk_size`` network evaluations: ``chunk_size // slots`` samples with ``slots`` strings each, or every
    sample when there are no more than ``chunk_size`` distinct strings at all (``4^N``, duplicates being
    evaluated once)."""
    import torch

    a = _sample(state, n_samples, generator)
    distinct = 4**state.n_sites if state.n_sites <= 15 else math.inf
    per_chunk = n_samples if distinct <= chunk_size else max(1, chunk_size // max(1, slots))
    values = []
    for start in range(0, n_samples, per_chunk):
        chunk = a[start:start + per_chunk]
        if backward:
            ratio = ratio_fn(chunk)
            (ratio.abs().sum() / n_samples).backward()
        else:
            with torch.no_grad():
                ratio = ratio_fn(chunk)
        values.append(ratio.detach().abs())
    values = torch.cat(values)
    return float(values.mean()), float(values.std() / math.sqrt(n_samples))


def _slots(action, state) -> int:
    """Strings evaluated per sample: the sample itself plus its connected strings."""
    import torch

    probe = torch.zeros(1, state.n_sites, dtype=torch.int64, device=state.device)
    return 1 + int(_apply_action(action, probe)[0].shape[1])


def _optimiser_options(lindbladian, povm, observables_ops, n_samples, n_eval_samples, iterations, lr, lr_final,
                       chunk_size):
    """Checked settings shared by :func:`evolve` and :func:`steady_state`; ``gamma`` is the per-iteration
    learning-rate decay factor ``(lr_final / lr)^(1/iterations)``."""
    n_samples = check_int("n_samples", n_samples, minimum=2)
    n_eval_samples = 4 * n_samples if n_eval_samples is None else check_int("n_eval_samples", n_eval_samples,
                                                                           minimum=2)
    iterations = check_int("iterations", iterations, minimum=1)
    lr = check_positive("lr", lr)
    gamma = 1.0 if lr_final is None else (check_positive("lr_final", lr_final) / lr) ** (1.0 / iterations)
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    action = _local_action(lindbladian)
    povm = povm if povm is not None else getattr(lindbladian, "povm", None)
    ops = dict(observables_ops or {})
    if ops and povm is None:
        raise ValueError("observables_ops need the POVM: pass povm= (the lindbladian has no .povm)")
    return n_samples, n_eval_samples, iterations, lr, gamma, chunk_size, action, povm, ops


# -- checkpoints ----------------------------------------------------------------------------------------------
def _load_checkpoint(path, expected: dict):
    import torch

    # weights_only=False: the run's own file, whose history holds numpy arrays (written by save_checkpoint)
    payload = torch.load(path, map_location="cpu", weights_only=False)
    for key, value in expected.items():
        if payload["config"].get(key) != value:
            raise ValueError(f"checkpoint {path} was written with {key}={payload['config'].get(key)!r}, "
                             f"this run has {key}={value!r}")
    return payload


# -- drivers --------------------------------------------------------------------------------------------------
def evolve(state, lindbladian, t_final: float, tau: float, *, povm=None, observables_ops: dict | None = None,
           mode: str = "sampled", n_samples: int = 1000, n_eval_samples: int | None = None,
           iterations: int = 120, lr: float = 1e-2, lr_final: float | None = None, chunk_size: int = 8192,
           seed=None, checkpoint: str | os.PathLike | None = None, resume: bool = False, callback=None,
           progress: bool = False) -> NeuralEvolution:
    """Evolve ``state`` (trained in place) under ``dP/dt = L P`` from 0 to ``t_final`` in trapezoid steps ``tau``.

    Parameters
    ----------
    state : POVMTransformer or StringState holding ``P(0)`` (e.g. from :func:`povm_transformer_state`).
    lindbladian : a :class:`~qdyn.open.povm_lindbladian.POVMLindbladian` (or a callable local action).
    t_final, tau : final time and step (``tau = 2 dt``; ``round(t_final / tau)`` steps).
    povm : the POVM of ``lindbladian`` (default its ``.povm``), needed for observables.
    observables_ops : ``{name: Pauli sum}`` recorded at every time (e.g. :func:`site_average_paulis`).
    mode : ``"sampled"`` (Monte-Carlo loss on exact samples) or ``"exact"`` (all ``4^N`` strings, N <= 8).
    n_samples : samples per optimiser iteration (sampled mode).
    n_eval_samples : samples of the per-step residual and of the observables (default ``4 n_samples``).
    iterations : optimiser (Adam) iterations per time step; ``lr`` its learning rate, decayed geometrically
        to ``lr_final`` over each step when given.
    chunk_size : the most strings (samples times their connected strings) per network call; bounds memory,
        the gradient being accumulated over chunks.
    seed : int, Generator or None; recorded. Step k draws from a stream derived from ``(seed, k)``.
    checkpoint, resume : a file written after every step (atomically); with ``resume=True`` and an existing
        file, the run continues after its last completed step (the parameters, histories and settings are
        restored; a mismatch in ``tau``, ``mode`` or ``seed`` is a ``ValueError``).
    callback : ``callback(step, time, state)`` after each step (and its checkpoint).
    progress : tqdm bar over time steps.

    In exact mode every iteration's loss is exact, and each step keeps the parameters with the smallest loss.
    """
    import torch

    from qdyn.nets.training import save_checkpoint

    state = _validate_state(state)
    t_final = check_positive("t_final", t_final)
    tau = check_positive("tau", tau)
    check_choice("mode", mode, ("sampled", "exact"))
    n_steps = int(round(t_final / tau))
    if n_steps < 1 or abs(n_steps * tau - t_final) > 1e-9 * max(1.0, t_final):
        raise ValueError(f"t_final={t_final} must be a positive integer multiple of tau={tau}")
    n_samples, n_eval_samples, iterations, lr, gamma, chunk_size, action, povm, ops = _optimiser_options(
        lindbladian, povm, observables_ops, n_samples, n_eval_samples, iterations, lr, lr_final, chunk_size)
    _, seed = make_rng(seed)
    dt = tau / 2
    config = {"tau": tau, "mode": mode, "seed": seed, "n_sites": state.n_sites}

    exact_op = _ExactOperator(action, state) if mode == "exact" else None
    slots = _slots(action, state)

    def measure(step):
        if not ops:
            return {}, {}
        est = observables(state, povm, ops, n_samples=None if mode == "exact" else n_eval_samples,
                          seed=int(np.random.SeedSequence([seed, step, 1]).generate_state(1)[0]),
                          chunk_size=chunk_size)
        return est.values, est.errors

    history = {"expect": [], "errors": [], "residuals": [], "residual_errors": [], "losses": [],
               "epochs": 0, "samples": 0}
    start_step = 0
    if checkpoint is not None and resume and os.path.exists(checkpoint):
        payload = _load_checkpoint(checkpoint, config)
        state.load_state_dict(payload["state_dict"])
        history = payload["history"]
        start_step = payload["step"] + 1
    if start_step == 0:
        values, errors = measure(0)
        history["expect"], history["errors"] = [values], [errors]

    steps = range(start_step, n_steps)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(steps, desc="POVM trapezoid evolution", initial=start_step, total=n_steps)
        steps = bar
    with Stopwatch() as watch:
        for step in steps:
            frozen = _freeze(state)
            generator = _generator(seed, state.device, step)
            optimiser = torch.optim.Adam(state.parameters(), lr=lr)
            scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma)
            losses = []
            if mode == "exact":
                with torch.no_grad():
                    frozen_P = torch.exp(frozen.log_prob(exact_op.strings))
                best = (math.inf, None)
                for _ in range(iterations + 1):
                    optimiser.zero_grad()
                    loss = _trapezoid_residual_exact(state, frozen_P, exact_op, dt).abs().sum()
                    losses.append(float(loss.detach()))
                    if losses[-1] < best[0]:
                        best = (losses[-1], copy.deepcopy(state.state_dict()))
                    if len(losses) > iterations:  # the last pass only scores the final update
                        break
                    loss.backward()
                    optimiser.step()
                    scheduler.step()
                state.load_state_dict(best[1])
                residual, residual_error = best[0], 0.0
                losses = losses[:iterations]
            else:
                def ratio(a, frozen=frozen):
                    return _trapezoid_ratio(state, frozen, action, a, dt)

                for _ in range(iterations):
                    optimiser.zero_grad()
                    mean, _ = _sampled_l1(ratio, state, n_samples, generator, chunk_size, backward=True, slots=slots)
                    losses.append(mean)
                    optimiser.step()
                    scheduler.step()
                residual, residual_error = _sampled_l1(ratio, state, n_eval_samples, generator, chunk_size,
                                                       backward=False, slots=slots)
                history["samples"] += iterations * n_samples + n_eval_samples
            history["epochs"] += iterations
            values, errors = measure(step + 1)
            history["expect"].append(values)
            history["errors"].append(errors)
            history["residuals"].append(residual)
            history["residual_errors"].append(residual_error)
            history["losses"].append(losses)
            if checkpoint is not None:
                save_checkpoint(checkpoint, {"step": step, "state_dict": state.state_dict(), "history": history,
                                              "config": config})
            if bar is not None:
                bar.set_postfix(residual=f"{residual:.2e}")
            if callback is not None:
                callback(step, (step + 1) * tau, state)

    names = list(ops)
    return NeuralEvolution(
        times=tau * np.arange(n_steps + 1),
        expect={k: np.array([v[k] for v in history["expect"]]) for k in names},
        expect_errors={k: np.array([v[k] for v in history["errors"]]) for k in names},
        residuals=np.array(history["residuals"]), residual_errors=np.array(history["residual_errors"]),
        loss_history=np.array(history["losses"]), mode=mode, tau=tau, resumed_from=start_step,
        resources=Resources(epochs=history["epochs"], samples=history["samples"], wall_time=watch.elapsed),
        metadata=make_metadata(seed=seed, backend="povm-transformer", device=str(state.device), mode=mode,
                               tau=tau, n_samples=n_samples, iterations=iterations, lr=lr, lr_final=lr_final))


def steady_state(state, lindbladian, *, povm=None, observables_ops: dict | None = None, mode: str = "sampled",
                 n_samples: int = 10_000, n_eval_samples: int | None = None, iterations: int = 1000,
                 eval_every: int = 25, lr: float = 1e-2, lr_final: float | None = None, chunk_size: int = 8192,
                 seed=None, progress: bool = False) -> NeuralSteadyState:
    """Train ``state`` (in place) towards ``L P = 0`` by minimising ``|| L P_theta ||_1``.

    Sampled mode estimates ``E_{a~P}[|(L P)(a)| / P(a)]`` (denominator detached) on ``n_samples`` exact samples
    per iteration; every ``eval_every`` iterations (and at the end) the loss is re-estimated on
    ``n_eval_samples`` fresh samples (default ``4 n_samples``) and the best parameters so far are kept; the
    state ends with those. Exact mode sums over all ``4^N`` strings (N <= 8) and keeps the best iterate.
    ``observables_ops`` are measured on the kept state (exactly in exact mode, on ``n_eval_samples`` samples
    otherwise). Other parameters as in :func:`evolve`.
    """
    import torch

    state = _validate_state(state)
    check_choice("mode", mode, ("sampled", "exact"))
    n_samples, n_eval_samples, iterations, lr, gamma, chunk_size, action, povm, ops = _optimiser_options(
        lindbladian, povm, observables_ops, n_samples, n_eval_samples, iterations, lr, lr_final, chunk_size)
    eval_every = check_int("eval_every", eval_every, minimum=1)
    _, seed = make_rng(seed)
    generator = _generator(seed, state.device, 0)
    exact_op = _ExactOperator(action, state) if mode == "exact" else None
    slots = _slots(action, state)
    optimiser = torch.optim.Adam(state.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma)

    def ratio(a):
        return _stationary_ratio(state, action, a)

    def accurate_loss():
        if mode == "exact":
            with torch.no_grad():
                return float(exact_op.apply(torch.exp(state.log_prob(exact_op.strings))).abs().sum()), 0.0
        return _sampled_l1(ratio, state, n_eval_samples, generator, chunk_size, backward=False, slots=slots)

    losses, eval_iters, eval_losses = [], [], []
    best = (math.inf, 0.0, -1, None)
    samples = 0
    steps = range(iterations + 1)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="POVM steady state")
    with Stopwatch() as watch:
        for it in steps:
            if it % eval_every == 0 or it == iterations:
                value, error = accurate_loss()
                samples += 0 if mode == "exact" else n_eval_samples
                eval_iters.append(it)
                eval_losses.append(value)
                if value < best[0]:
                    best = (value, error, it, copy.deepcopy(state.state_dict()))
                if progress:
                    steps.set_postfix(best=f"{best[0]:.2e}")
            if it == iterations:
                break
            optimiser.zero_grad()
            if mode == "exact":
                loss = exact_op.apply(torch.exp(state.log_prob(exact_op.strings))).abs().sum()
                loss.backward()
                losses.append(float(loss.detach()))
            else:
                mean, _ = _sampled_l1(ratio, state, n_samples, generator, chunk_size, backward=True, slots=slots)
                losses.append(mean)
                samples += n_samples
            optimiser.step()
            scheduler.step()
    state.load_state_dict(best[3])
    values, errors = {}, {}
    if ops:
        est = observables(state, povm, ops, n_samples=None if mode == "exact" else n_eval_samples,
                          seed=int(np.random.SeedSequence([seed, 1]).generate_state(1)[0]), chunk_size=chunk_size)
        values, errors = est.values, est.errors
    return NeuralSteadyState(
        expect=values, expect_errors=errors, best_loss=best[0], best_loss_error=best[1], best_iteration=best[2],
        loss_history=np.array(losses), eval_iterations=np.array(eval_iters), eval_losses=np.array(eval_losses),
        mode=mode, resources=Resources(epochs=iterations, samples=samples, wall_time=watch.elapsed),
        metadata=make_metadata(seed=seed, backend="povm-transformer", device=str(state.device), mode=mode,
                               n_samples=n_samples, iterations=iterations, lr=lr, lr_final=lr_final))
