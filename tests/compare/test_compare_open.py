"""qdyn.compare on the dissipative Ising chain: QuTiP, exact Liouvillian, exact POVM, transformer."""

import numpy as np
import pytest

import qdyn.compare as C
from qdyn.open import POVM, POVMLindbladian, dissipative_ising, evolve_povm

N = 3
TRANSFORMER = {"n_samples": 200, "iterations": 15}  # small: the test checks the row, not the training


@pytest.fixture(scope="module")
def ising_comparison():
    chain = dissipative_ising(N, V=2.0, g=1.0, gamma=1.0)
    problem = C.open_problem(chain, "0", t_final=0.4, tau=0.05, seed=5)
    table, runs = C.compare(problem, options={"transformer": TRANSFORMER}, return_runs=True)
    return problem, table, runs


def test_lists_qutip_liouvillian_exact_povm_and_transformer(ising_comparison):
    _, table, _ = ising_comparison
    assert list(table["solver"]) == ["qutip", "liouvillian", "exact_povm", "transformer"]
    assert table.set_index("solver").loc["qutip", "max_error"] == 0.0


def test_exact_rows_against_qutip(ising_comparison):
    problem, table, runs = ising_comparison
    rows = table.set_index("solver")
    # QuTiP integrates to atol = rtol = 1e-10 and the Liouvillian propagator to 1e-12: agreement to 1e-8
    assert rows.loc["liouvillian", "max_error"] < 1e-8
    # trapezoid rule, tau = 0.05, rates O(1): local error ~ tau^3 ||L||^3 / 12, a few 1e-4 after 8 steps
    assert 1e-7 < rows.loc["exact_povm", "max_error"] < 2e-3
    assert runs["exact_povm"].values.shape == (3, 9)  # X, Y, Z site averages at 9 times
    assert np.allclose(problem.reference[:, 0], [0.0, 0.0, 1.0])  # |000>: <Z> = 1, <X> = <Y> = 0


def test_exact_povm_row_equals_evolve_povm(ising_comparison):
    problem, table, _ = ising_comparison
    povm = POVM("tetra")
    own = evolve_povm(POVMLindbladian(problem.lindbladian, povm), povm.probabilities(problem.rho0),
                      problem.times, list(problem.observables.values()), tau=problem.tau)
    row = table.set_index("solver").loc["exact_povm"]
    assert row["value"] == own.expect[0, -1]
    assert row["max_error"] == pytest.approx(np.abs(own.expect - problem.reference).max(), rel=1e-12)
    assert row["matvecs"] == own.resources.matvecs == 8


def test_transformer_row_reads_its_result(ising_comparison):
    problem, table, runs = ising_comparison
    result = runs["transformer"].result
    row = table.set_index("solver").loc["transformer"]
    assert row["value"] == result.expect["X"][-1] and row["value_err"] == result.errors["X"][-1]
    assert row["epochs"] == result.resources.epochs == 8 * TRANSFORMER["iterations"]
    assert row["samples"] == result.resources.samples > 0
    assert row["backend"] == "povm-transformer" and row["seed"] == 5
    # 15 Adam iterations per step on 200 samples: the state stays within ~0.15 of QuTiP's (loose: a smoke
    # bound catching a wrong sign or time axis, which gives errors of order 1)
    assert row["max_error"] < 0.25


def test_bad_open_input():
    L = dissipative_ising(2)
    with pytest.raises(TypeError, match="Lindbladian"):
        C.open_problem("not a lindbladian")
    with pytest.raises(ValueError, match="initial"):
        C.open_problem(L, ["0", "1", "0"])
    with pytest.raises(ValueError, match="whole number of steps"):
        C.open_problem(L, t_final=0.33, tau=0.1)
    with pytest.raises(ValueError, match="tau"):
        C.open_problem(L, tau=-0.1)
    with pytest.raises(ValueError, match="observables"):
        C.open_problem(L, observables={})
