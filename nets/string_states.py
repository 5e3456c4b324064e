"""String states: an autoregressive density averaged over several site orderings sharing one network.

Given orderings ("strings") s_1, ..., s_S of the N sites, each a permutation, the string state is

    P(a) = (1/S) sum_s P_net(a | s),     P_net(a | s) = prod_k p(a_{s[k]} | a_{s[<k]}),

(Luo, Chen, Carrasquilla, Clark, PRL 128, 090501 (2022)). It is a mixture, so it is still sampled exactly: pick
a string uniformly, then sample the network along it. When the strings are the images of one string under a
group of site permutations g (translations and reflections of a chain; the symmetries of a square lattice), then
``P(g a) = P(a)`` exactly, whatever the network weights. In 2D the snake paths of :func:`snake_strings` make every
nearest-neighbour pair adjacent along at least one string.

Site convention for a ``lx x ly`` lattice: site ``i = x + lx * y`` (x the column, y the row).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from qdyn.errors import check_int

__all__ = ["StringState", "chain_strings", "snake_strings"]


def chain_strings(n_sites: int, *, translations: bool = True, reflections: bool = True) -> np.ndarray:
    """Orderings of a periodic chain: the images of ``0, 1, ..., N-1`` under translations and/or reflection.

    Returns an ``(S, N)`` int array, row s listing the sites in the order the network reads them:
    ``(t + k) mod N`` for each translation t, and ``(t - k) mod N`` for the reflected strings. With both flags,
    S = 2N strings closed under the dihedral group of the ring.
    """
    n = check_int("n_sites", n_sites, minimum=1)
    shifts = range(n) if translations else [0]
    k = np.arange(n)
    rows = [(t + k) % n for t in shifts]
    if reflections:
        rows += [(t - k) % n for t in shifts]
    return _unique_rows(np.array(rows))


def snake_strings(lx: int, ly: int) -> np.ndarray:
    """Snake (boustrophedon) paths of an ``lx x ly`` lattice from each of the four corners, row-wise and
    column-wise: up to 8 strings. Row snakes make horizontal neighbours adjacent, column snakes vertical ones."""
    lx = check_int("lx", lx, minimum=1)
    ly = check_int("ly", ly, minimum=1)
    rows = []
    for flip_x in (False, True):
        for flip_y in (False, True):
            coords_row, coords_col = [], []
            for y in range(ly):  # row-wise snake
                xs = range(lx) if y % 2 == 0 else range(lx - 1, -1, -1)
                coords_row += [(x, y) for x in xs]
            for x in range(lx):  # column-wise snake
                ys = range(ly) if x % 2 == 0 else range(ly - 1, -1, -1)
                coords_col += [(x, y) for y in ys]
            for coords in (coords_row, coords_col):
                rows.append([(lx - 1 - x if flip_x else x) + lx * (ly - 1 - y if flip_y else y) for x, y in coords])
    return _unique_rows(np.array(rows))


def _unique_rows(rows: np.ndarray) -> np.ndarray:
    _, first = np.unique(rows, axis=0, return_index=True)
    return rows[np.sort(first)]


class StringState(nn.Module):
    """Mixture ``P(a) = (1/S) sum_s P_net(a | s)`` of one autoregressive network read along S site orderings.

    ``net`` is a :class:`qdyn.nets.povm_transformer.POVMTransformer`; ``strings`` an ``(S, N)`` array of site
    permutations (e.g. :func:`chain_strings`, :func:`snake_strings`). Same interface as the network:
    :meth:`log_prob`, :meth:`sample`, :meth:`probabilities`, ``n_sites``, ``n_outcomes``, ``dtype``, ``device``.
    """

    def __init__(self, net, strings):
        super().__init__()
        if not isinstance(net, nn.Module) or not hasattr(net, "log_prob") or not hasattr(net, "sample"):
            raise TypeError(f"net must be a POVMTransformer, got {type(net).__name__}")
        self.net = net
        arr = np.asarray(strings)
        if arr.ndim != 2 or arr.shape[1] != net.n_sites or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"strings must be an integer array of shape (S, {net.n_sites}), got shape {arr.shape}")
        if not np.all(np.sort(arr, axis=1) == np.arange(net.n_sites)):
            raise ValueError("every string must be a permutation of the sites 0..N-1")
        self.register_buffer("strings", torch.as_tensor(arr, dtype=torch.int64, device=net.device))

    n_sites = property(lambda self: self.net.n_sites)
    n_outcomes = property(lambda self: self.net.n_outcomes)
    dtype = property(lambda self: self.net.dtype)
    device = property(lambda self: self.net.device)
    seed = property(lambda self: self.net.seed)

    @property
    def n_strings(self) -> int:
        return int(self.strings.shape[0])

    def log_prob(self, a, *, validate: bool = True, precision: str | None = None):
        """``log P(a) = logsumexp_s log P_net(a | s) - log S``; all strings in one batched network call.
        ``validate=False`` skips the checks of ``a`` (for ``torch.func.vmap``); ``precision`` is the dtype of the
        network's arithmetic (see :meth:`~qdyn.nets.povm_transformer.POVMTransformer.log_prob`)."""
        a = self.net._check_strings(a) if validate else a
        batch, n_str = a.shape[0], self.n_strings
        # Row (s, b) holds sample b read along string s: x[s, b, k] = a[b, strings[s, k]].
        x = a[:, self.strings].permute(1, 0, 2).reshape(n_str * batch, self.n_sites)
        logp = self.net.conditional_log_probs(x, order=self.strings.repeat_interleave(batch, 0), validate=False,
                                              precision=precision)
        per_string = logp.gather(-1, x.unsqueeze(-1)).squeeze(-1).to(self.dtype).sum(-1).reshape(n_str, batch)
        return torch.logsumexp(per_string, dim=0) - math.log(n_str)

    def forward(self, a, *, validate: bool = True):
        return self.log_prob(a, validate=validate)

    def log_prob_connected(self, a, connected, *, rows=None, precision: str | None = None):
        """``(log P(a), log P(c))`` for samples ``a`` ``(B, N)`` and connected strings ``c`` (``(B, M, N)``, or
        ``(G, N)`` with ``rows``, as in :meth:`~qdyn.nets.povm_transformer.POVMTransformer.log_prob_connected`):
        each ordering reuses the cached keys/values of its own reading of the sample; the orderings are combined
        as in :meth:`log_prob`."""
        a = self.net._check_strings(a)
        batch, n_str = a.shape[0], self.n_strings
        connected = torch.as_tensor(connected, device=self.device)
        if rows is None:
            if connected.ndim != 3 or connected.shape[0] != batch:
                raise ValueError(f"connected strings must have shape ({batch}, M, {self.n_sites}), "
                                 f"got {tuple(connected.shape)}")
            shape = connected.shape[:2]
            rows = torch.arange(batch, device=self.device).repeat_interleave(shape[1])
            connected = connected.reshape(-1, connected.shape[-1])
        else:
            shape = None
            rows = torch.as_tensor(rows, device=self.device)
        # Sample b read along string s is row s * batch + b.
        shifted = (rows.long()[None, :] + batch * torch.arange(n_str, device=self.device)[:, None]).reshape(-1)
        logp_a, logp_c = self.net.log_prob_connected(a.repeat(n_str, 1), connected.repeat(n_str, 1),
                                                     order=self.strings.repeat_interleave(batch, 0), rows=shifted,
                                                     precision=precision)
        shift = math.log(n_str)
        logp_c = torch.logsumexp(logp_c.reshape(n_str, -1), 0) - shift
        return (torch.logsumexp(logp_a.reshape(n_str, batch), 0) - shift,
                logp_c if shape is None else logp_c.reshape(shape))

    def probabilities(self):
        """The full distribution (N <= 10), site 0 least significant."""
        from qdyn.nets.povm_transformer import all_outcome_strings

        with torch.no_grad():
            return torch.exp(self.log_prob(all_outcome_strings(self.n_sites, self.n_outcomes).to(self.device)))

    @torch.no_grad()
    def sample(self, n_samples: int, *, generator=None, return_log_prob: bool = False):
        """Exact samples: each draws a string uniformly, then samples the network along it."""
        n_samples = check_int("n_samples", n_samples, minimum=1)
        which = torch.randint(self.n_strings, (n_samples,), generator=generator, device=self.device)
        a = torch.empty(n_samples, self.n_sites, dtype=torch.int64, device=self.device)
        for s in range(self.n_strings):
            rows = torch.nonzero(which == s).squeeze(-1)
            if rows.numel():
                a[rows] = self.net.sample(int(rows.numel()), generator=generator, order=self.strings[s])
        return (a, self.log_prob(a)) if return_log_prob else a
