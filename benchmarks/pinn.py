"""PINN Schrodinger solvers against classical references.

For each problem: the classical rows (method, grid, max relative error against the analytic levels,
milliseconds)
next to the PINN rows (mode, max relative error, seconds, epochs), and the headline goal - the four lowest
finite-well states within 1e-7 relative error in under 60 s with the default mode. Run from the repository
root::

    python benchmarks/pinn.py            # full
    python benchmarks/pinn.py --quick    # short training
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import qdyn.schrodinger as S


def _row(label, result, seconds, epochs=""):
    err = np.max(result.relative_errors)
    unit = f"{seconds * 1e3:9.2f} ms" if seconds < 1 else f"{seconds:9.2f} s "
    return f"  {label:<34s} err {err:9.2e}   {unit}   {epochs}"


def _timed(problem, k, method, **options):
    start = time.perf_counter()
    result = S.solve_eigen(problem, k, method=method, **options)
    return result, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short training runs")
    args = parser.parse_args(argv)
    epochs = 300 if args.quick else 1500
    paper_epochs = 500 if args.quick else 3000
    problems = [
        ("infinite well [0, 1]", S.infinite_well(), 4, dict(energy=np.pi**2)),
        ("finite well (V=20, |x|<1.7, walls 6)", S.finite_well(), 4, dict(energy_init=0.45)),
        ("barrier (V=20, |x|<0.2, walls 1)", S.barrier(), 4, dict(energy_init=7.0)),
        ("harmonic oscillator -psi''+x^2 psi", S.harmonic_oscillator(), 4, None),
        ("paper finite well (V=10, |x|<0.5, walls 1)", S.finite_well(10.0, 0.5, 1.0, units="natural"), 2,
         dict(energy_init=3.5, precision="double", n_collocation=512)),
        ("paper barrier (V=5, |x|<0.2, walls 1)", S.barrier(5.0, 0.2, 1.0), 2, dict(energy_init=3.5)),
    ]
    goal = None
    for name, problem, k, paper in problems:
        print(f"{name}: {k} lowest levels")
        subdivide = 1 if problem.boundary == "dirichlet" else 4
        cheb, t_cheb = _timed(problem, k, "cheb", n=48, subdivide=subdivide)
        print(_row(f"classical cheb (n={cheb.grid})", cheb, t_cheb))
        fd, t_fd = _timed(problem, k, "fd", n=4000)
        print(_row("classical fd (n=4000)", fd, t_fd))
        if paper is not None:
            res, t = _timed(problem, 1, "pinn", mode="paper", seed=0, adam_epochs=paper_epochs, **paper)
            print(_row("PINN paper (ground state)", res, t, f"{res.resources.epochs} epochs"))
        res, t = _timed(problem, k, "pinn", seed=0, adam_epochs=epochs, lbfgs_iters=100)
        print(_row(f"PINN default ({k} states)", res, t, f"{res.resources.epochs} epochs"))
        bounds = " ".join(f"{r:.1e}" for r in res.residuals)
        within = bool(np.all(res.errors <= res.residuals))
        print(f"  {'':<34s} residual bounds r = [{bounds}]; errors within r: {within}")
        if problem.name == "finite_well" and goal is None:
            goal = (np.max(res.relative_errors), t, t_cheb)
    err, t, t_cheb = goal
    print(
        f"\ngoal (finite well, 4 states, < 1e-7 in < 60 s): reached {err:.1e} in {t:.1f} s "
        f"-> {'met' if err < 1e-7 and t < 60 else 'not met'}; PINN/Chebyshev time ratio {t / t_cheb:.0f}"
    )


if __name__ == "__main__":
    main()
