"""Steady states checked before they are returned: unique (else a clear error naming the null space), physical
(else a PhysicsWarning and a flag), and solved (a residual and a distance bound that holds, else a
ConvergenceWarning), for the low-level solvers and every method of the front door.

References are independent of the code under test: analytic null-space dimensions, the Bloch-equation steady state
of the driven damped qubit, and the null vector of the dense Liouvillian by numpy's SVD.
"""

import numpy as np
import pytest
import torch
from qiskit.quantum_info import SparsePauliOp

import qdyn.open as O
from qdyn.errors import ConvergenceWarning, PhysicsWarning
from qdyn.open.liouvillian import steady_state_system
from qdyn.open.stationarity import BorderedGenerator, check_physical

METHODS = ("liouvillian", "qutip", "povm", "transformer")
TRANSFORMER = {"n_samples": None, "iterations": 2, "network": {"d_model": 8}}


def _options(method):
    return TRANSFORMER if method == "transformer" else {}


# -- uniqueness ---------------------------------------------------------------------------------------------------
def test_povm_steady_state_without_dissipation_is_a_clear_error():
    # The case: a Hamiltonian without jump operators, where every operator commuting with H is stationary:
    # the null space of [H, .] has dimension sum_k m_k^2 over the multiplicities m_k of H's eigenvalues.
    H = SparsePauliOp(["XI", "ZZ"], [0.5, 0.3])
    energies = np.linalg.eigvalsh(H.to_matrix())
    _, multiplicities = np.unique(np.round(energies, 10), return_counts=True)
    dimension = int(np.sum(multiplicities**2))
    lb = O.Lindbladian(H)
    with pytest.raises(ValueError, match=f"no unique steady state: its null space has dimension {dimension}"):
        O.povm_steady_state(O.POVMLindbladian(lb, "tetra"))
    with pytest.raises(ValueError, match=f"null space has dimension {dimension}"):
        O.steady_state_density(lb)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_refuses_a_lindbladian_with_several_steady_states(method):
    # Z fields with Z dephasing conserve every population: all diagonal density matrices are stationary, so the
    # null space has dimension 2^n = 4 (analytic). The transformer is refused before it trains.
    lb = O.dephasing(SparsePauliOp(["ZI", "IZ"], [0.7, -0.4]), 0.5)
    with pytest.raises(ValueError, match="no unique steady state: its null space has dimension 4"):
        O.steady_state(lb, method=method, seed=0, **_options(method))


def test_non_uniqueness_on_the_sparse_path():
    # 5 qubits (1024 unknowns: sparse LU, beyond the dense path) without dissipation: refused, with the dimension
    # of the commutant of H (sum of squared eigenvalue multiplicities of the dense H, as above).
    lb = O.dissipative_ising(5, gamma=0.0)
    energies = np.linalg.eigvalsh(lb.hamiltonian.to_matrix())
    dimension = int(np.sum(np.unique(np.round(energies, 9), return_counts=True)[1] ** 2))
    with pytest.raises(ValueError, match=f"no unique steady state: its null space has dimension {dimension}"):
        O.steady_state_density(lb)


# -- physicality --------------------------------------------------------------------------------------------------
def test_check_physical_warns_and_flags():
    with pytest.warns(PhysicsWarning, match="smallest eigenvalue is -0.2"):
        lowest, physical = check_physical(np.diag([1.2, -0.2]))
    assert lowest == pytest.approx(-0.2) and not physical
    assert check_physical(np.diag([1.0, 0.0])) == (0.0, True)


def test_front_door_flags_a_non_physical_network(monkeypatch):
    # A network whose distribution is no density matrix (its parameters scrambled after training, as a badly
    # trained network may be): the front door's check warns and flags it.
    import qdyn.open.neural.steady as steady

    trained = steady.steady_state_transformer

    def scrambled(state, *args, **kwargs):
        result = trained(state, *args, **kwargs)
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in state.parameters():
                p.add_(torch.randn(p.shape, generator=generator, dtype=p.dtype))
        return result

    monkeypatch.setattr(steady, "steady_state_transformer", scrambled)
    with pytest.warns(PhysicsWarning, match="not a physical density matrix"):
        run = O.steady_state(O.dissipative_ising(2), method="transformer", seed=0, **TRANSFORMER)
    assert not run.physical and run.min_eigenvalue < -1e-3
    assert run.min_eigenvalue == pytest.approx(np.linalg.eigvalsh(run.state)[0])


@pytest.mark.parametrize("method", METHODS[:3])
def test_exact_methods_are_physical_and_converged(method):
    # The driven damped qubit (Bloch equations, analytic): <Z> = -gamma^2/(gamma^2 + 2 g^2),
    # <Y> = 2 g gamma/(gamma^2 + 2 g^2). The reported errors bound the deviation from it.
    g, gamma = 1.3, 0.4
    run = O.steady_state(O.driven_damped_qubit(g, gamma), method=method, e_ops={"Y": "Y", "Z": "Z"})
    exact = {"Z": -gamma**2 / (gamma**2 + 2 * g**2), "Y": 2 * g * gamma / (gamma**2 + 2 * g**2)}
    assert run.physical and run.converged and run.error_kind == "bound" and run.min_eigenvalue > 0
    for k, value in exact.items():
        assert abs(run.expect[k] - value) <= run.errors[k] + 1e-15  # 1e-15: the analytic value's rounding
    assert run.residual < 1e-14 and run.distance_bound < 1e-13


# -- residuals and the distance bound ------------------------------------------------------------------------------
def _dense_null_vector(lindbladian):
    """The trace-normalised null vector of the dense Liouvillian (numpy SVD, independent of the bordered solve)."""
    _, _, vh = np.linalg.svd(O.liouvillian_matrix(lindbladian).toarray())
    d = 2**lindbladian.num_qubits
    x = vh[-1].conj()
    return x / x.reshape(d, d).trace()


UNTUNED = {
    "xyz 2x2": O.dissipative_xyz(2, Jx=0.7, Jy=1.3, Jz=0.4, B=0.2, gamma=0.3),
    "driven qubit": O.driven_damped_qubit(1.3, 0.4),
    "weak damping": O.dissipative_ising(3, V=1.0, g=1.0, gamma=1e-3),
    "random H, damping": O.amplitude_damping(SparsePauliOp(["XX", "YZ", "ZI"], [0.4, 0.3, 0.9]), 0.5),
}


@pytest.mark.parametrize("name", UNTUNED)
def test_distance_bound_holds_for_perturbed_states(name):
    # For x = rho_ss + delta (delta Hermitian, traceless, of size 1e-9 .. 1e-2), the reported bound
    # ||B^-1||_2 ||B x - e_0||_2 is a rigorous bound on ||x - rho_ss||_2 (kind "bound"): it must hold every time.
    # Measured ratios bound/true: 2.6 .. 2400 (the weak-damping chain is ill-conditioned, condition 5e3).
    lb = UNTUNED[name]
    system = steady_state_system(lb)
    reference = _dense_null_vector(lb)
    d = 2**lb.num_qubits
    rng = np.random.default_rng(5)
    for size in (1e-9, 1e-5, 1e-2):
        h = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        h = h + h.conj().T
        h -= np.trace(h) / d * np.eye(d)
        x = reference + size * (h / np.linalg.norm(h)).reshape(-1)
        report = system.stationarity(x, 1e-8)
        assert report.error_kind == "bound"
        assert np.linalg.norm(x - reference) <= report.distance_bound
        assert report.distance_bound <= 1e4 * size  # useful: within the condition number of the true distance


def test_distance_estimate_of_the_sparse_path_holds():
    # 5 qubits (1024 unknowns): sparse LU and Higham's 1-norm estimate (kind "estimate"); reference: the direct
    # solve (its error ~1e-14, far below the perturbations). Measured ratio bound/true ~2.4e3 (a 1-norm bound).
    lb = O.dissipative_ising(5, V=1.5, g=0.8, gamma=0.7)
    system = steady_state_system(lb)
    reference = system.solve()
    rng = np.random.default_rng(1)
    for size in (1e-8, 1e-4):
        x = reference + size * rng.normal(size=reference.size) / np.sqrt(reference.size)
        report = system.stationarity(x, 1e-8)
        assert report.error_kind == "estimate" and np.linalg.norm(x - reference) <= report.distance_bound


def test_transformer_distance_bound_holds():
    # A barely trained network (2 Adam iterations) is far from the steady state; its reported distance bound (the
    # POVM-space bordered system, kind of the 4^2 = 16 unknowns: "bound") covers the true distance of its
    # distribution from the exact null vector of the POVM generator (numpy SVD).
    lb = O.dissipative_ising(2, V=1.0, g=0.5, gamma=0.5)
    generator = O.POVMLindbladian(lb, "tetra")
    with pytest.warns(ConvergenceWarning, match="did not reach tol"):
        run = O.steady_state(lb, method="transformer", n_samples=None, optimizer="adam", iterations=2, seed=0,
                             network={"d_model": 8})
    _, _, vh = np.linalg.svd(generator.matrix().toarray())
    exact = vh[-1] / vh[-1].sum()
    P = O.POVM("tetra").frame_coefficients(run.state).real  # the network's distribution, from its density
    assert not run.converged and run.error_kind == "statistical"
    assert 1e-3 < np.linalg.norm(P - exact) <= run.distance_bound
    assert run.residual == pytest.approx(np.linalg.norm(generator.apply(P)), rel=1e-9)


def test_ill_conditioned_steady_state_warns_and_says_so():
    # A tolerance below what the weak-damping chain's condition number (5e3) allows: converged=False, warned.
    with pytest.warns(ConvergenceWarning, match="ill-conditioned"):
        run = O.steady_state(UNTUNED["weak damping"], tol=1e-16)
    assert not run.converged and run.distance_bound > 1e-16 and run.tol == 1e-16
    assert O.steady_state(UNTUNED["weak damping"]).converged  # the default tol = 1e-8 is met


def _direct_steady_state(lb):
    # Reference independent of BorderedGenerator: the bordered Liouvillian (row 0 -> the trace) by SuperLU.
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    matrix = O.liouvillian_matrix(lb).tolil()
    d = 2**lb.num_qubits
    matrix[0, :] = 0
    matrix[0, np.arange(d) * (d + 1)] = 1
    rhs = np.zeros(d * d)
    rhs[0] = 1
    return spsolve(sp.csc_matrix(matrix), rhs, permc_spec="MMD_AT_PLUS_A")


@pytest.mark.parametrize("model,no_jump,preconditioner", [("periodic", False, "none"), ("open", False, "jacobi"),
                                                          ("periodic", True, "no-jump"), ("xyz", True, "no-jump")])
def test_iterative_steady_state_matches_the_direct_solve(model, no_jump, preconditioner, xyz_field_chain):
    # 6 qubits (4096 unknowns): GMRES. Without the no-jump preconditioner: on the periodic chain the Jacobi-scaled
    # iteration breaks down and plain GMRES takes over; the open chain keeps it. With it (steady_state_system's
    # default), also on an open XYZ chain with a field and dephasing, where Jacobi needs ~2000 products. Each
    # solution lies within its reported distance estimate of the sparse-LU reference (whose own error ~1e-14),
    # and that estimate is below tol = 1e-8.
    if model == "periodic":
        lb = O.dissipative_ising(6, V=1.5, g=0.8, gamma=0.7)
    elif model == "open":
        lb = O.dissipative_ising(6, V=-2.5, g=1.2, gamma=0.9, periodic=False)
    else:
        lb = xyz_field_chain(6)
    if no_jump:
        system = steady_state_system(lb)
    else:
        d = 2**lb.num_qubits
        system = BorderedGenerator(O.liouvillian_matrix(lb), np.eye(d).reshape(-1), what="the Liouvillian")
    x = system.solve()
    report = system.stationarity(x, 1e-8)
    assert system.method == "gmres" and system.matvecs > 0 and system.preconditioner == preconditioner
    assert report.converged and report.residual < 1e-12
    assert np.linalg.norm(x - _direct_steady_state(lb)) <= report.distance_bound


def test_iterative_solver_falls_back_to_lu(monkeypatch):
    # When GMRES cannot reach its tolerance the bordered system is factorised instead: same state, method named.
    from qdyn.open import iterative

    monkeypatch.setattr(iterative.KrylovSolver, "solve", lambda self, b, rtol=0, adjoint=False: None)
    lb = O.dissipative_ising(6, V=1.5, g=0.8, gamma=0.7)
    system = steady_state_system(lb)
    assert system.method == "sparse-lu"
    assert np.linalg.norm(system.solve() - _direct_steady_state(lb)) < 1e-12


def test_a_lattice_too_large_for_the_liouvillian_is_refused_before_allocating():
    # a 5x5 dissipative XYZ lattice: 25 qubits, density vectors of 4**25 entries (used to fail allocating 8 PiB)
    from qdyn.errors import InsufficientMemoryError
    from qdyn.open import dissipative_xyz, evolve, steady_state

    lattice = dissipative_xyz(5)
    assert lattice.num_qubits == 25
    refused = r"Liouvillian of 25 qubits .* POVM transformer \(method='transformer'\)"
    with pytest.raises(InsufficientMemoryError, match=refused):
        steady_state(lattice, method="liouvillian")
    with pytest.raises(InsufficientMemoryError, match="Liouvillian of 25 qubits"):
        evolve(lattice, "0", [0.0, 0.1], method="liouvillian")
    for method in ("qutip", "povm"):
        with pytest.raises(InsufficientMemoryError, match="Liouvillian of 25 qubits"):
            steady_state(lattice, method=method)
