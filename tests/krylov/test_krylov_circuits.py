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
    circ = kr.acquire(H, psi, grid, backend="statevector", trotter="exact")
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
    circ = kr.acquire(H, refs, grid, backend="statevector", trotter="exact")
    assert circ.metadata.options["overlaps"] == "hadamard"  # the |+++> reference is no basis state
    np.testing.assert_allclose(circ.s, exact.s, atol=1e-10)
    np.testing.assert_allclose(circ.h, exact.h, atol=1e-10)


def test_h2_on_aer_with_shots_reaches_chemical_accuracy(h2):
    H, psi, e_fci = h2
    grid = kr.time_grid(kr.choose_dt(H), 4)
    data = kr.acquire(H, psi, grid, backend="aer", shots=100_000, trotter={"steps_per_dt": 6, "order": 2}, seed=7,
                      with_h=False)
    assert data.metadata.options["overlaps"] == "control-free"  # H2 conserves the electron number
    assert data.noisy and data.resources.shots == data.resources.circuits * 100_000
    result = kr.solve(data, "uvqpe", seed=1)
    # 1e5 shots: phase noise ~3e-3/dt ~ 1e-3 Ha at most; Trotter error of 6 Strang steps per dt in the layered
    # term order 5.7e-4 Ha (noiseless); seeds 8-10 give 0.04-0.8 mHa
    assert abs(result.energy - e_fci) < CHEMICAL_ACCURACY
    # the bar holds the bootstrap and the change from K = 2 to K = 3 (four lags): a few mHa, covering the error
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


@pytest.fixture(scope="module")
def xxz():
    """Open XXZ chain with a field (conserves sum Z; |0000> is an eigenstate) and two basis references."""
    H = models.heisenberg(4, delta=0.8, h=0.2, periodic=False)
    return H, [states.neel_state(4), 1j * states.basis_state(4, "0011")], kr.time_grid(0.4, 4)


@pytest.mark.parametrize("overlaps", ["control-free", "hadamard"])
def test_overlaps_equal_the_exact_product_formula(xxz, overlaps):
    H, refs, grid = xxz
    trotter = {"steps_per_dt": 2, "order": 2}
    reference = kr.acquire(H, refs, grid, backend="trotter", trotter=trotter)
    data = kr.acquire(H, refs, grid, backend="statevector", trotter=trotter, overlaps=overlaps)
    # the same layered product formula on both sides, exact statevector expectations: rounding only (1e-10);
    # a != b elements, a complex reference phase and Im parts (|Im| up to 0.5 here) are all checked
    assert data.metadata.options["overlaps"] == overlaps
    np.testing.assert_allclose(data.s, reference.s, atol=1e-10)
    np.testing.assert_allclose(data.h, reference.h, atol=1e-10)
    assert np.abs(reference.s[0, 1, 1:]).max() > 1e-2 and np.abs(reference.s.imag).max() > 1e-1


def test_control_free_with_the_exact_unitary_equals_the_exact_engine(xxz):
    H, refs, grid = xxz
    exact = kr.acquire(H, refs, grid)
    data = kr.acquire(H, refs, grid, backend="statevector", trotter="exact")
    assert data.metadata.options["overlaps"] == "control-free"
    assert data.metadata.options["vacuum"] == 0
    assert data.metadata.options["vacuum_energy"] == pytest.approx(np.real(H.to_matrix()[0, 0]))
    # exact-unitary gate vs Lanczos rows (1e-13): 1e-10
    np.testing.assert_allclose(data.s, exact.s, atol=1e-10)
    np.testing.assert_allclose(data.h, exact.h, atol=1e-10)


def test_overlap_choice_and_errors(xxz):
    H, refs, grid = xxz
    trotter = {"steps_per_dt": 1, "order": 2}
    # the transverse-field Ising model conserves no particle number: auto falls back to Hadamard tests
    tfim = kr.acquire(models.tfim(3), states.neel_state(3), grid[:2], backend="statevector", trotter=trotter,
                      with_h=False)
    assert tfim.metadata.options["overlaps"] == "hadamard"
    with pytest.raises(ValueError, match="control-free.*eigenstate"):
        kr.acquire(models.tfim(3), states.neel_state(3), grid[:2], backend="statevector", trotter=trotter,
                   overlaps="control-free")
    with pytest.raises(ValueError, match="basis states"):
        kr.acquire(H, states.plus_state(4), grid[:2], backend="statevector", trotter=trotter,
                   overlaps="control-free")
    with pytest.raises(ValueError, match="overlaps"):
        kr.acquire(H, refs, grid, backend="statevector", trotter=trotter, overlaps="swap-test")
    # no silent dense unitary on a circuit target: the error states the cost and the two ways out
    with pytest.raises(ValueError, match=r"about 100 two-qubit gates.*trotter='exact'"):
        kr.acquire(H, refs, grid, backend="aer")
    with pytest.raises(ValueError, match="circuit targets"):
        kr.acquire(H, refs, grid, backend="trotter", trotter=trotter, overlaps="hadamard")
    with pytest.raises(ValueError, match="evolves exactly"):
        kr.acquire(H, refs, grid, trotter="exact")


def test_control_free_on_aer_with_shots_within_error_bars(xxz):
    H, refs, grid = xxz
    trotter = {"steps_per_dt": 1, "order": 2}
    reference = kr.acquire(H, refs, grid, backend="trotter", trotter=trotter)
    data = kr.acquire(H, refs, grid, backend="aer", shots=4000, trotter=trotter, seed=5)
    assert data.metadata.options["overlaps"] == "control-free" and data.noisy
    # 4000 shots per circuit, errors propagated through the phase e^{-i E_v t} and H's couplings: 4.5 sigma
    for got, err, want in ((data.s, data.s_err, reference.s), (data.h, data.h_err, reference.h)):
        assert np.all(np.abs(got.real - want.real) <= 4.5 * err.real + 1e-12)
        assert np.all(np.abs(got.imag - want.imag) <= 4.5 * err.imag + 1e-12)
        assert np.max(err.real) > 0


def test_mitigation_goes_through_to_the_backend_layer(xxz):
    from qdyn.circuits.mitigation import Mitigation

    H, refs, grid = xxz
    trotter = {"steps_per_dt": 1, "order": 2}
    reference = kr.acquire(H, refs[0], grid[:3], backend="trotter", trotter=trotter, with_h=False)
    data = kr.acquire(H, refs[0], grid[:3], backend="aer", shots=4000, trotter=trotter, with_h=False, seed=2,
                      mitigation=Mitigation(twirling=2))
    # twirled copies of the 5 control-free circuits, recorded as applied; no noise to remove, so the values stay
    # within 4.5 sigma of the exact product formula
    assert data.metadata.options["mitigation"]["twirling"] == 2 and data.resources.circuits == 10
    assert np.all(np.abs(data.s.real - reference.s.real) <= 4.5 * data.s_err.real + 1e-12)
    assert np.all(np.abs(data.s.imag - reference.s.imag) <= 4.5 * data.s_err.imag + 1e-12)
