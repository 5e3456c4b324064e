"""Dense and gate-level renderings agree, and oblivious amplitude amplification gives sin(3 theta)."""

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import Operator, random_unitary

from qdyn.circuits.amplification import amplified_circuit, amplified_probability
from qdyn.circuits.forms import DenseForm, GateForm, inverse_circuit


@pytest.mark.parametrize(("psis", "controls", "ctrl_state"), [(0.37, (), 0), (0.37, (4,), 0), ((0.37, -1.1), (4,), 0)])
def test_projector_rotation_is_the_same_in_both_forms(psis, controls, ctrl_state):
    # e^{i psi (2 Pi - 1) Z_z}, Pi = |00> on qubits 0, 1, z = 2; gate form through the flag qubit 3 (starts in |0>)
    dense, gates = QuantumCircuit(5), QuantumCircuit(5)
    DenseForm.rotation(dense, psis, [0, 1], 2, list(controls), ctrl_state)
    GateForm.rotation(gates, psis, [0, 1], 2, list(controls), ctrl_state, flag=3)
    u_dense, u_gates = Operator(dense).data, Operator(gates).data
    flag_zero = [i for i in range(32) if not (i >> 3) & 1]
    block = u_gates[np.ix_(flag_zero, flag_zero)]  # the flag returns to |0>: the block is the whole action
    reference = u_dense[np.ix_(flag_zero, flag_zero)]
    assert np.max(np.abs(block - reference)) <= 1e-12
    # independent reference for one entry: |z=1, Pi> picks e^{-i psi} (branch e = 0 when psis is a pair)
    psi = psis if np.ndim(psis) == 0 else psis[0]
    assert reference[4, 4] == pytest.approx(np.exp(-1j * psi), abs=1e-12)
    with pytest.raises(ValueError, match="flag"):
        GateForm.rotation(gates, 0.1, [0, 1], 2)


@pytest.mark.parametrize("form", [DenseForm, GateForm])
def test_reflection_and_inverse(form):
    qc = QuantumCircuit(3)
    form.reflection(qc, [0, 2])
    expected = np.diag([-1, 1, -1, 1, 1, 1, 1, 1]).astype(complex)  # -1 where qubits 0 and 2 are |0> (index 0, 2)
    assert np.max(np.abs(Operator(qc).data - expected)) <= 1e-12
    w = QuantumCircuit(3, global_phase=0.2)
    w.append(UnitaryGate(random_unitary(8, seed=3).data), [0, 1, 2])
    w.cx(0, 2)
    assert np.max(np.abs(Operator(inverse_circuit(w)).data @ Operator(w).data - np.eye(8))) <= 1e-12


@pytest.mark.parametrize("form", [DenseForm, GateForm])
def test_oblivious_amplification_triples_the_angle(form):
    # W = U x R_y(2 theta) on the ancilla: block <0|W|0> = cos(theta) U = sin(theta') U; one round of
    # -W R W^dag R W gives sin(3 theta') U (Berry et al., PRL 114, 090502 (2015), Lemma 3.6)
    theta = 1.2
    u = random_unitary(4, seed=4).data
    w = QuantumCircuit(3, name="w")
    w.append(UnitaryGate(u), [0, 1])
    w.ry(2 * theta, 2)
    amplified = Operator(amplified_circuit(form, w, [2])).data
    s = np.cos(theta)  # sin(theta') of the block
    expected = np.sin(3 * np.arcsin(s)) * u
    assert np.max(np.abs(amplified[:4, :4] - expected)) <= 1e-12
    assert amplified_probability(s**2) == pytest.approx(np.sin(3 * np.arcsin(s)) ** 2, abs=1e-15)
    assert amplified_probability(0.25) == pytest.approx(1.0, abs=1e-15)  # sin(theta) = 1/2: exactly 1
    with pytest.raises(ValueError, match="ancillas"):
        amplified_circuit(form, w, [])
