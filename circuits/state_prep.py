"""State-preparation circuits in qdyn's qubit order (qubit 0 = least significant bit).

* :func:`basis_state_circuit` — ``X`` gates on the set bits of a computational basis state;
* :func:`product_state_circuit` — one ``U`` gate per qubit (labels ``"0", "1", "+", "-", "+i", "-i"`` or 2-vectors);
* :func:`neel_circuit`, :func:`hartree_fock_circuit` — the Neel and Hartree-Fock references of :mod:`qdyn.states`;
* :func:`state_circuit` — any normalised vector: basis states and product states get the shallow circuits above,
  anything else Qiskit's exact ``StatePreparation`` (exponential depth; small registers only).
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit

from qdyn.errors import check_int, check_state
from qdyn.states import basis_index, product_state

__all__ = ["basis_state_circuit", "product_state_circuit", "neel_circuit", "hartree_fock_circuit",
           "state_circuit"]


def basis_state_circuit(n: int, index) -> QuantumCircuit:
    """``|index>`` from ``|0...0>``; ``index`` is an int or a bit string (rightmost character = qubit 0)."""
    n = check_int("n", n, minimum=1)
    index = basis_index(n, index)
    qc = QuantumCircuit(n, name=f"basis_{index}")
    for q in range(n):
        if (index >> q) & 1:
            qc.x(q)
    return qc


def _single_qubit_angles(v: np.ndarray) -> tuple[float, float, float]:
    """``(theta, phi, phase)`` with ``v = e^{i phase} (cos(theta/2), e^{i phi} sin(theta/2))``."""
    theta = 2 * np.arctan2(abs(v[1]), abs(v[0]))
    phase = float(np.angle(v[0])) if abs(v[0]) > 1e-12 else float(np.angle(v[1]))
    phi = float(np.angle(v[1]) - np.angle(v[0])) if abs(v[0]) > 1e-12 and abs(v[1]) > 1e-12 else 0.0
    return float(theta), phi, phase


def product_state_circuit(states) -> QuantumCircuit:
    """Tensor product of single-qubit states, ``states[i]`` on qubit ``i`` (global phase kept)."""
    vectors = [product_state([s]) for s in states]
    qc = QuantumCircuit(len(vectors), name="product")
    for q, v in enumerate(vectors):
        theta, phi, phase = _single_qubit_angles(v)
        if theta or phi:
            qc.u(theta, phi, 0.0, q)
        qc.global_phase += phase
    return qc


def neel_circuit(n: int) -> QuantumCircuit:
    """Neel state ``|...0101>`` (odd qubits flipped), as :func:`qdyn.states.neel_state`."""
    n = check_int("n", n, minimum=1)
    return basis_state_circuit(n, sum(1 << q for q in range(1, n, 2)))


def hartree_fock_circuit(n_qubits: int, n_electrons: int) -> QuantumCircuit:
    """Hartree-Fock state: qubits ``0..n_electrons-1`` occupied, as :func:`qdyn.states.hartree_fock_state`."""
    n_qubits = check_int("n_qubits", n_qubits, minimum=1)
    n_electrons = check_int("n_electrons", n_electrons, minimum=0)
    if n_electrons > n_qubits:
        raise ValueError(f"n_electrons={n_electrons} exceeds n_qubits={n_qubits}")
    return basis_state_circuit(n_qubits, (1 << n_electrons) - 1)


def _as_product(psi: np.ndarray, n: int) -> list[np.ndarray] | None:
    """Single-qubit factors (qubit 0 first) when ``psi`` is a product state, else ``None``."""
    factors = []
    rest = psi.reshape(2 ** (n - 1), 2) if n > 1 else psi.reshape(1, 2)
    for q in range(n):
        u, sv, vh = np.linalg.svd(rest, full_matrices=False)
        if sv.size > 1 and sv[1] > 1e-10 * sv[0]:
            return None
        factors.append(vh[0] * sv[0])  # qubit q (least significant of the remainder)
        rest = u[:, 0]
        if q < n - 1:
            rest = rest.reshape(-1, 2)
    factors[-1] = factors[-1] * (rest[0] if np.ndim(rest) == 1 and rest.size == 1 else 1.0)
    return factors


def state_circuit(psi) -> QuantumCircuit:
    """A circuit preparing the normalised state ``psi`` from ``|0...0>`` exactly (global phase included)."""
    psi = check_state(psi, name="psi")
    n = int(np.log2(psi.size))
    nonzero = np.flatnonzero(np.abs(psi) > 1e-12)
    if nonzero.size == 1:
        qc = basis_state_circuit(n, int(nonzero[0]))
        qc.global_phase = float(np.angle(psi[nonzero[0]]))
        return qc
    factors = _as_product(psi, n)
    if factors is not None:
        qc = QuantumCircuit(n, name="product")
        for q, v in enumerate(factors):
            theta, phi, phase = _single_qubit_angles(v)
            qc.u(theta, phi, 0.0, q)
            qc.global_phase += phase
        return qc
    from qiskit.circuit.library import StatePreparation

    qc = QuantumCircuit(n, name="state")
    qc.append(StatePreparation(psi), range(n))
    return qc.decompose(reps=8)
