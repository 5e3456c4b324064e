"""Informationally complete single-qubit POVMs and the probability representation of density matrices.

A POVM ``{M^a}``, ``a = 0..3``, ``sum_a M^a = 1``, ``M^a >= 0``, is *informationally complete* (IC) when its
overlap matrix ``T_ab = Tr[M^a M^b]`` is invertible; then with the dual frame ``N^a = sum_b (T^-1)_ab M^b``

    P(a) = Tr[rho M^a],     rho = sum_a P(a) N^a,     <O> = sum_a P(a) Tr[O N^a]

exactly (Carrasquilla, Torlai, Melko & Aolita, Nat. Mach. Intell. 1, 155 (2019); Luo, Chen, Carrasquilla &
Clark, PRL 128, 090501 (2022)). The ``n``-qubit POVM is the product ``M^{a_0 ... a_{n-1}} = (x)_i M^{a_i}``.

Built-in POVMs:

* ``"tetra"`` (symmetric, informationally complete): ``M^a = (1 + s_a . sigma)/4`` with the tetrahedron
  ``s_0 = (0, 0, 1)``, ``s_1 = (2 sqrt2/3, 0, -1/3)``, ``s_2 = (-sqrt2/3, sqrt(2/3), -1/3)``,
  ``s_3 = (-sqrt2/3, -sqrt(2/3), -1/3)``;
* ``"pauli4"``: ``M^0 = |0><0|/3``, ``M^1 = |+><+|/3``, ``M^2 = |+i><+i|/3``, ``M^3 = 1 - M^0 - M^1 - M^2``.

**Outcome strings.** An outcome string is an integer array ``a`` of length ``n`` with ``a[i]`` in ``0..3`` the
outcome on qubit (site) ``i``; a batch has shape ``(batch, n)``. A full distribution over ``4^n`` strings is a
flat vector indexed by ``index(a) = sum_i a[i] 4^i`` (site 0 is the least significant base-4 digit, as qubit 0
is the least significant bit everywhere in qdyn), see :func:`strings_to_index` / :func:`index_to_strings`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_DENSE_QUBITS", "POVM", "check_distribution", "index_to_strings", "strings_to_index"]

#: Largest register for the dense conversions ``rho <-> P`` (a ``4^n`` vector and a ``2^n x 2^n`` matrix).
MAX_DENSE_QUBITS = 12

_PAULIS = {"I": np.eye(2, dtype=complex), "X": np.array([[0, 1], [1, 0]], dtype=complex),
           "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1.0, -1.0]).astype(complex)}


def _tetra_elements() -> np.ndarray:
    s = np.array([[0, 0, 1], [2 * np.sqrt(2) / 3, 0, -1 / 3], [-np.sqrt(2) / 3, np.sqrt(2 / 3), -1 / 3],
                  [-np.sqrt(2) / 3, -np.sqrt(2 / 3), -1 / 3]])
    return np.stack([(_PAULIS["I"] + v[0] * _PAULIS["X"] + v[1] * _PAULIS["Y"] + v[2] * _PAULIS["Z"]) / 4
                     for v in s])


def _pauli4_elements() -> np.ndarray:
    kets = [np.array([1, 0]), np.array([1, 1]) / np.sqrt(2), np.array([1, 1j]) / np.sqrt(2)]
    first = [np.outer(k, k.conj()) / 3 for k in kets]
    return np.stack(first + [np.eye(2) - sum(first)]).astype(complex)


def strings_to_index(strings) -> np.ndarray:
    """Flat indices ``sum_i a[i] 4^i`` of outcome strings of shape ``(..., n)``."""
    a = np.asarray(strings, dtype=np.int64)
    return (a * (np.int64(4) ** np.arange(a.shape[-1], dtype=np.int64))).sum(axis=-1)


def index_to_strings(index, n: int) -> np.ndarray:
    """Outcome strings of shape ``(..., n)`` for flat indices (inverse of :func:`strings_to_index`)."""
    idx = np.asarray(index, dtype=np.int64)
    return (idx[..., None] >> (2 * np.arange(n, dtype=np.int64))) & 3


def check_distribution(P, n_qubits: int | None = None, *, name: str = "P", atol: float = 1e-8) -> np.ndarray:
    """A full POVM distribution as a float64 vector of length ``4^n`` that sums to 1 (``ValueError`` otherwise)."""
    arr = np.asarray(P)
    if np.iscomplexobj(arr):
        if np.max(np.abs(arr.imag), initial=0.0) > atol:
            raise ValueError(f"{name} must be real")
        arr = arr.real
    arr = arr.astype(np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a 1-D vector of length 4**n, got shape {arr.shape}")
    n = (arr.size.bit_length() - 1) // 2
    if 4**n != arr.size:
        raise ValueError(f"{name} must have length 4**n, got {arr.size}")
    if n_qubits is not None and n != n_qubits:
        raise ValueError(f"{name} has length {arr.size} but {4**n_qubits} (4**{n_qubits}) was expected")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    total = float(arr.sum())
    if abs(total - 1) > atol:
        raise ValueError(f"{name} must be a normalised distribution (sum 1), got sum {total:.12g}")
    return arr


class POVM:
    """A single-qubit informationally complete POVM with four outcomes, used as an ``n``-qubit product.

    Parameters
    ----------
    kind : "tetra" | "pauli4" | array of shape (4, 2, 2)
        A built-in POVM (module docstring) or custom elements ``M^a`` (Hermitian, positive semidefinite,
        summing to the identity, informationally complete).

    Attributes: ``elements`` ``(4, 2, 2)``, ``overlap`` ``T`` and ``overlap_inv`` ``T^-1`` ``(4, 4)``, ``dual``
    ``N^a`` ``(4, 2, 2)``, and ``pauli_table`` ``(4, 4)``: row ``p`` in I, X, Y, Z holds ``Tr[sigma_p N^a]``.
    """

    num_outcomes = 4

    def __init__(self, kind="tetra", *, atol: float = 1e-10):
        if isinstance(kind, str):
            builders = {"tetra": _tetra_elements, "pauli4": _pauli4_elements}
            if kind not in builders:
                raise ValueError(f"unknown POVM {kind!r}; expected 'tetra', 'pauli4' or an array (4, 2, 2)")
            self.name, elements = kind, builders[kind]()
        else:
            self.name, elements = "custom", np.asarray(kind, dtype=complex)
        self.elements = self._validated(elements, atol)
        self.overlap = np.einsum("aij,bji->ab", self.elements, self.elements).real
        singular = np.linalg.svd(self.overlap, compute_uv=False)
        if singular[-1] < 1e-9 * singular[0]:
            raise ValueError("the POVM is not informationally complete: its overlap matrix T_ab = Tr[M^a M^b] "
                             f"is singular (singular values {np.round(singular, 12).tolist()})")
        self.overlap_inv = np.linalg.inv(self.overlap)
        self.dual = np.einsum("ab,bij->aij", self.overlap_inv, self.elements)
        # per-site maps on the pair index (row, col) -> 2 row + col:
        # P(a) = sum_{r,c} M^a_{c r} rho_{r c};  rho_{r c} = sum_a N^a_{r c} P(a)
        self._measure = self.elements.transpose(0, 2, 1).reshape(4, 4)
        self._reconstruct = self.dual.reshape(4, 4).T.copy()
        self.pauli_table = np.array([[np.trace(_PAULIS[p] @ self.dual[a]).real for a in range(4)]
                                     for p in "IXYZ"])

    @staticmethod
    def _validated(elements: np.ndarray, atol: float) -> np.ndarray:
        if elements.shape != (4, 2, 2):
            raise ValueError(f"POVM elements must have shape (4, 2, 2) (four single-qubit outcomes), "
                             f"got {elements.shape}")
        if not np.all(np.isfinite(elements)):
            raise ValueError("POVM elements contain NaN or infinite entries")
        if np.max(np.abs(elements - elements.conj().transpose(0, 2, 1))) > atol:
            raise ValueError("POVM elements must be Hermitian")
        if np.max(np.abs(elements.sum(axis=0) - np.eye(2))) > atol:
            raise ValueError("POVM elements must sum to the identity")
        if min(np.linalg.eigvalsh(m)[0] for m in elements) < -atol:
            raise ValueError("POVM elements must be positive semidefinite")
        return elements

    def __repr__(self) -> str:
        return f"POVM({self.name!r})"

    # per-site linear maps on (4,)*n tensors --------------------------------------------------------------
    @staticmethod
    def _apply_each_site(matrix: np.ndarray, tensor: np.ndarray) -> np.ndarray:
        for axis in range(tensor.ndim):
            tensor = np.moveaxis(np.tensordot(matrix, tensor, axes=([1], [axis])), 0, axis)
        return tensor

    @staticmethod
    def _pair_tensor(op: np.ndarray, n: int) -> np.ndarray:
        """``op_{r c}`` as a ``(4,)*n`` tensor with axis ``j`` = site ``n-1-j`` holding ``2 r_site + c_site``."""
        order = [ax for k in range(n) for ax in (k, n + k)]
        return op.reshape([2] * (2 * n)).transpose(order).reshape([4] * n)

    @staticmethod
    def _from_pair_tensor(tensor: np.ndarray, n: int) -> np.ndarray:
        t = tensor.reshape([2] * (2 * n))
        order = [2 * k for k in range(n)] + [2 * k + 1 for k in range(n)]
        return t.transpose(order).reshape(2**n, 2**n)

    def _check_size(self, n: int) -> None:
        if n > MAX_DENSE_QUBITS:
            raise ValueError(f"dense POVM conversions hold 4**n numbers; at most {MAX_DENSE_QUBITS} qubits, got {n}")

    def _coefficients(self, site_map: np.ndarray, op) -> np.ndarray:
        """A ``2^n x 2^n`` matrix ``op`` to a flat vector of ``4^n`` by the per-site map ``site_map`` (outcome x
        pair index)."""
        op = np.asarray(op)
        n = (op.shape[0].bit_length() - 1)
        self._check_size(n)
        return self._apply_each_site(site_map, self._pair_tensor(op, n)).reshape(-1)

    def _operator(self, site_map: np.ndarray, P) -> np.ndarray:
        """A flat vector ``P`` of ``4^n`` to a ``2^n x 2^n`` matrix by the per-site map ``site_map`` (pair index x
        outcome)."""
        P = np.asarray(P)
        n = (P.size.bit_length() - 1) // 2
        self._check_size(n)
        return self._from_pair_tensor(self._apply_each_site(site_map, P.reshape([4] * n).astype(complex)), n)

    def frame_coefficients(self, op: np.ndarray) -> np.ndarray:
        """``Tr[op M^a]`` for every outcome string (flat, length ``4^n``) of any ``2^n x 2^n`` matrix ``op``."""
        return self._coefficients(self._measure, op)

    def operator_from_coefficients(self, P) -> np.ndarray:
        """``sum_a P(a) N^a`` for a flat vector ``P`` of length ``4^n`` (no normalisation check)."""
        return self._operator(self._reconstruct, P)

    def frame_adjoint(self, P) -> np.ndarray:
        """``sum_a P(a) M^a^dagger`` (a ``2^n x 2^n`` matrix) for a flat vector ``P`` of length ``4^n``: the adjoint
        of :meth:`frame_coefficients` (Frobenius inner product on matrices)."""
        return self._operator(self._measure.conj().T, P)

    def reconstruction_adjoint(self, op) -> np.ndarray:
        """``Tr[N^a^dagger op]`` for every outcome string (flat, length ``4^n``) of a ``2^n x 2^n`` matrix ``op``: the
        adjoint of :meth:`operator_from_coefficients`."""
        return self._coefficients(self._reconstruct.conj().T, op)

    # public conversions ---------------------------------------------------------------------------------
    def probabilities(self, rho) -> np.ndarray:
        """``P(a) = Tr[rho M^a]`` (flat, length ``4^n``) of a state vector or density matrix (validated)."""
        from qdyn.open.density import as_density_matrix

        rho = as_density_matrix(rho, name="rho")
        P = self.frame_coefficients(rho)
        return P.real.copy()

    def density_matrix(self, P, *, atol: float = 1e-8) -> np.ndarray:
        """``rho = sum_a P(a) N^a`` from a normalised distribution ``P`` of length ``4^n``."""
        return self.operator_from_coefficients(check_distribution(P, atol=atol))

    def product_probabilities(self, site_states) -> np.ndarray:
        """Single-site distributions ``p_i(a) = Tr[rho_i M^a]``, shape ``(n, 4)``, of a product state.

        ``site_states``: per site a label in {"0", "1", "+", "-", "+i", "-i"}, a 2-vector or a 2x2 density matrix
        (entry ``i`` = qubit ``i``). The product distribution is ``P(a) = prod_i p_i(a_i)``.
        """
        from qdyn.states import product_state

        rows = []
        for i, s in enumerate(site_states):
            if isinstance(s, str):
                s = product_state([s])
            rows.append(self.probabilities(np.asarray(s)))
            if rows[-1].shape != (4,):
                raise ValueError(f"site_states[{i}] must be a single-qubit state")
        return np.array(rows)

    def observable_vector(self, op) -> np.ndarray:
        """``o(a) = Tr[op N^a]`` (flat, length ``4^n``), so that ``<op> = sum_a P(a) o(a)``."""
        from qdyn.operators import as_matrix

        out = self._coefficients(self._reconstruct.T, as_matrix(op, name="op", hermitian=False).T)
        return out.real.copy() if np.max(np.abs(out.imag)) < 1e-12 * max(1.0, np.max(np.abs(out))) else out

    def expectation(self, op, P) -> float | complex:
        """``<op> = sum_a P(a) Tr[op N^a]`` for a full distribution ``P``."""
        value = complex(np.dot(self.observable_vector(op), check_distribution(P)))
        return value.real if abs(value.imag) < 1e-12 else value

    def pauli_values(self, op, strings):
        """Per-string estimator ``O(a) = sum_t c_t prod_i Tr[sigma_{t,i} N^{a_i}]`` of a Pauli sum ``op``.

        ``<op> = E_{a ~ P}[O(a)]``, so the mean over samples of ``P`` estimates ``<op>`` (the error bar is the
        standard error of these values). ``strings``: integer array ``(batch, n)`` (numpy, or a torch tensor,
        in which case a torch tensor on the same device is returned). Real for a Hermitian ``op``.
        """
        from qdyn.operators import as_pauli_op

        pauli = as_pauli_op(op, name="op", hermitian=False)
        n = pauli.num_qubits
        if strings.shape[-1] != n:
            raise ValueError(f"strings have {strings.shape[-1]} sites but op acts on {n} qubits")
        codes = (pauli.paulis.x.astype(np.int64) + 2 * pauli.paulis.z.astype(np.int64))  # I=0 X=1 Z=2 Y=3
        table = self.pauli_table[[0, 1, 3, 2]]  # rows indexed by that code
        coeffs = pauli.coeffs
        real = np.all(np.abs(coeffs.imag) <= 1e-14)
        if isinstance(strings, np.ndarray):
            a = strings.astype(np.int64)
            out = np.zeros(a.shape[0], dtype=float if real else complex)
            for code, c in zip(codes, coeffs, strict=True):
                sites = np.nonzero(code)[0]
                out = out + (c.real if real else c) * np.prod(table[code[sites], a[:, sites]], axis=1)
            return out
        import torch

        a = strings.long()
        tab = torch.as_tensor(table, device=a.device)
        out = torch.zeros(a.shape[0], dtype=torch.float64 if real else torch.complex128, device=a.device)
        for code, c in zip(codes, coeffs, strict=True):
            sites = torch.as_tensor(np.nonzero(code)[0], device=a.device)
            rows = torch.as_tensor(code[np.nonzero(code)[0]], device=a.device)
            out = out + (float(c.real) if real else complex(c)) * torch.prod(tab[rows, a[:, sites]], dim=1)
        return out
