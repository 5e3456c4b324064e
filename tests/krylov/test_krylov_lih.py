"""LiH in STO-3G, all 12 spin orbitals (no active space), from Hartree-Fock: real-time Krylov on the exact and
shots backends against full configuration interaction.

The reference is exact diagonalisation of the same qubit Hamiltonian in the Hartree-Fock state's sector (2 spin-up
and 2 spin-down electrons, 225 determinants), which is also the lowest eigenvalue of the whole 4096-dimensional
space; it agrees with the published STO-3G full-CI energy of LiH at 1.5949 A, -7.8823 Ha.
Chemical accuracy: 1.6e-3 Ha.
"""

import warnings

import numpy as np
import pytest

import qdyn.krylov as kr
from qdyn import models

CHEMICAL_ACCURACY = 1.6e-3  # Ha
N_QUBITS = 12


def _sector_fci(H) -> float:
    """Lowest eigenvalue of ``H`` over the determinants with 2 up (even qubits) and 2 down (odd qubits) electrons."""
    index = np.arange(2**N_QUBITS)
    up = sum((index >> q) & 1 for q in range(0, N_QUBITS, 2))
    down = sum((index >> q) & 1 for q in range(1, N_QUBITS, 2))
    sector = np.flatnonzero((up == 2) & (down == 2))
    block = H.to_matrix(sparse=True)[sector][:, sector].toarray()
    return float(np.linalg.eigvalsh(block)[0])


@pytest.fixture(scope="module")
def lih():
    mol = models.molecule(("Li", "H"), [[0, 0, 0], [0, 0, 1.5949]], active_electrons=None, active_orbitals=None)
    assert mol.n_qubits == N_QUBITS and mol.n_electrons == 4
    e_fci = _sector_fci(mol.hamiltonian)
    return mol, e_fci, kr.choose_dt(mol.hamiltonian)


def _solve(data, method, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kr.solve(data, method, **options)


def test_fci_reference_is_the_published_energy(lih):
    mol, e_fci, _ = lih
    # the commonly quoted STO-3G full-CI energy of LiH at 1.5949 A, -7.8823 Ha, is given to 1e-4 (and depends on
    # the integrals' convergence and the geometry's last digit at the 1e-5 level): 2e-4
    assert e_fci == pytest.approx(-7.8823, abs=2e-4)
    hf_energy = float(np.real(mol.hf_state.conj() @ (mol.hamiltonian.to_matrix(sparse=True) @ mol.hf_state)))
    assert hf_energy - e_fci > 0.015  # the correlation energy Krylov has to recover: 20 mHa


def test_exact_backend_reaches_fci(lih):
    mol, e_fci, dt = lih
    data = kr.acquire(mol.hamiltonian, [mol.hf_state], kr.time_grid(dt, 16))
    for method in ("vqpe", "uvqpe"):
        result = _solve(data, method)
        # exact data, K = 15-16 over a reference with 97 % ground-state weight: converged to 1e-6 Ha
        assert abs(result.energy - e_fci) < 1e-5, method
        assert result.converged and abs(result.energy - e_fci) <= 2 * result.energy_err + 1e-9


def test_shots_backend_within_chemical_accuracy(lih):
    mol, e_fci, dt = lih
    # 10^6 shots per Hadamard test: 1e-3 standard error per overlap; overlaps only (the Hankel methods need no h)
    data = kr.acquire(mol.hamiltonian, [mol.hf_state], kr.time_grid(dt, 24), backend="shots", shots=10**6,
                      seed=2, with_h=False)
    for method in ("odmd", "matrix_pencil"):
        result = _solve(data, method, seed=0)
        assert result.converged and abs(result.energy - e_fci) < CHEMICAL_ACCURACY, method
        assert abs(result.energy - e_fci) <= 2 * result.energy_err < CHEMICAL_ACCURACY, method


@pytest.mark.slow
def test_issue_call_on_shots_backend_over_seeds(lih):
    """The issue's call, ``acquire(H, [hf], times, backend="shots", shots=10**6)`` with the Hamiltonian rows
    measured term by term (631 Pauli terms), over five seeds."""
    mol, e_fci, dt = lih
    errors = {m: [] for m in kr.METHODS}
    for seed in range(5):
        data = kr.acquire(mol.hamiltonian, [mol.hf_state], kr.time_grid(dt, 24), backend="shots", shots=10**6,
                          seed=seed)
        for method in kr.METHODS:
            result = _solve(data, method, seed=seed)
            errors[method].append((result.energy - e_fci, result.energy_err))
    for method in ("odmd", "matrix_pencil"):
        err = np.array(errors[method])
        assert np.all(np.abs(err[:, 0]) < CHEMICAL_ACCURACY), (method, err)
        assert np.all(np.abs(err[:, 0]) <= 2 * err[:, 1]), (method, err)
    # VQPE carries the noise of 631 measured terms in h (bars of a few mHa) but its bars still hold
    err = np.array(errors["vqpe"])
    assert np.mean(np.abs(err[:, 0]) <= 2 * err[:, 1]) >= 0.8, err
