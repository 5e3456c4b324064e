"""State-preparation circuits against the state vectors of qdyn.states (qubit 0 = least significant bit)."""

import numpy as np
import pytest
from qiskit.quantum_info import Statevector

from qdyn import states
from qdyn.circuits.state_prep import (
    basis_state_circuit,
    hartree_fock_circuit,
    neel_circuit,
    product_state_circuit,
    state_circuit,
)


def _vec(qc):
    return Statevector(qc).data


def test_named_references_match_qdyn_states():
    # exact gate algebra: agreement to rounding (1e-12)
    np.testing.assert_allclose(_vec(neel_circuit(5)), states.neel_state(5), atol=1e-12)
    np.testing.assert_allclose(_vec(hartree_fock_circuit(4, 2)), states.hartree_fock_state(4, 2), atol=1e-12)
    np.testing.assert_allclose(_vec(basis_state_circuit(3, "110")), states.basis_state(3, "110"), atol=1e-12)
    labels = ["+i", "1", "-", "0", "+"]
    np.testing.assert_allclose(_vec(product_state_circuit(labels)), states.product_state(labels), atol=1e-12)


@pytest.mark.parametrize("psi", [
    states.plus_state(3),
    np.exp(0.4j) * states.basis_state(3, 5),
    np.exp(-1.1j) * states.product_state(["+i", [0.6, 0.8j], "1"]),
    states.haar_random_state(3, seed=4),
])
def test_state_circuit_prepares_any_vector_with_its_phase(psi):
    qc = state_circuit(psi)
    np.testing.assert_allclose(_vec(qc), psi, atol=1e-12)


def test_shallow_circuits_for_basis_and_product_states():
    assert set(state_circuit(states.neel_state(6)).count_ops()) <= {"x"}
    assert state_circuit(states.plus_state(6)).num_nonlocal_gates() == 0


def test_bad_input():
    with pytest.raises(ValueError, match="bit string"):
        basis_state_circuit(3, "12")
    with pytest.raises(ValueError, match="n_electrons"):
        hartree_fock_circuit(2, 3)
    with pytest.raises(ValueError, match="normalised"):
        state_circuit(np.array([1.0, 1.0]))
