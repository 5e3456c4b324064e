"""Control-free overlaps: the vacuum branch replaces the Hadamard test's ancilla (checked against expm)."""

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp, Statevector
from scipy.linalg import expm

from qdyn import models
from qdyn.circuits.control_free import basis_action, branch_circuit, control_free_overlap, vacuum_energy
from qdyn.circuits.evolution import evolution_circuit


@pytest.mark.parametrize("H", [models.heisenberg(4, delta=0.6, h=0.3, periodic=True), models.tfim(3),
                               models.hubbard(2), SparsePauliOp(["XYZ", "YIX", "YYY"], [0.4, -0.7, 0.2])])
def test_basis_action_equals_the_matrix_column(H):
    matrix = H.to_matrix()
    for index in range(2**H.num_qubits):
        column = np.zeros(2**H.num_qubits, dtype=complex)
        for k, amp in basis_action(H, index).items():
            column[k] = amp
        np.testing.assert_allclose(column, matrix[:, index], atol=1e-14)  # Pauli algebra vs dense: rounding


def test_vacuum_energy():
    H = models.heisenberg(4, delta=0.7, h=0.3, periodic=False)
    diag = np.real(np.diag(H.to_matrix()))
    for vacuum in (0, 15):  # XXZ conserves sum Z: both fully polarised states are eigenstates
        assert vacuum_energy(H, vacuum, product_formula=False) == pytest.approx(diag[vacuum], abs=1e-12)
        assert vacuum_energy(H, vacuum, product_formula=True) == pytest.approx(diag[vacuum], abs=1e-12)
    assert vacuum_energy(models.tfim(3), 0, product_formula=False) is None  # the field flips spins
    assert vacuum_energy(models.hubbard(2), 0, product_formula=True) == pytest.approx(0.0, abs=1e-12)
    # H |000> = 0 because two factors cancel, but each factor alone moves |000>: no product formula keeps it
    cancel = SparsePauliOp(["ZXX", "IXX", "ZZI"], [1.0, -1.0, 0.5])
    assert vacuum_energy(cancel, 0, product_formula=False) == pytest.approx(0.5)
    assert vacuum_energy(cancel, 0, product_formula=True) is None


@pytest.mark.parametrize(("vacuum", "ref", "phi"), [(0, 0b1010, 0.0), (15, 0b0110, np.pi / 2), (0, 0b1001, 0.3)])
def test_branch_circuit(vacuum, ref, phi):
    qc = branch_circuit(4, vacuum, ref, phi)
    pivot = qc.metadata["pivot"]
    for start, sign in ((0, 1), (1 << pivot, -1)):
        want = np.zeros(16, dtype=complex)
        want[vacuum] = 1 / np.sqrt(2)
        want[ref] = sign * np.exp(1j * phi) / np.sqrt(2)
        got = Statevector.from_int(start, 16).evolve(qc).data
        np.testing.assert_allclose(got, want, atol=1e-14)
    with pytest.raises(ValueError, match="differ"):
        branch_circuit(4, 3, 3)


@pytest.mark.parametrize("vacuum", [0, 31])
@pytest.mark.parametrize(("left", "ref"), [(0b01010, 0b01010), (0b00110, 0b01010), (0b00011, 0b01010)])
def test_overlap_against_expm(vacuum, left, ref):
    H = models.heisenberg(5, delta=0.8, h=0.4, periodic=False)
    t = 0.9
    energy = vacuum_energy(H, vacuum, product_formula=False)
    U = evolution_circuit(H, t, steps=None)
    parts = []
    for part in ("real", "imag"):
        qc, obs = control_free_overlap(U, vacuum, ref, ref_left=left, part=part)
        assert qc.num_qubits == 5  # no ancilla
        parts.append(Statevector(qc).expectation_value(obs).real)
    want = expm(-1j * t * H.to_matrix())[left, ref]  # <left| exp(-iHt) |ref>, the time sign of DESIGN.md
    # exact unitary gate vs expm: rounding (1e-12); Im parts and off-diagonal elements are non-trivial
    assert np.exp(-1j * energy * t) * (parts[0] + 1j * parts[1]) == pytest.approx(want, abs=1e-12)


def test_bad_input():
    U = evolution_circuit(models.heisenberg(3), 0.2, steps=1)
    with pytest.raises(ValueError, match="part"):
        control_free_overlap(U, 0, 1, part="both")
    with pytest.raises(ValueError, match="ref_left"):
        control_free_overlap(U, 0, 1, ref_left=8)
    with pytest.raises(ValueError, match="differ"):
        control_free_overlap(U, 0, 0)
