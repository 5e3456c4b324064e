"""The 'lindblad' backend (QuTiP): noiseless limit, analytic decay rates, and modes of the dense Liouvillian."""

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp

import qdyn.krylov as kr
from qdyn import models, states
from qdyn.krylov.lindblad import jump_operators


def test_noiseless_limit_equals_exact_engine():
    H = models.tfim(3, periodic=False)
    refs = [states.plus_state(3), states.neel_state(3)]
    grid = kr.time_grid(0.3, 6)
    lind = kr.acquire(H, refs, grid, backend="lindblad")
    exact = kr.acquire(H, refs, grid)
    # QuTiP's ODE solver at rtol 1e-10: 1e-8 on the overlaps
    np.testing.assert_allclose(lind.s, exact.s, atol=1e-8)
    np.testing.assert_allclose(lind.h, exact.h, atol=1e-8)


@pytest.mark.parametrize("method", ["odmd", "matrix_pencil"])
def test_amplitude_damping_analytic_rates(method):
    # H = a Z, sigma^- damping at rate g, reference |+>: the signal is A e^{-i a t} + B e^{(i a - g) t}
    # (the |0> branch is stable, the |1> branch decays), so the modes are (E, decay) = (a, 0) and (-a, g)
    a, g = 0.7, 0.2
    data = kr.acquire(SparsePauliOp("Z", [a]), states.plus_state(1), kr.time_grid(0.5, 12), backend="lindblad",
                      damping=g)
    result = kr.solve(data, method, n_roots=2)
    np.testing.assert_allclose(result.energies, [-a, a], atol=1e-8)  # ODE tolerance 1e-10 on the data
    np.testing.assert_allclose(result.decay_rates, [g, 0.0], atol=1e-8)


def _dense_liouvillian(H, jumps):
    """-i (1 (x) H) + sum_k D[L_k], column-stacking vec(A X B) = (B^T (x) A) vec(X): independent of QuTiP."""
    Hm = H.to_matrix()
    eye = np.eye(Hm.shape[0])
    out = -1j * np.kron(eye, Hm)
    for L in (j.to_matrix() for j in jumps):
        LdL = L.conj().T @ L
        out += np.kron(L.conj(), L) - 0.5 * np.kron(eye, LdL) - 0.5 * np.kron(LdL.T, eye)
    return out


@pytest.mark.parametrize("method", ["odmd", "matrix_pencil"])
def test_dephasing_modes_are_liouvillian_eigenvalues(method):
    H = models.tfim(3, periodic=False)
    gamma = 0.02
    lam = np.linalg.eigvals(_dense_liouvillian(H, jump_operators(3, dephasing=gamma)))
    data = kr.acquire(H, states.plus_state(3), kr.time_grid(kr.choose_dt(H), 40), backend="lindblad",
                      dephasing=gamma)
    result = kr.solve(data, method, n_roots=3)
    omega = -result.decay_rates - 1j * result.energies
    # each returned mode is an eigenvalue of the superoperator; near-degenerate clusters limit this to ~1e-4
    assert max(np.min(np.abs(lam - w)) for w in omega) < 2e-4
    e0 = np.linalg.eigvalsh(H.to_matrix())[0]
    assert abs(result.energy - e0) < 5 * gamma  # the energy moves by O(gamma)
    assert np.all(result.decay_rates > gamma)  # decoherence is visible as a decay rate


def test_lindblad_bad_input():
    H = models.tfim(2)
    with pytest.raises(ValueError, match="dephasing"):
        kr.acquire(H, states.plus_state(2), kr.time_grid(0.2, 3), backend="lindblad", dephasing=-0.1)
