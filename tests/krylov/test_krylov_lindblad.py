"""The 'lindblad' backend (QuTiP): noiseless limit, analytic decay rates, modes of the dense Liouvillian, and the
one lowering operator sigma^- = |1><0| of qdyn.open (damping relaxes towards |1>)."""

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
    # H = a Z (|0> at energy +a, |1> at -a), damping sigma^- = |1><0| at rate g, reference |+>: the coherence
    # X = <1|rho|0> has X_00' = -(g + i a) X_00 and X_11' = i a X_11 + g X_00, so Tr X = A e^{(-i a - g) t} +
    # B e^{i a t}: the |0> branch decays into the stable |1>, and the modes are (E, decay) = (-a, 0) and (a, g)
    a, g = 0.7, 0.2
    data = kr.acquire(SparsePauliOp("Z", [a]), states.plus_state(1), kr.time_grid(0.5, 12), backend="lindblad",
                      damping=g)
    result = kr.solve(data, method, n_roots=2)
    np.testing.assert_allclose(result.energies, [-a, a], atol=1e-8)  # ODE tolerance 1e-10 on the data
    np.testing.assert_allclose(result.decay_rates, [0.0, g], atol=1e-8)


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


def test_damping_relaxes_towards_one_like_qdyn_open():
    # Without a Hamiltonian the coherence superoperator is the Lindbladian itself, so the backend's jump
    # operators must drive a density matrix exactly as qdyn.open.amplitude_damping (sigma^- = |1><0|):
    # <Z_i>(t) = -1 + (1 + <Z_i>(0)) e^{-g t}, relaxing to |1>. Tolerance 1e-8: QuTiP's ODE (rtol 1e-10) against
    # the Liouvillian's Taylor propagator (1e-12).
    import qutip

    from qdyn.krylov.lindblad import coherence_liouvillian
    from qdyn.open import amplitude_damping, evolve_density, pauli_on, sigma_minus
    from qdyn.operators import state_to_qutip, to_qutip

    n, g, times = 2, 0.3, np.linspace(0.0, 8.0, 9)
    for i, jump in enumerate(jump_operators(n, damping=g)):  # the same operators as qdyn.open's
        np.testing.assert_allclose(jump.to_matrix(), np.sqrt(g) * sigma_minus(i, n).to_matrix(), atol=1e-15)
    zero = SparsePauliOp("I" * n, [0.0])
    psi = np.kron(states.plus_state(1), np.array([1.0, 0.0]))  # qubit 0 in |0>, qubit 1 in |+>
    z_ops = [pauli_on(n, {i: "Z"}) for i in range(n)]
    ket = state_to_qutip(psi)  # QuTiP's subsystem order
    rho = ket * ket.dag()
    options = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 100_000}
    krylov = qutip.mesolve(coherence_liouvillian(zero, jump_operators(n, damping=g)), rho, times,
                           e_ops=[to_qutip(z) for z in z_ops], options=options).expect
    reference = evolve_density(amplitude_damping(zero, g), psi, times, e_ops=z_ops).expect
    analytic = [-1 + (1 + z0) * np.exp(-g * times) for z0 in (1.0, 0.0)]
    np.testing.assert_allclose(np.array(krylov), reference, atol=1e-8)
    np.testing.assert_allclose(reference, analytic, atol=1e-8)
    assert np.all(reference[:, -1] < -0.8)  # both qubits are close to |1> at g t = 2.4


def test_hadamard_test_signal_equals_qdyn_open_ancilla_dynamics():
    # The module's model, built independently in qdyn.open: ancilla (qubit n, most significant) x system from
    # (|0>|phi_a> + |1>|phi_b>)/sqrt 2 under H_tot = |1><1| (x) H with damping sigma^-_i = |1><0| and dephasing
    # Z_i on the system qubits; s = <X_anc> + i <Y_anc>, h = <X_anc (x) H> + i <Y_anc (x) H>. Tolerance 1e-8:
    # QuTiP's ODE (rtol 1e-10) against the Liouvillian's Taylor propagator (1e-12).
    from qdyn.open import Lindbladian, evolve_density, pauli_on, sigma_minus

    n, g, gamma = 2, 0.25, 0.05
    # longitudinal fields break the spin-flip symmetry of the TFIM, under which |0><1| and |1><0| give the same
    # signal: with them, the old lowering operator |0><1| fails this test
    H = models.tfim(n, periodic=False) + SparsePauliOp(["IZ", "ZI"], [0.4, -0.3])
    refs = [states.plus_state(n), states.neel_state(n)]
    grid = kr.time_grid(0.4, 6)
    data = kr.acquire(H, refs, grid, backend="lindblad", damping=g, dephasing=gamma)
    h_tot = (SparsePauliOp("I").tensor(H) - SparsePauliOp("Z").tensor(H)) / 2
    jumps = [sigma_minus(i, n + 1) for i in range(n)] + [pauli_on(n + 1, {i: "Z"}) for i in range(n)]
    lindbladian = Lindbladian(h_tot, jumps, [g] * n + [gamma] * n)
    e_ops = [SparsePauliOp(p).tensor(op) for op in (SparsePauliOp("I" * n), H) for p in "XY"]
    zero, one = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    for a in range(2):
        for b in range(2):
            start = (np.kron(zero, refs[a]) + np.kron(one, refs[b])) / np.sqrt(2)
            x, y, hx, hy = evolve_density(lindbladian, start, grid, e_ops=e_ops).expect
            np.testing.assert_allclose(data.s[a, b], x + 1j * y, atol=1e-8)
            np.testing.assert_allclose(data.h[a, b], hx + 1j * hy, atol=1e-8)
    assert abs(data.s[0, 0, -1]) < 0.9  # the decoherence is visible
