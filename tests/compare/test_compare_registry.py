"""The adapter registry: one entry adds a solver; solvers whose modules are missing are left out clearly."""

import copy

import numpy as np
import pytest

import qdyn.compare as C
from qdyn.compare import registry
from qdyn.models import tfim


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", copy.deepcopy(registry._REGISTRY))


def test_default_solvers_per_kind():
    assert C.solver_names("eigen")[:2] == ["exact", "lanczos"]
    assert {"qutip", "liouvillian", "exact_povm"} <= set(C.solver_names("open"))
    assert {"fd", "cheb", "dvr"} <= set(C.solver_names("schrodinger"))
    with pytest.raises(ValueError, match="unknown problem kind"):
        C.solver_names("chemistry")


def test_one_registration_adds_a_row(scratch_registry):
    @C.register("eigen", "diagonal_guess")
    def _diagonal(problem):
        from qdyn.exact import expectation

        energy = expectation(problem.hamiltonian, problem.refs[0])
        return C.SolverRun("diagonal_guess", np.array([energy]), problem._exact)

    problem = C.eigen_problem(tfim(3, 1.0, 0.5, periodic=False), n_times=6)
    table = C.compare(problem, ["exact", "diagonal_guess"])
    row = table.set_index("solver").loc["diagonal_guess"]
    # |000> has <H> = -J (n - 1) = -2 for the open chain: error |-2 - E0|
    assert row["value"] == pytest.approx(-2.0, abs=1e-12)
    assert row["error"] == pytest.approx(abs(-2.0 - problem.reference[0]), abs=1e-12)


def test_solver_with_missing_module_is_skipped_and_refused(scratch_registry):
    C.register("eigen", "future_solver", requires=("qdyn_module_that_does_not_exist",))(lambda p: None)
    assert "future_solver" not in C.solver_names("eigen")
    assert "future_solver" in C.solver_names("eigen", available_only=False)
    with pytest.raises(ValueError, match="needs qdyn_module_that_does_not_exist"):
        C.compare(C.eigen_problem(tfim(2, 1.0, 1.0), n_times=4), ["future_solver"])
    with pytest.raises(ValueError, match="unknown problem kind"):
        C.register("chemistry", "x")


def test_values_with_the_wrong_shape_are_refused(scratch_registry):
    C.register("eigen", "broken")(lambda p: C.SolverRun("broken", np.zeros(3), p._exact))
    with pytest.raises(ValueError, match="shape"):
        C.compare(C.eigen_problem(tfim(2, 1.0, 1.0), n_times=4), ["broken"])
