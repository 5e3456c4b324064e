"""One normalisation point for operators and the qubit-order conversions between libraries.

Convention (Qiskit's, used everywhere in qdyn): qubit 0 is the least significant bit of a basis index and the
rightmost character of a Pauli label; model site ``i`` is qubit ``i``. PennyLane puts wire 0 at the most
significant bit and QuTiP puts subsystem 0 leftmost in a tensor product; the converters here map wire ``i`` /
subsystem ``i`` to qubit ``i`` by reversing the bit order of basis indices.

Accepted operator inputs: ``qiskit.quantum_info.SparsePauliOp``, ``Pauli``, ``Operator``; PennyLane operators
(``LinearCombination``/``Sum``/``Prod``/``Hamiltonian``, anything with a Pauli representation or a matrix);
``qutip.Qobj``; dense ``numpy`` arrays and scipy sparse matrices.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from qiskit.quantum_info import Operator, Pauli, SparsePauliOp

from qdyn.deprecation import moved_names

__all__ = [
    "as_pauli_op",
    "as_matrix",
    "num_qubits",
    "is_hermitian",
    "pauli_norm",
    "reverse_qubit_order",
    "to_pennylane",
    "to_qutip",
    "state_to_qutip",
    "state_from_qutip",
]

# Largest register that is decomposed into Pauli strings from a matrix (4**n coefficients).
MAX_DECOMPOSE_QUBITS = 10


def _qubits_of_dim(dim: int, name: str) -> int:
    if dim < 2 or dim & (dim - 1):
        raise ValueError(f"{name} must have dimension 2**n with n >= 1 qubits, got {dim}")
    return dim.bit_length() - 1


def _check_finite(values, name: str) -> None:
    """``ValueError`` naming ``name`` when ``values`` (array or sparse matrix) holds NaN or inf."""
    data = values.data if sp.issparse(values) else np.asarray(values)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name} contains NaN or infinite entries")


def _is_pennylane(op) -> bool:
    return type(op).__module__.startswith("pennylane")


def _is_qutip(op) -> bool:
    return type(op).__module__.startswith("qutip")


def bit_reversal(n: int) -> np.ndarray:
    """Permutation ``r`` with ``r[b]`` = the index ``b`` with its ``n`` bits in reverse order."""
    idx = np.arange(2**n, dtype=np.int64)
    rev = np.zeros_like(idx)
    for k in range(n):
        rev |= ((idx >> k) & 1) << (n - 1 - k)
    return rev


def reverse_qubit_order(array, n_qubits: int | None = None):
    """Reverse the qubit order of a state vector (1-D) or an operator matrix (2-D, dense or sparse).

    Maps between qdyn/Qiskit order (qubit 0 least significant) and PennyLane/QuTiP order (wire or subsystem 0
    most significant). The map is its own inverse.
    """
    dim = array.shape[0]
    n = _qubits_of_dim(dim, "array") if n_qubits is None else n_qubits
    perm = bit_reversal(n)
    if sp.issparse(array):
        return array.tocsr()[perm][:, perm]
    arr = np.asarray(array)
    if arr.ndim == 1:
        return arr[perm]
    if arr.ndim == 2:
        return arr[np.ix_(perm, perm)]
    raise ValueError(f"array must be a vector or a matrix, got {arr.ndim} dimensions")


def _from_pennylane(op, n_qubits: int | None) -> SparsePauliOp:
    rep = getattr(op, "pauli_rep", None)
    wires = list(op.wires)
    if any(not isinstance(w, int | np.integer) or w < 0 for w in wires):
        raise ValueError(f"PennyLane operator wires must be non-negative integers (wire i = qubit i), got {wires}")
    n = n_qubits if n_qubits is not None else (max(wires) + 1 if wires else 1)
    if wires and max(wires) >= n:
        raise ValueError(f"operator acts on wire {max(wires)} but n_qubits={n}")
    if rep is None:
        import pennylane as qml

        matrix = qml.matrix(op, wire_order=range(n))
        return _from_matrix(reverse_qubit_order(matrix, n), "H")
    labels, coeffs = [], []
    for word, coeff in rep.items():
        chars = ["I"] * n
        for wire, pauli in word.items():
            chars[n - 1 - int(wire)] = pauli
        labels.append("".join(chars))
        coeffs.append(complex(coeff))
    if not labels:
        return SparsePauliOp(["I" * n], [0.0])
    return SparsePauliOp(labels, np.asarray(coeffs, dtype=complex)).simplify(atol=0)


def _from_matrix(matrix, name: str) -> SparsePauliOp:
    n = _qubits_of_dim(matrix.shape[0], name)
    if n > MAX_DECOMPOSE_QUBITS:
        raise ValueError(f"{name}: decomposing a {n}-qubit matrix into Pauli strings needs 4**{n} coefficients; "
                         f"pass a SparsePauliOp, or a matrix of at most {MAX_DECOMPOSE_QUBITS} qubits")
    dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)
    return SparsePauliOp.from_operator(Operator(dense))


def _raw_matrix(op, name: str):
    """A dense or sparse matrix for any accepted input, in Qiskit qubit order (no checks)."""
    if isinstance(op, SparsePauliOp | Pauli):
        return SparsePauliOp(op).to_matrix(sparse=True)
    if isinstance(op, Operator):
        return op.data
    if _is_qutip(op):
        data = op.full() if op.shape[0] <= 2**12 else op.data_as("csr_matrix")
        return reverse_qubit_order(data)
    if _is_pennylane(op):
        return _from_pennylane(op, None).to_matrix(sparse=True)
    if sp.issparse(op):
        return op.tocsr()
    arr = np.asarray(op)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a SparsePauliOp, a PennyLane operator, a qutip.Qobj or a matrix; "
                        f"got {type(op).__name__}")
    return arr


def as_pauli_op(op, n_qubits: int | None = None, *, name: str = "H", hermitian: bool = True,
                atol: float = 1e-10) -> SparsePauliOp:
    """Normalise ``op`` to a simplified ``SparsePauliOp`` in Qiskit qubit order.

    ``hermitian=True`` raises ``ValueError`` for a non-Hermitian operator; ``n_qubits`` (if given) must match.
    For a Hermitian operator the returned coefficients are real (stored as complex, as Qiskit does).
    """
    if isinstance(op, SparsePauliOp):
        pauli = op
    elif isinstance(op, Pauli):
        pauli = SparsePauliOp(op)
    elif _is_pennylane(op):
        pauli = _from_pennylane(op, n_qubits)
    else:
        matrix = _raw_matrix(op, name)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"{name} must be a square matrix, got shape {matrix.shape}")
        _check_finite(matrix, name)
        pauli = _from_matrix(matrix, name)
    _check_finite(pauli.coeffs, f"{name} (its Pauli coefficients)")
    pauli = pauli.simplify(atol=0)
    if n_qubits is not None and pauli.num_qubits != n_qubits:
        raise ValueError(f"{name} acts on {pauli.num_qubits} qubits but {n_qubits} were expected")
    if hermitian:
        scale = max(1.0, float(np.max(np.abs(pauli.coeffs))))
        worst = float(np.max(np.abs(pauli.coeffs.imag)))
        if worst > atol * scale:
            raise ValueError(f"{name} must be Hermitian: a Pauli coefficient has imaginary part {worst:.3g}")
        pauli = SparsePauliOp(pauli.paulis, pauli.coeffs.real.astype(complex))
    return pauli


def as_matrix(op, *, sparse: bool = False, name: str = "H", hermitian: bool = True, atol: float = 1e-10):
    """``op`` as a matrix in Qiskit qubit order: dense ``ndarray`` or scipy CSR (``sparse=True``)."""
    matrix = _raw_matrix(op, name)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {matrix.shape}")
    _qubits_of_dim(matrix.shape[0], name)
    _check_finite(matrix, name)
    if hermitian:
        diff = matrix - matrix.conj().T
        worst = abs(diff).max() if sp.issparse(diff) else np.max(np.abs(diff))
        scale = max(1.0, abs(matrix).max() if sp.issparse(matrix) else np.max(np.abs(matrix)))
        if worst > atol * scale:
            raise ValueError(f"{name} must be Hermitian: max |H - H^dagger| = {worst:.3g}")
    if sparse:
        return sp.csr_matrix(matrix)
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=complex)


def num_qubits(op) -> int:
    """Number of qubits an operator acts on."""
    if isinstance(op, SparsePauliOp | Pauli | Operator):
        return op.num_qubits
    if _is_pennylane(op):
        return as_pauli_op(op, hermitian=False).num_qubits
    return _qubits_of_dim(_raw_matrix(op, "op").shape[0], "op")


def is_hermitian(op, atol: float = 1e-10) -> bool:
    """True when ``op`` equals its adjoint within ``atol`` (relative to its largest entry)."""
    try:
        as_pauli_op(op, atol=atol) if not sp.issparse(op) else as_matrix(op, sparse=True, atol=atol)
    except ValueError:
        return False
    return True


def pauli_norm(op, *, include_identity: bool = False) -> float:
    """Pauli 1-norm ``sum_j |c_j|`` of ``H = sum_j c_j P_j`` (the identity term left out unless asked).

    It bounds the spectral radius of ``H - c_I``: every eigenvalue lies in ``[c_I - norm, c_I + norm]``.
    """
    pauli = as_pauli_op(op, hermitian=False)
    mask = np.ones(len(pauli), dtype=bool)
    if not include_identity:
        mask &= pauli.paulis.x.any(axis=1) | pauli.paulis.z.any(axis=1)
    return float(np.sum(np.abs(pauli.coeffs[mask])))


def to_pennylane(op):
    """``op`` as a PennyLane operator (a ``Sum`` of Pauli words), qubit ``i`` on wire ``i``."""
    import pennylane as qml

    pauli = as_pauli_op(op, hermitian=False)
    n = pauli.num_qubits
    sentence = qml.pauli.PauliSentence()
    for label, coeff in zip(pauli.paulis.to_labels(), pauli.coeffs, strict=True):
        word = {n - 1 - pos: ch for pos, ch in enumerate(label) if ch != "I"}
        key = qml.pauli.PauliWord(word)
        value = coeff.real if abs(coeff.imag) == 0 else coeff
        sentence[key] = sentence.get(key, 0.0) + value
    return sentence.operation(wire_order=range(n))


def to_qutip(op):
    """``op`` as a ``qutip.Qobj`` with dims ``[[2]*n, [2]*n]``, qubit ``i`` as subsystem ``i``."""
    import qutip

    matrix = as_matrix(op, sparse=True, hermitian=False)
    n = _qubits_of_dim(matrix.shape[0], "op")
    return qutip.Qobj(reverse_qubit_order(matrix, n), dims=[[2] * n, [2] * n])


def state_to_qutip(psi):
    """A qdyn state vector as a QuTiP ket (qubit ``i`` as subsystem ``i``)."""
    import qutip

    psi = np.asarray(psi, dtype=complex)
    n = _qubits_of_dim(psi.shape[0], "psi")
    return qutip.Qobj(reverse_qubit_order(psi, n).reshape(-1, 1), dims=[[2] * n, [1] * n])


def state_from_qutip(ket) -> np.ndarray:
    """A QuTiP ket as a qdyn state vector."""
    vec = np.asarray(ket.full()).reshape(-1)
    return reverse_qubit_order(vec)


# Moved names (one release of grace): resolved lazily so this ground module never imports the exact engine.
__getattr__ = moved_names(__name__, {"spectral_bounds": "qdyn.exact"})
