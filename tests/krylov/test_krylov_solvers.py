"""Krylov solvers on exact data against independent references (free fermions, exact diagonalisation)."""

import numpy as np
import pytest

import qdyn.krylov as kr
from qdyn import models, states


def free_fermion_tfim_e0(n, J=1.0, g=1.0):
    """Periodic TFIM ground energy: even-parity sector, antiperiodic momenta k = pi (2m+1)/n (Pfeuty 1970)."""
    k = np.pi * (2 * np.arange(n) + 1) / n
    return -np.sum(np.sqrt(J**2 + g**2 - 2 * J * g * np.cos(k)))


@pytest.fixture(scope="module")
def tfim8():
    H = models.tfim(8, J=1.0, g=1.0, periodic=True)
    psi = states.plus_state(8)
    dt = kr.choose_dt(H, rule="range")
    return H, psi, kr.acquire(H, psi, kr.time_grid(dt, 17))


@pytest.mark.parametrize("method", ["vqpe", "uvqpe"])
def test_tfim8_reaches_free_fermion_energy_by_k16(tfim8, method):
    _, _, data = tfim8
    e0 = free_fermion_tfim_e0(8)
    result = kr.solve(data, method, K=16)
    # issue target: within 1e-6 of the analytic energy by K = 16 on exact data
    assert abs(result.energy - e0) < 1e-6
    assert result.krylov_dim == 16 and 1 <= result.rank <= 16
    assert result.history.shape == (16,)
    # the history converges from above for VQPE (variational) and reaches 1e-6 by the end for both
    assert abs(result.history[-1] - e0) < 1e-6 and result.history[0] - e0 > 1.0
    if method == "vqpe":
        assert np.all(result.history >= e0 - 1e-9)
    assert result.cond_S > 1e6  # S is numerically rank-deficient: the thresholding matters


@pytest.mark.parametrize("method", ["vqpe", "uvqpe"])
def test_chebyshev_bound_holds_at_every_k(method):
    H = models.tfim(8, J=1.0, g=1.0, periodic=True)
    psi = states.plus_state(8)
    ev, V = np.linalg.eigh(H.to_matrix())  # exact diagonalisation: the independent reference
    weights = np.abs(V.conj().T @ psi) ** 2
    support = ev[weights > 1e-10]
    e0, e_max, p0, gap = ev[0], ev[-1], weights[0], support[1] - ev[0]
    dt = 0.95 * np.pi / (e_max - e0)  # the bound needs (E_max - E0) dt <= pi
    data = kr.acquire(H, psi, kr.time_grid(dt, 21))
    result = kr.solve(data, method, K=20)
    K = np.arange(1, 21)
    b = kr.bound(K, e0=e0, e_max=e_max, gap=gap, p0=p0, dt=dt)
    assert np.all(np.diff(b) <= 1e-12)  # non-increasing in K
    # 1e-8 slack: the thresholded solve on exact data is accurate to ~1e-9 once converged
    assert np.all(np.abs(result.history - e0) <= b + 1e-8)
    with pytest.raises(ValueError, match="pi"):
        kr.bound(5, e0=e0, e_max=e_max, gap=gap, p0=p0, dt=1.2 * np.pi / (e_max - e0))


@pytest.mark.parametrize("method", ["vqpe", "uvqpe"])
def test_heisenberg_neel_converges(method):
    H = models.heisenberg(8, J=1.0, delta=1.0, periodic=True)
    e0 = np.linalg.eigvalsh(H.to_matrix())[0]  # exact diagonalisation
    data = kr.acquire(H, states.neel_state(8), kr.time_grid(kr.choose_dt(H), 17))
    result = kr.solve(data, method)
    assert abs(result.energy - e0) < 1e-6  # the Neel state overlaps ~11 eigenstates: converged well before K=16


@pytest.mark.parametrize("method", ["odmd", "matrix_pencil"])
def test_hankel_methods_on_exact_data(method):
    H = models.tfim(8, J=1.0, g=1.0, periodic=True)
    data = kr.acquire(H, states.plus_state(8), kr.time_grid(kr.choose_dt(H), 40))
    ev = np.linalg.eigvalsh(H.to_matrix())
    result = kr.solve(data, method, n_roots=2)
    # |+...+> overlaps 16 eigenstates: 40 samples resolve them; exact data -> 1e-6
    assert abs(result.energy - free_fermion_tfim_e0(8)) < 1e-6
    assert np.min(np.abs(ev - result.energies[1])) < 1e-6  # the second root is an eigenvalue too
    assert np.all(np.abs(result.decay_rates) < 1e-6)  # unitary dynamics: no decay


def test_multi_reference_gives_several_roots():
    H = models.heisenberg(6, periodic=True)
    ev = np.linalg.eigvalsh(H.to_matrix())
    refs = [states.neel_state(6), states.basis_state(6, "010101"), states.basis_state(6, "001011")]
    data = kr.acquire(H, refs, kr.time_grid(kr.choose_dt(H), 12))
    for method in ("vqpe", "uvqpe"):
        result = kr.solve(data, method, n_roots=2)
        # the two lowest levels reachable from these references (E0 and the triplet at -8.472) to 1e-8
        np.testing.assert_allclose(result.energies, [ev[0], ev[1]], atol=1e-8)


def test_singular_S_gives_rank_not_crash():
    H = models.tfim(4)
    ev, V = np.linalg.eigh(H.to_matrix())
    data = kr.acquire(H, V[:, 0], kr.time_grid(0.3, 6))  # an eigenstate: S has rank 1
    result = kr.solve(data, "vqpe")
    assert result.rank == 1
    assert abs(result.energy - ev[0]) < 1e-10
    assert result.converged and result.energy_err < 1e-10  # saturated at rank 1: converged, a tiny estimate
    with pytest.raises(ValueError, match="linearly dependent"):  # duplicated references: refused at the door
        kr.acquire(H, [states.plus_state(4), states.plus_state(4)], kr.time_grid(0.3, 4))


def test_choose_dt_rules():
    H = models.tfim(6)
    ev = np.linalg.eigvalsh(H.to_matrix())
    dt = kr.choose_dt(H, rule="range")
    # the Lanczos interval is widened by 2% of the width: 1.5 pi / 1.04 <= dt * range <= 1.5 pi
    assert 1.5 * np.pi / 1.05 <= dt * (ev[-1] - ev[0]) <= 1.5 * np.pi + 1e-12
    dt_norm = kr.choose_dt(H, rule="norm")
    assert dt_norm == pytest.approx(np.pi / (6 + 6))  # Pauli 1-norm of the 12 unit terms
    with pytest.raises(ValueError, match="rule"):
        kr.choose_dt(H, rule="golden")


def test_solver_bad_input(tfim8):
    H, psi, data = tfim8
    with pytest.raises(ValueError, match="K"):
        kr.solve(data, "vqpe", K=1)
    with pytest.raises(ValueError, match="K=18"):
        kr.solve(data, "vqpe", K=18)
    with pytest.raises(ValueError, match="method"):
        kr.solve(data, "lanczos")
    with pytest.raises(ValueError, match="K=2 is too small"):  # two samples cannot resolve a mode
        kr.solve(data, "odmd", K=2)
    with pytest.raises(ValueError, match="threshold"):
        kr.solve(data, "vqpe", threshold=-1.0)
    with pytest.raises(ValueError, match="threshold must be 'auto'"):
        kr.solve(data, "vqpe", threshold="automatic")
    with pytest.raises(ValueError, match="lower_bound contains NaN"):
        kr.solve(data, "vqpe", lower_bound=float("nan"))
    with pytest.raises(TypeError, match="lower_bound"):
        kr.solve(data, "vqpe", lower_bound=[1.0])
    with pytest.raises(TypeError, match="KrylovData"):
        kr.solve({"s": 1}, "vqpe")
    no_h = kr.acquire(H, psi, kr.time_grid(0.2, 4), with_h=False)
    with pytest.raises(ValueError, match="with_h"):
        kr.solve(no_h, "vqpe")
    aliased = kr.acquire(H, psi, kr.time_grid(1.0, 4), with_h=False)  # range ~ 20.5, so dt*range >> 2 pi
    for method in ("uvqpe", "odmd", "matrix_pencil"):
        with pytest.raises(ValueError, match="aliases"):
            kr.solve(aliased, method)


def test_to_pandas_holds_the_roots_their_error_bars_and_decay_rates():
    H = models.heisenberg(6, periodic=True)
    ev = np.linalg.eigvalsh(H.to_matrix())  # exact diagonalisation
    refs = [states.neel_state(6), states.basis_state(6, "010101"), states.basis_state(6, "001011")]
    grid = kr.time_grid(kr.choose_dt(H), 12)
    result = kr.solve(kr.acquire(H, refs, grid), "vqpe", n_roots=2)
    table = result.to_pandas()
    assert list(table["root"]) == [0, 1] and set(table["quantity"]) == {"energy"}
    assert np.array_equal(table["value"], result.energies)  # the table copies the energies exactly
    np.testing.assert_allclose(table["value"], ev[:2], atol=1e-8)  # as in test_multi_reference_gives_several_roots
    assert table["reference"].isna().all()
    # exact data: the error bar is the threshold / K spread, an estimate at the rounding level
    assert result.error_kind == "estimate" and np.all(table["error"] < 1e-8)
    # noisy data: the bootstrap error bars; a Hankel method also reports each root's decay rate
    noisy = kr.acquire(H, refs[0], grid, backend="shots", shots=10**5, seed=3, with_h=False)
    result = kr.solve(noisy, "matrix_pencil", n_roots=2, bootstrap=10, seed=0)
    table = result.to_pandas()
    assert np.array_equal(table["value"], result.energies)
    assert np.array_equal(table["error"], result.energies_err) and np.all(table["error"] > 0)
    assert np.array_equal(table["decay_rate"], result.decay_rates)
