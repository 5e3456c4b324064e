"""Lindbladian construction, validation, models and the sigma^- convention."""

import numpy as np
import pytest
import scipy.sparse as sp
from qiskit.quantum_info import SparsePauliOp

from qdyn.open.lindbladian import Lindbladian, pauli_on, sigma_minus
from qdyn.open.liouvillian import liouvillian_matrix
from qdyn.open.models import (
    amplitude_damping,
    dephasing,
    dissipative_ising,
    dissipative_xyz,
    driven_damped_qubit,
    square_lattice_bonds,
)

X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)
I2 = np.eye(2, dtype=complex)


def site_op(op, site, n):
    """``op`` on qubit ``site`` of ``n`` by explicit Kronecker products (qubit 0 rightmost factor)."""
    out = np.eye(1, dtype=complex)
    for q in reversed(range(n)):
        out = np.kron(out, op if q == site else I2)
    return out


def test_sigma_minus_is_ket1_bra0():
    # sigma^- = |1><0| (Z|0> = +|0>): it lowers sigma^z from +1 to -1.
    assert np.allclose(sigma_minus(0, 1).to_matrix(), [[0, 0], [1, 0]])
    m = sigma_minus(1, 2).to_matrix()
    assert np.allclose(m, site_op(np.array([[0, 0], [1, 0]]), 1, 2))


def test_dissipative_ising_matches_explicit_matrices():
    n, V, g, gamma = 3, 2.0, 0.7, 0.3
    lb = dissipative_ising(n, V=V, g=g, gamma=gamma, periodic=True)
    H = sum(V / 4 * site_op(Z, i, n) @ site_op(Z, (i + 1) % n, n) for i in range(n))
    H = H + sum(g / 2 * site_op(X, i, n) for i in range(n))
    assert np.allclose(lb.hamiltonian.to_matrix(), H, atol=1e-14)
    assert len(lb.jump_ops) == n and np.allclose(lb.rates, gamma)
    for i, G in enumerate(lb.jump_ops):
        assert np.allclose(G.to_matrix(), site_op(np.array([[0, 0], [1, 0]]), i, n))


def test_xyz_bonds_counted_once():
    assert square_lattice_bonds(2) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert len(square_lattice_bonds(3)) == 18  # 2 L^2 bonds for L >= 3
    lb = dissipative_xyz(2, Jx=0.5, Jy=1.0, Jz=1.5, B=0.2, gamma=1.0)
    H = np.zeros((16, 16), dtype=complex)
    for i, j in [(0, 1), (0, 2), (1, 3), (2, 3)]:
        for P, J in ((X, 0.5), (Y, 1.0), (Z, 1.5)):
            H += J * site_op(P, i, 4) @ site_op(P, j, 4)
    H += sum(0.2 * site_op(Z, i, 4) for i in range(4))
    assert np.allclose(lb.hamiltonian.to_matrix(), H, atol=1e-14)


def test_liouvillian_matrix_matches_textbook_superoperator():
    # Independent dense construction of vec(L(rho)) for row-major vec, on a random 2-qubit Lindbladian.
    rng = np.random.default_rng(1)
    lb = Lindbladian(pauli_on(2, {0: "X", 1: "Z"}, 0.4) + pauli_on(2, {1: "Y"}, -0.3),
                     [sigma_minus(0, 2), pauli_on(2, {0: "Z", 1: "X"})], [0.7, 0.2])
    rho = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    H = lb.hamiltonian.to_matrix()
    expected = -1j * (H @ rho - rho @ H)
    for G, rate in zip(lb.jump_ops, lb.rates, strict=True):
        g = G.to_matrix()
        expected += rate * (g @ rho @ g.conj().T - 0.5 * (g.conj().T @ g @ rho + rho @ g.conj().T @ g))
    got = (liouvillian_matrix(lb) @ rho.reshape(-1)).reshape(4, 4)
    assert np.allclose(got, expected, atol=1e-13)


def test_local_terms_reassemble_the_generator():
    lb = dissipative_ising(3, V=1.3, g=0.8, gamma=0.4, periodic=False)
    terms = lb.local_terms()
    assert sorted(t.sites for t in terms) == [(0,), (0, 1), (1,), (1, 2), (2,)]
    rng = np.random.default_rng(2)
    rho = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    # each local superoperator applied on its support with explicit reshapes (identity elsewhere)
    total = sum(_apply_local(term, rho, 3) for term in terms)
    expected = (liouvillian_matrix(lb) @ rho.reshape(-1)).reshape(8, 8)
    assert np.allclose(total, expected, atol=1e-13)


def _apply_local(term, rho, n):
    """Apply ``L_S (x) id`` to ``rho`` with explicit tensor reshapes (axes ordered qubit n-1 ... 0)."""
    k = len(term.sites)
    t = rho.reshape([2] * (2 * n))
    row_axes = [n - 1 - q for q in reversed(term.sites)]  # local index: sites[k-1] most significant
    col_axes = [2 * n - 1 - q for q in reversed(term.sites)]
    rest_rows = [a for a in range(n) if a not in row_axes]
    rest_cols = [a for a in range(n, 2 * n) if a not in col_axes]
    perm = row_axes + col_axes + rest_rows + rest_cols
    moved = t.transpose(perm).reshape(2**k, 2**k, -1)
    out = np.stack([term.superoperator()(moved[:, :, r]) for r in range(moved.shape[2])], axis=2)
    out = out.reshape([2] * (2 * n))
    return out.transpose(np.argsort(perm)).reshape(2**n, 2**n)


def test_from_qutip_round_trip():
    lb = dissipative_ising(3, V=2.0, g=1.0, gamma=0.5)
    H, c_ops = lb.to_qutip()
    back = Lindbladian.from_qutip(H, c_ops)
    assert sp.linalg.norm(liouvillian_matrix(back) - liouvillian_matrix(lb)) < 1e-12


def test_noise_models_on_any_hamiltonian():
    H = SparsePauliOp(["XX", "ZI"], [1.0, 0.5])
    ad = amplitude_damping(H, 0.3)
    dp = dephasing(H, 0.2)
    assert [np.allclose(g.to_matrix(), sigma_minus(i, 2).to_matrix()) for i, g in enumerate(ad.jump_ops)] == [True] * 2
    assert np.allclose(dp.jump_ops[1].to_matrix(), site_op(Z, 1, 2)) and np.allclose(dp.rates, 0.2)
    q = driven_damped_qubit(0.5, 2.0)
    assert np.allclose(q.hamiltonian.to_matrix(), 0.25 * X)


def test_bad_input():
    with pytest.raises(ValueError, match="Hermitian"):
        Lindbladian(np.array([[0, 1], [0, 0]]))
    with pytest.raises(ValueError, match="rates must be finite and >= 0"):
        Lindbladian(pauli_on(1, {0: "Z"}), [sigma_minus(0, 1)], [-0.1])
    with pytest.raises(ValueError, match="rates must be finite"):
        Lindbladian(pauli_on(1, {0: "Z"}), [sigma_minus(0, 1)], [np.nan])
    with pytest.raises(ValueError, match=r"jump_ops\[0\] acts on 2 qubits but the Hamiltonian acts on 3"):
        Lindbladian(pauli_on(3, {0: "Z"}), [sigma_minus(0, 2)])
    with pytest.raises(ValueError, match="rates has 2 entries"):
        Lindbladian(pauli_on(1, {0: "Z"}), [sigma_minus(0, 1)], [0.1, 0.2])
    with pytest.raises(ValueError, match="gamma"):
        dissipative_ising(3, gamma=-1.0)
    with pytest.raises(TypeError, match="V must be a real number"):
        dissipative_ising(3, V="2")
    with pytest.raises(TypeError, match="lindbladian must be a Lindbladian"):
        liouvillian_matrix("not a Lindbladian")
    with pytest.raises(ValueError, match="max_sites"):
        Lindbladian(pauli_on(3, {0: "Z", 1: "Z", 2: "Z"})).local_terms(max_sites=2)


def test_qutip_native_operators_follow_the_conventions():
    # QuTiP's subsystem i is qdyn qubit i, and QuTiP's sigmam() = |1><0| is this module's sigma^-.
    qutip = pytest.importorskip("qutip")
    H = qutip.tensor(qutip.sigmax(), qutip.qeye(2)) + 0.5 * qutip.tensor(qutip.qeye(2), qutip.sigmaz())
    c_ops = [np.sqrt(0.3) * qutip.tensor(qutip.qeye(2), qutip.sigmam())]
    lb = Lindbladian.from_qutip(H, c_ops)
    expected = Lindbladian(pauli_on(2, {0: "X"}) + pauli_on(2, {1: "Z"}, 0.5), [sigma_minus(1, 2)], [0.3])
    assert sp.linalg.norm(liouvillian_matrix(lb) - liouvillian_matrix(expected)) < 1e-12
