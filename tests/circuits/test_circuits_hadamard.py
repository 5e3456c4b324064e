"""Hadamard tests: ancilla <X> = Re, <Y> = Im of <phi_a|P U(t)|phi_b>, against the exact engine."""

import numpy as np
import pytest
from qiskit.quantum_info import Pauli, Statevector

from qdyn import models, states
from qdyn.circuits.hadamard import hadamard_test
from qdyn.exact import evolve, trotter_evolve


def _overlap(H, t, ref, **kw):
    vals = []
    for part in ("real", "imag"):
        qc, obs = hadamard_test(H, t, ref, part=part, **kw)
        vals.append(Statevector(qc).expectation_value(obs).real)
    return vals[0] + 1j * vals[1]


@pytest.mark.parametrize("t", [0.0, 0.9, 2.3])
def test_overlap_sign_of_time_and_conjugation(t):
    m = models.h2()
    H, psi = m.hamiltonian, m.hf_state
    exact = psi if t == 0 else evolve(H, psi, t)
    # s(t) = <phi|exp(-iHt)|phi>: exact unitary circuit vs Chebyshev propagator (1e-12 each) -> 1e-10
    assert abs(_overlap(H, t, psi, steps=None) - np.vdot(psi, exact)) < 1e-10
    if t > 0:
        assert abs(np.vdot(psi, exact).imag) > 1e-3  # the test is sensitive to the sign of t


@pytest.mark.parametrize("label", ["XYZI", "-iZZXX", "iIIIY", "-YIIZ"])
def test_pauli_and_two_references(label):
    H = models.heisenberg(4, delta=0.6, h=0.2, periodic=False)
    phi_b = states.haar_random_state(4, seed=1)
    phi_a = states.neel_state(4)
    P = Pauli(label)
    ket = trotter_evolve(H, phi_b, 0.8, steps=2, order=2)
    expected = np.vdot(phi_a, P.to_matrix() @ ket)
    got = _overlap(H, 0.8, phi_b, ref_left=phi_a, pauli=P, steps=2, order=2)
    assert abs(got - expected) < 1e-10


def test_observable_and_bad_input():
    qc, obs = hadamard_test(models.tfim(3), 0.2, states.plus_state(3), part="imag")
    assert qc.num_qubits == 4 and obs.paulis.to_labels() == ["YIII"]
    with pytest.raises(ValueError, match="part"):
        hadamard_test(models.tfim(3), 0.2, states.plus_state(3), part="both")
    with pytest.raises(ValueError, match="qubits"):
        hadamard_test(models.tfim(3), 0.2, states.plus_state(2))
    with pytest.raises(ValueError, match="pauli"):
        hadamard_test(models.tfim(3), 0.2, states.plus_state(3), pauli="XX")


@pytest.mark.parametrize("bad, error, match", [
    (states.plus_state(4), ValueError, r"ref has length 16 but the operator acts on 3 qubits"),
    (np.ones(6) / np.sqrt(6), ValueError, "ref must have length 2\\*\\*n"),
    (np.full(8, np.nan), ValueError, "ref contains NaN"),
    (np.ones(8), ValueError, "ref must be normalised"),
    ("plus", TypeError, "ref must be a state vector or a preparation circuit"),
])
def test_wrong_reference_fails_at_the_door(bad, error, match):
    # checked before any circuit is built: the message names the argument, not a Qiskit internal
    with pytest.raises(error, match=match):
        hadamard_test(models.tfim(3), 0.2, bad)


def test_wrong_size_reference_circuits_fail_at_the_door():
    from qiskit import QuantumCircuit

    psi = states.plus_state(3)
    for n in (2, 4):
        with pytest.raises(ValueError, match=f"ref is a circuit on {n} qubits but the Hamiltonian acts on 3"):
            hadamard_test(models.tfim(3), 0.2, QuantumCircuit(n))
        with pytest.raises(ValueError, match=f"ref_left is a circuit on {n} qubits"):
            hadamard_test(models.tfim(3), 0.2, psi, ref_left=QuantumCircuit(n))
    with pytest.raises(ValueError, match="ref_left has length 4"):
        hadamard_test(models.tfim(3), 0.2, psi, ref_left=states.plus_state(2))
    measuring = QuantumCircuit(3, 1)
    measuring.measure(0, 0)
    with pytest.raises(ValueError, match="must not measure"):
        hadamard_test(models.tfim(3), 0.2, measuring)
