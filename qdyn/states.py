"""Reference states as state vectors in qdyn's qubit order (qubit 0 = least significant bit).

Bit strings follow Qiskit: the rightmost character is qubit 0, so ``basis_state("011")`` has qubits 0 and 1
set (index 3).
"""

from __future__ import annotations

import numpy as np

from qdyn.errors import check_int
from qdyn.seeding import make_rng

__all__ = ["basis_index", "basis_state", "product_state", "plus_state", "neel_state", "hartree_fock_state",
           "haar_random_state"]

_SINGLE = {
    "0": np.array([1, 0], dtype=complex),
    "1": np.array([0, 1], dtype=complex),
    "+": np.array([1, 1], dtype=complex) / np.sqrt(2),
    "-": np.array([1, -1], dtype=complex) / np.sqrt(2),
    "+i": np.array([1, 1j], dtype=complex) / np.sqrt(2),
    "-i": np.array([1, -1j], dtype=complex) / np.sqrt(2),
}


def basis_index(n: int, index) -> int:
    """A basis index from an int or a bit string of length ``n`` (rightmost character = qubit 0), checked."""
    if isinstance(index, str):
        if len(index) != n or set(index) - {"0", "1"}:
            raise ValueError(f"index must be a bit string of length {n}, got {index!r}")
        index = int(index, 2)
    index = check_int("index", index, minimum=0)
    if index >= 2**n:
        raise ValueError(f"index {index} out of range for {n} qubits")
    return index


def basis_state(n: int, index) -> np.ndarray:
    """Computational basis state ``|index>``; ``index`` is an int or a bit string (rightmost = qubit 0)."""
    n = check_int("n", n, minimum=1)
    index = basis_index(n, index)
    psi = np.zeros(2**n, dtype=complex)
    psi[index] = 1.0
    return psi


def product_state(states) -> np.ndarray:
    """Tensor product of single-qubit states; ``states[i]`` is qubit ``i``.

    Each entry is one of ``"0", "1", "+", "-", "+i", "-i"`` or a normalised 2-vector.
    """
    vectors = []
    for i, s in enumerate(states):
        if isinstance(s, str):
            if s not in _SINGLE:
                raise ValueError(f"states[{i}] must be one of {sorted(_SINGLE)} or a 2-vector, got {s!r}")
            vectors.append(_SINGLE[s])
        else:
            v = np.asarray(s, dtype=complex)
            if v.shape != (2,) or abs(np.linalg.norm(v) - 1) > 1e-10:
                raise ValueError(f"states[{i}] must be a normalised 2-vector")
            vectors.append(v)
    if not vectors:
        raise ValueError("states must name at least one qubit")
    psi = np.ones(1, dtype=complex)
    for v in vectors:  # qubit i is more significant than qubits < i
        psi = np.kron(v, psi)
    return psi


def plus_state(n: int) -> np.ndarray:
    """``|+>^n``, the ground state of ``-sum X_i``."""
    return product_state(["+"] * check_int("n", n, minimum=1))


def neel_state(n: int) -> np.ndarray:
    """Neel state ``|...0101>``: even qubits ``|0>``, odd qubits ``|1>``."""
    return product_state(["0" if i % 2 == 0 else "1" for i in range(check_int("n", n, minimum=1))])


def hartree_fock_state(n_qubits: int, n_electrons: int) -> np.ndarray:
    """The lowest ``n_electrons`` spin orbitals (qubits 0..n_electrons-1) occupied."""
    n_electrons = check_int("n_electrons", n_electrons, minimum=0)
    if n_electrons > n_qubits:
        raise ValueError(f"n_electrons={n_electrons} exceeds n_qubits={n_qubits}")
    return basis_state(n_qubits, (1 << n_electrons) - 1)


def haar_random_state(n: int, seed=None) -> np.ndarray:
    """A Haar-random pure state (normalised complex Gaussian vector)."""
    rng, _ = make_rng(seed)
    dim = 2 ** check_int("n", n, minimum=1)
    psi = rng.standard_normal(dim) + 1j * rng.standard_normal(dim)
    return psi / np.linalg.norm(psi)
