"""Autoregressive transformer over POVM outcome strings.

The network represents a probability distribution over the ``K**N`` outcome strings ``a = (a_0, ..., a_{N-1})``
of an N-qubit product POVM (``K = 4`` outcomes per qubit) as a product of conditionals,

    P(a) = prod_k p(a_k | a_<k),

(Luo, Chen, Carrasquilla, Clark, PRL 128, 090501 (2022)). Position ``k`` reads the previous outcome ``a_{k-1}``
(a start token at ``k = 0``) plus a learned position embedding, passes through pre-LayerNorm transformer blocks
with *causal* self-attention (position k attends to positions <= k, so it sees ``a_<k`` only), and a final
LayerNorm and linear layer give the logits of ``p(a_k | a_<k)``. The mask is applied both when evaluating
densities and when sampling; sampling keeps the keys and values of earlier positions in a cache, so drawing a
string costs O(N^2) attention work instead of the O(N^3) of re-running the whole prefix at every position.
The same cache serves the strings connected to a sample by a local operator
(:meth:`POVMTransformer.log_prob_connected`): they agree with the sample up to their first changed site, so only
the positions after it are run, attending to the sample's keys and values; with one layer (the default) their
attention even comes from tables of the sample's pass, without attending over the keys (:class:`_OneLayerReuse`).

Precision: the parameters have the network's dtype (``precision``); the arithmetic of a density evaluation can
run in another (``precision=`` of :meth:`~POVMTransformer.log_prob` and
:meth:`~POVMTransformer.log_prob_connected`): float32 arithmetic of a float64 network casts the weights
differentiably, so gradients and the sums of log-conditionals stay float64.

Exact initial state: the output layer starts with zero weight and a per-site bias ``log p0_i(a)``, so at
initialisation ``P(a) = prod_i p0_i(a_i)`` exactly, for any product initial distribution.

Outcome strings are integer tensors of shape ``(batch, N)``; entry ``[:, i]`` is the outcome of site (qubit) i.
When a string ordering is given (see :mod:`qdyn.nets.string_states`), position k of the network holds site
``order[k]`` and the output bias follows the site, so a product initial state stays exact along every ordering.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from qdyn.devices import resolve_device, torch_dtype
from qdyn.errors import check_choice, check_int
from qdyn.seeding import make_rng

__all__ = ["POVMTransformer", "all_outcome_strings"]

_MAX_ENUMERATION_SITES = 10
#: Most batched passes of :meth:`POVMTransformer.log_prob_connected` (buckets of first changed positions).
_BUCKETS = 16
#: Longest run of consecutive changed positions a connected string may have to take the one-layer reuse
#: (:class:`_OneLayerReuse`; a term on one or two neighbouring sites changes one or two); its tables grow with it.
_MAX_RUN = 4
#: Positions per pass of the rest of the block in :class:`_OneLayerReuse` (width 32 on the CPU: 16384-65536 equally
#: fast; 4096 pays 1.5x in per-call overhead, one pass over a million positions 2x in memory traffic).
_ROWS = 16384


def all_outcome_strings(n_sites: int, n_outcomes: int = 4):
    """All ``n_outcomes**n_sites`` outcome strings as a ``(n_outcomes**n_sites, n_sites)`` int64 tensor.

    Row ``j`` holds the base-``n_outcomes`` digits of ``j`` with site 0 the least significant digit (the same
    order as Qiskit's qubit 0 = least significant bit), so row ``j`` is entry ``j`` of a full POVM distribution.
    """
    import torch

    n_sites = check_int("n_sites", n_sites, minimum=1)
    n_outcomes = check_int("n_outcomes", n_outcomes, minimum=2)
    if n_sites > _MAX_ENUMERATION_SITES:
        raise ValueError(f"n_sites={n_sites} is too large to enumerate (at most {_MAX_ENUMERATION_SITES})")
    index = torch.arange(n_outcomes**n_sites, dtype=torch.int64)
    powers = n_outcomes ** torch.arange(n_sites, dtype=torch.int64)
    return (index[:, None] // powers[None, :]) % n_outcomes


def _linear(layer: nn.Linear, x):
    """``layer(x)`` computed in ``x``'s dtype (the weights are cast, differentiably, when they differ)."""
    bias = None if layer.bias is None else layer.bias.to(x.dtype)
    return nn.functional.linear(x, layer.weight.to(x.dtype), bias)


def _layer_norm(norm: nn.LayerNorm, x):
    """``norm(x)`` computed in ``x``'s dtype."""
    return nn.functional.layer_norm(x, norm.normalized_shape, norm.weight.to(x.dtype), norm.bias.to(x.dtype),
                                    norm.eps)


class _CausalSelfAttention(nn.Module):
    """Multi-head self-attention with a causal mask and a key/value cache for step-by-step decoding. Every
    product runs in the dtype of the input (float32 activations of a float64 network: float32 arithmetic, float64
    gradients)."""

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def _split(self, x):
        # (..., L, d_model) -> (..., H, L, d_head)
        *lead, length, _ = x.shape
        return x.reshape(*lead, length, self.n_heads, self.d_head).transpose(-3, -2)

    def forward(self, x, past=None):
        """Positions ``P..P+L-1`` given as ``x`` of shape ``(B, L, d)``, with ``past = (k, v)`` the keys and values
        ``(B, H, P, d_head)`` of positions ``0..P-1`` (none: ``P = 0``). Position ``p`` attends to positions
        ``0..p``. Returns the output and the keys/values ``(B, H, L, d_head)`` of the ``L`` new positions."""
        length = x.shape[-2]
        q, k, v = (self._split(t) for t in _linear(self.qkv, x).chunk(3, dim=-1))
        keys, values = (k, v) if past is None else (torch.cat([past[0].to(x.dtype), k], -2),
                                                    torch.cat([past[1].to(x.dtype), v], -2))
        if past is None:
            y = nn.functional.scaled_dot_product_attention(q, keys, values, is_causal=True)
        else:  # position P + l attends to keys 0..P + l
            causal = torch.ones(length, keys.shape[-2], dtype=torch.bool, device=x.device).tril(keys.shape[-2] - length)
            y = nn.functional.scaled_dot_product_attention(q, keys, values, attn_mask=causal)
        return _linear(self.out, y.transpose(-3, -2).reshape(x.shape)), (k, v)

    def step(self, x, cache_k, cache_v, pos: int):
        """One position ``x`` of shape ``(B, d)``; writes its key/value into the caches ``(B, H, N, d_head)``
        at ``pos`` and attends to cached positions 0..pos (the causal mask of the full pass)."""
        q, k, v = (t.reshape(t.shape[0], self.n_heads, self.d_head) for t in _linear(self.qkv, x).chunk(3, dim=-1))
        cache_k[:, :, pos] = k
        cache_v[:, :, pos] = v
        keys, values = cache_k[:, :, : pos + 1], cache_v[:, :, : pos + 1]
        scores = torch.einsum("bhd,bhld->bhl", q, keys) / math.sqrt(self.d_head)
        y = torch.einsum("bhl,bhld->bhd", torch.softmax(scores, dim=-1), values)
        return _linear(self.out, y.reshape(x.shape))


class _Block(nn.Module):
    """Pre-LayerNorm transformer block: ``x + Attn(LN(x))`` then ``x + MLP(LN(x))``, in ``x``'s dtype."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = _CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))

    def _mlp(self, x):
        return _linear(self.mlp[2], nn.functional.gelu(_linear(self.mlp[0], _layer_norm(self.ln2, x))))

    def finish(self, x, y):
        """The block after its attention: ``x + Out(y)`` then ``+ MLP(LN(.))``, with ``y`` the attention's
        output before its output projection (heads concatenated)."""
        x = x + _linear(self.attn.out, y)
        return x + self._mlp(x)

    def forward(self, x, past=None):
        y, kv = self.attn(_layer_norm(self.ln1, x), past)
        x = x + y
        return x + self._mlp(x), kv

    def step(self, x, cache_k, cache_v, pos: int):
        x = x + self.attn.step(_layer_norm(self.ln1, x), cache_k, cache_v, pos)
        return x + self._mlp(x)


def _buckets(members, first, n: int):
    """Groups of the strings ``members`` by their first changed position ``first`` (at most ``_BUCKETS`` groups
    of consecutive positions): ``[(members, start)]``, each group run from ``start`` = its smallest ``j + 1``."""
    starts, sort = first[members].sort()
    members = members[sort]
    width = -(-n // _BUCKETS)
    counts = torch.unique_consecutive(starts // width, return_counts=True)[1].tolist()
    bounds = np.cumsum([0, *counts])
    return [(members[lo:hi], int(starts[lo]) + 1) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _ratio(sums):
    """``(sum w v / sum w, lost, divisor)`` from sums ``(..., d + 1)`` holding ``(sum w v, sum w)``; ``lost``
    ``(..., 1)`` marks a ``sum w`` that underflowed to 0, whose divisor is 1 instead (its ratio is 0, so that no
    NaN reaches a gradient)."""
    numerator, denominator = sums.split([sums.shape[-1] - 1, 1], dim=-1)
    lost = denominator <= 0
    divisor = torch.where(lost, torch.ones_like(denominator), denominator)
    return numerator / divisor, lost, divisor


class _TableAttention(torch.autograd.Function):
    r"""Attention outputs of rows with a sample's query, from the tables of :class:`_OneLayerReuse`, with a
    backward pass that writes each table's gradient once.

    Row ``r`` (``H`` heads, ``d`` wide) sums two table rows and its ``D`` changed keys,

        S_r = prefix[i_r] + suffix[i'_r] + sum_k w_rk values[key_rk],   w_rk = exp(scores[s_rk]) (0 where masked),

    each ``S`` holding ``(sum w v, sum w)``, and ``y_r = S_r[:d] / S_r[d]``. With ``g = dL/dy``, the gradient of
    ``S_r`` is ``(g / S_r[d], -(g . y_r) / S_r[d])``; it is added into the prefix and suffix rows it came from,
    ``w_rk`` times it into the changed keys' values, and its dot product with those values times ``w_rk`` into
    their scores. Autograd would instead allocate a full table per gathered term and several intermediates per
    row; here each table gradient is one buffer and each row is touched a fixed number of times (the changed
    keys' values are gathered once, all ``D`` together, and kept for the backward pass). Rows whose
    ``sum w`` underflowed are returned as 0 and flagged (see :func:`_ratio`)."""

    @staticmethod
    def forward(ctx, prefix, suffix, scores, values, at_prefix, at_suffix, at_scores, keys, valid):
        sums = prefix.index_select(0, at_prefix)
        sums += suffix.index_select(0, at_suffix)
        weights = torch.exp(scores.index_select(0, at_scores.reshape(-1)).reshape(*keys.shape, scores.shape[-1])
                            .masked_fill_(~valid[..., None], -math.inf))  # (R, D, H)
        changed = values.index_select(0, keys.reshape(-1)).reshape(*keys.shape, *values.shape[1:])  # (R, D, H, w)
        for i in range(keys.shape[1]):
            sums.addcmul_(weights[:, i, :, None], changed[:, i])
        y, lost, denominator = _ratio(sums)
        ctx.save_for_backward(y, denominator, weights, changed, at_prefix, at_suffix, at_scores, keys)
        ctx.table_shapes = prefix.shape, suffix.shape, scores.shape, values.shape
        lost = lost.flatten(1).any(-1)
        ctx.mark_non_differentiable(lost)
        return y, lost

    @staticmethod
    def backward(ctx, grad_y, _grad_lost):
        y, denominator, weights, changed, at_prefix, at_suffix, at_scores, keys = ctx.saved_tensors
        grad = torch.empty(*y.shape[:-1], y.shape[-1] + 1, dtype=y.dtype, device=y.device)
        torch.div(grad_y, denominator, out=grad[..., :-1])
        grad[..., -1] = -torch.einsum("rhd,rhd->rh", grad[..., :-1], y)
        grad_prefix, grad_suffix, grad_scores, grad_values = (torch.zeros(shape, dtype=y.dtype, device=y.device)
                                                              for shape in ctx.table_shapes)
        grad_prefix.index_add_(0, at_prefix, grad)
        grad_suffix.index_add_(0, at_suffix, grad)
        grad_weights = torch.einsum("rkhw,rhw->rkh", changed, grad).mul_(weights)
        grad_scores.index_add_(0, at_scores.reshape(-1), grad_weights.flatten(0, 1))
        for i, column in enumerate(keys.unbind(1)):
            grad_values.index_add_(0, column, grad * weights[:, i, :, None])
        return grad_prefix, grad_suffix, grad_scores, grad_values, None, None, None, None, None


class _OneLayerReuse:
    r"""The pass of a one-layer network over samples ``x`` ``(B, N)`` (network order), and the attention of the
    strings connected to them, formed from tables of that pass instead of attending over their keys.

    Let a string ``c`` differ from its sample ``a`` on one run of consecutive sites ``j..j+D-1``. Position ``p``
    reads outcome ``p - 1`` plus its position embedding, so its query, key and value are the sample's except at
    the changed positions ``C = {j+1, ..., j+D}`` (those ``< N``), and all of them come from tables of the
    ``(K+1) N`` (token, position) pairs. Attention at a position ``p > j`` of ``c`` (per head,
    ``s_pk = q_p . k_k / sqrt(d_head)``, primes for the changed keys) is

        y_p = (sum_{k in U} e^{s_pk - m} v_k + sum_{k in C, k <= p} e^{s'_pk - m} v'_k)
              / (sum_{k in U} e^{s_pk - m} + sum_{k in C, k <= p} e^{s'_pk - m})

    over the unchanged keys ``U`` and the changed keys up to ``p``, for any reference ``m``.

    * ``p`` not in ``C`` (most positions): the query is the sample's, ``U = {0..j} u {j+D+1..p}``. With ``m``
      the largest score that row of the sample can meet (its own keys' and every token's key at every position
      ``<= p``), the sum over ``U`` is a prefix (``k <= j``) plus a suffix (``k >= j + D + 1``) of the sample's
      terms ``e^{s_pk - m} (v_k, 1)``: cumulative sums over ``k`` in both directions are tables, and so are the
      scores ``s'_pk - m``. A position gathers two table rows and ``D`` scores and values.
    * ``p`` in ``C``: the query is the token table's, ``U = {0..j}``: its sum is a table per (sample, token,
      position, ``p - j - 1``), with its own reference, rescaled to include the changed keys'.

    No keys or values are gathered per string and no attention kernel runs; the sums are regrouped, never
    subtracted, so the result equals the direct evaluation up to rounding, in either dtype. (Rounding aside, a
    term is lost only if the reference exceeds its score by more than the dtype's exponent range, ~87 in
    float32: a saturated softmax. A row whose terms all underflow is detected, and its string is rerun on the
    bucketed pass of :meth:`POVMTransformer.log_prob_connected`.) With one head, the output projection's weight
    is applied to the values before the tables are built (it commutes with the normalised sum), so rows skip
    it. The rest of the block (the projection with several heads) and the output layer then run on every
    position ``p > j`` of every string, in chunks of ``_ROWS``. Tables cost ``O(B N^2 d)``
    (cumulative sums) and ``O(B (K+1) N^2 d D)`` (changed queries) per call.
    """

    def __init__(self, net, x, order, dtype):
        block = net.blocks[0]
        attn = block.attn
        batch, n = x.shape
        self.net, self.block, self.order, self.dtype, self.n = net, block, order, dtype, n
        self.tokens = net.n_outcomes + 1  # the outcomes and the start token
        heads, d_head = attn.n_heads, attn.d_head
        self.scale = 1.0 / math.sqrt(d_head)
        self.folded = heads == 1  # the output projection's weight folded into the value tables
        emb = net.token_embedding.weight.to(dtype)[:, None, :] + net.position_embedding.weight[:n].to(dtype)
        self.h_in = emb.reshape(self.tokens * n, -1)  # row t * N + p: the input of position p reading token t
        qkv = _linear(attn.qkv, _layer_norm(block.ln1, self.h_in)).chunk(3, dim=-1)
        self.q_all, self.k_all, self.v_all = (t.reshape(self.tokens * n, heads, d_head) for t in qkv)
        read = net._input_tokens(x) * n + torch.arange(n, device=x.device)  # (B, N) table rows of the samples
        q, k, v = (t[read].transpose(1, 2) for t in (self.q_all, self.k_all, self.v_all))  # (B, H, N, d_head)
        causal = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
        scores = (q @ k.transpose(-1, -2) * self.scale).masked_fill(~causal, -math.inf)
        self._top = scores.amax(-1).detach()  # (B, H, N): the row maxima
        terms = torch.exp(scores - self._top[..., None])  # (B, H, N, N), zero above the diagonal
        y = (terms @ v) / terms.sum(-1, keepdim=True)
        h = block.finish(self.h_in[read], y.transpose(1, 2).reshape(batch, n, -1))
        self.logp = net._log_conditionals(h, order, dtype)
        self.kv = [(k, v)]
        self._q, self._k, self._v, self._scores = q, k, v, scores

    @staticmethod
    def runs(differs, first):
        """The number ``D`` of changed positions of each string (``differs`` ``(G, N)``: where it differs from
        its sample; ``first`` its first difference ``j``) when they are ``j+1..j+D``, else ``N + 1``. Position
        ``k + 1`` reads site ``k``, so a change of the last site changes no position (only its own outcome):
        a term on the periodic bond ``(N-1, 0)`` changes position 1 alone."""
        n = differs.shape[1]
        if n == 1:  # no position reads a site
            return torch.zeros_like(first)
        read = differs[:, :-1]  # the sites that positions 1..N-1 read
        count = read.sum(-1)
        last = n - 2 - read.flip(-1).int().argmax(-1)
        return torch.where(last - first + 1 == count, count, n + 1)

    def _table_values(self, v):
        """Values ``(..., d_head)`` as the tables hold them. With one head, ``W_out v`` (the output projection
        without its bias, which commutes with the normalised sum: ``W_out (sum w v / sum w) = sum w W_out v /
        sum w``), so that no row runs the projection; with several heads ``v`` itself (the projection mixes the
        heads, and folding it in would widen every head's tables to ``d_model``)."""
        return v @ self.block.attn.out.weight.to(self.dtype).t() if self.folded else v

    def prepare(self, depth: int):
        """Build the tables for runs of up to ``depth`` changed positions (class docstring)."""
        q, k, v, scores, n, nt = self._q, self._k, self._v, self._scores, self.n, self.tokens
        batch, heads, _, d_head = q.shape
        self.depth = depth
        k_all = self.k_all.reshape(nt, n, heads, d_head)
        values = self._table_values(self.v_all)
        self.values = torch.cat([values, torch.ones_like(values[..., :1])], -1)  # (v, 1) per token row
        causal = torch.ones(n, n, dtype=torch.bool, device=q.device).tril()
        # Positions with the sample's query. Every score q_p . k a row of theirs can meet -- its own keys and any
        # token's key at any position <= p -- shares the reference m_p = the largest of them, so every term is a
        # table entry: e^{s_pk - m_p} (v_k, 1).
        new = (torch.einsum("bhpd,tkhd->bhptk", q, k_all) * self.scale).masked_fill(~causal[:, None], -math.inf)
        top = torch.maximum(self._top, new.amax((-2, -1))).detach()  # (B, H, N)
        terms = torch.exp(scores - top[..., None]).permute(0, 2, 3, 1)[..., None]  # (B, N_p, N_k, H, 1)
        v = self._table_values(v)
        v1 = torch.cat([v, torch.ones_like(v[..., :1])], -1).transpose(1, 2)[:, None]  # (B, 1, N_k, H, width)
        width = v1.shape[-1]
        # prefix rows (b N + p) N + i: sum_{k <= i}; suffix rows (b N + p) N + i: sum_{k >= N - 1 - i}
        self.prefix = (terms * v1).cumsum(2).reshape(-1, heads, width)
        self.suffix = (terms.flip(2) * v1.flip(2)).cumsum(2).reshape(-1, heads, width)
        # the scores of the sample queries on every token's key, rows ((b N + p) T + t) N + k, and the references
        self.new_scores = (new - top[..., None, None]).permute(0, 2, 3, 4, 1).reshape(-1, heads)
        # Changed positions: the token's query on the sample's keys k < p - lag, rows ((b T + t) N + p) depth + lag,
        # with their reference; the changed keys' values and scores against the token queries.
        q_all = self.q_all.reshape(nt, n, heads, d_head)
        scores = torch.einsum("tphd,bhkd->bthpk", q_all, k) * self.scale  # (B, T, H, N, N)
        p_idx = torch.arange(n, device=q.device)
        sums, tops = [], []
        for lag in range(depth):
            masked = scores.masked_fill(p_idx[None, :] >= (p_idx[:, None] - lag), -math.inf)  # keep k < p - lag
            top = masked.amax(-1).detach()
            top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))  # rows without keys (unused)
            e = torch.exp(masked - top[..., None])
            sums.append(torch.cat([e @ v[:, None], e.sum(-1, keepdim=True)], -1).permute(0, 1, 3, 2, 4))
            tops.append(top.permute(0, 1, 3, 2))  # (B, T, N, H)
        self.query_sums = torch.stack(sums, 3).reshape(-1, heads, width)
        self.query_top = torch.stack(tops, 3).reshape(-1, heads)
        # every token's query on every token's key: rows ((t N + p) T + t') N + k
        self.token_scores = torch.einsum("sphd,tkhd->sptkh", q_all, k_all).reshape(-1, heads) * self.scale

    def _sample_query(self, b, p, j, runs, keys, key_valid):
        """Attention outputs ``(R, H, w)`` of rows at positions ``p`` with the sample's query (``w = d_model``,
        after the projection's weight, with one head; else ``d_head``; samples
        ``b``, first changes ``j``, runs ``runs``, the changed keys' token rows ``keys`` ``(R, D)`` and where they
        count ``key_valid``): sums of table entries, ``k <= j``, ``j + runs < k <= p`` and the changed keys; and
        ``(R,)`` whether a row's terms all underflowed (its reference above every score by the dtype's range)."""
        n, nt = self.n, self.tokens
        row = b * n + p
        return _TableAttention.apply(self.prefix, self.suffix, self.new_scores, self.values, row * n + j,
                                     row * n + n - 2 - j - runs, row[:, None] * (nt * n) + keys, keys, key_valid)

    def _token_query(self, b, p, token, lag, keys, key_valid):
        """Attention outputs ``(R, H, w)`` (as in :meth:`_sample_query`) of rows at changed positions ``p``
        (query of ``token``, ``lag = p - j - 1``): the table sum over ``k <= j`` and the changed keys ``<= p``, on
        a common reference."""
        n, nt = self.n, self.tokens
        table = ((b * nt + token) * n + p) * self.depth + lag
        sums, top = self.query_sums.index_select(0, table), self.query_top.index_select(0, table)
        rows = (token * n + p)[:, None] * (nt * n) + keys
        heads = self.token_scores.shape[-1]
        scores = self.token_scores.index_select(0, rows.reshape(-1)).reshape(*rows.shape, heads)  # (R, D, H)
        scores = scores.masked_fill(~key_valid[..., None], -math.inf)
        ref = torch.maximum(top, scores.amax(1)).detach()
        weights = torch.exp(scores - ref[:, None])
        values = self.values.index_select(0, keys.reshape(-1)).reshape(*keys.shape, *self.values.shape[1:])
        return _ratio(torch.addcmul((weights[..., None] * values).sum(1), torch.exp(top - ref)[..., None], sums))[0]

    def suffix_sums(self, rows, first, runs, strings):
        """``sum_{p > j} log p(c_p | c_<p)`` ``(G,)`` of the strings ``c`` (network order, ``(G, N)``) connected to
        samples ``rows``, each changing positions ``j+1..j+runs`` (``j = first``; class docstring). Every position
        ``p > j`` of every string is one row: its attention from table rows, then the rest of the block and the
        output layer in chunks of ``_ROWS`` rows. Also returns ``(G,)`` whether a string had a row whose terms all
        underflowed (its sum is then not valid: the caller reruns it on the bucketed pass)."""
        n, depth = self.n, self.depth
        device = strings.device
        counts = n - 1 - first
        string = torch.repeat_interleave(torch.arange(strings.shape[0], device=device), counts)
        lag = torch.arange(string.shape[0], device=device) - (torch.cumsum(counts, 0) - counts)[string]
        p = first[string] + 1 + lag
        key_lag = torch.arange(depth, device=device)
        key_pos = (first[:, None] + 1 + key_lag).clamp(max=n - 1)  # the changed positions j+1..j+depth
        keys = strings.gather(1, key_pos - 1) * n + key_pos  # (G, D): their token-table rows
        changed = lag < runs[string]  # positions whose query is the token table's
        sample_rows, token_rows = torch.nonzero(~changed).squeeze(-1), torch.nonzero(changed).squeeze(-1)
        g, at = string[sample_rows], p[sample_rows]
        y_sample, lost = self._sample_query(rows[g], at, first[g], runs[g], keys[g], key_lag < runs[g, None])
        outputs = [y_sample]
        lost = torch.zeros(strings.shape[0], dtype=torch.bool, device=device).index_fill(0, g[lost], True)
        g, at = string[token_rows], p[token_rows]
        valid = (key_lag < runs[g, None]) & (key_pos[g] <= at[:, None])
        outputs.append(self._token_query(rows[g], at, strings[g, at - 1], lag[token_rows], keys[g], valid))
        perm = torch.cat([sample_rows, token_rows])
        string, p = string[perm], p[perm]
        y = torch.cat(outputs).flatten(1)
        inputs = strings[string, p - 1] * n + p  # the rows' token-table rows
        sites = self.order[p] if self.order.ndim == 1 else self.order[rows[string], p]
        layers = _RowLayers(self)
        terms = torch.cat([layers.log_prob(*chunk) for chunk in zip(
            *(t.split(_ROWS) for t in (inputs, y, sites, strings[string, p])), strict=True)]).to(self.net.dtype)
        return torch.zeros(strings.shape[0], dtype=terms.dtype, device=device).index_add(0, string, terms), lost


class _RowLayers:
    r"""The rest of a one-layer network after its attention, for the rows of :class:`_OneLayerReuse`: the
    output projection (its bias only, when folded into the value tables), the feed-forward half of the block, the
    final LayerNorm and the output layer, with the weights cast to the arithmetic dtype once per call instead of
    once per chunk of rows. Each LayerNorm's affine is folded into the linear layer after it,

        W (gamma * n(x) + beta) + b = (W diag gamma) n(x) + (W beta + b),   n(x) = (x - mean x) / sqrt(var x + eps),

    and the output bias of each site into a table, so the rows run the normalisations without affine and each
    linear layer as one ``addmm``; the result equals :meth:`_Block.finish` then
    :meth:`POVMTransformer._log_conditionals` up to rounding. (Both folded products and the table are formed
    differentiably, so the gradients reach every original parameter.)"""

    def __init__(self, reuse: _OneLayerReuse):
        net, block, dtype = reuse.net, reuse.block, reuse.dtype
        cast = lambda t: t.to(dtype)  # noqa: E731
        self.inputs = reuse.h_in + cast(block.attn.out.bias)  # the token-table inputs plus the projection's bias
        self.out_t = None if reuse.folded else cast(block.attn.out.weight).t()
        self.ln2_eps, self.final_eps, self.width = block.ln2.eps, net.final_norm.eps, block.ln2.normalized_shape
        up, down, head = cast(block.mlp[0].weight), block.mlp[2], cast(net.head.weight)
        self.up_t = (up * cast(block.ln2.weight)).t()
        self.up_bias = cast(block.mlp[0].bias) + up @ cast(block.ln2.bias)
        self.down_t, self.down_bias = cast(down.weight).t(), cast(down.bias)
        self.head_t = (head * cast(net.final_norm.weight)).t()
        self.site_bias = cast(net.site_bias) + head @ cast(net.final_norm.bias)  # (N, K)

    def log_prob(self, inputs, y, sites, outcomes):
        """``log p(outcome | prefix)`` ``(R,)`` of rows reading token-table rows ``inputs`` with attention outputs
        ``y`` ``(R, d)`` (see :class:`_OneLayerReuse`), at sites ``sites``, for the outcomes ``outcomes``."""
        x = self.inputs.index_select(0, inputs)
        x = x + y if self.out_t is None else torch.addmm(x, y, self.out_t)
        hidden = nn.functional.gelu(torch.addmm(self.up_bias, nn.functional.layer_norm(x, self.width,
                                                                                         eps=self.ln2_eps),
                                                self.up_t))
        x = torch.addmm(x + self.down_bias, hidden, self.down_t)
        logits = torch.addmm(self.site_bias.index_select(0, sites),
                             nn.functional.layer_norm(x, self.width, eps=self.final_eps), self.head_t)
        return logits.gather(-1, outcomes[:, None]).squeeze(-1) - torch.logsumexp(logits, -1)


class POVMTransformer(nn.Module):
    """Autoregressive transformer density ``P(a) = prod_k p(a_k | a_<k)`` over POVM outcome strings.

    Parameters
    ----------
    n_sites : number of qubits N.
    n_outcomes : outcomes per qubit (4 for an informationally complete qubit POVM).
    d_model, n_layers, n_heads : width, depth and heads (``d_model % n_heads == 0``). The published runs
        used ``d_model=32, n_layers=1, n_heads=1``.
    d_ff : hidden width of the feed-forward layer (default ``4 * d_model``).
    initial_probs : the initial product distribution: shape ``(n_outcomes,)`` (same on every site) or
        ``(N, n_outcomes)``; rows must be probability vectors. Default uniform.
    precision : ``"double"`` (float64, default) or ``"single"`` (float32).
    device : ``"cpu"``, ``"cuda"`` or ``"auto"`` (through :func:`qdyn.devices.resolve_device`).
    seed : seed of the weight initialisation (int, numpy Generator or None; recorded in ``self.seed``).
    """

    def __init__(self, n_sites: int, *, n_outcomes: int = 4, d_model: int = 32, n_layers: int = 1,
                 n_heads: int = 1, d_ff: int | None = None, initial_probs=None, precision: str = "double",
                 device: str = "cpu", seed=None):
        super().__init__()
        self.n_sites = check_int("n_sites", n_sites, minimum=1)
        self.n_outcomes = check_int("n_outcomes", n_outcomes, minimum=2)
        d_model = check_int("d_model", d_model, minimum=1)
        n_layers = check_int("n_layers", n_layers, minimum=1)
        n_heads = check_int("n_heads", n_heads, minimum=1)
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        d_ff = 4 * d_model if d_ff is None else check_int("d_ff", d_ff, minimum=1)
        check_choice("precision", precision, ("double", "single"))
        self.precision = precision
        self.device_name = resolve_device(device)
        _, self.seed = make_rng(seed)
        self.config = {"n_sites": self.n_sites, "n_outcomes": self.n_outcomes, "d_model": d_model,
                       "n_layers": n_layers, "n_heads": n_heads, "d_ff": d_ff, "precision": precision}
        log_p0 = _initial_log_probs(initial_probs, self.n_sites, self.n_outcomes)

        # Initialise on the CPU from our own seed, independent of torch's global RNG and of the device.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed % 2**63)
            self.token_embedding = nn.Embedding(self.n_outcomes + 1, d_model)  # last index: start token
            self.position_embedding = nn.Embedding(self.n_sites, d_model)
            self.blocks = nn.ModuleList(_Block(d_model, n_heads, d_ff) for _ in range(n_layers))
            self.final_norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, self.n_outcomes, bias=False)
        nn.init.zeros_(self.head.weight)
        self.site_bias = nn.Parameter(torch.as_tensor(log_p0))
        self.to(device=self.device_name, dtype=torch_dtype(precision, complex_=False))

    # -- helpers -------------------------------------------------------------------------------------
    @property
    def dtype(self):
        return self.site_bias.dtype

    @property
    def device(self):
        return self.site_bias.device

    def _order(self, order):
        """Validate a site ordering: ``(N,)``, or ``(B, N)`` with one ordering per row."""
        if order is None:
            return torch.arange(self.n_sites, device=self.device)
        order = torch.as_tensor(order, dtype=torch.int64, device=self.device)
        if order.ndim not in (1, 2) or order.shape[-1] != self.n_sites or not torch.equal(
                torch.sort(order, dim=-1).values,
                torch.arange(self.n_sites, device=self.device).expand(order.shape)):
            raise ValueError(f"order must be a permutation of the sites 0..{self.n_sites - 1} "
                             f"(shape ({self.n_sites},) or (batch, {self.n_sites}))")
        return order

    def _check_strings(self, a):
        a = torch.as_tensor(a, device=self.device)
        if a.dtype.is_floating_point or a.dtype.is_complex or a.dtype == torch.bool:
            raise TypeError(f"outcome strings must be an integer tensor, got {a.dtype}")
        if a.ndim != 2 or a.shape[1] != self.n_sites:
            raise ValueError(f"outcome strings must have shape (batch, {self.n_sites}), got {tuple(a.shape)}")
        if a.numel() and (int(a.min()) < 0 or int(a.max()) >= self.n_outcomes):
            raise ValueError(f"outcomes must lie in 0..{self.n_outcomes - 1}")
        return a.long()

    # -- densities -----------------------------------------------------------------------------------
    def _compute_dtype(self, precision):
        """The dtype of the network's arithmetic: its own (``precision=None``), or float32/float64 for
        ``"single"``/``"double"`` (the parameters keep their dtype; gradients reach them in it)."""
        if precision is None:
            return self.dtype
        check_choice("precision", precision, ("double", "single"))
        return torch_dtype(precision, complex_=False)

    def _run(self, tokens, first: int, order, past=None, dtype=None):
        """Log-conditionals ``(B, L, K)`` of positions ``first..first+L-1`` read from input ``tokens`` ``(B, L)``
        (position k reads outcome k-1; the start token at k = 0), with ``past`` the per-layer keys/values of
        positions ``< first``; also returns this pass's per-layer keys/values. Arithmetic in ``dtype`` (default
        the network's)."""
        length = tokens.shape[1]
        dtype = self.dtype if dtype is None else dtype
        h = nn.functional.embedding(tokens, self.token_embedding.weight.to(dtype)) \
            + self.position_embedding.weight[first:first + length].to(dtype)
        kv = []
        for i, block in enumerate(self.blocks):
            h, layer_kv = block(h, None if past is None else past[i])
            kv.append(layer_kv)
        return self._log_conditionals(h, order[..., first:first + length], dtype), kv

    def _log_conditionals(self, h, sites, dtype):
        """``log p(. | prefix)`` ``(..., K)`` from last hidden states ``h`` ``(..., d)``: final LayerNorm, output
        layer and the output bias of the sites ``sites`` the positions hold (broadcast against ``h[..., 0]``:
        e.g. ``(L,)`` for one ordering of a batch). The bias rows are gathered by ``index_select``, whose gradient
        is a plain index-add (tensor indexing accumulates through a sort)."""
        bias = self.site_bias.to(dtype).index_select(0, sites.reshape(-1)).reshape(*sites.shape, -1)
        return torch.log_softmax(_linear(self.head, _layer_norm(self.final_norm, h)) + bias, dim=-1)

    def _input_tokens(self, x):
        start = torch.full((x.shape[0], 1), self.n_outcomes, dtype=torch.int64, device=self.device)
        return torch.cat([start, x[:, :-1]], dim=1)

    def conditional_log_probs(self, x, order=None, *, validate: bool = True, precision: str | None = None):
        """``log p(. | x_<k)`` for every position: shape ``(B, N, n_outcomes)``.

        ``x`` holds the outcomes in *network* order (position k = site ``order[k]``); ``order`` is ``(N,)`` or
        ``(B, N)`` (one ordering per row), and only selects the per-site output bias. ``validate=False`` skips
        the checks of ``x`` and ``order`` (which read their values, so that ``torch.func.vmap`` can map over
        strings). ``precision`` (``"single"``/``"double"``; default the network's own) is the dtype of the
        arithmetic and of the result.
        """
        x = self._check_strings(x) if validate else x
        order = self._order(order) if validate or order is None else order
        return self._run(self._input_tokens(x), 0, order, dtype=self._compute_dtype(precision))[0]

    def log_prob(self, a, order=None, *, validate: bool = True, precision: str | None = None):
        """``log P(a)`` for outcome strings ``a`` of shape ``(B, N)`` (site order); differentiable.

        With ``order`` (a permutation of the sites), the network reads the sites in that order:
        ``log P(a) = sum_k log p(a_{order[k]} | a_{order[<k]})``. ``validate`` as in
        :meth:`conditional_log_probs`; ``precision`` is the dtype of the network's arithmetic (default its own),
        the conditionals being summed in the network's dtype.
        """
        a = self._check_strings(a) if validate else a
        order_t = self._order(order) if validate or order is None else order
        x = a.gather(1, order_t.expand(a.shape))
        logp = self.conditional_log_probs(x, order_t, validate=False, precision=precision)
        return logp.gather(-1, x.unsqueeze(-1)).squeeze(-1).to(self.dtype).sum(-1)

    def forward(self, a, order=None, *, validate: bool = True):
        return self.log_prob(a, order, validate=validate)

    def log_prob_connected(self, a, connected, order=None, *, rows=None, precision: str | None = None):
        """``(log P(a), log P(c))`` for samples ``a`` ``(B, N)`` and strings ``c`` connected to them, reusing each
        sample's cached keys and values: equal to :meth:`log_prob` on every string.

        ``connected``: ``(B, M, N)`` (``M`` strings per sample; returns ``log P(c)`` of shape ``(B, M)``), or, with
        ``rows`` (an int tensor ``(G,)``), ``(G, N)`` strings, string ``g`` connected to sample ``rows[g]``
        (returns ``(G,)``). ``order``: ``(N,)`` or ``(B, N)``. ``precision`` as in :meth:`log_prob`.

        If ``c`` first differs from its sample ``a`` at network position ``j``, the causal network gives ``c`` the
        hidden states, keys and values of ``a`` at every position ``<= j`` and every layer (they see ``a_<j``
        only), so

            log P(c) = sum_{k<j} log p(a_k | a_<k) + log p(c_j | a_<j) + sum_{k>j} log p(c_k | c_<k),

        the first two terms read from the one pass over ``a``, and only positions ``j+1..N-1`` are run, attending
        to ``a``'s cached keys/values for the positions before them, so the work is ``sum_c (N - 1 - j_c)``
        positions against ``N`` per string for :meth:`log_prob`. Strings equal to their sample cost nothing.
        With one layer, a string that changes one run of at most ``_MAX_RUN`` consecutive positions (one- and
        two-site terms along the ordering) gets the attention of those positions from tables of the samples'
        pass (:class:`_OneLayerReuse`: two gathered sums and the changed keys per position, no attention over
        the keys), and only the rest of the block runs per position. Every other string (several layers,
        scattered changes) reruns the layers in one batched pass per bucket of first positions (at most
        ``_BUCKETS``; a bucket starts at its smallest ``j + 1``, and the positions of a string up to its own
        ``j`` are ``a``'s and are not summed).
        """
        a = self._check_strings(a)
        batch, n = a.shape
        if rows is None:
            if connected.ndim != 3 or connected.shape[0] != batch or connected.shape[2] != n:
                raise ValueError(f"connected strings must have shape ({batch}, M, {n}), "
                                 f"got {tuple(connected.shape)}")
            slots = connected.shape[1]
            flat = self._check_strings(connected.reshape(batch * slots, n))
            rows_t = torch.arange(batch, device=self.device).repeat_interleave(slots)
        else:
            rows_t = torch.as_tensor(rows, device=self.device)
            if rows_t.dtype.is_floating_point or rows_t.ndim != 1 or connected.ndim != 2 \
                    or connected.shape != (rows_t.shape[0], n):
                raise ValueError(f"with rows (G,) the connected strings must have shape (G, {n}); got rows of "
                                 f"shape {tuple(rows_t.shape)} and strings {tuple(connected.shape)}")
            if rows_t.numel() and (int(rows_t.min()) < 0 or int(rows_t.max()) >= batch):
                raise ValueError(f"rows must index the {batch} samples")
            flat, rows_t = self._check_strings(connected), rows_t.long()
        order = self._order(order)
        wide = order.expand(batch, n)
        logp_a, logp_c = self._connected(a.gather(1, wide), flat.gather(1, wide[rows_t]), rows_t, order,
                                         self._compute_dtype(precision))
        return logp_a, (logp_c.reshape(batch, slots) if rows is None else logp_c)

    def _connected(self, x, xc, rows, order, dtype):
        """:meth:`log_prob_connected` in network order: samples ``x`` ``(B, N)``, strings ``xc`` ``(G, N)``
        connected to ``x[rows]``, ``order`` ``(N,)`` or ``(B, N)``; sums in the network's dtype.

        A one-layer network whose string changes one run of at most ``_MAX_RUN`` consecutive positions takes
        :class:`_OneLayerReuse` (its attention from tables of the samples' pass); any other string reruns the
        layers on the sample's cached keys/values (:meth:`_rerun`), one batched pass per bucket of first
        positions (``_buckets``)."""
        n = x.shape[1]
        reuse = _OneLayerReuse(self, x, order, dtype) if len(self.blocks) == 1 else None
        logp, kv = (reuse.logp, reuse.kv) if reuse else self._run(self._input_tokens(x), 0, order, dtype=dtype)
        chosen = logp.gather(-1, x.unsqueeze(-1)).squeeze(-1).to(self.dtype)  # (B, N)
        prefix = torch.cat([torch.zeros_like(chosen[:, :1]), chosen.cumsum(1)], 1)  # prefix[:, j] = sum_{k<j}
        differs = xc != x[rows]
        first = torch.where(differs.any(-1), differs.int().argmax(-1), n)  # first differing position (n: none)
        at_first = first.clamp(max=n - 1)
        at_j = logp[rows, at_first].gather(-1, xc.gather(1, at_first[:, None])).squeeze(-1).to(self.dtype)
        out = prefix[rows, first] + torch.where(first < n, at_j, torch.zeros_like(at_j))
        suffix = first < n - 1  # strings with positions to run
        runs = _OneLayerReuse.runs(differs, first) if reuse else None
        tabled = suffix & (runs <= _MAX_RUN) if reuse else torch.zeros_like(suffix)
        if bool(tabled.any()):
            reuse.prepare(int(runs[tabled].max()))
            fast = torch.nonzero(tabled).squeeze(-1)
            sums, lost = reuse.suffix_sums(rows[fast], first[fast], runs[fast], xc[fast])
            out = out.index_add(0, fast[~lost], sums[~lost])
            tabled[fast[lost]] = False  # a saturated softmax underflowed the tables: the bucketed pass reruns them
        slow = torch.nonzero(suffix & ~tabled).squeeze(-1)
        if slow.numel():
            positions = torch.arange(n, device=self.device)
            for members, s in _buckets(slow, first, n):
                logp_tail = self._rerun(kv, rows[members], xc[members], s, order, dtype)
                terms = logp_tail.gather(-1, xc[members, s:, None]).squeeze(-1).to(self.dtype)
                after = positions[None, s:] > first[members][:, None]  # positions k > j of each string
                out = out.index_add(0, members, torch.where(after, terms, torch.zeros_like(terms)).sum(-1))
        return chosen.sum(1), out

    def _rerun(self, kv, rows, strings, start: int, order, dtype):
        """Log-conditionals ``(G, N - start, K)`` of positions ``start..N-1`` of ``strings`` (network order), every
        layer rerun from ``start`` on the keys/values ``kv`` of their samples ``rows`` at positions ``< start``."""
        n = strings.shape[1]
        past = [(k[:, :, :start].index_select(0, rows), v[:, :, :start].index_select(0, rows)) for k, v in kv]
        return self._run(strings[:, start - 1:n - 1], start, order if order.ndim == 1 else order[rows], past,
                         dtype)[0]

    def probabilities(self):
        """The full distribution ``P`` as a ``(n_outcomes**N,)`` tensor (N <= 10), site 0 least significant."""
        with torch.no_grad():
            strings = all_outcome_strings(self.n_sites, self.n_outcomes).to(self.device)
            return torch.exp(self.log_prob(strings))

    # -- exact sampling ------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n_samples: int, *, generator=None, order=None, return_log_prob: bool = False):
        """Draw ``n_samples`` independent exact samples ``a ~ P`` (ancestral sampling, no Markov chain).

        Positions are generated one at a time; each attends to the cached keys/values of the positions
        before it, the causal mask of :meth:`log_prob`. ``generator`` is a ``torch.Generator`` on the
        model's device (see :func:`qdyn.seeding.torch_generator`). Returns ``(n_samples, N)`` int64 strings in
        site order (and their ``log P`` computed along the way when ``return_log_prob``).
        """
        n_samples = check_int("n_samples", n_samples, minimum=1)
        order = self._order(order)
        if order.ndim != 1:
            raise ValueError("sample() takes one ordering of shape (N,)")
        blocks = list(self.blocks)
        attn0 = blocks[0].attn
        shape = (n_samples, attn0.n_heads, self.n_sites, attn0.d_head)
        caches = [(torch.empty(shape, dtype=self.dtype, device=self.device),
                   torch.empty(shape, dtype=self.dtype, device=self.device)) for _ in blocks]
        x = torch.empty(n_samples, self.n_sites, dtype=torch.int64, device=self.device)
        log_p = torch.zeros(n_samples, dtype=self.dtype, device=self.device)
        token = torch.full((n_samples,), self.n_outcomes, dtype=torch.int64, device=self.device)
        for pos in range(self.n_sites):
            h = self.token_embedding(token) + self.position_embedding.weight[pos]
            for block, (ck, cv) in zip(blocks, caches, strict=True):
                h = block.step(h, ck, cv, pos)
            logits = self.head(self.final_norm(h)) + self.site_bias[order[pos]]
            logp_pos = torch.log_softmax(logits, dim=-1)
            token = torch.multinomial(torch.exp(logp_pos), 1, generator=generator).squeeze(-1)
            x[:, pos] = token
            log_p += logp_pos.gather(-1, token.unsqueeze(-1)).squeeze(-1)
        a = torch.empty_like(x)
        a[:, order] = x
        return (a, log_p) if return_log_prob else a


def _initial_log_probs(initial_probs, n_sites: int, n_outcomes: int) -> np.ndarray:
    """Validate the initial product distribution and return per-site log-probabilities ``(N, K)``."""
    if initial_probs is None:
        p = np.full((n_sites, n_outcomes), 1.0 / n_outcomes)
    else:
        try:
            p = np.asarray(initial_probs.detach().cpu().numpy() if hasattr(initial_probs, "detach")
                           else initial_probs, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError("initial_probs must be an array of probabilities") from exc
        if p.shape == (n_outcomes,):
            p = np.broadcast_to(p, (n_sites, n_outcomes))
        if p.shape != (n_sites, n_outcomes):
            raise ValueError(f"initial_probs must have shape ({n_outcomes},) or ({n_sites}, {n_outcomes}), "
                             f"got {p.shape}")
        if not np.all(np.isfinite(p)) or np.any(p < -1e-12) or not np.allclose(p.sum(-1), 1.0, atol=1e-10):
            raise ValueError("initial_probs rows must be non-negative and sum to 1")
    # log 0 -> a large negative finite logit, so the outcome gets probability 0 to double precision
    # while gradients stay finite.
    return np.log(np.clip(p, 1e-300, None))


