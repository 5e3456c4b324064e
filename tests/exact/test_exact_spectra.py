"""Ground energies of the built-in models against analytic formulas and published full-CI values."""

import numpy as np
import pytest

from qdyn import exact, models


def free_fermion_tfim_energy(n: int, J: float, g: float) -> float:
    """Periodic TFIM ground energy for even n (Jordan-Wigner, antiperiodic sector):
    E0 = -sum_{m=1}^{n/2} 2 sqrt(J^2 + g^2 - 2 J g cos((2m-1) pi / n))."""
    m = np.arange(1, n // 2 + 1)
    return -float(np.sum(2 * np.sqrt(J**2 + g**2 - 2 * J * g * np.cos((2 * m - 1) * np.pi / n))))


@pytest.mark.parametrize("n", [4, 6, 8, 10, 12, 14, 16])
@pytest.mark.parametrize("g", [0.5, 1.0, 2.0])
def test_tfim_matches_free_fermions(n, g):
    # 1e-9: both sides are exact; the Lanczos residual tolerance is 1e-12 relative.
    result = exact.ground_state(models.tfim(n, J=1.0, g=g), seed=7)
    assert abs(result.energy - free_fermion_tfim_energy(n, 1.0, g)) < 1e-9
    assert result.residuals[0] < 1e-6


@pytest.mark.parametrize(("n", "periodic", "expected"), [
    (4, True, -8.0),                        # exact: S=0 singlet of the 4-ring, 4 * (-2) in Pauli units
    (8, True, -14.6043736357),              # Bethe-ansatz value for the 8-site ring (Pauli units)
    (4, False, -(3 + 2 * np.sqrt(3))),      # open 4-site chain, analytic
])
def test_heisenberg_reference_energies(n, periodic, expected):
    # 1e-8: the 8-site reference is quoted to 10 digits.
    assert abs(exact.ground_state(models.heisenberg(n, periodic=periodic)).energy - expected) < 1e-8


@pytest.mark.parametrize("U", [0.5, 2.0, 4.0, 8.0])
def test_two_site_hubbard_half_filling(U):
    # Two electrons on two sites: E0 = (U - sqrt(U^2 + 16 t^2)) / 2 (t = 1); exact to rounding.
    energy = exact.ground_state(models.hubbard(2, t=1.0, U=U), hamming_weight=2).energy
    assert abs(energy - (U - np.sqrt(U**2 + 16)) / 2) < 1e-10


def test_h2_full_ci_energy():
    # Full CI of H2/STO-3G at 0.74 A is -1.1372838 Ha (published); tolerance 1e-6 for the quoted digits.
    mol = models.h2(0.74)
    assert mol.n_qubits == 4 and mol.n_electrons == 2
    assert abs(exact.ground_state(mol.hamiltonian).energy - (-1.1372838)) < 1e-6
    # The Hartree-Fock reference: -1.11675931 Ha for H2/STO-3G at 0.74 A (RHF), to the quoted digits.
    assert abs(exact.expectation(mol.hamiltonian, mol.hf_state) - (-1.1167593)) < 1e-6


def test_lanczos_and_dense_agree_on_low_states():
    H = models.heisenberg(10, h=0.1)
    dense = exact.ground_state(H, k=3, method="dense")
    lanczos = exact.ground_state(H, k=3, method="lanczos", seed=3)
    np.testing.assert_allclose(lanczos.energies, dense.energies, atol=1e-9)
    assert lanczos.metadata.seed == 3 and lanczos.resources.matvecs > 0


def test_to_pandas_holds_the_eigenvalues_and_their_residuals():
    # Open 4-site Heisenberg chain: E0 = -(3 + 2 sqrt 3) (analytic, as above), to rounding; the table copies the
    # energies and residuals exactly, and the exact engine is the reference (no reference column value).
    result = exact.ground_state(models.heisenberg(4, periodic=False), k=3, method="lanczos", seed=1)
    table = result.to_pandas()
    assert list(table["root"]) == [0, 1, 2] and set(table["quantity"]) == {"energy"}
    assert np.array_equal(table["value"], result.energies)
    assert np.array_equal(table["error"], result.residuals)
    assert abs(table["value"][0] + 3 + 2 * np.sqrt(3)) < 1e-9  # Lanczos tolerance 1e-12
    assert table["reference"].isna().all()
