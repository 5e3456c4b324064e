"""The exact vectorised-Liouvillian propagator against analytic solutions and QuTiP."""

import numpy as np
import pytest

from qdyn.errors import ConvergenceWarning
from qdyn.open.density import as_density_matrix, expectation
from qdyn.open.lindbladian import Lindbladian, pauli_on
from qdyn.open.liouvillian import Liouvillian, evolve_density, liouvillian_matrix, steady_state_density
from qdyn.open.models import amplitude_damping, dephasing, dissipative_ising, dissipative_xyz, driven_damped_qubit
from qdyn.open.reference import qutip_mesolve, qutip_steadystate
from qdyn.states import product_state


def z_ops(n):
    return [pauli_on(n, {i: "Z"}) for i in range(n)]


@pytest.mark.parametrize("V", [0.0, 2.0, -3.5])
def test_amplitude_damping_from_zero_is_analytic(V):
    # g = 0: H is diagonal and commutes with the populations, so <Z_i>(t) = 2 e^{-gamma t} - 1 exactly.
    n, gamma = 4, 0.7
    lb = dissipative_ising(n, V=V, g=0.0, gamma=gamma)
    t = np.linspace(0, 3, 13)
    res = evolve_density(lb, product_state(["0"] * n), t, z_ops(n))
    expected = 2 * np.exp(-gamma * t) - 1
    # tolerance 1e-11: Taylor truncation at tol = 1e-12 per sub-step, a few dozen sub-steps
    assert np.max(np.abs(res.expect - expected[None, :])) < 1e-11
    assert np.max(np.abs(res.trace - 1)) < 1e-12


def test_dephasing_from_plus_is_analytic():
    # H = 0, G = sqrt(gamma) Z: the coherence decays as e^{-2 gamma t}, <X> = e^{-2 gamma t}.
    n, gamma = 3, 0.4
    lb = dephasing(pauli_on(n, {}, 0.0), gamma)
    t = np.linspace(0, 2.5, 6)
    res = evolve_density(lb, product_state(["+"] * n), t, [pauli_on(n, {i: "X"}) for i in range(n)])
    assert np.max(np.abs(res.expect - np.exp(-2 * gamma * t)[None, :])) < 1e-12
    # product of n decaying qubits: purity = ((1 + e^{-4 gamma t})/2)^n
    assert np.max(np.abs(res.purity - ((1 + np.exp(-4 * gamma * t)) / 2) ** n)) < 1e-12


@pytest.mark.parametrize("g,gamma", [(1.0, 1.0), (0.3, 2.0)])
def test_driven_damped_qubit_steady_state(g, gamma):
    # Bloch equations with sigma^- = |1><0|: <Z> = -gamma^2/(gamma^2 + 2 g^2), <Y> = +2 g gamma/(...), <X> = 0.
    lb = driven_damped_qubit(g, gamma)
    den = gamma**2 + 2 * g**2
    expected = {"X": 0.0, "Y": 2 * g * gamma / den, "Z": -(gamma**2) / den}
    for rho in (steady_state_density(lb), qutip_steadystate(lb)):
        for p, value in expected.items():
            # direct sparse solve / QuTiP's solver: round-off level
            assert abs(expectation(pauli_on(1, {0: p}), rho) - value) < 1e-10
    # long-time dynamics reach the same point (the slowest rate is >= gamma/2: e^{-gamma t/2} at t = 40/gamma)
    res = evolve_density(lb, product_state(["0"]), [40.0 / gamma], [pauli_on(1, {0: p}) for p in "XYZ"])
    assert np.allclose(res.expect[:, -1], list(expected.values()), atol=1e-8)


@pytest.mark.parametrize("model", ["ising", "xyz"])
def test_matches_qutip_mesolve(model):
    if model == "ising":
        lb, n = dissipative_ising(4, V=2.0, g=1.0, gamma=1.0), 4
        rho0 = product_state(["0", "+", "1", "0"])
    else:
        lb, n = dissipative_xyz(2, Jx=0.9, Jy=1.0, Jz=1.1, B=0.3, gamma=0.5), 4
        rho0 = product_state(["+", "0", "0", "1"])
    t = np.linspace(0, 2, 9)
    ops = z_ops(n) + [pauli_on(n, {0: "X", 1: "X"}), pauli_on(n, {2: "Y"})]
    ours = evolve_density(lb, rho0, t, ops, store_states=True)
    ref = qutip_mesolve(lb, rho0, t, ops, store_states=True)
    # QuTiP at atol = rtol = 1e-10; ours at 1e-12: agreement to 1e-8
    assert np.max(np.abs(ours.expect - ref.expect)) < 1e-8
    assert np.max(np.abs(ours.states - ref.states)) < 1e-8
    assert np.max(np.abs(ours.purity - ref.purity)) < 1e-8


def test_torch_cpu_path_matches_numpy():
    lb = dissipative_ising(3, V=2.0, g=1.0, gamma=0.5)
    t = [0.0, 0.5, 1.5]
    ops = z_ops(3)
    a = evolve_density(lb, product_state(["0"] * 3), t, ops)
    b = evolve_density(lb, product_state(["0"] * 3), t, ops, device="torch-cpu")
    assert b.metadata.backend == "exact-liouvillian-torch"
    assert np.max(np.abs(a.expect - b.expect)) < 1e-13
    with pytest.warns(ConvergenceWarning, match="precision='double'"):  # rounding in complex64 exceeds 1e-12
        c = evolve_density(lb, product_state(["0"] * 3), t, ops, device="torch-cpu", precision="single")
    assert np.max(np.abs(a.expect - c.expect)) < 1e-4  # complex64 arithmetic
    assert not c.converged and a.converged and b.converged


def test_steady_state_matches_qutip_and_is_stationary():
    lb = dissipative_ising(4, V=2.0, g=1.0, gamma=1.0)
    ours, ref = steady_state_density(lb), qutip_steadystate(lb)
    assert np.max(np.abs(ours - ref)) < 1e-9
    liouv = Liouvillian(lb)
    assert np.max(np.abs(liouv.apply(ours.reshape(-1)))) < 1e-12


def test_unitary_limit_keeps_purity():
    lb = Lindbladian(dissipative_ising(3, gamma=0.0).hamiltonian)
    res = evolve_density(lb, product_state(["0", "1", "+"]), np.linspace(0, 3, 4))
    assert np.max(np.abs(res.purity - 1)) < 1e-11


def test_bad_input():
    lb = dissipative_ising(2)
    with pytest.raises(ValueError, match="strictly increasing"):
        evolve_density(lb, product_state(["0", "0"]), [1.0, 0.5])
    with pytest.raises(ValueError, match="normalised"):
        evolve_density(lb, np.array([1.0, 1.0, 0, 0]), [1.0])
    with pytest.raises(ValueError, match="unit trace"):
        evolve_density(lb, np.eye(4), [1.0])
    with pytest.raises(ValueError, match="positive semidefinite"):
        as_density_matrix(np.diag([1.5, -0.5, 0, 0]))
    with pytest.raises(ValueError, match="expected 4 for 2 qubits"):
        evolve_density(lb, product_state(["0", "0"]), [1.0], [pauli_on(3, {0: "Z"})])
    with pytest.raises(ValueError, match="no working CUDA GPU"):
        Liouvillian(lb, device="cuda")
    with pytest.raises(ValueError, match="tol"):
        evolve_density(lb, product_state(["0", "0"]), [1.0], tol=0.0)


# -- the propagator's error estimate (issue: every value with an error that holds) ---------------------------------
def _random_lindbladian(n, seed):
    """A random Hamiltonian (six Pauli terms) with amplitude damping at a random rate: problems no test tuned."""
    from qiskit.quantum_info import SparsePauliOp

    rng = np.random.default_rng(seed)
    labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(6)]
    return amplitude_damping(SparsePauliOp(labels, rng.normal(size=6)), float(rng.uniform(0.1, 1.5)))


@pytest.mark.parametrize("tol", [1e-6, 1e-9, 1e-12])
@pytest.mark.parametrize("seed", range(4))
def test_error_estimate_covers_the_true_error(tol, seed):
    # Reference: scipy's dense expm of the same Liouvillian matrix (Pade, independent of the Taylor scheme; its
    # own error ~1e-15, far below the tolerances checked). The estimate is an estimate (kind "estimate"): it must
    # lie above the true largest entry error at every recorded time, here in every case (measured 4x .. 300x).
    from scipy.linalg import expm

    n = 2 + seed % 2
    lb = _random_lindbladian(n, seed) if seed < 3 else dissipative_xyz(2, Jx=0.3, Jy=-0.8, Jz=1.4, B=0.6, gamma=0.2)
    n = lb.num_qubits
    rho0 = product_state(["+", "1", "-i", "0"][:n])
    rho0 = np.outer(rho0, rho0.conj())
    t = np.array([0.0, 0.35, 1.1, 2.9])
    res = evolve_density(lb, rho0, t, tol=tol, store_states=True)
    dense = liouvillian_matrix(lb).toarray()
    exact = np.array([(expm(dense * ti) @ rho0.reshape(-1)).reshape(2**n, 2**n) for ti in t])
    true = np.abs(res.states - exact).max(axis=(1, 2))
    assert res.converged and res.error_estimate[0] == 0 and np.all(np.diff(res.error_estimate) >= 0)
    assert np.all(true <= res.error_estimate + 1e-15)  # 1e-15: the reference's own rounding
    assert res.error_estimate[-1] < 1e3 * tol  # and useful: within a few hundred sub-steps' tolerance


def test_single_precision_estimate_covers_its_rounding():
    # complex64: rounding (~1e-7 per sub-step) above tol = 1e-12 -> converged=False and a ConvergenceWarning; the
    # estimate still covers the true error (reference: the double-precision propagator at tol = 1e-14).
    lb = _random_lindbladian(3, 7)
    rho0 = product_state(["0", "+", "1"])
    t = np.array([0.0, 0.5, 2.0])
    with pytest.warns(ConvergenceWarning, match="single precision"):
        res = evolve_density(lb, rho0, t, precision="single", store_states=True)
    ref = evolve_density(lb, rho0, t, tol=1e-14, store_states=True)
    assert not res.converged and res.states.dtype == np.complex64
    assert np.all(np.abs(res.states - ref.states).max(axis=(1, 2)) <= res.error_estimate)


def _kronecker_liouvillian(lb):
    # The textbook definition, independent of the XOR-mask assembly: Kronecker products of the dense matrices,
    # L = -i (H_eff (x) 1 - 1 (x) H_eff^*) + sum_k gamma_k G_k (x) G_k^*, H_eff = H - (i/2) sum gamma G^dag G.
    h = lb.hamiltonian.to_matrix()
    gs = [(rate, g.to_matrix()) for g, rate in zip(lb.jump_ops, lb.rates, strict=True)]
    h_eff = h - 0.5j * sum(rate * g.conj().T @ g for rate, g in gs)
    eye = np.eye(h.shape[0])
    out = -1j * (np.kron(h_eff, eye) - np.kron(eye, h_eff.conj()))
    return out + sum(rate * np.kron(g, g.conj()) for rate, g in gs)


@pytest.mark.parametrize("name", ["ising", "open chain", "xyz", "random", "mixed jumps"])
def test_assembly_equals_the_kronecker_definition(name):
    # The vectorised (XOR-mask) assembly against the dense Kronecker formula: the same sums of the same products,
    # so they agree to rounding (1e-12 on entries of size ~10).
    from qiskit.quantum_info import SparsePauliOp

    lb = {"ising": lambda: dissipative_ising(4, V=2.0, g=1.0, gamma=0.7),
          "open chain": lambda: dissipative_ising(3, V=-1.0, g=0.4, gamma=1.3, periodic=False),
          "xyz": lambda: dissipative_xyz(2, Jx=0.9, Jy=1.0, Jz=1.1, B=0.3, gamma=0.5),
          "random": lambda: _random_lindbladian(3, 11),
          # jumps with several Pauli terms (X + iY + Z on two sites) and a zero rate
          "mixed jumps": lambda: Lindbladian(
              SparsePauliOp(["XY", "ZI", "IX"], [0.3, -0.7, 0.2]),
              [SparsePauliOp(["XI", "YZ", "ZZ"], [0.5, 0.5j, -0.2]), SparsePauliOp(["IY"], [1.0]),
               SparsePauliOp(["XX"], [1.0])], [0.8, 0.3, 0.0])}[name]()
    got = liouvillian_matrix(lb)
    assert got.has_sorted_indices and np.all(got.data != 0)
    assert np.max(np.abs(got.toarray() - _kronecker_liouvillian(lb))) < 1e-12


def test_many_output_times_match_expm():
    # 40 output times (more than one block of dense outputs, uneven spacing): every state against scipy's dense
    # expm (Pade, independent); tol = 1e-12 per sub-step, a handful of sub-steps: 1e-11.
    from scipy.linalg import expm

    lb = _random_lindbladian(2, 5)
    rho0 = as_density_matrix(product_state(["+", "1"]), 2)
    t = np.sort(np.random.default_rng(3).uniform(0, 3, 40))
    res = evolve_density(lb, rho0, t, store_states=True)
    dense = liouvillian_matrix(lb).toarray()
    exact = np.array([(expm(dense * ti) @ rho0.reshape(-1)).reshape(4, 4) for ti in t])
    assert np.max(np.abs(res.states - exact)) < 1e-11
    assert np.all(np.abs(res.states - exact).max(axis=(1, 2)) <= res.error_estimate + 1e-15)
