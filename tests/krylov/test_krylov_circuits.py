"""Krylov data from Hadamard-test circuits: equal to the exact engine without shots, chemical accuracy with shots."""

import numpy as np
import pytest

import qdyn.krylov as kr
from qdyn import models, states
from qdyn.circuits.backends import resolve_target

CHEMICAL_ACCURACY = 1.6e-3  # Hartree


@pytest.fixture(scope="module")
def h2():
    m = models.h2(0.74)
    e_fci = np.linalg.eigvalsh(m.hamiltonian.to_matrix())[0]  # full CI = exact diagonalisation in STO-3G
    return m.hamiltonian, m.hf_state, e_fci


def test_h2_circuit_overlaps_equal_exact_engine(h2):
    H, psi, _ = h2
    grid = kr.time_grid(kr.choose_dt(H), 4)
    exact = kr.acquire(H, psi, grid)
    circ = kr.acquire(H, psi, grid, backend="statevector")
    # exact-unitary circuits vs the Chebyshev propagator (1e-13 per step): 1e-10, signs and conjugation included
    np.testing.assert_allclose(circ.s, exact.s, atol=1e-10)
    np.testing.assert_allclose(circ.h, exact.h, atol=1e-10)
    assert np.abs(exact.s[0, 0, 1:].imag).max() > 1e-2  # Im parts are non-trivial: a sign error would show
    trotter = {"steps_per_dt": 2, "order": 2}
    tro = kr.acquire(H, psi, grid, backend="trotter", trotter=trotter)
    circ = kr.acquire(H, psi, grid, backend="aer", trotter=trotter)
    # decomposed Trotter circuits on Aer vs the exact engine's term-by-term product formula
    np.testing.assert_allclose(circ.s, tro.s, atol=1e-10)
    np.testing.assert_allclose(circ.h, tro.h, atol=1e-10)
    assert circ.resources.two_qubit_gates > 0 and circ.resources.depth > 0


def test_multi_reference_circuits_equal_exact_engine():
    H = models.tfim(3, J=1.0, g=0.8, periodic=False)
    refs = [states.plus_state(3), states.neel_state(3)]
    grid = kr.time_grid(0.4, 3)
    exact = kr.acquire(H, refs, grid)
    circ = kr.acquire(H, refs, grid, backend="statevector")
    np.testing.assert_allclose(circ.s, exact.s, atol=1e-10)
    np.testing.assert_allclose(circ.h, exact.h, atol=1e-10)


def test_h2_on_aer_with_shots_reaches_chemical_accuracy(h2):
    H, psi, e_fci = h2
    grid = kr.time_grid(kr.choose_dt(H), 3)
    data = kr.acquire(H, psi, grid, backend="aer", shots=100_000, trotter={"steps_per_dt": 4, "order": 2}, seed=7,
                      with_h=False)
    assert data.noisy and data.resources.shots == data.resources.circuits * 100_000
    result = kr.solve(data, "uvqpe", seed=1)
    # 1e5 shots: phase noise ~3e-3/dt ~ 1e-3 Ha at most; Trotter error of 4 Strang steps per dt ~ 5e-4 Ha
    assert abs(result.energy - e_fci) < CHEMICAL_ACCURACY
    # the bar holds the bootstrap and the change from K = 1 to K = 2 (three lags): a few mHa, covering the error
    assert result.error_kind == "statistical" and abs(result.energy - e_fci) <= 2 * result.energy_err < 1e-2


def test_fake_device_overlaps_within_error_bars():
    H = models.tfim(2, periodic=False)
    psi = states.plus_state(2)
    grid = kr.time_grid(0.4, 3)
    trotter = {"steps_per_dt": 1, "order": 2}
    reference = kr.acquire(H, psi, grid, backend="trotter", trotter=trotter)
    target = resolve_target("fake:FakeManilaV2", noise=False)
    data = kr.acquire(H, psi, grid, backend=target, shots=4000, trotter=trotter, seed=2)
    # the full ISA transpile-and-run path, simulated without device noise: every element within 4.5 sigma
    for got, err, want in ((data.s, data.s_err, reference.s), (data.h, data.h_err, reference.h)):
        assert np.all(np.abs(got.real - want.real) <= 4.5 * err.real + 1e-12)
        assert np.all(np.abs(got.imag - want.imag) <= 4.5 * err.imag + 1e-12)
    noisy = kr.acquire(H, psi, grid, backend="fake:FakeManilaV2", shots=4000, trotter=trotter, seed=2,
                       with_h=False)
    assert noisy.metadata.options["job_ids"] and noisy.backend == "fake:FakeManilaV2"
    # the device noise model damps the Hadamard-test signal: <X_anc> at t=0 falls visibly below 1
    assert noisy.s[0, 0, 0].real < 1 - 5 * noisy.s_err[0, 0, 0].real - 1e-3
