"""The local action of the POVM-space Lindbladian on outcome strings, and ``log P`` of the connected strings.

``(L P)(a) = sum_b L_ab P(b)`` needs only the strings ``b`` connected to ``a`` by a local term; they come from a
batched *local action* ``strings (B, N) -> (connected (B, M, N), values (B, M))`` with
``(L P)(a_i) = sum_m values[i, m] P(connected[i, m])`` (padding entries carry ``value = 0``). The connected
strings of a batch are evaluated together in one of two ways giving the same numbers (:func:`evaluation_plan`):

* *full*: each distinct string of the whole batch once, in one network call (``N`` positions each);
* *cached* (prefix sharing): the distinct connected strings of each sample that carry a nonzero value -- a string
  connected to ``a`` by a term whose first site is ``j`` agrees with ``a`` before ``j``, so the causal network
  gives it ``a``'s keys and values there (every layer) and only positions after ``j`` are run, for all terms of
  all bonds in a few batched passes
  (:meth:`~qdyn.nets.povm_transformer.POVMTransformer.log_prob_connected`): ``O(N)`` positions per string
  become ``N - 1 - j``, and the duplicates (a one-site term and a bond term changing the same site) and zero
  entries of ``L`` go.

By default the cheaper of the two is chosen batch by batch (the full one wins for short chains, where samples
share most of their connected strings).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CachedPlan", "FullPlan", "apply_action", "cached_plan", "deduplicate", "evaluation_plan", "local_action",
           "log_probs_with_connected", "slots", "unique_rows", "use_prefix"]

#: Cost per position evaluation of the cached plan relative to a full batched evaluation (its gathers of cached
#: keys/values and its per-bucket passes; measured 0.9-1.3 on the CPU at N = 8-32, width 32), used by the
#: automatic choice in :func:`evaluation_plan`.
_PREFIX_OVERHEAD = 1.2
#: Above this many sites the automatic choice takes the cached plan without counting the batch's distinct strings.
_SHARED_SITES = 31


def local_action(lindbladian):
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


def apply_action(action, strings):
    """Call the local action and bring its output to torch on the strings' device (shapes checked)."""
    import torch

    connected, values = action(strings)
    connected = torch.as_tensor(connected, device=strings.device).long()
    values = torch.as_tensor(values, device=strings.device)
    if connected.ndim != 3 or connected.shape[0] != strings.shape[0] or connected.shape[2] != strings.shape[1] \
            or values.shape != connected.shape[:2]:
        raise ValueError("the local action must return connected strings (B, M, N) and values (B, M); got "
                         f"{tuple(connected.shape)} and {tuple(values.shape)} for {tuple(strings.shape)} strings")
    return connected, values


def slots(action, state) -> int:
    """Strings evaluated per sample: the sample itself plus its connected strings."""
    import torch

    probe = torch.zeros(1, state.n_sites, dtype=torch.int64, device=state.device)
    return 1 + int(apply_action(action, probe)[0].shape[1])


def deduplicate(strings):
    """``(unique, inverse)`` of strings ``(..., N)``: ``unique[inverse]`` restores them, one row per distinct string.

    Short strings are keyed by their base-4 index; while ``4^N`` is small compared with the batch a presence table
    replaces the sort of :func:`torch.unique`.
    """
    import torch

    flat = strings.reshape(-1, strings.shape[-1])
    n = flat.shape[1]
    if n > 31:  # base-4 keys would overflow int64: several words per string
        first, inverse = unique_rows(_pack(flat))
        return flat[first], inverse
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


def use_prefix(state, prefix_sharing) -> bool | None:
    """Check ``prefix_sharing``; ``None`` (auto, decided per batch) becomes False for a state without
    ``log_prob_connected``."""
    if prefix_sharing is None:
        return None if hasattr(state, "log_prob_connected") else False
    if not isinstance(prefix_sharing, bool):
        raise TypeError(f"prefix_sharing must be True, False or None, got {prefix_sharing!r}")
    if prefix_sharing and not hasattr(state, "log_prob_connected"):
        raise ValueError("prefix_sharing=True needs a state with log_prob_connected (POVMTransformer, StringState)")
    return prefix_sharing


@dataclass(frozen=True)
class FullPlan:
    """Every distinct string of ``[a, connected]`` once: ``log P[inverse].reshape(shape)`` restores the layout."""

    unique: object
    inverse: object
    shape: tuple


@dataclass(frozen=True)
class CachedPlan:
    """The distinct connected strings of each sample with a nonzero value: ``strings`` ``(U, N)``, connected to
    sample ``rows[u]``; ``slot[k]`` (a flat index into the ``(B, 1 + M)`` layout of ``[a, connected]``) takes
    ``log P(strings[inverse[k]])``, every other slot (the sample itself, or a zero value) ``log P(a)``;
    ``first[u]``: the first site at which ``strings[u]`` differs from its sample."""

    rows: object
    strings: object
    slot: object
    inverse: object
    shape: tuple
    first: object

    def positions(self, n: int) -> int:
        """Positions run: ``N`` per sample plus ``N - 1 - j`` per string (``j`` its first changed site; exact for
        a single site ordering, an estimate for string states)."""
        return self.shape[0] * n + int((n - 1 - self.first).sum())


def _pack(strings):
    """Exact int64 keys ``(K, ceil(N / 31))`` of strings of outcomes 0..3 (2 bits per site, 31 sites a word)."""
    import torch

    words = []
    for start in range(0, strings.shape[1], 31):
        block = strings[:, start:start + 31].long()
        words.append((block * (4 ** torch.arange(block.shape[1], device=block.device, dtype=torch.int64))).sum(1))
    return torch.stack(words, 1)


def unique_rows(keys):
    """``(first, inverse)`` of the rows of an int64 matrix ``keys`` ``(K, W)``: ``keys[first]`` holds each distinct
    row once and ``keys[first][inverse] == keys``. Lexicographic sort by ``W`` stable argsorts (much faster than
    :func:`torch.unique` with ``dim=0`` on the CPU)."""
    import torch

    perm = torch.arange(keys.shape[0], device=keys.device)
    for column in reversed(range(keys.shape[1])):
        perm = perm[torch.argsort(keys[perm, column], stable=True)]
    ordered = keys[perm]
    new = torch.ones(keys.shape[0], dtype=torch.bool, device=keys.device)
    new[1:] = (ordered[1:] != ordered[:-1]).any(1)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.cumsum(new, 0) - 1
    return perm[new], inverse


def cached_plan(a, connected, values):
    """The :class:`CachedPlan` of samples ``a`` ``(B, N)``, their connected strings ``(B, M, N)`` and the values
    ``(B, M)`` of the local action (``None``: every string counts)."""
    import torch

    batch, slots_, n = connected.shape
    b_idx, m_idx = torch.nonzero(torch.ones_like(connected[..., 0], dtype=torch.bool) if values is None
                                 else values != 0, as_tuple=True)
    kept = connected[b_idx, m_idx]
    differs = kept != a[b_idx]
    sites = torch.arange(n, device=a.device)
    first_site = torch.where(differs, sites, n).amin(-1)  # n: the sample itself
    changed = first_site < n
    b_idx, m_idx, kept, first_site = b_idx[changed], m_idx[changed], kept[changed], first_site[changed]
    first, inverse = unique_rows(torch.cat([b_idx[:, None], _pack(kept)], 1))
    return CachedPlan(rows=b_idx[first], strings=kept[first], slot=b_idx * (1 + slots_) + 1 + m_idx,
                      inverse=inverse, shape=(batch, 1 + slots_), first=first_site[first])


def evaluation_plan(a, connected, prefix, values=None):
    """How to evaluate ``log P`` on ``[a, connected]``: a :class:`CachedPlan` (``prefix=True``) or a
    :class:`FullPlan` (``prefix=False``). ``values`` (the local action's, ``(B, M)``) lets the cached plan skip
    the strings with a zero value. ``prefix=None`` (auto) takes the cheaper by counted position evaluations:
    ``(distinct strings of the batch) x N`` against :meth:`CachedPlan.positions` weighted by the measured overhead
    of the cached passes (``_PREFIX_OVERHEAD``); above ``_SHARED_SITES`` sites it takes the cached plan without
    counting (samples then almost never share connected strings, so the full plan runs ``N`` positions for
    about as many strings as the cached plan runs ``N - 1 - j``)."""
    import torch

    cached = None if prefix is False else cached_plan(a, connected, values)
    if prefix or (prefix is None and a.shape[1] > _SHARED_SITES):
        return cached
    strings = torch.cat([a.unsqueeze(1), connected], dim=1)
    unique, inverse = deduplicate(strings)
    full = FullPlan(unique, inverse, tuple(strings.shape[:-1]))
    if prefix is None and _PREFIX_OVERHEAD * cached.positions(a.shape[1]) < unique.shape[0] * a.shape[1]:
        return cached
    return full


def log_probs_with_connected(state, a, connected, plan, precision=None):
    """``log P`` of ``[a, connected[:, 0], connected[:, 1], ...]``: shape ``(B, 1 + M)``, in one batched evaluation.

    ``plan`` from :func:`evaluation_plan`: a :class:`CachedPlan` goes through the state's ``log_prob_connected``
    (each distinct connected string re-runs only the positions after its first difference from its sample,
    reusing the sample's keys/values); a :class:`FullPlan` evaluates every distinct string of the batch once in
    full. ``precision``: the dtype of the network's arithmetic (``"single"``/``"double"``; default the
    network's own); the results are in the network's dtype."""
    if isinstance(plan, FullPlan):
        return state.log_prob(plan.unique, precision=precision)[plan.inverse].reshape(plan.shape)
    logp_a, logp_c = state.log_prob_connected(a, plan.strings, rows=plan.rows, precision=precision)
    out = logp_a[:, None].expand(plan.shape).reshape(-1)
    return out.index_put((plan.slot,), logp_c[plan.inverse]).reshape(plan.shape)
