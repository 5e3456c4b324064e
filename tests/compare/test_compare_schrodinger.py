"""qdyn.compare on the finite square well: FD, Chebyshev, DVR and both PINN modes vs the analytic levels."""

import numpy as np
import pytest

import qdyn.compare as C
from qdyn.schrodinger import finite_well, solve_eigen

PINN_DEFAULT = {"adam_epochs": 100, "lbfgs_iters": 30}  # short training: the test checks the rows
PINN_PAPER = {"adam_epochs": 200}


def finite_well_levels(depth: float, half_width: float, k: int) -> np.ndarray:
    """Finite well ``V = depth`` outside ``|x| < a`` on the infinite line, atomic units (hbar = m = 1):
    even states ``q tan(q a) = kappa``, odd ``-q cot(q a) = kappa``, ``q = sqrt(2E)``,
    ``kappa = sqrt(2(V - E))``
    (Griffiths, Introduction to Quantum Mechanics, 2.6), solved by bisection on a fine bracket scan."""
    from scipy.optimize import brentq

    def f(E, parity):
        q, kap = np.sqrt(2 * E), np.sqrt(2 * (depth - E))
        return q * np.sin(q * half_width) - kap * np.cos(q * half_width) if parity == 0 else \
            q * np.cos(q * half_width) + kap * np.sin(q * half_width)

    roots = []
    grid = np.linspace(1e-9, depth - 1e-9, 20001)
    for parity in (0, 1):
        vals = f(grid, parity)
        roots += [brentq(f, a, b, args=(parity,), xtol=1e-14)
                  for a, b, va, vb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:], strict=True)
                  if va * vb < 0]
    return np.sort(roots)[:k]


@pytest.fixture(scope="module")
def well_comparison():
    problem = C.schrodinger_problem(finite_well(), k=3, seed=2)
    table, runs = C.compare(problem, options={"pinn_default": PINN_DEFAULT, "pinn_paper": PINN_PAPER},
                            return_runs=True)
    return problem, table, runs


def test_lists_fd_cheb_dvr_and_both_pinn_modes(well_comparison):
    _, table, _ = well_comparison
    assert list(table["solver"]) == ["fd", "cheb", "dvr", "pinn_default", "pinn_paper"]


def test_reference_is_the_finite_well_transcendental_equation(well_comparison):
    problem, _, _ = well_comparison
    well = finite_well()
    # the default well has hard walls at +-6, where the bound states have decayed by exp(-kappa 4.3) < 1e-10
    assert np.allclose(problem.reference, finite_well_levels(20.0, 1.7, 3), atol=1e-8)
    assert well.domain == (-6.0, 6.0)


def test_rows_equal_the_module_errors(well_comparison):
    problem, table, runs = well_comparison
    rows = table.set_index("solver")
    for method in ("fd", "cheb", "dvr"):
        own = solve_eigen(problem.problem, 3, method=method)
        assert rows.loc[method, "value"] == own.energies[0]
        assert rows.loc[method, "error"] == pytest.approx(own.errors[0], rel=1e-12, abs=1e-15)
        assert rows.loc[method, "max_error"] == pytest.approx(own.errors.max(), rel=1e-12, abs=1e-15)
    for solver in ("pinn_default", "pinn_paper"):
        own = runs[solver].result
        assert rows.loc[solver, "error"] == pytest.approx(own.errors[0], rel=1e-12, abs=1e-15)
        assert rows.loc[solver, "epochs"] == own.resources.epochs > 0
        assert runs[solver].result.method == {"pinn_default": "pinn", "pinn_paper": "pinn-paper"}[solver]
    # split Chebyshev resolves the jumps: spectral accuracy (1e-9 against the analytic levels)
    assert rows.loc["cheb", "max_error"] < 1e-9
    assert np.isnan(runs["pinn_paper"].values[1])  # paper mode solves the lowest level only


def test_bad_schrodinger_input():
    with pytest.raises(TypeError, match="qdyn.schrodinger.Problem"):
        C.schrodinger_problem("well")
    with pytest.raises(ValueError, match="k"):
        C.schrodinger_problem(finite_well(), k=0)
