"""One Hamiltonian through Qiskit, PennyLane and QuTiP: same spectrum, same expectation values."""

import numpy as np
import pennylane as qml
import pytest
import qutip
import scipy.sparse as sp
from qiskit.quantum_info import SparsePauliOp

from qdyn import exact, models, operators, states


@pytest.fixture(scope="module")
def hamiltonian():
    # Asymmetric in the qubit order (fields differ per site) so an order mix-up cannot go unnoticed.
    H = models.heisenberg(4, delta=0.6, periodic=False)
    fields = SparsePauliOp(["IIIZ", "IIXI", "IYII", "ZIII"], [0.3, -0.7, 0.2, 1.1])
    return (H + fields).simplify()


def test_pennylane_round_trip_and_qubit_order(hamiltonian):
    op = operators.to_pennylane(hamiltonian)
    # PennyLane's own matrix (wire 0 most significant) equals ours with the bit order reversed.
    pl_matrix = qml.matrix(op, wire_order=range(4))
    np.testing.assert_allclose(operators.reverse_qubit_order(pl_matrix), hamiltonian.to_matrix(), atol=1e-12)
    back = operators.as_pauli_op(op)
    assert back.equiv(hamiltonian)


def test_pennylane_single_term_is_on_the_right_qubit():
    # qml.Z(0) acts on wire 0 = qdyn qubit 0 = the rightmost label character.
    assert operators.as_pauli_op(qml.Z(0) + 0.0 * qml.Z(2)).simplify().paulis.to_labels() == ["IIZ"]


def test_qutip_round_trip_and_qubit_order(hamiltonian):
    qobj = operators.to_qutip(hamiltonian)
    assert qobj.dims == [[2] * 4, [2] * 4]
    # QuTiP's subsystem 0 is qubit 0: sigma_z on subsystem 0 built with qutip.tensor.
    z0 = qutip.tensor([qutip.sigmaz()] + [qutip.qeye(2)] * 3)
    assert operators.as_pauli_op(z0).paulis.to_labels() == ["IIIZ"]
    assert operators.as_pauli_op(qobj).equiv(hamiltonian)


def test_same_spectrum_and_expectations_in_three_libraries(hamiltonian):
    reference = np.linalg.eigvalsh(hamiltonian.to_matrix())
    pl_spectrum = np.linalg.eigvalsh(qml.matrix(operators.to_pennylane(hamiltonian), wire_order=range(4)))
    qt_spectrum = np.sort(operators.to_qutip(hamiltonian).eigenenergies())
    np.testing.assert_allclose(pl_spectrum, reference, atol=1e-12)
    np.testing.assert_allclose(qt_spectrum, reference, atol=1e-12)
    for seed in range(3):
        psi = states.haar_random_state(4, seed=seed)
        ours = exact.expectation(hamiltonian, psi)
        ket = operators.state_to_qutip(psi)
        via_qutip = qutip.expect(operators.to_qutip(hamiltonian), ket)
        pl_state = operators.reverse_qubit_order(psi)
        pl_matrix = qml.matrix(operators.to_pennylane(hamiltonian), wire_order=range(4))
        via_pennylane = np.vdot(pl_state, pl_matrix @ pl_state).real
        assert abs(ours - via_qutip) < 1e-12 and abs(ours - via_pennylane) < 1e-12
        np.testing.assert_allclose(operators.state_from_qutip(ket), psi, atol=1e-15)


def test_matrix_inputs_dense_and_sparse(hamiltonian):
    dense = hamiltonian.to_matrix()
    assert operators.as_pauli_op(dense).equiv(hamiltonian)
    assert operators.as_pauli_op(sp.csr_matrix(dense)).equiv(hamiltonian)
    np.testing.assert_allclose(operators.as_matrix(hamiltonian), dense)
    assert sp.issparse(operators.as_matrix(dense, sparse=True))


def test_pauli_norm_and_spectral_bounds(hamiltonian):
    eigs = np.linalg.eigvalsh(hamiltonian.to_matrix())
    assert operators.pauli_norm(hamiltonian) == pytest.approx(np.sum(np.abs(hamiltonian.coeffs)))
    for method in ("pauli", "lanczos", "exact"):
        lo, hi = exact.spectral_bounds(hamiltonian, method=method)
        assert lo <= eigs[0] + 1e-12 and hi >= eigs[-1] - 1e-12
    lo, hi = exact.spectral_bounds(hamiltonian, method="exact")
    assert lo == pytest.approx(eigs[0], abs=1e-10) and hi == pytest.approx(eigs[-1], abs=1e-10)


def test_lanczos_bounds_hold_on_a_larger_chain():
    H = models.tfim(14, g=0.8)
    ground = exact.ground_state(H, seed=1).energy
    top = -exact.ground_state(-H, seed=1).energy
    lo, hi = exact.spectral_bounds(H, method="lanczos")
    assert lo <= ground and hi >= top and (hi - lo) < 1.1 * (top - ground)
