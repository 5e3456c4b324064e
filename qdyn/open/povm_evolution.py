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
* ``mode="exact"``: the sum over all ``4^N`` strings (``N <= 8``), deterministic, for tests and ablations. Its
  default optimiser (small registers) is Levenberg-Marquardt on the residual vector ``r``
  (:func:`_levenberg_marquardt`):
  ``||r||_2`` and ``||r||_1`` share the minimiser ``r = 0`` when the network can represent the step, and LM reaches
  it (residual 1e-4 .. 1e-15 at N = 4 with interactions) where Adam on the kinked L1 loss stalls near 1e-3.

``(L P)(a) = sum_b L_ab P(b)`` needs only the strings ``b`` connected to ``a`` by a local term; they come from a
batched *local action* ``strings (B, N) -> (connected (B, M, N), values (B, M))`` with
``(L P)(a_i) = sum_m values[i, m] P(connected[i, m])`` (padding entries carry ``value = 0``). The connected
strings of all terms of a batch are evaluated together, in one of two ways giving the same numbers: each distinct
string once in one network call, or with *prefix sharing* -- a string connected to ``a`` by a term whose first site
is ``j`` agrees with ``a`` before ``j``, so the causal network gives it ``a``'s keys and values there (every layer)
and only positions after ``j`` are run (:meth:`~qdyn.nets.povm_transformer.POVMTransformer.log_prob_connected`).
Padding slots cost nothing; by default the cheaper of the two is chosen chunk by chunk. Ratios
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
        self._matrix = None

    def apply(self, P):
        return (self.values * P[self.index]).sum(-1)

    def step_matrix(self, c0: float, c1: float):
        """``c0 + c1 L`` as a torch sparse matrix."""
        import torch

        m = self.strings.shape[0]
        diagonal = torch.arange(m, device=self.index.device)
        identity = torch.sparse_coo_tensor(torch.stack([diagonal, diagonal]),
                                           torch.full((m,), c0, dtype=self.values.dtype, device=self.index.device),
                                           (m, m), check_invariants=True)
        return (identity + c1 * self.matrix()).coalesce()

    def matrix(self):
        """``L`` as a torch sparse ``(4^N, 4^N)`` matrix (built once)."""
        if self._matrix is None:
            import torch

            m, width = self.index.shape
            rows = torch.arange(m, device=self.index.device).repeat_interleave(width)
            self._matrix = torch.sparse_coo_tensor(torch.stack([rows, self.index.reshape(-1)]),
                                                   self.values.reshape(-1), (m, m), check_invariants=True).coalesce()
        return self._matrix


#: Largest Jacobian (strings x parameters) for ``optimizer="lm"`` chosen automatically in exact mode.
_LM_MAX_ENTRIES = 4 * 10**7
_LM_CHUNK = 1024
_LM_STALL = 10  # stop when the L1 loss fell by less than 1% over this many iterations


def _n_parameters(state) -> int:
    return sum(p.numel() for p in state.parameters() if p.requires_grad)


def _resolve_optimizer(optimizer: str, mode: str, state, sampled_lm: bool = False) -> str:
    check_choice("optimizer", optimizer, ("auto", "adam", "lm"))
    if optimizer == "lm" and mode != "exact" and not sampled_lm:
        raise ValueError("optimizer='lm' (Levenberg-Marquardt) needs mode='exact'")
    if optimizer == "auto":
        small = mode == "exact" and 4**state.n_sites * _n_parameters(state) <= _LM_MAX_ENTRIES
        return "lm" if small else "adam"
    return optimizer


def _column_blocks(matrix, width: int):
    """A sparse ``(rows, cols)`` matrix cut into column blocks of ``width``: ``[(start, block), ...]``."""
    import torch

    matrix = matrix.coalesce()
    rows, cols = matrix.indices()
    values = matrix.values()
    blocks = []
    for start in range(0, matrix.shape[1], width):
        stop = min(start + width, matrix.shape[1])
        keep = (cols >= start) & (cols < stop)
        blocks.append((start, torch.sparse_coo_tensor(torch.stack([rows[keep], cols[keep] - start]), values[keep],
                                                      (matrix.shape[0], stop - start), check_invariants=True)))
    return blocks


def _levenberg_marquardt(state, strings, matrix, target, max_iter: int, tol: float):
    """Minimise ``||r||_2^2``, ``r = M P_theta(strings) - target`` (``M`` a sparse ``(rows, len(strings))``
    matrix), by Levenberg-Marquardt on the network parameters (in place); returns the L1 norms ``||r||_1`` after
    each accepted iteration (the first entry: at the start).

    Exact mode: ``strings`` are all ``4^N`` strings and ``M = c0 + c1 L`` (a trapezoid step or ``L`` itself);
    sampled mode: the distinct strings of a batch and the weighted local action (:func:`_sampled_lm_problem`).
    The Jacobian ``dr/dtheta = M diag(P) d log P / dtheta`` is accumulated over blocks of strings from
    per-string gradients (``torch.func.vmap`` of ``grad``); the step ``delta = -(J^T J + lam)^{-1} J^T r`` is
    solved in the smaller of the row and parameter spaces (``J^T (J J^T + lam)^{-1} r`` when there are fewer rows
    than parameters). ``lam`` shrinks 10x after a step that lowers ``||r||_2`` and grows 4x after one that does
    not. The L1 loss and this least-squares loss share their minimiser ``r = 0`` whenever the network can
    represent it, and LM converges to it quadratically instead of stalling on the kink of ``|r|``. Stops when
    ``||r||_1 <= tol``, after ``max_iter`` Jacobians, when no step lowers the loss, or when ``||r||_1`` fell by
    less than 1% over the last 10 iterations.
    """
    import torch
    from torch.func import functional_call, grad, vmap

    named = [(k, p) for k, p in state.named_parameters() if p.requires_grad]
    names, shapes = [k for k, _ in named], [p.shape for _, p in named]
    sizes = [p.numel() for _, p in named]
    theta = torch.cat([p.detach().reshape(-1) for _, p in named])
    blocks = _column_blocks(matrix, _LM_CHUNK)

    def unflatten(vector):
        return {k: t.reshape(shape) for k, t, shape in zip(names, torch.split(vector, sizes), shapes, strict=True)}

    def residual(vector):
        P = torch.exp(functional_call(state, unflatten(vector), (strings,)))
        return torch.sparse.mm(matrix, P[:, None])[:, 0] - target, P

    def single(params, string):
        return functional_call(state, params, (string[None],), {"validate": False})[0]

    per_string = vmap(grad(single), in_dims=(None, 0))
    with torch.no_grad():
        r, P = residual(theta)
    cost, losses, lam = float(r @ r), [float(r.abs().sum())], None
    for _ in range(max_iter):
        if losses[-1] <= tol or (len(losses) > _LM_STALL and losses[-1] > 0.99 * losses[-1 - _LM_STALL]):
            break
        params = unflatten(theta)
        J = torch.zeros(matrix.shape[0], theta.numel(), dtype=theta.dtype, device=theta.device)
        for start, block in blocks:
            g = per_string(params, strings[start:start + block.shape[1]])
            with torch.no_grad():
                G = torch.cat([g[k].reshape(g[k].shape[0], -1) for k in names], 1)
                J += torch.sparse.mm(block, G * P[start:start + block.shape[1], None])
        with torch.no_grad():
            dual = J.shape[0] <= J.shape[1]
            G = J @ J.T if dual else J.T @ J
            rhs = r if dual else J.T @ r
            eye = torch.eye(G.shape[0], dtype=G.dtype, device=G.device)
            scale = float(G.diagonal().mean()) + 1e-300
            lam = 1e-3 * scale if lam is None else lam
            while lam < 1e12 * scale:
                solution = torch.linalg.solve(G + lam * eye, rhs)
                candidate = theta - (J.T @ solution if dual else solution)
                r_new, P_new = residual(candidate)
                if float(r_new @ r_new) < cost:
                    theta, r, P, cost = candidate, r_new, P_new, float(r_new @ r_new)
                    lam /= 10
                    break
                lam *= 4
            else:
                break  # no damping lowers the loss: converged as far as this precision allows
        losses.append(float(r.abs().sum()))
    with torch.no_grad():
        for (_, p), value in zip(named, unflatten(theta).values(), strict=True):
            p.copy_(value)
    return losses


def _sampled_lm_problem(state, action, a):
    """The fixed-batch loss of sampled-mode LM (see :func:`steady_state`),
    ``F(theta) = sum_i w_i ((L P_theta)(a_i) / P_0(a_i))^2`` with ``w_i = P_0(a_i) / sum_j P_0(a_j)`` and ``P_0``
    the model now, as a least-squares problem for :func:`_levenberg_marquardt`: the distinct strings of
    ``[a, connected]`` and the sparse ``M`` with ``(M P)_i = sqrt(w_i) (L P)(a_i) / P_0(a_i)``, so that
    ``||M P_theta||_2^2 = F(theta)``."""
    import torch

    connected, values = _apply_action(action, a)
    unique, inverse = _deduplicate(torch.cat([a.unsqueeze(1), connected], dim=1))
    with torch.no_grad():
        log_p0 = state.log_prob(unique)[inverse.reshape(a.shape[0], -1)[:, 0]]
    scale = torch.exp(0.5 * (log_p0 - torch.logsumexp(log_p0, 0)) - log_p0)  # sqrt(w_i) / P_0(a_i)
    rows = torch.arange(a.shape[0], device=a.device).repeat_interleave(connected.shape[1])
    cols = inverse.reshape(a.shape[0], -1)[:, 1:].reshape(-1)
    entries = (values.to(log_p0.dtype) * scale[:, None]).reshape(-1)
    matrix = torch.sparse_coo_tensor(torch.stack([rows, cols]), entries, (a.shape[0], unique.shape[0]),
                                     check_invariants=True).coalesce()
    return unique, matrix


def _trapezoid_residual_exact(state, frozen_P, op: _ExactOperator, dt: float):
    """``r = (1 - dt L) P' - (1 + dt L) P`` over all strings (with the gradient through ``P'``)."""
    import torch

    P_new = torch.exp(state.log_prob(op.strings))
    return P_new - dt * op.apply(P_new) - frozen_P - dt * op.apply(frozen_P)


#: Cost per position evaluation of prefix sharing relative to a full batched evaluation (measured on the CPU:
#: 8.2 against 5.4 microseconds at N = 8, width 32), used by the automatic choice in :func:`_evaluation_plan`.
_PREFIX_OVERHEAD = 1.5


def _evaluation_plan(state, a, connected, prefix):
    """How to evaluate ``log P`` on ``[a, connected]``: ``None`` for prefix sharing, or the deduplicated strings
    ``(unique, inverse, shape)``. ``prefix=None`` (auto) takes the cheaper by counted position evaluations:
    ``(distinct strings) x N`` against ``B N + sum_c (N - 1 - j_c)`` (``j_c`` the first site where ``c`` differs from
    its sample; exact for a single ordering, an estimate for string states), the latter weighted by the measured
    overhead of its per-suffix-length calls (``_PREFIX_OVERHEAD``)."""
    import torch

    if prefix:
        return None
    strings = torch.cat([a.unsqueeze(1), connected], dim=1)
    unique, inverse = _deduplicate(strings)
    if prefix is None:
        batch, n = a.shape
        differs = connected != a[:, None, :]
        first = torch.where(differs.any(-1), differs.int().argmax(-1), n - 1)
        if _PREFIX_OVERHEAD * (batch * n + int((n - 1 - first).sum())) < unique.shape[0] * n:
            return None
    return unique, inverse, strings.shape[:-1]


def _log_probs_with_connected(state, a, connected, plan):
    """``log P`` of ``[a, connected[:, 0], connected[:, 1], ...]``: shape ``(B, 1 + M)``, in one batched evaluation.

    ``plan`` from :func:`_evaluation_plan`: ``None`` goes through the state's ``log_prob_connected`` (each connected
    string re-runs only the positions after its first difference from ``a``, reusing ``a``'s keys/values);
    otherwise every distinct string of the batch is evaluated once in full."""
    import torch

    if plan is None:
        logp_a, logp_c = state.log_prob_connected(a, connected)
        return torch.cat([logp_a[:, None], logp_c], 1)
    return _log_prob_on(state, *plan)


def _trapezoid_ratio(state, frozen, action, a, dt: float, prefix: bool | None = False):
    """``r(a) / P'(a)`` for samples ``a`` (denominator detached), from log-probability differences."""
    import torch

    connected, values = _apply_action(action, a)
    plan = _evaluation_plan(state, a, connected, prefix)
    logp_new = _log_probs_with_connected(state, a, connected, plan)
    with torch.no_grad():
        logp_old = _log_probs_with_connected(frozen, a, connected, plan)
        ref = logp_new[:, 0].detach()
    values = values.to(logp_new.dtype)
    new = torch.exp(logp_new - ref[:, None])
    old = torch.exp(logp_old - ref[:, None])
    return (new[:, 0] - dt * (values * new[:, 1:]).sum(1)) - (old[:, 0] + dt * (values * old[:, 1:]).sum(1))


def _stationary_ratio(state, action, a, prefix: bool | None = False):
    """``(L P)(a) / P(a)`` for samples ``a`` (denominator detached)."""
    import torch

    connected, values = _apply_action(action, a)
    logp = _log_probs_with_connected(state, a, connected, _evaluation_plan(state, a, connected, prefix))
    ref = logp[:, 0].detach()
    return (values.to(logp.dtype) * torch.exp(logp[:, 1:] - ref[:, None])).sum(1)


def _use_prefix(state, prefix_sharing) -> bool | None:
    """Check ``prefix_sharing``; ``None`` (auto, decided per chunk) becomes False for a state without
    ``log_prob_connected``."""
    if prefix_sharing is None:
        return None if hasattr(state, "log_prob_connected") else False
    if not isinstance(prefix_sharing, bool):
        raise TypeError(f"prefix_sharing must be True, False or None, got {prefix_sharing!r}")
    if prefix_sharing and not hasattr(state, "log_prob_connected"):
        raise ValueError("prefix_sharing=True needs a state with log_prob_connected (POVMTransformer, StringState)")
    return prefix_sharing


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
    """The payload of a checkpoint written by :func:`evolve`, through the shared ``weights_only`` loader of
    :mod:`qdyn.nets.training` (the history holds only plain Python numbers, lists and dicts)."""
    from qdyn.nets.training import load_checkpoint

    payload = load_checkpoint(path)
    for key, value in expected.items():
        if payload["config"].get(key) != value:
            raise ValueError(f"checkpoint {path} was written with {key}={payload['config'].get(key)!r}, "
                             f"this run has {key}={value!r}")
    return payload


# -- drivers --------------------------------------------------------------------------------------------------
def evolve(state, lindbladian, t_final: float, tau: float, *, povm=None, observables_ops: dict | None = None,
           mode: str = "sampled", n_samples: int = 1000, n_eval_samples: int | None = None,
           iterations: int = 120, lr: float = 1e-2, lr_final: float | None = None, chunk_size: int = 8192,
           optimizer: str = "auto", tol: float = 1e-12, prefix_sharing: bool | None = None,
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
    iterations : optimiser iterations per time step (Adam steps, or at most that many Levenberg-Marquardt
        Jacobians); ``lr`` the Adam learning rate, decayed geometrically to ``lr_final`` over each step when given.
    chunk_size : the most strings (samples times their connected strings) per network call; bounds memory,
        the gradient being accumulated over chunks.
    optimizer : ``"adam"`` (Adam on the L1 loss, the method of the paper), ``"lm"`` (exact mode only:
        Levenberg-Marquardt on the same residual vector, see :func:`_levenberg_marquardt`), or ``"auto"``:
        ``"lm"`` in exact mode when the Jacobian (``4^N`` x parameters) has at most 4e7 entries, else Adam.
    tol : exact mode stops a step's optimisation once its L1 loss is at most ``tol``.
    prefix_sharing : evaluate connected strings from their first difference with the sample on, reusing the
        sample's keys/values (True), or each distinct string of a chunk once, in full (False); ``None`` picks,
        chunk by chunk, the one with fewer position evaluations. Both give the same numbers.
    seed : int, Generator or None; recorded. Step k draws from a stream derived from ``(seed, k)``.
    checkpoint, resume : a file written after every step (atomically); with ``resume=True`` and an existing
        file, the run continues after its last completed step (the parameters, histories and settings are
        restored; a mismatch in ``tau``, ``mode`` or ``seed`` is a ``ValueError``).
    callback : ``callback(step, time, state)`` after each step (and its checkpoint).
    progress : tqdm bar over time steps.

    In exact mode every iteration's loss is exact, and each step keeps the parameters with the smallest loss;
    ``loss_history`` rows are padded with NaN after an early stop.
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
    optimizer = _resolve_optimizer(optimizer, mode, state)
    tol = check_positive("tol", tol, allow_zero=True)
    prefix = _use_prefix(state, prefix_sharing)
    _, seed = make_rng(seed)
    dt = tau / 2
    config = {"tau": float(tau), "mode": mode, "seed": int(seed), "n_sites": int(state.n_sites)}

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
        history["expect"] = [{k: float(v) for k, v in values.items()}]
        history["errors"] = [{k: float(v) for k, v in errors.items()}]

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
                if optimizer == "lm":
                    target = frozen_P + dt * exact_op.apply(frozen_P)
                    losses = _levenberg_marquardt(state, exact_op.strings, exact_op.step_matrix(1.0, -dt), target,
                                                  iterations, tol)[1:]
                    residual = losses[-1] if losses else float(
                        _trapezoid_residual_exact(state, frozen_P, exact_op, dt).abs().sum().detach())
                else:
                    best = (math.inf, None)
                    for _ in range(iterations + 1):
                        optimiser.zero_grad()
                        loss = _trapezoid_residual_exact(state, frozen_P, exact_op, dt).abs().sum()
                        losses.append(float(loss.detach()))
                        if losses[-1] < best[0]:
                            best = (losses[-1], copy.deepcopy(state.state_dict()))
                        if len(losses) > iterations or losses[-1] <= tol:  # the last pass only scores
                            break
                        loss.backward()
                        optimiser.step()
                        scheduler.step()
                    state.load_state_dict(best[1])
                    residual = best[0]
                    losses = losses[:iterations]
                residual_error = 0.0
                history["epochs"] += len(losses)
                losses = losses + [math.nan] * (iterations - len(losses))
            else:
                def ratio(a, frozen=frozen):
                    return _trapezoid_ratio(state, frozen, action, a, dt, prefix)

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
            # plain Python floats only, so that the checkpoint loads with torch.load(weights_only=True)
            history["expect"].append({k: float(v) for k, v in values.items()})
            history["errors"].append({k: float(v) for k, v in errors.items()})
            history["residuals"].append(float(residual))
            history["residual_errors"].append(float(residual_error))
            history["losses"].append([float(v) for v in losses])
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
                               tau=tau, n_samples=n_samples, iterations=iterations, lr=lr, lr_final=lr_final,
                               optimizer=optimizer, prefix_sharing=prefix))


def steady_state(state, lindbladian, *, povm=None, observables_ops: dict | None = None, mode: str = "sampled",
                 n_samples: int = 10_000, n_eval_samples: int | None = None, iterations: int = 1000,
                 eval_every: int | None = None, lr: float = 1e-2, lr_final: float | None = None,
                 chunk_size: int = 8192, optimizer: str = "auto", batch_steps: int = 3, tol: float = 1e-12,
                 prefix_sharing: bool | None = None, seed=None, progress: bool = False) -> NeuralSteadyState:
    """Train ``state`` (in place) towards ``L P = 0`` by minimising ``|| L P_theta ||_1``.

    Sampled mode estimates ``E_{a~P}[|(L P)(a)| / P(a)]`` (denominator detached) on ``n_samples`` exact samples
    per iteration; every ``eval_every`` iterations (and at the end) the loss is re-estimated on
    ``n_eval_samples`` fresh samples (default ``4 n_samples``) and the best parameters so far are kept; the
    state ends with those. Exact mode sums over all ``4^N`` strings (N <= 8) and keeps the best iterate
    (with ``optimizer="lm"``, see :func:`evolve`, every Levenberg-Marquardt iterate is scored exactly and the loss
    is ``|| L P ||_2^2``, whose minimiser ``L P = 0`` is the same). ``observables_ops`` are measured on the kept
    state (exactly in exact mode, on ``n_eval_samples`` samples otherwise).

    ``optimizer="lm"`` in sampled mode (steady states only): each iteration draws ``n_samples`` fresh samples
    and takes up to ``batch_steps`` Levenberg-Marquardt steps on the least-squares form of their fixed-batch loss

        F(theta) = sum_i w_i rho_i(theta)^2,   rho_i = (L P_theta)(a_i) / P_0(a_i),   w_i = P_0(a_i) / sum_j P_0(a_j)

    (``P_0`` the model when the batch was drawn; :func:`_sampled_lm_problem`). ``E_{a ~ P_0}[P_0(a) rho(a)^2] =
    sum_a (L P_theta)(a)^2``, so ``F`` is the self-normalised importance estimate of ``|| L P_theta ||_2^2`` (up to a
    constant), minimised by ``L P = 0`` like the L1 loss; the weights favour the probable strings. Each step
    costs a per-string gradient of every distinct string connected to the batch (about ``n_samples`` times the
    terms of ``L``), so a few hundred samples per batch suit it. The L1 loss is an ill-conditioned target for
    Adam: on the dissipative Ising chain (V = 2, gamma = 1, periodic, N = 8) Adam's plateau (200 iterations of
    1000 samples) leaves single-site errors up to 2.8e-2 at g = 1 and 2.3e-2 at g = 2, which 60 of these
    iterations of 300 samples bring to 8.4e-3 and 6.9e-3 (``python benchmarks/povm_transformer.py``). The
    models are still kept by the sampled L1 estimate, checked every ``eval_every`` iterations (default 25 for
    Adam, 1 for LM); ``loss_history`` holds each batch's ``sum_i sqrt(w_i) |rho_i|`` after its steps. The
    per-string Jacobian limits it to small registers (it was measured up to N = 8).
    Other parameters as in :func:`evolve`.
    """
    import torch

    state = _validate_state(state)
    check_choice("mode", mode, ("sampled", "exact"))
    n_samples, n_eval_samples, iterations, lr, gamma, chunk_size, action, povm, ops = _optimiser_options(
        lindbladian, povm, observables_ops, n_samples, n_eval_samples, iterations, lr, lr_final, chunk_size)
    optimizer = _resolve_optimizer(optimizer, mode, state, sampled_lm=True)
    eval_every = check_int("eval_every", (1 if optimizer == "lm" else 25) if eval_every is None else eval_every,
                           minimum=1)
    batch_steps = check_int("batch_steps", batch_steps, minimum=1)
    tol = check_positive("tol", tol, allow_zero=True)
    prefix = _use_prefix(state, prefix_sharing)
    _, seed = make_rng(seed)
    generator = _generator(seed, state.device, 0)
    exact_op = _ExactOperator(action, state) if mode == "exact" else None
    slots = _slots(action, state)
    optimiser = torch.optim.Adam(state.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma)

    def ratio(a):
        return _stationary_ratio(state, action, a, prefix)

    def accurate_loss():
        if mode == "exact":
            with torch.no_grad():
                return float(exact_op.apply(torch.exp(state.log_prob(exact_op.strings))).abs().sum()), 0.0
        return _sampled_l1(ratio, state, n_eval_samples, generator, chunk_size, backward=False, slots=slots)

    losses, eval_iters, eval_losses = [], [], []
    best = (math.inf, 0.0, -1, None)
    samples = 0
    steps = range(iterations + 1)
    exact_lm = optimizer == "lm" and mode == "exact"
    if progress and not exact_lm:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="POVM steady state")
    with Stopwatch() as watch:
        if exact_lm:
            zero = torch.zeros(len(exact_op.strings), dtype=state.dtype, device=state.device)
            eval_losses = _levenberg_marquardt(state, exact_op.strings, exact_op.matrix(), zero, iterations, tol)
            losses, eval_iters = eval_losses[:-1], list(range(len(eval_losses)))
            best = (eval_losses[-1], 0.0, eval_iters[-1], copy.deepcopy(state.state_dict()))
            steps = ()
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
            if optimizer == "lm":  # sampled mode: a fresh batch, a few Levenberg-Marquardt steps on it
                a = _sample(state, n_samples, generator)
                losses.append(_levenberg_marquardt(state, *_sampled_lm_problem(state, action, a), 0.0,
                                                   batch_steps, 0.0)[-1])
                samples += n_samples
                continue
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
        mode=mode, resources=Resources(epochs=len(losses), samples=samples, wall_time=watch.elapsed),
        metadata=make_metadata(seed=seed, backend="povm-transformer", device=str(state.device), mode=mode,
                               n_samples=n_samples, iterations=iterations, lr=lr, lr_final=lr_final,
                               optimizer=optimizer, prefix_sharing=prefix,
                               batch_steps=batch_steps if optimizer == "lm" and mode == "sampled" else None))
