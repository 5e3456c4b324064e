"""Krylov data: Toeplitz / block-Toeplitz rows against dense matrices built state by state, and input checks."""

import numpy as np
import pytest
from scipy.linalg import expm

import qdyn.krylov as kr
from qdyn import models, states
from qdyn.circuits.trotter_layers import layered_hamiltonian
from qdyn.exact import trotter_evolve


def _dense(Hm, refs, dt, dim, trotter=None, H=None):
    """Dense S, H, U over the basis exp(-i H k dt)|phi_a> (index k*R + a), built state by state."""
    if trotter is None:
        step = expm(-1j * Hm * dt)
        basis = []
        for k in range(dim + 1):
            Uk = np.linalg.matrix_power(step, k)
            basis.extend(Uk @ r for r in refs)
    else:
        basis = []
        for r in refs:
            states_k = [r]
            for _ in range(dim):
                states_k.append(trotter_evolve(H, states_k[-1], dt, steps=trotter["steps_per_dt"],
                                               order=trotter["order"]))
            basis.append(states_k)
        basis = [basis[a][k] for k in range(dim + 1) for a in range(len(refs))]
    B = np.array(basis).T  # columns = basis states
    R = len(refs)
    Bk = B[:, :dim * R]
    step_apply = B[:, R:(dim + 1) * R]  # U |phi_{k,a}> = |phi_{k+1,a}>
    return Bk.conj().T @ Bk, Bk.conj().T @ Hm @ Bk, Bk.conj().T @ step_apply


def test_single_reference_toeplitz_equals_dense():
    H = models.heisenberg(5, delta=0.7, h=0.3, periodic=False)
    ref = states.haar_random_state(5, seed=3)
    dt, dim = 0.37, 6
    data = kr.acquire(H, ref, kr.time_grid(dt, dim + 1))
    mats = kr.krylov_matrices(data, dim, which="SHU")
    S, Hd, U = _dense(H.to_matrix(), [ref], dt, dim)
    # the Chebyshev propagator is accurate to ~1e-13 per step; 1e-10 leaves room for accumulated rounding
    for name, dense in (("S", S), ("H", Hd), ("U", U)):
        np.testing.assert_allclose(mats[name], dense, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(mats["S"], mats["S"].conj().T, atol=1e-14)


def test_multi_reference_block_toeplitz_equals_dense():
    H = models.tfim(4, J=1.0, g=0.6, periodic=False)
    refs = [states.haar_random_state(4, seed=s) for s in (1, 2, 3)]
    dt, dim = 0.5, 4
    data = kr.acquire(H, refs, kr.time_grid(dt, dim + 1))
    assert data.s.shape == (3, 3, dim + 1)
    # the off-diagonal blocks are not Hermitian Toeplitz: s[a,b] and s[b,a] are independent rows
    assert not np.allclose(data.s[0, 1], data.s[1, 0].conj())
    mats = kr.krylov_matrices(data, dim, which="SHU")
    S, Hd, U = _dense(H.to_matrix(), refs, dt, dim)
    for name, dense in (("S", S), ("H", Hd), ("U", U)):
        np.testing.assert_allclose(mats[name], dense, atol=1e-10, err_msg=name)


def test_trotter_data_equals_dense_trotter_states():
    H = models.heisenberg(4, delta=0.5, periodic=True)
    refs = [states.neel_state(4), states.haar_random_state(4, seed=7)]
    trotter = {"steps_per_dt": 2, "order": 2}
    dt, dim = 0.4, 3
    data = kr.acquire(H, refs, kr.time_grid(dt, dim + 1), backend="trotter", trotter=trotter)
    mats = kr.krylov_matrices(data, dim, which="SHU")
    S, Hd, U = _dense(H.to_matrix(), refs, dt, dim, trotter=trotter, H=layered_hamiltonian(H))  # acquire's order
    # both sides apply the same exact Pauli exponentials: S and U agree to rounding (U_T^k is Toeplitz)
    for name, dense in (("S", S), ("U", U)):
        np.testing.assert_allclose(mats[name], dense, atol=1e-12, err_msg=name)
    # H does not commute with the Trotter unitary, so the Toeplitz H (first row measured, as on hardware) equals
    # the dense one only up to the Trotter error, which is O(dt^3) per step for order 2
    np.testing.assert_allclose(mats["H"][:2, :2], Hd[:2, :2], atol=1e-12)
    assert 1e-6 < np.max(np.abs(mats["H"] - Hd)) < 0.1
    # and the Trotter rows really differ from the exact ones (Trotter error is visible)
    exact = kr.acquire(H, refs, kr.time_grid(dt, dim + 1))
    assert np.max(np.abs(exact.s - data.s)) > 1e-4


def test_data_records_resources_and_seed():
    H = models.tfim(3)
    data = kr.acquire(H, states.plus_state(3), kr.time_grid(0.3, 5), backend="shots", shots=1000, seed=11)
    assert data.metadata.seed == 11
    assert data.resources.shots == data.resources.circuits * 1000 > 0
    assert data.resources.evolutions == 4
    again = kr.acquire(H, states.plus_state(3), kr.time_grid(0.3, 5), backend="shots", shots=1000, seed=11)
    np.testing.assert_array_equal(data.s, again.s)
    assert data.to_dict()["dt"] == pytest.approx(0.3)


@pytest.mark.parametrize("times, match", [
    ([0.0, -0.1, -0.2], "dt"),
    ([0.0, 0.0, 0.0], "dt"),
    ([0.0], "K >= 2"),
    ([0.1, 0.2, 0.3], "start at 0"),
    ([0.0, 0.1, 0.3], "uniform"),
    ([0.0, np.nan, 0.2], "finite"),
    ([0.0, 0.1, np.inf], "finite"),
])
def test_bad_time_grids(times, match):
    with pytest.raises(ValueError, match=match):
        kr.acquire(models.tfim(3), states.plus_state(3), times)


def test_bad_references_and_options():
    H = models.tfim(3)
    grid = kr.time_grid(0.2, 4)
    with pytest.raises(ValueError, match="normalised"):
        kr.acquire(H, 2 * states.plus_state(3), grid)
    with pytest.raises(ValueError, match="3 qubits"):
        kr.acquire(H, states.plus_state(2), grid)
    with pytest.raises(TypeError, match="refs"):
        kr.acquire(H, "plus", grid)
    with pytest.raises(ValueError, match=r"refs\[1\] contains NaN"):
        kr.acquire(H, [states.plus_state(3), np.full(8, np.nan)], grid)
    with pytest.raises(ValueError, match="shots"):
        kr.acquire(H, states.plus_state(3), grid, backend="shots")
    with pytest.raises(ValueError, match="trotter"):
        kr.acquire(H, states.plus_state(3), grid, backend="trotter")
    with pytest.raises(ValueError, match="order"):
        kr.acquire(H, states.plus_state(3), grid, backend="trotter", trotter={"steps_per_dt": 1, "order": 3})
    with pytest.raises(ValueError, match="lindblad"):
        kr.acquire(H, states.plus_state(3), grid, dephasing=0.1)
    with pytest.raises(ValueError, match="no shots or trotter"):
        kr.acquire(H, states.plus_state(3), grid, backend="lindblad", shots=100)
    with pytest.raises(ValueError, match="backend='trotter'"):
        kr.acquire(H, states.plus_state(3), grid, trotter={"steps_per_dt": 1, "order": 2})
    with pytest.raises(TypeError, match="steps_per_dt"):
        kr.acquire(H, states.plus_state(3), grid, backend="trotter", trotter={"steps_per_dt": 1, "order": 2,
                                                                             "steps": 1})
    with pytest.raises(ValueError, match="execution"):
        kr.acquire(H, states.plus_state(3), grid, backend="statevector", execution="session")
    with pytest.raises(ValueError, match="unknown target"):
        kr.acquire(H, states.plus_state(3), grid, backend="quantum-annealer")
    with pytest.raises(ValueError, match="dt"):
        kr.time_grid(0.0, 4)


def test_lanczos_rows_at_long_times_match_the_chebyshev_propagator():
    H = models.heisenberg(6, delta=0.8, h=0.2, periodic=True)
    ref = states.haar_random_state(6, seed=9)
    grid = kr.time_grid(0.9, 40)  # t_max * ||H|| ~ 500: a long Lanczos run
    data = kr.acquire(H, ref, grid)
    from qdyn.exact import evolve

    psi_t = evolve(H, ref, grid)  # independent engine: the Chebyshev propagator, ~1e-13 per step
    np.testing.assert_allclose(data.s[0, 0], psi_t @ ref.conj(), atol=1e-10)
    assert data.resources.matvecs < 40 * 20  # far fewer products than a propagator step per time
    lo, hi = np.linalg.eigvalsh(H.to_matrix())[[0, -1]]
    assert data.bounds[0] <= lo + 1e-9 and data.bounds[1] >= hi - 1e-9  # a random state sees the whole spectrum


def test_trotter_acquisition_with_progress_bar():
    data = kr.acquire(models.tfim(3), states.plus_state(3), kr.time_grid(0.2, 3), backend="trotter",
                      trotter={"steps_per_dt": 3, "order": 1}, progress=True)
    # one evolution per Krylov state U(t_m)|phi> (m = 1, 2), whatever the product-formula steps per dt
    assert data.resources.evolutions == 2
    assert data.metadata.options["trotter"] == {"steps_per_dt": 3, "order": 1}


def test_deprecated_trotter_steps_key_and_mode_argument_warn_and_give_the_same_data():
    # one vocabulary: trotter={"steps": r} (r per dt) became {"steps_per_dt": r}, mode= became execution=;
    # the old spellings warn for one release and must give identical data (same unitaries, same seeds)
    H, psi, grid = models.tfim(3), states.plus_state(3), kr.time_grid(0.3, 4)
    new = kr.acquire(H, psi, grid, backend="trotter", trotter={"steps_per_dt": 2, "order": 2})
    with pytest.warns(DeprecationWarning, match="steps_per_dt"):
        old = kr.acquire(H, psi, grid, backend="trotter", trotter={"steps": 2, "order": 2})
    np.testing.assert_array_equal(old.s, new.s)
    assert old.metadata.options["trotter"] == {"steps_per_dt": 2, "order": 2}
    with pytest.warns(DeprecationWarning, match="execution"):
        old = kr.acquire(H, psi, grid[:2], backend="statevector", mode="batch", with_h=False, trotter="exact")
    new = kr.acquire(H, psi, grid[:2], backend="statevector", execution="batch", with_h=False, trotter="exact")
    np.testing.assert_array_equal(old.s, new.s)
    with pytest.raises(TypeError, match="execution"):
        kr.acquire(H, psi, grid, backend="statevector", mode="job", execution="job")
