"""The Lindbladian in POVM space, ``dP/dt = L P``, as a sum of local ``4^k x 4^k`` tensors.

With an informationally complete product POVM (:class:`~qdyn.open.povm.POVM`), ``rho = sum_b P(b) N^b`` turns
the master equation into ``dP(a)/dt = sum_b L_ab P(b)``, ``L_ab = Tr[M^a L(N^b)]`` (Luo et al., PRL 128, 090501
(2022)). ``L`` is real and its columns sum to zero (``sum_a M^a = 1`` and ``L`` preserves the trace). A
Lindbladian made of local terms ``L = sum_S L_S (x) id`` (:meth:`Lindbladian.local_terms`, grouped by support
``S``) gives, because the frame is a product and ``sum_b Tr[M^a N^b] = delta_ab`` on the untouched sites,

    L = sum_S  T_S (x) 1,      T_S[a_S, b_S] = Tr[ M^{a_S} L_S(N^{b_S}) ]    (a 4^|S| x 4^|S| real tensor),

so ``(L P)(a)`` needs only the strings ``b`` that differ from ``a`` on one term's sites. The tensors are built
generically from any :class:`Lindbladian` (not per model); entries below ``zero_atol`` times the largest
entry of a tensor are set to exactly zero and skipped.

Local tensor index: ``a_S = sum_j a[sites[j]] 4^j`` (the term's first site is the least significant digit, as
in the global flat index of :mod:`qdyn.open.povm`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from qdyn.open.lindbladian import Lindbladian, LocalTerm
from qdyn.open.povm import POVM, check_distribution

__all__ = ["Connections", "POVMLindbladian", "POVMTerm"]


@dataclass(frozen=True)
class POVMTerm:
    """One local term: ``sites`` (ascending), the real tensor ``T[a_S, b_S]``, and its row-wise neighbour tables.

    ``neighbours[l, m]`` / ``weights[l, m]`` / ``present[l, m]``: the ``m``-th off-diagonal nonzero of row
    ``l`` (padded to the longest row with ``l`` itself, weight 0, ``present=False``); ``digits[l, j]`` is the
    outcome of ``sites[j]`` in local configuration ``l``.
    """

    sites: tuple[int, ...]
    tensor: np.ndarray
    neighbours: np.ndarray
    weights: np.ndarray
    present: np.ndarray
    digits: np.ndarray

    @property
    def nnz(self) -> int:
        """Number of nonzero entries of the tensor."""
        return int(np.count_nonzero(self.tensor))

    def nonzeros(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sparse nonzero list ``(rows, cols, values)`` of the tensor (row-major order)."""
        rows, cols = np.nonzero(self.tensor)
        return rows, cols, self.tensor[rows, cols]


@dataclass(frozen=True)
class Connections:
    """Row ``a`` of ``L`` for a batch of outcome strings, padded layout: ``(L P)(a) = sum_m values * P(connected)``.

    Shapes, for ``batch`` input strings on ``n`` sites and ``M = 1 + sum_S m_S`` slots (``m_S`` = the most
    off-diagonal nonzeros in a row of term ``S``):

    * ``connected`` ``(batch, M, n)``, same integer dtype and array type as the input (pass ``int8``/``uint8``
      strings to keep this 8x smaller than ``int64``): slot 0 is the input string itself (it carries the merged
      diagonal ``sum_S T_S[a_S, a_S]``); the following slots, grouped by term size and then by term, hold the
      input string with the sites of ``S`` replaced by each configuration ``b_S != a_S`` with
      ``T_S[a_S, b_S] != 0`` (in increasing local index), then the term's padding slots;
    * ``values`` ``(batch, M)`` float64: the term's element ``T_S[a_S, b_S]``; padding slots hold 0;
    * ``mask`` ``(batch, M)`` bool: False on padding slots (whose ``connected`` is the input string, so any
      ``P`` evaluation on them is valid and is multiplied by 0);
    * ``first_site`` ``(batch, M)`` int64: the lowest site at which the slot may differ from the input (the
      term's first site; ``n`` for slot 0), for sharing autoregressive prefix work.

    Two terms may connect ``a`` to the same string ``b`` (e.g. a one-site term and a bond term changing only that
    site): those slots are separate and ``L_ab`` is the sum of their values, so the contraction is exact.
    :meth:`flat` gives the CSR-like layout without the padding.
    """

    connected: object
    values: object
    mask: object
    first_site: object

    def contract(self, probabilities):
        """``(L P)(a) = sum_m values[:, m] * probabilities[:, m]`` for ``P`` evaluated on ``connected``."""
        return (self.values * probabilities).sum(-1)

    def flat(self):
        """``(row, connected, values, first_site)`` of the unpadded entries: ``connected`` ``(K, n)``, the rest
        ``(K,)``; ``row[k]`` is the index of the input string entry ``k`` belongs to (rows in ascending order)."""
        batch, slots = self.mask.shape
        if isinstance(self.mask, np.ndarray):
            row = np.broadcast_to(np.arange(batch)[:, None], (batch, slots))
        else:
            import torch

            row = torch.arange(batch, device=self.mask.device)[:, None].expand(batch, slots)
        m = self.mask
        return row[m], self.connected[m], self.values[m], self.first_site[m]


def _local_tensor(term: LocalTerm, povm: POVM) -> np.ndarray:
    """``T[a, b] = Tr[M^a L_S(N^b)]`` for local configurations ``a, b`` of ``term.sites``."""
    k = len(term.sites)
    apply = term.superoperator()
    tensor = np.zeros((4**k, 4**k), dtype=complex)
    for b in range(4**k):
        frame = np.eye(1, dtype=complex)
        for j in reversed(range(k)):  # local qubit 0 least significant: it is the last Kronecker factor
            frame = np.kron(frame, povm.dual[(b >> (2 * j)) & 3])
        tensor[:, b] = povm.frame_coefficients(apply(frame))
    scale = max(1.0, float(np.max(np.abs(tensor))))
    if np.max(np.abs(tensor.imag)) > 1e-10 * scale:
        raise ValueError("the POVM-space generator has complex entries: the jump operators or the POVM are invalid")
    return tensor.real


def _term(sites: tuple[int, ...], tensor: np.ndarray, zero_atol: float) -> POVMTerm:
    tensor = np.where(np.abs(tensor) <= zero_atol * max(np.max(np.abs(tensor)), 1e-300), 0.0, tensor)
    size = tensor.shape[0]
    off = tensor.copy()
    np.fill_diagonal(off, 0.0)
    counts = np.count_nonzero(off, axis=1)
    width = int(counts.max()) if size else 0
    neighbours = np.repeat(np.arange(size)[:, None], width, axis=1)
    weights = np.zeros((size, width))
    present = np.zeros((size, width), dtype=bool)
    for row in range(size):
        cols = np.nonzero(off[row])[0]
        neighbours[row, :cols.size] = cols
        weights[row, :cols.size] = off[row, cols]
        present[row, :cols.size] = True
    digits = (np.arange(size)[:, None] >> (2 * np.arange(len(sites)))) & 3
    return POVMTerm(sites, tensor, neighbours, weights, present, digits)


def _group_tables(terms) -> list[dict]:
    """Stack the neighbour tables of the terms with the same number of sites, padding rows to a common width."""
    groups = []
    for k in sorted({len(t.sites) for t in terms}):
        members = [t for t in terms if len(t.sites) == k]
        width = max(t.neighbours.shape[1] for t in members)
        size = 4**k
        neighbours = np.repeat(np.arange(size)[None, :, None], len(members), axis=0).repeat(width, axis=2)
        weights = np.zeros((len(members), size, width))
        present = np.zeros((len(members), size, width), dtype=bool)
        for i, t in enumerate(members):
            w = t.neighbours.shape[1]
            neighbours[i, :, :w], weights[i, :, :w], present[i, :, :w] = t.neighbours, t.weights, t.present
        groups.append({
            "sites": np.array([t.sites for t in members], dtype=np.int64),
            "powers": 4 ** np.arange(k, dtype=np.int64),
            "term_index": np.arange(len(members), dtype=np.int64),
            "diagonal": np.array([np.diagonal(t.tensor) for t in members]),
            "neighbours": neighbours, "weights": weights, "present": present,
            "digits": members[0].digits.astype(np.int64),
        })
    return groups


class POVMLindbladian:
    """``dP/dt = L P`` for a :class:`Lindbladian` in a product POVM (module docstring for the formula).

    Parameters
    ----------
    lindbladian : Lindbladian
    povm : POVM or "tetra" | "pauli4" | elements (4, 2, 2)
    zero_atol : entries of a local tensor below this fraction of its largest entry are treated as zero.

    Use :meth:`connections` (batched local action, numpy or torch) for sampled strings, :meth:`apply` on a full
    distribution and :meth:`matrix` (sparse ``4^n x 4^n``) for small registers.
    """

    def __init__(self, lindbladian: Lindbladian, povm="tetra", *, zero_atol: float = 1e-13):
        if not isinstance(lindbladian, Lindbladian):
            raise TypeError(f"lindbladian must be a Lindbladian, got {type(lindbladian).__name__}")
        self.povm = povm if isinstance(povm, POVM) else POVM(povm)
        self.lindbladian = lindbladian
        self.num_qubits = lindbladian.num_qubits
        self.terms: tuple[POVMTerm, ...] = tuple(
            _term(t.sites, _local_tensor(t, self.povm), zero_atol) for t in lindbladian.local_terms())
        self._groups = _group_tables(self.terms)
        self.num_slots = 1 + sum(g["neighbours"].shape[0] * g["neighbours"].shape[2] for g in self._groups)
        self._torch_cache: dict = {}

    def __repr__(self) -> str:
        return (f"POVMLindbladian(num_qubits={self.num_qubits}, povm={self.povm.name!r}, terms={len(self.terms)}, "
                f"slots={self.num_slots})")

    # full distributions (small n) ------------------------------------------------------------------------
    def apply(self, P) -> np.ndarray:
        """``L P`` for a full distribution (any real vector of length ``4^n``; not required to be normalised)."""
        P = np.asarray(P, dtype=float)
        n = self.num_qubits
        if P.shape != (4**n,):
            raise ValueError(f"P must have shape ({4**n},) for {n} qubits, got {P.shape}")
        tensor = P.reshape([4] * n)
        out = np.zeros_like(tensor)
        for term in self.terms:
            k = len(term.sites)
            axes = [n - 1 - q for q in reversed(term.sites)]  # most significant local digit first
            local = term.tensor.reshape([4] * (2 * k))
            image = np.tensordot(local, tensor, axes=(list(range(k, 2 * k)), axes))
            out += np.moveaxis(image, list(range(k)), axes)
        return out.reshape(-1)

    def matrix(self) -> sp.csr_matrix:
        """The sparse ``4^n x 4^n`` real matrix ``L`` (assembled from the local tensors)."""
        n = self.num_qubits
        every = np.arange(4**n, dtype=np.int64)
        rows, cols, vals = [], [], []
        for term in self.terms:
            weights = np.int64(4) ** np.asarray(term.sites, dtype=np.int64)
            offset = term.digits @ weights  # global flat offset of each local configuration
            touched = np.zeros(4**n, dtype=bool)
            for q in term.sites:
                touched |= ((every >> (2 * q)) & 3) != 0
            base = every[~touched]
            r, c = np.nonzero(term.tensor)
            rows.append((base[:, None] + offset[r][None, :]).ravel())
            cols.append((base[:, None] + offset[c][None, :]).ravel())
            vals.append(np.broadcast_to(term.tensor[r, c], (base.size, r.size)).ravel())
        if not rows:
            return sp.csr_matrix((4**n, 4**n))
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(4**n, 4**n))

    def residual_norm(self, P) -> float:
        """``||L P||_1`` for a full distribution (checked to be normalised)."""
        return float(np.abs(self.apply(check_distribution(P, self.num_qubits))).sum())

    # batched local action ------------------------------------------------------------------------------
    def _tables(self, device):
        """The grouped neighbour tables as torch tensors on ``device`` (cached)."""
        key = str(device)
        if key not in self._torch_cache:
            import torch

            self._torch_cache[key] = [{k: torch.as_tensor(v, device=device) for k, v in g.items()}
                                      for g in self._groups]
        return self._torch_cache[key]

    def connections(self, strings) -> Connections:
        """Row ``a`` of ``L`` for every string ``a`` of a batch, in one call (layout in :class:`Connections`).

        ``strings``: integer array ``(batch, n)`` with entries ``0..3`` (numpy; or a torch tensor, in which case
        every output is a torch tensor on its device). Zero entries of the term tensors are skipped. Terms with
        the same number of sites are processed together (one gather and one scatter per term size).
        """
        is_numpy = isinstance(strings, np.ndarray)
        if not is_numpy:
            import torch

            if not isinstance(strings, torch.Tensor):
                strings = np.asarray(strings)
                is_numpy = True
        n = self.num_qubits
        if strings.ndim != 2 or strings.shape[1] != n:
            raise ValueError(f"strings must have shape (batch, {n}), got {tuple(strings.shape)}")
        if strings.shape[0] and (int(strings.min()) < 0 or int(strings.max()) > 3):
            raise ValueError("strings must hold POVM outcomes 0..3")
        batch = strings.shape[0]
        if is_numpy:
            a = strings.astype(np.int64, copy=False)
            groups = self._groups
            diagonal = np.zeros((batch, 1))
        else:
            import torch

            a = strings.long()
            groups = self._tables(a.device)
            diagonal = torch.zeros((batch, 1), dtype=torch.float64, device=a.device)
        raw = strings  # the connected strings keep the input's integer dtype (int8 input: 8x less memory)
        connected, values, mask, first = [raw[:, None, :]], [diagonal], [], []
        for g in groups:
            terms, size, width = g["neighbours"].shape
            local = (a[:, g["sites"]] * g["powers"]).sum(-1)  # (batch, terms)
            term_index = g["term_index"]  # (terms,)
            diagonal += g["diagonal"][term_index, local].sum(-1)[:, None]
            if width == 0:
                continue
            cols = g["neighbours"][term_index, local]  # (batch, terms, width)
            shape = (batch, terms, width, n)
            sites = g["sites"][None, :, None, :]
            if is_numpy:
                block = np.broadcast_to(raw[:, None, None, :], shape).copy()
                np.put_along_axis(block, np.broadcast_to(sites, shape[:3] + sites.shape[-1:]),
                                  g["digits"][cols].astype(raw.dtype), axis=-1)
                firsts = np.broadcast_to(g["sites"][None, :, None, 0], shape[:3])
            else:
                block = raw[:, None, None, :].expand(shape).clone()
                block.scatter_(-1, sites.expand(shape[:3] + sites.shape[-1:]), g["digits"][cols].to(raw.dtype))
                firsts = g["sites"][None, :, None, 0].expand(shape[:3])
            connected.append(block.reshape(batch, terms * width, n))
            values.append(g["weights"][term_index, local].reshape(batch, terms * width))
            mask.append(g["present"][term_index, local].reshape(batch, terms * width))
            first.append(firsts.reshape(batch, terms * width))
        if is_numpy:
            mask = np.concatenate([np.ones((batch, 1), dtype=bool)] + mask, axis=1)
            first = np.concatenate([np.full((batch, 1), n, dtype=np.int64)] + first, axis=1)
            return Connections(np.concatenate(connected, axis=1), np.concatenate(values, axis=1), mask, first)
        mask = torch.cat([torch.ones((batch, 1), dtype=torch.bool, device=a.device)] + mask, dim=1)
        first = torch.cat([torch.full((batch, 1), n, dtype=torch.int64, device=a.device)] + first, dim=1)
        return Connections(torch.cat(connected, dim=1), torch.cat(values, dim=1), mask, first)

    def local_apply(self, strings, probability):
        """``(L P)(a)`` for a batch of strings, with ``probability(strings (K, n)) -> (K,)`` evaluating ``P``.

        Calls ``probability`` once on all ``batch * M`` connected strings (padding included, weight 0).
        """
        conn = self.connections(strings)
        batch, slots, n = conn.connected.shape
        values = probability(conn.connected.reshape(batch * slots, n)).reshape(batch, slots)
        return conn.contract(values)
