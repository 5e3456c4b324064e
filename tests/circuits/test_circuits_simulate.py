"""Statevector simulation: the tensordot simulator and circuit operators against Qiskit's Statevector/Operator."""

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import Operator, SparsePauliOp, random_unitary

from qdyn.circuits.qsp import qetu_circuit
from qdyn.circuits.simulate import apply_circuit, circuit_operator, run_postselected, simulate_statevector


def _mixed_circuit() -> QuantumCircuit:
    """Dense gates (plain and controlled on |0>), a composite gate, parametrised rotations and a global phase."""
    inner = QuantumCircuit(3, name="inner")
    inner.h(0)
    inner.ccx(0, 1, 2)
    inner.rzz(0.4, 1, 2)
    qc = QuantumCircuit(5, global_phase=0.3)
    qc.append(UnitaryGate(random_unitary(4, seed=1).data), [3, 1])
    qc.append(UnitaryGate(random_unitary(2, seed=2).data).control(2, ctrl_state=0), [0, 4, 2])
    qc.append(inner.to_gate(), [4, 0, 2])
    qc.ry(0.7, 3)
    qc.mcx([0, 1, 2], 4, ctrl_state=5)
    return qc


def test_apply_circuit_equals_qiskit_statevector():
    qc = _mixed_circuit()
    rng = np.random.default_rng(5)
    initial = rng.standard_normal(32) + 1j * rng.standard_normal(32)
    initial /= np.linalg.norm(initial)
    # the same unitary gate by gate: rounding only (1e-12)
    assert np.max(np.abs(apply_circuit(qc, initial) - simulate_statevector(qc, initial))) <= 1e-12
    assert np.max(np.abs(circuit_operator(qc) - Operator(qc).data)) <= 1e-12
    shifted = SparsePauliOp(["ZZ", "XI", "II"], [0.3, 0.4, 1.5])
    qetu = qetu_circuit(shifted, 1.0, np.array([0.2, -0.4, 0.1, 0.3]))  # dense signal, rotations, Hadamards
    assert np.max(np.abs(circuit_operator(qetu) - Operator(qetu).data)) <= 1e-12
    with pytest.raises(ValueError, match="initial"):
        apply_circuit(qc, initial[:8])


def test_run_postselected_is_the_zero_ancilla_block():
    qc = _mixed_circuit()
    u = Operator(qc).data
    psi = np.array([1.0, 2.0j, -1.0, 0.5])  # 2 system qubits, not normalised; 3 ancillas in |0>
    out, prob = run_postselected(qc, psi)
    block = u[:4, :4]  # ancillas are the high qubits: |0_anc> x |j> is basis index j
    assert np.max(np.abs(out - block @ psi)) <= 1e-12
    assert prob == pytest.approx(np.linalg.norm(block @ psi) ** 2 / np.linalg.norm(psi) ** 2, abs=1e-12)
    same, _ = run_postselected(qc, psi, simulator=simulate_statevector)
    assert np.max(np.abs(same - out)) <= 1e-12
    assert run_postselected(qc, np.zeros(4))[1] == 0.0
