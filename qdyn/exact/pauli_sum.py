"""Matrix-free application of a Pauli sum to state vectors, on numpy or torch (CPU or CUDA).

For a term ``c P`` with X-mask ``x``, Z-mask ``z`` and ``n_Y`` Y factors, ``P = i^{n_Y} X^x Z^z``, so

    (P psi)[b XOR x] = i^{n_Y} (-1)^{popcount(b AND z)} psi[b].

Terms that share an X-mask ("flip pattern") form one group: the group acts as one gather ``b -> b XOR x``
followed by one phase ``d_x(b) = sum_t c_t i^{n_Y,t} (-1)^{popcount(b AND z_t)}``. Three group kinds:

* local (``x`` and the union of the ``z_t`` cover at most ``local_limit`` qubits ``S``): ``d`` depends only on
  the bits in ``S``, so the state is viewed as an array with one axis per qubit of ``S`` and the group is a few
  strided slice updates, one per assignment of ``S`` whose phase is non-zero (zero phases are skipped);
* wide diagonal (``x = 0``, e.g. all the ZZ bonds of a chain): ``d`` is stored once as a vector (real when it
  can be);
* wide flips (long Jordan-Wigner strings): ``d`` is kept as a vector and applied with an index gather.

Memory: the state, the output and one slice-sized temporary; no sparse matrix is built.

Where it fits, a CSR matrix is faster (one compiled pass over ``G 2**n`` stored entries for ``G`` flip groups,
against a few Python-dispatched passes per group): ``representation="auto"`` builds it from the masks with numpy,
row ``c`` holding ``d_x(c XOR x)`` at column ``c XOR x`` for every group (exact zeros dropped), when its storage
is below :func:`csr_budget` (a quarter of the free memory, and :data:`CSR_MAX_BYTES` for all live CSR matrices
together). The torch engine stays matrix-free (its gathers run on the GPU).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import available_memory, check_memory

__all__ = ["PauliSum", "as_pauli_sum", "csr_budget"]

_PARITY_CHUNK = 1 << 20
CSR_MAX_BYTES = 2 * 2**30  #: all live CSR matrices together never exceed this storage (matrix-free beyond)
_REPRESENTATIONS = ("auto", "csr", "free")
_live_csr_bytes = [0]  # storage of the CSR matrices of the PauliSums alive now


def csr_budget() -> float:
    """Bytes the ``"auto"`` representation may spend on one more CSR matrix: a quarter of the available memory,
    and at most what :data:`CSR_MAX_BYTES` leaves beside the live CSR matrices (so that the many one-term
    operators of a Trotter product or a measurement list cannot together fill the memory)."""
    return min(0.25 * available_memory(), float(CSR_MAX_BYTES - _live_csr_bytes[0]))


def _hold(owner, nbytes: int) -> None:
    """Count ``nbytes`` of CSR storage against :data:`CSR_MAX_BYTES` while ``owner`` is alive."""
    _live_csr_bytes[0] += nbytes
    weakref.finalize(owner, _release, nbytes)


def _release(nbytes: int) -> None:
    _live_csr_bytes[0] -= nbytes


def _term_phases(pauli: SparsePauliOp) -> np.ndarray:
    """Coefficient times the phase that turns ``X^x Z^z`` into the term's Pauli matrix."""
    n_y = np.count_nonzero(pauli.paulis.x & pauli.paulis.z, axis=1)
    label_phase = pauli.paulis.phase  # matrix = (-i)^phase * label product
    return pauli.coeffs * (1j ** (n_y % 4)) * ((-1j) ** (label_phase % 4))


def _masks(bits: np.ndarray) -> np.ndarray:
    weights = (np.int64(1) << np.arange(bits.shape[1], dtype=np.int64))
    return (bits.astype(np.int64) * weights).sum(axis=1)


def _csr_bytes(groups: int, dim: int, itemsize: int) -> float:
    """Storage of a CSR matrix with ``groups`` entries per row: values, int32/int64 column indices, row pointers."""
    entries = float(groups) * dim
    index = 4 if entries < 2**31 else 8
    return entries * (itemsize + index) + (dim + 1) * index


def _sign_sum(indices: np.ndarray, z_masks, coeffs) -> np.ndarray:
    """``sum_t coeffs[t] * (-1)^{popcount(indices AND z_t)}`` for an array of basis indices."""
    out = np.zeros(indices.shape, dtype=complex)
    for z, c in zip(z_masks, coeffs, strict=True):
        parity = np.bitwise_count(indices & z) & 1
        out += c * (1 - 2 * parity.astype(np.float64))
    return out


def _real_if_possible(values: np.ndarray) -> np.ndarray:
    if np.all(values.imag == 0):
        return np.ascontiguousarray(values.real)
    return values


@dataclass(frozen=True)
class _LocalGroup:
    """A flip group acting on the qubits ``support`` (ascending); ``updates`` = (dest, src, phase) slices."""

    support: tuple[int, ...]
    updates: tuple[tuple[tuple, tuple, complex], ...]


@dataclass(frozen=True)
class _GatherGroup:
    x_mask: int
    phase: object  # d(c XOR x) for every destination index c, on the engine's device


class PauliSum:
    """``H = sum_t c_t P_t`` applied to state vectors, as a CSR matrix where it fits or matrix-free above.

    Parameters
    ----------
    op : SparsePauliOp
        The operator, kept as ``.op`` (any coefficients; Hermiticity is checked by the callers that need it).
    engine : "numpy" | "torch"
    device : torch device string for ``engine="torch"`` ("cpu", "cuda", "auto").
    precision : "double" (complex128) or "single" (complex64, for GPU speed).
    local_limit : groups touching at most this many qubits use strided slices; wider ones use a gather.
    representation : "auto" (CSR on the numpy engine when its storage is below :func:`csr_budget`, matrix-free
        otherwise), "csr" (numpy engine only; memory checked) or "free". The choice is kept as
        ``.representation``; both give the same products to rounding.
    """

    def __init__(self, op: SparsePauliOp, *, engine: str = "numpy", device: str = "cpu",
                 precision: str = "double", local_limit: int = 10, representation: str = "auto"):
        if engine not in ("numpy", "torch"):
            raise ValueError(f"unknown engine {engine!r}; expected 'numpy' or 'torch'")
        if precision not in ("double", "single"):
            raise ValueError(f"unknown precision {precision!r}; expected 'double' or 'single'")
        if representation not in _REPRESENTATIONS:
            raise ValueError(f"unknown representation {representation!r}; expected one of {_REPRESENTATIONS}")
        if representation == "csr" and engine != "numpy":
            raise ValueError("representation='csr' needs engine='numpy'; the torch engine is matrix-free")
        self.op = op
        self.num_qubits = op.num_qubits
        self.dim = 2**self.num_qubits
        n = self.num_qubits
        # the state, the product and one dense phase vector of 2**n complex amplitudes each, before building
        check_memory(3 * 16 * float(self.dim), f"the exact engine on {n} qubits (vectors of 2**{n} amplitudes)",
                     "the exact engine stores full state vectors: use fewer qubits, or a circuit backend")
        self.engine = engine
        self.precision = precision
        if engine == "torch":
            from qdyn.devices import resolve_device

            self.device = resolve_device(device)
        else:
            self.device = "cpu"
        simplified = op.simplify(atol=0)
        x_masks = _masks(simplified.paulis.x)
        z_masks = _masks(simplified.paulis.z)
        coeffs = _term_phases(simplified)
        #: True when every matrix element is real (even Y count, real coefficients): real vectors stay real.
        self.is_real = bool(np.all(coeffs.imag == 0))
        groups = [(int(x), z_masks[x_masks == x], coeffs[x_masks == x]) for x in np.unique(x_masks)]
        itemsize = (8 if self.is_real else 16) // (2 if precision == "single" else 1)
        csr_bytes = _csr_bytes(len(groups), self.dim, itemsize)
        if representation == "auto":
            representation = "csr" if engine == "numpy" and csr_bytes <= csr_budget() else "free"
        self.representation = representation
        self.matrix = None  #: the scipy CSR matrix when ``representation == "csr"``
        self._complex = None  # its complex copy for complex vectors, made on first use (see _complex_matrix)
        self._complex_allowed = True
        single = precision == "single"
        native = [np.complex64 if single else np.complex128] + ([np.float32 if single else np.float64]
                                                                 if self.is_real else [])
        self._native = tuple(np.dtype(d) for d in native)  # vector dtypes asarray would leave unchanged
        self.diagonal = None
        self.local_groups: list[_LocalGroup] = []
        self.gather_groups: list[_GatherGroup] = []
        self._index = None
        if representation == "csr":
            check_memory(csr_bytes, f"the CSR matrix of {len(groups)} flip groups on {n} qubits",
                         "use representation='free' (matrix-free)")
            self.matrix = self._build_csr(groups)
            _hold(self, self.nbytes)
        else:
            self._build_free(groups, local_limit)

    @property
    def nbytes(self) -> int:
        """Bytes held by the operator's representation (the CSR arrays, or the stored phase vectors)."""
        if self.matrix is not None:
            extra = 0 if self._complex is None else self._complex.data.nbytes
            return int(self.matrix.data.nbytes + self.matrix.indices.nbytes + self.matrix.indptr.nbytes + extra)
        total = 0 if self.diagonal is None else self.diagonal.nbytes
        return int(total + sum(g.phase.nbytes for g in self.gather_groups))

    # construction ---------------------------------------------------------------------------------------
    def _build_csr(self, groups):
        """CSR of ``H``: row ``c`` holds ``d_x(c XOR x)`` at column ``c XOR x`` per flip group, zeros dropped."""
        from scipy.sparse import csr_matrix

        dim = self.dim
        index_dtype = np.int32 if len(groups) * dim < 2**31 else np.int64
        dtype = float if self.is_real else complex
        columns = np.empty((dim, len(groups)), dtype=index_dtype)
        values = np.empty((dim, len(groups)), dtype=dtype)
        rows = np.arange(dim, dtype=np.int64)
        for g, (x, zs, cs) in enumerate(groups):
            source = rows ^ x
            columns[:, g] = source
            phase = self._full_phase(zs, cs)[source]
            values[:, g] = phase.real if self.is_real else phase
        scale = max(1.0, float(np.max(np.abs(values)))) if values.size else 1.0
        keep = np.abs(values) > 1e-14 * scale
        indptr = np.zeros(dim + 1, dtype=index_dtype)
        np.cumsum(keep.sum(axis=1), out=indptr[1:])
        data = values[keep]
        if self.precision == "single":
            data = data.astype(np.float32 if self.is_real else np.complex64)
        return csr_matrix((data, columns[keep], indptr), shape=(dim, dim))

    def _build_free(self, groups, local_limit: int) -> None:
        n = self.num_qubits
        for x, zs, cs in groups:
            union = int(x) | int(np.bitwise_or.reduce(zs))
            support = tuple(q for q in range(n) if (union >> q) & 1)
            if len(support) <= local_limit:
                group = self._local_group(int(x), zs, cs, support)
                if group.updates:
                    self.local_groups.append(group)
            elif x == 0:
                self.diagonal = self._to_engine(_real_if_possible(self._full_phase(zs, cs)))
            else:
                # stored in destination order: out[c] += d(c XOR x) psi[c XOR x]
                dest_phase = _real_if_possible(self._full_phase(zs, cs)[np.arange(self.dim, dtype=np.int64) ^ int(x)])
                self.gather_groups.append(_GatherGroup(int(x), self._to_engine(dest_phase)))
        if self.gather_groups:
            self._index = self._to_engine(np.arange(self.dim, dtype=np.int64))

    def _full_phase(self, zs, cs) -> np.ndarray:
        out = np.empty(self.dim, dtype=complex)
        for start in range(0, self.dim, _PARITY_CHUNK):
            idx = np.arange(start, min(start + _PARITY_CHUNK, self.dim), dtype=np.int64)
            out[start:start + idx.size] = _sign_sum(idx, zs, cs)
        return out

    def _local_group(self, x: int, zs, cs, support) -> _LocalGroup:
        k = len(support)
        assignments = np.arange(2**k, dtype=np.int64)
        # source basis index restricted to the support bits
        local_index = np.zeros_like(assignments)
        for j, q in enumerate(support):
            local_index |= ((assignments >> j) & 1) << q
        phases = _sign_sum(local_index, zs, cs)
        scale = max(1.0, float(np.max(np.abs(cs))))
        updates = []
        for a, phase in zip(assignments, phases, strict=True):
            if abs(phase) <= 1e-14 * scale:
                continue
            src = tuple(int((a >> j) & 1) for j in range(k))
            dest = tuple(b ^ ((x >> q) & 1) for b, q in zip(src, support, strict=True))
            value = phase.real if phase.imag == 0 else complex(phase)
            updates.append((self._slice(support, dest), self._slice(support, src), value))
        return _LocalGroup(support, tuple(updates))

    def _slice(self, support, bits) -> tuple:
        # Axes of the view (see _view_shape): most significant block first; the qubit axes appear in
        # descending qubit order, each preceded by the block of qubits above it.
        index = []
        for _, b in sorted(zip(support, bits, strict=True), reverse=True):
            index += [slice(None), b]
        return tuple(index)

    @staticmethod
    def _view_shape(n: int, support) -> tuple[int, ...]:
        shape = []
        top = n
        for q in sorted(support, reverse=True):
            shape += [2 ** (top - q - 1), 2]
            top = q
        shape.append(2**top)
        return tuple(shape)

    def _to_engine(self, array: np.ndarray):
        if self.engine == "numpy":
            if self.precision == "single":
                return array.astype(np.complex64 if np.iscomplexobj(array) else np.float32)
            return array
        import torch

        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if tensor.is_floating_point():
            tensor = tensor.to(torch.float64 if self.precision == "double" else torch.float32)
        elif tensor.is_complex():
            tensor = tensor.to(torch.complex128 if self.precision == "double" else torch.complex64)
        return tensor.to(self.device)

    # application ----------------------------------------------------------------------------------------
    def asarray(self, psi):
        """``psi`` converted to this engine's array type, dtype and device.

        Real vectors stay real (float64/float32) when the operator is real, halving time and memory.
        """
        double = self.precision == "double"
        if self.engine == "numpy":
            psi = np.asarray(psi)
            if self.is_real and not np.iscomplexobj(psi):
                return psi.astype(np.float64 if double else np.float32, copy=False)
            return psi.astype(np.complex128 if double else np.complex64, copy=False)
        import torch

        if not isinstance(psi, torch.Tensor):
            psi = torch.as_tensor(np.asarray(psi))
        if self.is_real and not psi.is_complex():
            dtype = torch.float64 if double else torch.float32
        else:
            dtype = torch.complex128 if double else torch.complex64
        return psi.to(device=self.device, dtype=dtype)

    def apply(self, psi):
        """Return ``H psi`` for a state of shape ``(2**n,)`` or a batch of shape ``(2**n, m)``."""
        if self.matrix is not None and type(psi) is np.ndarray and psi.dtype in self._native:
            if psi.shape[0] != self.dim:  # the CSR fast path: no conversion needed
                raise ValueError(f"psi has leading dimension {psi.shape[0]}, expected {self.dim} "
                                 f"for {self.num_qubits} qubits")
            return self._apply_csr(psi)
        psi = self.asarray(psi)
        if psi.shape[0] != self.dim:
            raise ValueError(f"psi has leading dimension {psi.shape[0]}, expected {self.dim} "
                             f"for {self.num_qubits} qubits")
        if self.matrix is not None:
            return self._apply_csr(psi)
        trailing = tuple(psi.shape[1:])
        expand = (slice(None),) + (None,) * len(trailing)
        if self.diagonal is not None:
            out = self.diagonal[expand] * psi
        elif self.engine == "numpy":
            out = np.zeros_like(psi)
        else:
            import torch

            out = torch.zeros_like(psi)
        for group in self.local_groups:
            shape = self._view_shape(self.num_qubits, group.support) + trailing
            src_view = psi.reshape(shape)
            out_view = out.reshape(shape)
            for dest, src, phase in group.updates:
                out_view[dest] += phase * src_view[src]
        for group in self.gather_groups:
            out += group.phase[expand] * psi[self._index ^ group.x_mask]
        return out

    __matmul__ = apply

    def _apply_csr(self, psi):
        matrix = self.matrix
        if self.is_real and psi.dtype.kind == "c":
            matrix = self._complex_matrix()
            if matrix is None:
                # no room for a complex copy: one real product with the (real, imaginary) pairs as two columns,
                # instead of scipy upcasting the whole matrix on every call
                psi = np.ascontiguousarray(psi)
                pairs = psi.view(psi.real.dtype).reshape(self.dim, -1)
                return np.ascontiguousarray(self.matrix @ pairs).view(psi.dtype).reshape(psi.shape)
        return matrix @ psi

    def _complex_matrix(self):
        """The real CSR matrix with complex values (sharing its index arrays), made on the first complex vector
        when it fits in :func:`csr_budget`; complex products run about 4x faster on it than on the real one."""
        if self._complex is None and self._complex_allowed:
            dtype = np.complex64 if self.precision == "single" else np.complex128
            extra = self.matrix.data.size * np.dtype(dtype).itemsize
            if extra > csr_budget():
                self._complex_allowed = False  # decided once: reading the free memory costs more than a product
                return None
            from scipy.sparse import csr_matrix

            self._complex = csr_matrix((self.matrix.data.astype(dtype), self.matrix.indices, self.matrix.indptr),
                                       shape=self.matrix.shape, copy=False)
            _hold(self, extra)
        return self._complex

    def expectation(self, psi) -> float | complex:
        """``<psi|H|psi>`` (real part when the imaginary part is below 1e-12 of the norm)."""
        psi = self.asarray(psi)
        value = complex((psi.conj() * self.apply(psi)).sum())
        return value.real if abs(value.imag) <= 1e-12 * max(1.0, abs(value)) else value

    def linear_operator(self):
        """A ``scipy.sparse.linalg.LinearOperator`` (numpy arrays in and out, any engine)."""
        from scipy.sparse.linalg import LinearOperator

        dtype = float if self.is_real else complex

        def matvec(v):
            out = self.apply(np.asarray(v, dtype=dtype))
            if self.engine == "torch":
                out = out.cpu().numpy()
            return np.asarray(out, dtype=dtype).reshape(v.shape)

        return LinearOperator((self.dim, self.dim), matvec=matvec, dtype=dtype)


def as_pauli_sum(H, *, engine: str = "numpy", device: str = "cpu", precision: str = "double",
                 hermitian: bool = True, representation: str = "auto") -> PauliSum:
    """``H`` as a :class:`PauliSum` (returned as is when it already is one on the requested engine)."""
    if isinstance(H, PauliSum):
        if H.engine != engine or (engine == "torch" and H.device != device and device != "auto"):
            raise ValueError(f"H is a PauliSum on engine={H.engine!r}/device={H.device!r}, "
                             f"but engine={engine!r}/device={device!r} was asked for")
        return H
    from qdyn.operators import as_pauli_op

    return PauliSum(as_pauli_op(H, hermitian=hermitian), engine=engine, device=device, precision=precision,
                    representation=representation)


def engine_for_device(device: str) -> tuple[str, str]:
    """Map a user ``device`` to ``(engine, device)``: the CPU runs numpy, a GPU runs torch.

    ``"auto"`` takes the GPU when one works and the numpy CPU path otherwise; ``"torch-cpu"`` forces torch on the
    CPU (for testing the torch path without a GPU).
    """
    from qdyn.devices import resolve_device

    if device == "torch-cpu":
        return "torch", "cpu"
    resolved = resolve_device(device)
    return ("numpy", "cpu") if resolved == "cpu" else ("torch", resolved)
