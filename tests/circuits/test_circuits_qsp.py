"""QSP/QSVT circuits: block encodings, the real-part QSVT circuit and filter, QETU and GQSP circuits; the names
that moved to qdyn.cooling still resolve from qdyn.circuits."""

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator

import qdyn.circuits
import qdyn.cooling
from qdyn.circuits.block_encoding import block_encoding_of, dilation_block_encoding, lcu_block_encoding
from qdyn.circuits.qsp import qsvt_circuit, qsvt_filter
from qdyn.circuits.simulate import circuit_operator, simulate_statevector
from qdyn.cooling import normalise_hamiltonian, ring_with_field
from qdyn.qsp import erf_polynomial, sign_polynomial, solve_phases_newton


@pytest.fixture(scope="module")
def ring3():
    return normalise_hamiltonian(ring_with_field(3), 1.05)[0]


def _matrix(gate) -> np.ndarray:
    """The gate's unitary by the tensordot simulator (checked against Qiskit's Operator in test_circuits_simulate)."""
    qc = QuantumCircuit(gate.num_qubits)
    qc.append(gate, range(gate.num_qubits))
    return circuit_operator(qc)


def _shifted(H, mu, alpha):
    return (H.to_matrix() - mu * np.eye(2**H.num_qubits)) / alpha


@pytest.mark.parametrize(("kind", "alpha"), [("lcu", 3.0), ("dilation", 2.0)])
def test_block_encodings(ring3, kind, alpha):
    build = lcu_block_encoding if kind == "lcu" else dilation_block_encoding
    block = build(ring3, 0.2, alpha)
    u = Operator(block.circuit).data
    # reference: the dense (H - mu)/alpha; the LCU goes through StatePreparation synthesis (rounding ~1e-14)
    assert np.max(np.abs(u[:8, :8] - _shifted(ring3, 0.2, alpha))) <= 1e-12
    assert np.max(np.abs(u - u.conj().T)) <= 1e-12  # Hermitian: a reflection, as qubitization needs
    assert block.alpha == pytest.approx(alpha)
    assert block_encoding_of(ring3, 0.2, alpha, kind).kind == kind
    # as one gate: its controlled forms (an LCU controls SELECT only) apply u exactly when the controls (the least
    # significant qubits, Qiskit's order) are in ctrl_state, and the encoding is its own inverse (a reflection)
    gate = block.gate("U")
    for k, state in ((1, 0), (2, 2)):
        reference = np.eye(u.shape[0] * 2**k, dtype=complex).reshape(u.shape[0], 2**k, u.shape[0], 2**k)
        reference[:, state, :, state] = u
        reference = reference.reshape(u.shape[0] * 2**k, -1)
        assert np.max(np.abs(_matrix(gate.control(k, ctrl_state=state)) - reference)) <= 1e-12
        if k == 2:  # a control added to a controlled form: the new control is the least significant
            twice = gate.control(1, ctrl_state=1).control(1, ctrl_state=0)
            assert np.max(np.abs(_matrix(twice) - reference)) <= 1e-12
    assert np.max(np.abs(_matrix(gate.inverse()) - u)) <= 1e-12


def test_block_encoding_bad_alpha(ring3):
    with pytest.raises(ValueError, match="alpha must be >= the Pauli 1-norm"):
        lcu_block_encoding(ring3, 0.2, 1.0)
    with pytest.raises(ValueError, match="increase alpha"):
        dilation_block_encoding(ring3, 0.9, 1.0)


@pytest.mark.parametrize("kind", ["lcu", "dilation"])
def test_qsvt_circuit_postselected_block_is_the_polynomial(kind):
    H = normalise_hamiltonian(ring_with_field(2), 1.05)[0]
    alpha = 3.0 if kind == "lcu" else 2.0
    block = (lcu_block_encoding if kind == "lcu" else dilation_block_encoding)(H, -0.1, alpha)
    poly = sign_polynomial(0.4, 1e-2)
    phases = solve_phases_newton(poly, convention="qsvt").phases
    circuit = qsvt_circuit(block, phases)  # gate-level rotations (MCX + flag for the 2-ancilla LCU)
    w, v = np.linalg.eigh(_shifted(H, -0.1, alpha))
    reference = (v * poly(w)) @ v.conj().T  # p(A) from the eigendecomposition
    for col in (0, 3):
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[col] = 1.0
        out = simulate_statevector(circuit, initial)
        # every ancilla in |0> <-> the lowest 2^n amplitudes; phases rebuild p to 1e-12
        assert np.max(np.abs(out[:4] - reference[:, col])) <= 1e-10


def test_diagonal_rotations_equal_gate_level():
    H = normalise_hamiltonian(ring_with_field(2), 1.05)[0]
    block = lcu_block_encoding(H, 0.1, 3.0)
    phases = np.array([0.3, -0.2, 0.7, -0.2, 0.3])
    gates = qsvt_circuit(block, phases)
    diagonal = qsvt_circuit(block, phases, rotations="diagonal")
    rng = np.random.default_rng(3)
    psi = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    psi /= np.linalg.norm(psi)
    a = np.zeros(2**gates.num_qubits, complex)
    b = np.zeros(2**diagonal.num_qubits, complex)
    a[:4], b[:4] = psi, psi
    out_a, out_b = simulate_statevector(gates, a), simulate_statevector(diagonal, b)
    assert np.max(np.abs(out_a[:4] - out_b[:4])) <= 1e-12  # same post-selected block
    with pytest.raises(ValueError, match="rotations"):
        qsvt_circuit(block, phases, rotations="mcx")
    with pytest.raises(ValueError, match="phases"):
        qsvt_circuit(block, np.array([0.1]))


@pytest.mark.parametrize(("kind", "alpha"), [("dilation", 2.0), ("lcu", 4.0)])
def test_qsvt_filter_alone(ring3, kind, alpha):
    poly = erf_polynomial(alpha / 0.3, 1e-6)
    apply = qsvt_filter(ring3, poly, alpha=alpha, block_encoding=kind)
    w, v = np.linalg.eigh(_shifted(ring3, -0.1, alpha))
    psi = np.arange(8.0) + 1j
    out, prob = apply(psi, -0.1)
    reference = (v * poly(w)) @ v.conj().T @ psi  # p(A) psi from the eigendecomposition
    # phases rebuild p to 1e-12; the LCU's state preparation is synthesised to ~1e-14: 1e-10 on |psi| ~ 14
    assert np.max(np.abs(out - reference)) <= 1e-10
    assert prob == pytest.approx(np.vdot(reference, reference).real / np.vdot(psi, psi).real, abs=1e-10)
    with pytest.raises(ValueError, match="block_encoding"):
        qsvt_filter(ring3, poly, alpha=alpha, block_encoding="qubitized")


@pytest.mark.parametrize("name", ["CoherentCoolingStep", "GQSPFilter", "QETUFilter", "cooling_circuit_resources",
                                  "gate_level_step_circuit"])
def test_moved_cooling_names_resolve_from_circuits_with_a_warning(name):
    with pytest.warns(DeprecationWarning, match=rf"qdyn\.circuits\.{name} has moved to qdyn\.cooling\.{name}"):
        old = getattr(qdyn.circuits, name)
    assert old is getattr(qdyn.cooling, name)
    with pytest.raises(AttributeError):
        qdyn.circuits.no_such_name  # noqa: B018

def test_qetu_circuit_postselected_block(ring3):
    from qiskit.quantum_info import SparsePauliOp

    from qdyn.circuits.qsp import qetu_circuit
    from qdyn.qsp import qetu_sign_polynomial

    tau = 1.0
    H = (1.4 * ring3 + SparsePauliOp("III", [1.5])).simplify()  # spectrum inside [0.1, 2.9] c (0, pi/tau)
    w, v = np.linalg.eigh(H.to_matrix())
    mu = (w[0] + w[1]) / 2
    poly = qetu_sign_polynomial(mu, 0.2, 1e-6, tau)
    phases = solve_phases_newton(poly, convention="qetu").phases
    circuit = qetu_circuit(H, tau, phases)
    reference = (v * poly(np.cos(tau * w / 2))) @ v.conj().T  # p(cos(tau H / 2)) from the eigenpairs
    assert np.allclose(np.abs(np.diag(v.conj().T @ reference @ v)), 0.9999, atol=1e-6)  # +-peak bands
    for col in (0, 5):
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[col] = 1.0
        out = simulate_statevector(circuit, initial)[:8]
        assert np.max(np.abs(out - reference[:, col])) <= 1e-10
    trotter = qetu_circuit(H, tau, phases[:5], evolution="trotter", trotter_reps=2)
    assert trotter.num_qubits == 5 and trotter.count_ops()["PauliEvolution"] == 4
    with pytest.raises(ValueError, match="evolution"):
        qetu_circuit(H, tau, phases, evolution="qdrift")

def test_gqsp_circuit_postselected_block(ring3):
    from qdyn.circuits.qsp import gqsp_circuit
    from qdyn.qsp import fourier_sign_series, solve_gqsp_phases

    tau = 1.0
    w, v = np.linalg.eigh(ring3.to_matrix())
    g = fourier_sign_series((w[0] + w[1]) / 2, 0.15, 1e-6, tau)
    circuit = gqsp_circuit(ring3, tau, solve_gqsp_phases(g.coeffs))
    reference = (v * g.of_energy(w)) @ v.conj().T  # g(tau H) from the eigenpairs
    for col in (0, 6):
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[col] = 1.0
        out = simulate_statevector(circuit, initial)[:8]
        assert np.max(np.abs(out - reference[:, col])) <= 1e-10
