"""qdyn.compare on eigenvalue problems: TFIM n = 8 rows against the free-fermion energy and module results."""

import numpy as np
import pytest

import qdyn.compare as C
from qdyn.cooling import cool
from qdyn.exact import ground_state
from qdyn.krylov import solve
from qdyn.models import tfim
from qdyn.states import plus_state

N = 8
COOLING = {"steps": 20}  # a short cooling run: the test checks the row, not the physics of cooling


def free_fermion_ground_energy(n: int, J: float, g: float) -> float:
    """Periodic TFIM ``-J sum ZZ - g sum X``: ``E0 = -sum_k sqrt(J^2 + g^2 - 2 J g cos k)``,
    ``k = (2m+1) pi/n``
    (even-parity, antiperiodic fermion sector; Pfeuty, Ann. Phys. 57, 79 (1970))."""
    k = (2 * np.arange(n) + 1) * np.pi / n
    return float(-np.sum(np.sqrt(J**2 + g**2 - 2 * J * g * np.cos(k))))


@pytest.fixture(scope="module")
def tfim_comparison():
    problem = C.eigen_problem(tfim(N, 1.0, 1.0, periodic=True), refs=plus_state(N), n_times=20, seed=3)
    table, runs = C.compare(problem, options={"cooling": COOLING}, return_runs=True)
    return problem, table, runs


def test_tfim_lists_every_eigen_solver(tfim_comparison):
    _, table, _ = tfim_comparison
    assert list(table["solver"]) == ["exact", "lanczos", "vqpe", "uvqpe", "odmd", "matrix_pencil", "cooling"]
    assert list(table.columns) == list(C.COLUMNS)
    assert set(table["backend"]) == {"exact"} and set(table["device"]) == {"cpu"}


def test_reference_is_the_free_fermion_energy(tfim_comparison):
    problem, table, _ = tfim_comparison
    # dense diagonalisation in double precision: 1e-10 on |E| ~ 10
    assert problem.reference[0] == pytest.approx(free_fermion_ground_energy(N, 1.0, 1.0), abs=1e-10)
    assert np.allclose(table["reference"], problem.reference[0])


def test_krylov_rows_equal_krylov_solve_on_the_same_data(tfim_comparison):
    problem, table, _ = tfim_comparison
    e0 = free_fermion_ground_energy(N, 1.0, 1.0)
    for method in ("vqpe", "uvqpe", "odmd", "matrix_pencil"):
        own = solve(problem.krylov_data, method, seed=problem.seed)
        row = table.set_index("solver").loc[method]
        assert row["value"] == own.energy  # the same numbers, not a re-derivation
        assert row["error"] == pytest.approx(abs(own.energy - e0), abs=1e-10)
        # one evolution per time step and reference: n_times - 1 = 19
        assert row["evolutions"] == problem.krylov_data.resources.evolutions == 19
        assert row["matvecs"] == own.resources.matvecs
        assert row["wall_time"] >= problem.krylov_data.resources.wall_time
    # exact data from |+>^8 (in the ground state's symmetry sector): VQPE converges to 1e-8 (Klymko et al.)
    assert table.set_index("solver").loc["vqpe", "error"] < 1e-8


def test_exact_lanczos_and_cooling_rows_match_their_modules(tfim_comparison):
    problem, table, runs = tfim_comparison
    rows = table.set_index("solver")
    lanczos = ground_state(problem.hamiltonian, method="lanczos", seed=problem.seed)
    assert rows.loc["lanczos", "value"] == lanczos.energy
    assert rows.loc["exact", "error"] == 0.0
    assert rows.loc["lanczos", "error"] < 1e-9  # Lanczos converged to eigsh's tolerance
    own = cool(problem.hamiltonian, seed=problem.seed, **COOLING)  # cool normalises H and reports in its units
    assert rows.loc["cooling", "value"] == pytest.approx(own.energy, rel=1e-12)
    # the module's own energy error (against its own ground energy) agrees with the table's, in units of H
    assert rows.loc["cooling", "error"] == pytest.approx(own.energy_error, abs=1e-9)
    assert rows.loc["cooling", "queries"] == own.resources.queries == own.total_queries_h + own.total_queries_v
    assert rows.loc["cooling", "evolutions"] == 0  # block-encoding queries only, no exp(-iHt)
    assert runs["cooling"].result.metadata.options["scale"] == pytest.approx(1.05 * abs(problem.reference[0]))


def test_shot_noise_rows_carry_bootstrap_error_bars():
    problem = C.eigen_problem(tfim(4, 1.0, 0.8, periodic=False), refs=plus_state(4), n_times=8,
                              backend="shots", shots=2000, seed=11)
    table = C.compare(problem, ["exact", "vqpe"])
    own = solve(problem.krylov_data, "vqpe", seed=problem.seed)
    row = table.set_index("solver").loc["vqpe"]
    assert row["value"] == own.energy and row["value_err"] == own.energy_err
    assert row["shots"] == problem.krylov_data.resources.shots > 0
    assert row["backend"] == "shots"


def test_default_reference_state_is_the_lowest_diagonal_basis_state():
    # H = Z0 + 2 Z1 - 0.5 X0: diagonal energies 3, 1, -1, -3 for |00>, |01>, |10>, |11> (qubit 0 rightmost)
    from qiskit.quantum_info import SparsePauliOp

    H = SparsePauliOp(["IZ", "ZI", "IX"], [1.0, 2.0, -0.5])
    problem = C.eigen_problem(H, n_times=6)
    assert np.argmax(np.abs(problem.refs[0])) == 3


def test_several_roots_pad_missing_values_with_nan():
    problem = C.eigen_problem(tfim(4, 1.0, 0.7, periodic=False), refs=plus_state(4), n_roots=2)
    table, runs = C.compare(problem, ["exact", "cooling"], options={"cooling": {"steps": 5}},
                            return_runs=True)
    assert np.isnan(runs["cooling"].values[1])
    assert np.isfinite(table.set_index("solver").loc["cooling", "max_error"])


def test_bad_eigen_input():
    H = tfim(3, 1.0, 1.0)
    with pytest.raises(ValueError, match="n_roots"):
        C.eigen_problem(H, n_roots=0)
    with pytest.raises(ValueError, match="n_roots"):
        C.eigen_problem(H, n_roots=9)
    with pytest.raises(ValueError, match="refs"):
        C.eigen_problem(H, refs=np.ones(8))  # not normalised
    with pytest.raises(TypeError, match="comparison problem|eigen_problem"):
        C.compare(H)
    problem = C.eigen_problem(H, n_times=6)
    with pytest.raises(ValueError, match="unknown solver 'vqe'"):
        C.compare(problem, ["exact", "vqe"])
    with pytest.raises(ValueError, match="options given for solvers not being run"):
        C.compare(problem, ["exact"], options={"cooling": {}})
    with pytest.raises(TypeError, match="options must be a dict"):
        C.compare(problem, ["exact"], options=[("exact", {})])
    with pytest.raises(ValueError, match="at least one solver"):
        C.compare(problem, [])


def test_circuit_backend_rows_report_circuit_resources():
    problem = C.eigen_problem(tfim(3, 1.0, 0.8, periodic=False), refs=plus_state(3), n_times=6, backend="aer",
                              shots=4000, seed=1, trotter="exact")
    row = C.compare(problem, ["vqpe"]).iloc[0]
    data = problem.krylov_data.resources
    assert row["backend"] == "aer"
    assert (row["circuits"], row["shots"], row["depth"], row["two_qubit_gates"]) == (
        data.circuits, data.shots, data.depth, data.two_qubit_gates)
    assert row["circuits"] > 0 and row["depth"] > 0 and row["two_qubit_gates"] > 0
    # 4000 shots per Hadamard test: the energy lies within 5 bootstrap standard errors of the exact one
    assert row["error"] < 5 * row["value_err"]
