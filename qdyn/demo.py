"""The main job: a compact tour of qdyn on embedded default problems, printed as comparison tables.

1. the exact engine's ground energies of the built-in models against independent references (free-fermion
   formula, Bethe ansatz, two-site Hubbard formula, published full CI);
2. eigenvalue solvers on the TFIM ring (exact, Lanczos, VQPE, UVQPE, ODMD, matrix pencil, dynamical cooling);
3. open-system solvers on the dissipative Ising chain (QuTiP, exact Liouvillian, exact POVM, POVM transformer);
4. 1D Schrodinger solvers on the finite well (finite differences, Chebyshev, DVR, PINN default and paper modes).

Each comparison table is printed, saved as CSV, drawn as a figure, and gathered in ``report.md`` in the output
folder.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from qdyn import exact, models

__all__ = ["ground_energy_table", "format_table", "run_demo"]

_RESOURCES = ["evolutions", "queries", "matvecs", "circuits", "shots", "two_qubit_gates", "epochs", "samples"]
_COLUMNS = ["solver", "value", "value_err", "error", *_RESOURCES, "wall_time"]


def _tfim_reference(n: int, J: float = 1.0, g: float = 1.0) -> float:
    m = np.arange(1, n // 2 + 1)
    return -float(np.sum(2 * np.sqrt(J**2 + g**2 - 2 * J * g * np.cos((2 * m - 1) * np.pi / n))))


def _problems(quick: bool):
    big = 12 if quick else 18
    yield "TFIM n=8 (g=1)", models.tfim(8), None, _tfim_reference(8), "free fermions"
    yield f"TFIM n={big} (g=1)", models.tfim(big), None, _tfim_reference(big), "free fermions"
    yield "Heisenberg ring n=8", models.heisenberg(8), None, -14.6043736357, "Bethe ansatz"
    yield "Hubbard 2 sites U=4 (N=2)", models.hubbard(2, U=4.0), 2, (4 - np.sqrt(32)) / 2, "analytic"
    yield "H2 STO-3G 0.74 A", models.h2(0.74).hamiltonian, None, -1.1372838, "full CI (published)"


def ground_energy_table(quick: bool = False, seed: int = 0) -> list[dict]:
    """One row per built-in problem: exact-engine ground energy, reference, error and cost."""
    rows = []
    for name, H, weight, reference, source in _problems(quick):
        result = exact.ground_state(H, hamming_weight=weight, seed=seed)
        rows.append({
            "problem": name, "qubits": H.num_qubits, "method": result.method,
            "E0": result.energy, "reference": reference, "source": source,
            "|error|": abs(result.energy - reference), "matvecs": result.resources.matvecs,
            "seconds": result.resources.wall_time,
        })
    return rows


def _significant(value: float, digits: int) -> str:
    """``value`` with ``digits`` significant digits, in plain notation where that stays short."""
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    if 1e-3 <= abs(value) < 1e5:
        decimals = max(digits - 1 - int(np.floor(np.log10(abs(value)))), 0)
        return f"{value:.{decimals}f}"
    return f"{value:.{digits - 1}e}"


def _cell(column: str, value) -> str:
    """One table cell: seconds to 3 significant digits, errors to 2, values to 10."""
    if isinstance(value, bool | str) or value is None:
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    value = float(value)
    if np.isnan(value):
        return "-"
    if column in ("seconds", "wall_time"):
        return _significant(value, 3)
    if "error" in column or column.endswith("_err"):
        return "0" if value == 0 else f"{value:.1e}"
    return _significant(value, 10)


def format_table(rows: list[dict]) -> str:
    """Plain-text table with aligned columns."""
    headers = list(rows[0])
    cells = [[_cell(h, r[h]) for h in headers] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def _comparisons(quick: bool):
    """``(title, key, problem, options, figure function, limits)`` for the three solver comparisons; ``limits``
    says, per solver, what keeps it from the reference at this working point."""
    from qdyn import compare, plot
    from qdyn.open import dissipative_ising, site_average_paulis
    from qdyn.schrodinger import finite_well
    from qdyn.states import plus_state

    # working points: the TFIM ring at n = 8 (where dynamical cooling's exact method takes seconds), the chain
    # with the transformer in exact enumeration (Levenberg-Marquardt per step), the finite well
    n = 8
    eigen = compare.eigen_problem(models.tfim(n), refs=plus_state(n), n_times=40, seed=0, name=f"TFIM ring n={n}")
    eigen_options = {"cooling": {"steps": 120, "lam": 0.25}}

    def eigen_figure(runs, path):
        chosen = {k: runs[k] for k in ("vqpe", "uvqpe", "odmd", "matrix_pencil", "cooling") if k in runs}
        return plot.convergence(chosen, eigen.reference[0], path=path)

    sites = 3 if quick else 4
    averages = site_average_paulis(sites)
    chain = compare.open_problem(dissipative_ising(sites, V=2.0, g=1.0, gamma=1.0), "0", t_final=0.5, tau=0.05,
                                 observables={k: averages[k] for k in ("Z", "X", "Y")}, seed=0,
                                 name=f"dissipative Ising chain N={sites}")
    open_options = {"transformer": {"n_samples": None, "iterations": 20}}

    def open_figure(runs, path):
        return plot.observables_vs_time(chain, runs, "Z", path=path)

    well = compare.schrodinger_problem(finite_well(), k=3, seed=0)
    # the quick tour trains the Ritz PINN briefly, to a tolerance it then meets (1e-5); the full tour uses the
    # library defaults (tol 1e-6, about 40 s on 2 cores)
    quick_pinn = {"adam_epochs": 150, "lbfgs_iters": 50, "tol": 1e-5}
    well_options = {"pinn_default": quick_pinn if quick else {},
                    "pinn_paper": {"adam_epochs": 3000 if quick else 10000, "precision": "double"}}

    def well_figure(runs, path):
        chosen = {k: runs[k] for k in ("cheb", "fd", "pinn_default") if k in runs}
        return plot.wavefunctions(chosen, reference="cheb", path=path)

    eigen_limits = {
        "cooling": "each step's perturbation lam V re-excites the state, so cooling stalls below fidelity 1 "
                   "(lam = 0.25: F = 0.986 after 120 steps; lam = 0.5: 0.974 after 240); smaller lam cools closer, "
                   "more slowly",
    }
    open_limits = {
        "transformer": "it follows the POVM trapezoid rule at the problem's tau = 0.05 (O(tau^2) error, as "
                       "exact_povm) plus its fit residual; a smaller tau converges",
        "exact_povm": "the POVM trapezoid rule with the problem's time step tau has an O(tau^2) error",
    }
    well_limits = {
        "dvr": "the sinc DVR samples V on a uniform grid: at the well's jumps it converges only like 1/n, so its "
               "tolerance on potentials with jumps is 1e-3; fd and cheb split the grid at the jumps",
        "pinn_paper": "the paper's residual loss trained by Adam converges slowly (1e-3 after 3000 epochs, 3e-4 "
                      "after 10000); the default Ritz mode reaches 1e-9",
    }
    yield "Eigenvalue solvers", "eigen", eigen, eigen_options, eigen_figure, eigen_limits
    yield "Open-system solvers", "open", chain, open_options, open_figure, open_limits
    yield "1D Schrodinger solvers (finite well)", "schrodinger", well, well_options, well_figure, well_limits


def _far(frame, tolerance: float) -> list[str]:
    """The solvers whose headline error exceeds ``tolerance`` relative to the reference (absolute below 1)."""
    scale = np.maximum(np.abs(frame["reference"].to_numpy(dtype=float)), 1.0)
    far = frame["error"].to_numpy(dtype=float) > tolerance * scale
    return [str(s) for s, f in zip(frame["solver"], far, strict=True) if f]


def _table_rows(frame) -> list[dict]:
    """The demo's view of a comparison table: the headline columns and the resources some solver spent."""
    columns = [c for c in _COLUMNS if c in frame.columns]
    spent = [c for c in columns if c not in _RESOURCES or (frame[c].to_numpy(dtype=float) != 0).any()]
    if "value_err" in spent and frame["value_err"].isna().all():
        spent.remove("value_err")
    return frame[spent].to_dict("records")


def _solver_warnings(caught) -> list[str]:
    """The convergence and physics warnings raised during a comparison, once each (first line)."""
    from qdyn.errors import ConvergenceWarning, PhysicsWarning

    lines = []
    for w in caught:
        if issubclass(w.category, ConvergenceWarning | PhysicsWarning):
            line = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
            if line not in lines:
                lines.append(line)
    return lines


def run_demo(quick: bool = False, out: str | Path = "qdyn-report", echo=print) -> Path:
    """Run the tour, print each table with ``echo`` and write CSVs, PNGs and ``report.md`` into ``out``.

    Under each table, one line per solver that stays further than 1e-4 (relative) from the reference says what
    limits it at this working point, followed by the convergence and physics warnings the solvers gave.
    """
    from qdyn import compare

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = ["# qdyn demo report", "", f"Mode: {'quick' if quick else 'full'}.", ""]
    title = "Exact ground energies of the built-in models against independent references"
    text = format_table(ground_energy_table(quick=quick))
    echo(f"{title}\n\n{text}\n")
    report += [f"## {title}", "", "```", text, "```", ""]
    for title, key, problem, options, figure, limits in _comparisons(quick):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame, runs = compare.compare(problem, options=options, return_runs=True)
        frame.to_csv(out / f"{key}.csv", index=False)
        figure(runs, out / f"{key}.png")
        text = format_table(_table_rows(frame))
        notes = [f"  {solver}: {limits.get(solver, 'no note for this solver')}" for solver in _far(frame, 1e-4)]
        if notes:
            text += "\n\nFurther than 1e-4 from the reference, and why:\n" + "\n".join(notes)
        said = _solver_warnings(caught)
        if said:
            text += "\n\nWhat the solvers warned:\n" + "\n".join(f"  {line}" for line in said)
        heading = f"{title}: {problem.name}, {problem.headline} (reference {frame['reference'].iloc[0]:.10g})"
        echo(f"{heading}\n\n{text}\n")
        report += [f"## {heading}", "", "```", text, "```", "", f"![{title}]({key}.png)", ""]
    (out / "report.md").write_text("\n".join(report))
    echo(f"report written to {out / 'report.md'}")
    return out
