"""qdyn.open.no_jump.NoJumpInverse against the dense inverse of the no-jump superoperator, built independently
from Kronecker products (row-major vec: vec(A rho B) = (A kron B^T) vec(rho))."""

import numpy as np
import pytest
import torch
from qiskit.quantum_info import SparsePauliOp

import qdyn.open as O
from qdyn.open.no_jump import FramedNoJumpInverse, NoJumpInverse


def _random_lindbladian(n: int, seed: int) -> O.Lindbladian:
    """Random two-body Pauli Hamiltonian and one random local jump per qubit (rates 0.2..1)."""
    rng = np.random.default_rng(seed)
    paulis = "XYZ"
    terms = [(a + b, [i, (i + 1) % n], rng.normal()) for i in range(n) for a in paulis for b in paulis]
    terms += [(p, [i], rng.normal()) for i in range(n) for p in paulis]
    jumps = [SparsePauliOp.from_sparse_list([(p, [i], complex(rng.normal(), rng.normal())) for p in paulis], n)
             for i in range(n)]
    return O.Lindbladian(SparsePauliOp.from_sparse_list(terms, n), jumps, list(rng.uniform(0.2, 1.0, n)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_jump_inverse_is_the_inverse_of_the_shifted_no_jump_part(seed):
    # (L_0 - delta) x = y with L_0 = -i (H_eff kron 1 - 1 kron conj(H_eff)) solved densely (LAPACK), for x and for
    # the adjoint; 1e-10 relative (H_eff's eigenvectors are well conditioned for a random model: the eigenbasis
    # route loses cond(V)^2 * 1e-16 at most).
    lb = _random_lindbladian(3, seed)
    h = lb.effective_hamiltonian().to_matrix()
    d = h.shape[0]
    inverse = NoJumpInverse.build(h)
    no_jump = -1j * (np.kron(h, np.eye(d)) - np.kron(np.eye(d), h.conj()))
    decay = -2 * np.linalg.eigvals(h).imag.min()
    shifted = no_jump - 0.1 * decay * np.eye(d * d)
    y = np.random.default_rng(seed).standard_normal(d * d) + 1j * np.random.default_rng(seed + 9).standard_normal(d * d)
    for adjoint, matrix in ((False, shifted), (True, shifted.conj().T)):
        x = inverse(y, adjoint)
        assert np.linalg.norm(x - np.linalg.solve(matrix, y)) <= 1e-10 * np.linalg.norm(x)
    on_torch = inverse.on("cpu")(torch.as_tensor(y), False).numpy()
    np.testing.assert_allclose(on_torch, inverse(y), rtol=0, atol=1e-12 * np.abs(on_torch).max())


def test_a_defective_effective_hamiltonian_gives_no_preconditioner():
    # A Jordan block has no basis of eigenvectors: build says None (the solver then starts with Jacobi).
    assert NoJumpInverse.build(np.array([[1 - 0.5j, 1.0], [0.0, 1 - 0.5j]])) is None
    assert NoJumpInverse.build(np.diag([1 - 0.5j, 2 - 0.1j])) is not None


@pytest.mark.parametrize("povm", ["tetra", "pauli4"])
def test_framed_inverse_is_the_no_jump_inverse_seen_through_the_povm(povm):
    # A vec(rho) = (Tr[rho M^a])_a built densely from the POVM's frame coefficients of the unit matrices; the
    # framed preconditioner must be A (L_0 - delta)^{-1} A^{-1} and its adjoint the conjugate transpose (1e-10
    # relative), map a real distribution to a real vector, and the POVM-space generator must be A L A^{-1} (the
    # premise of the preconditioner).
    lb = _random_lindbladian(2, 5)
    frame = O.POVM(povm)
    d = 4
    A = np.stack([frame.frame_coefficients(np.eye(d * d)[k].reshape(d, d)) for k in range(d * d)], axis=1)
    inverse = NoJumpInverse.build(lb.effective_hamiltonian().to_matrix())
    framed = FramedNoJumpInverse(inverse, frame)
    dense = A @ np.stack([inverse(np.eye(d * d)[k]) for k in range(d * d)], axis=1) @ np.linalg.inv(A)
    generator = O.POVMLindbladian(lb, frame).matrix().toarray()
    np.testing.assert_allclose(generator, A @ O.liouvillian_matrix(lb).toarray() @ np.linalg.inv(A), atol=1e-12)
    p = np.random.default_rng(3).standard_normal(d * d)
    for adjoint, matrix in ((False, dense), (True, dense.conj().T)):
        out = framed(p, adjoint)
        assert np.isrealobj(out)
        assert np.linalg.norm(out - matrix @ p) <= 1e-10 * np.linalg.norm(out)


def test_beyond_the_first_size_the_inverse_follows_a_failed_jacobi_iteration(monkeypatch, xyz_field_chain):
    # Past FIRST_UP_TO_QUBITS the inverse's O(8^n) application costs several products of L, so the solver starts
    # with the Jacobi diagonal and falls back to the inverse when Jacobi fails: on an open XYZ chain in a field
    # (5 qubits; one GMRES cycle of 60 products: too few for Jacobi, enough for the inverse) the state then
    # matches the sparse LU to 1e-10.
    from qdyn.open import iterative, no_jump
    from qdyn.open.stationarity import BorderedGenerator

    n = 5
    lb = xyz_field_chain(n)
    monkeypatch.setattr(no_jump, "FIRST_UP_TO_QUBITS", n - 1)
    inverse = NoJumpInverse.build(lb.effective_hamiltonian().to_matrix())
    assert not inverse.first
    trace = np.eye(2**n).reshape(-1)
    solver = iterative.KrylovSolver(BorderedGenerator(O.liouvillian_matrix(lb), trace, what="L",
                                                      method="sparse-lu").bordered, preconditioner=inverse)
    assert solver.preconditioner == "jacobi"
    monkeypatch.setattr(iterative, "RESTART", 60)
    monkeypatch.setattr(iterative, "MAX_RESTARTS", 1)
    rhs = np.zeros(4**n)
    rhs[0] = 1.0
    x = solver.solve(rhs)
    assert solver.preconditioner == "no-jump" and x is not None
    reference = BorderedGenerator(O.liouvillian_matrix(lb), trace, what="L", method="sparse-lu").solve()
    assert np.abs(x - reference).max() < 1e-10
