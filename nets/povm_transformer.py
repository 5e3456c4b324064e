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


class _CausalSelfAttention(nn.Module):
    """Multi-head self-attention with a causal mask and a key/value cache for step-by-step decoding."""

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
        q, k, v = (self._split(t) for t in self.qkv(x).chunk(3, dim=-1))
        keys, values = (k, v) if past is None else (torch.cat([past[0], k], -2), torch.cat([past[1], v], -2))
        offset = keys.shape[-2] - length
        scores = q @ keys.transpose(-1, -2) / math.sqrt(self.d_head)
        causal = torch.ones(length, keys.shape[-2], dtype=torch.bool, device=x.device).tril(offset)
        scores = scores.masked_fill(~causal, float("-inf"))
        y = torch.softmax(scores, dim=-1) @ values
        return self.out(y.transpose(-3, -2).reshape(x.shape)), (k, v)

    def step(self, x, cache_k, cache_v, pos: int):
        """One position ``x`` of shape ``(B, d)``; writes its key/value into the caches ``(B, H, N, d_head)``
        at ``pos`` and attends to cached positions 0..pos (the causal mask of the full pass)."""
        q, k, v = (t.reshape(t.shape[0], self.n_heads, self.d_head) for t in self.qkv(x).chunk(3, dim=-1))
        cache_k[:, :, pos] = k
        cache_v[:, :, pos] = v
        keys, values = cache_k[:, :, : pos + 1], cache_v[:, :, : pos + 1]
        scores = torch.einsum("bhd,bhld->bhl", q, keys) / math.sqrt(self.d_head)
        y = torch.einsum("bhl,bhld->bhd", torch.softmax(scores, dim=-1), values)
        return self.out(y.reshape(x.shape))


class _Block(nn.Module):
    """Pre-LayerNorm transformer block: ``x + Attn(LN(x))`` then ``x + MLP(LN(x))``."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = _CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))

    def forward(self, x, past=None):
        y, kv = self.attn(self.ln1(x), past)
        x = x + y
        return x + self.mlp(self.ln2(x)), kv

    def step(self, x, cache_k, cache_v, pos: int):
        x = x + self.attn.step(self.ln1(x), cache_k, cache_v, pos)
        return x + self.mlp(self.ln2(x))


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
    def _run(self, tokens, first: int, order, past=None):
        """Log-conditionals ``(B, L, K)`` of positions ``first..first+L-1`` read from input ``tokens`` ``(B, L)``
        (position k reads outcome k-1; the start token at k = 0), with ``past`` the per-layer keys/values of
        positions ``< first``; also returns this pass's per-layer keys/values."""
        length = tokens.shape[1]
        h = self.token_embedding(tokens) + self.position_embedding.weight[first:first + length]
        kv = []
        for i, block in enumerate(self.blocks):
            h, layer_kv = block(h, None if past is None else past[i])
            kv.append(layer_kv)
        bias = self.site_bias[order[..., first:first + length]]
        return torch.log_softmax(self.head(self.final_norm(h)) + bias, dim=-1), kv

    def _input_tokens(self, x):
        start = torch.full((x.shape[0], 1), self.n_outcomes, dtype=torch.int64, device=self.device)
        return torch.cat([start, x[:, :-1]], dim=1)

    def conditional_log_probs(self, x, order=None, *, validate: bool = True):
        """``log p(. | x_<k)`` for every position: shape ``(B, N, n_outcomes)``.

        ``x`` holds the outcomes in *network* order (position k = site ``order[k]``); ``order`` is ``(N,)`` or
        ``(B, N)`` (one ordering per row), and only selects the per-site output bias. ``validate=False`` skips
        the checks of ``x`` and ``order`` (which read their values, so that ``torch.func.vmap`` can map over
        strings).
        """
        x = self._check_strings(x) if validate else x
        order = self._order(order) if validate or order is None else order
        return self._run(self._input_tokens(x), 0, order)[0]

    def log_prob(self, a, order=None, *, validate: bool = True):
        """``log P(a)`` for outcome strings ``a`` of shape ``(B, N)`` (site order); differentiable.

        With ``order`` (a permutation of the sites), the network reads the sites in that order:
        ``log P(a) = sum_k log p(a_{order[k]} | a_{order[<k]})``. ``validate`` as in
        :meth:`conditional_log_probs`.
        """
        a = self._check_strings(a) if validate else a
        order_t = self._order(order) if validate or order is None else order
        x = a.gather(1, order_t.expand(a.shape))
        logp = self.conditional_log_probs(x, order_t, validate=False)
        return logp.gather(-1, x.unsqueeze(-1)).squeeze(-1).sum(-1)

    def forward(self, a, order=None, *, validate: bool = True):
        return self.log_prob(a, order, validate=validate)

    def log_prob_connected(self, a, connected, order=None):
        """``(log P(a), log P(c))`` for strings ``a`` ``(B, N)`` and strings ``c`` ``(B, M, N)`` connected to them,
        sharing the prefix work: equal to :meth:`log_prob` on each string, in one pass over ``a`` plus one pass
        per suffix length.

        If ``c`` first differs from ``a`` at network position ``j`` (along ``order``), the causal network gives
        ``c`` the same hidden states, keys and values as ``a`` at every position ``<= j`` and every layer (they
        see ``a_<j`` only), so ``log P(c) = sum_{k<j} log p(a_k|a_<k) + log p(c_j|a_<j) + sum_{k>j} ...`` and only
        positions ``j+1..N-1`` are run, attending to the cached keys/values of ``a`` for positions ``<= j``.
        Strings equal to ``a`` cost nothing. ``order``: ``(N,)`` or ``(B, N)``.
        """
        a = self._check_strings(a)
        batch, n = a.shape
        if connected.ndim != 3 or connected.shape[0] != batch or connected.shape[2] != n:
            raise ValueError(f"connected strings must have shape ({batch}, M, {n}), got {tuple(connected.shape)}")
        slots = connected.shape[1]
        connected = self._check_strings(connected.reshape(batch * slots, n)).reshape(batch, slots, n)
        order = self._order(order).expand(batch, n)
        x = a.gather(1, order)
        xc = connected.gather(2, order[:, None, :].expand(batch, slots, n))
        logp, kv = self._run(self._input_tokens(x), 0, order)
        chosen = logp.gather(-1, x.unsqueeze(-1)).squeeze(-1)  # (B, N)
        prefix = torch.cat([torch.zeros_like(chosen[:, :1]), chosen.cumsum(1)], 1)  # prefix[:, j] = sum_{k<j}
        differs = xc != x[:, None, :]
        first = torch.where(differs.any(-1), differs.int().argmax(-1), n)  # first differing position (n: none)
        rows = torch.arange(batch, device=self.device)[:, None].expand(batch, slots)
        out = prefix[rows, first].clone()  # log P of positions < j (all of a when c = a)
        changed = first < n
        j_safe = first.clamp(max=n - 1)
        at_j = logp[rows, j_safe].gather(-1, xc.gather(2, j_safe[..., None])).squeeze(-1)
        out = out + torch.where(changed, at_j, torch.zeros_like(at_j))
        for j in range(n - 1):
            b_idx, m_idx = torch.nonzero(first == j, as_tuple=True)
            if b_idx.numel() == 0:
                continue
            past = [(k[b_idx, :, : j + 1], v[b_idx, :, : j + 1]) for k, v in kv]
            tail = xc[b_idx, m_idx]  # (G, N)
            logp_tail, _ = self._run(tail[:, j:n - 1], j + 1, order[b_idx], past)
            suffix = logp_tail.gather(-1, tail[:, j + 1:, None]).squeeze(-1).sum(-1)
            out = out.index_put((b_idx, m_idx), suffix, accumulate=True)
        return chosen.sum(1), out

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


