"""Benchmark of the QSP phase solver (``qdyn.qsp.solve_phases``) on erf polynomials near |p| = 1.

The polynomial is ``qdyn.qsp.erf_polynomial(s, delta=2e-10)``: its clipping margin ``delta/8`` puts
``max|p| = 1 - 2.5e-11`` up to the truncation (the regime where nlft-qsp 2.1 refuses, ``1 - max|p| < 1e-8``);
the steepness ``s`` is bisected so that the degree is the nearest odd degree to the one asked for. Per degree it
prints, for the default solver (``method="nlft"``: nonlinear Fourier transform, Newton polish only where its
phases miss the tolerance) and for the previous one in the same run (``method="newton"``: Newton from the
Chebyshev-coefficient guess), the wall and CPU seconds, the Newton iterations, the solver's own verified rebuild
error (``max_error``, on ``>= 2d + 2`` Chebyshev nodes), and, as the reference, the error of the plain product
:func:`qdyn.qsp.qsp_response` against Clenshaw's evaluation of the Chebyshev series on a fresh grid that
includes ``x = +-1``; then the CPU-time ratio new / previous. The previous solver is skipped above degree 3001
(~30 iterations of an ``O(d^3)`` LU: minutes at 10001).

A second table does the same for Jacobi-Anger polynomials ``(1 - 1e-10) cos(tau x)`` (``tau = (d - 30) / 1.4``,
truncated at degree ``d``): ``|p|`` touches ``1 - 1e-10`` at ~``tau / pi`` sharp maxima, where the NLFT start
is only ~1e-5 accurate and Newton polishes it (the ratio there is ~1: the robustness case, not the speed case).

Goal (issue 17): degree 1001 in <= 0.3 s with error <= 1e-12; degree 10^4 in under 30 s. Figures of the
previous solver before this change (note17, same machine): degree 1001 0.51 CPU s, 29 iterations; 3001 6.1 s.

    python benchmarks/qsp_phases.py            # degrees 101, 1001, 3001, 10001
    python benchmarks/qsp_phases.py --quick    # degrees 101, 1001
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qdyn.qsp import erf_polynomial, jacobi_anger_polynomials, of_degree, qsp_response, solve_phases

DELTA = 2e-10  #: erf_polynomial's delta: clipping margin delta/8 = 2.5e-11 below 1
ETA = 1e-10  #: Jacobi-Anger margin: max|p| = 1 - 1e-10 at sharp maxima
PREVIOUS_UP_TO = 3001  #: largest degree at which the previous solver (Newton from the Chebyshev guess) is timed


def erf_of_degree(target: int, delta: float = DELTA):
    """The erf polynomial (``delta``) whose degree is the largest at most ``target``."""
    return of_degree(lambda width: erf_polynomial(width, delta), target, 1.0, 2.0 * target, increasing=True)


def _timed(p, method: str, x: np.ndarray):
    t0, c0 = time.perf_counter(), time.process_time()
    ph = solve_phases(p, method=method)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ref = float(np.max(np.abs(qsp_response(ph.phases, x).imag - p(x))))
    return ph, wall, cpu, ref


def jacobi_anger_of_degree(target: int):
    """``(1 - ETA) cos(tau x)`` truncated at degree ``target`` (even), ``tau = (target - 30) / 1.4``."""
    return jacobi_anger_polynomials((target - 30) / 1.4, target, eta=ETA)[0]


def run(title: str, family, degrees) -> None:
    print(f"\n# QSP phases (symmetric, verified on >= 2d + 2 nodes), {title}")
    print("(wall and CPU seconds: on a shared machine the CPU time is the load-independent figure; "
          "ratio = CPU new / CPU previous)")
    header = ("degree", "1-max|p|", "method", "wall s", "cpu s", "iters", "solver", "max_error", "ref error",
              "ratio")
    print("{:>7} {:>9} {:>7} {:>8} {:>8} {:>5} {:>12} {:>9} {:>9} {:>6}".format(*header))
    for target in degrees:
        p = family(target)
        x = np.cos(np.linspace(0, np.pi, 2 * p.degree + 3))  # fresh grid, endpoints included
        gap = 1 - float(np.max(np.abs(p(np.cos(np.linspace(0, np.pi, 8 * p.degree + 1))))))
        rows = [("nlft",) + _timed(p, "nlft", x)]
        if p.degree <= PREVIOUS_UP_TO:
            rows.append(("newton",) + _timed(p, "newton", x))
        for method, ph, wall, cpu, ref in rows:
            ratio = f"{rows[0][3] / cpu:6.3f}" if len(rows) > 1 and method == "newton" else "      "
            print(f"{p.degree:7d} {gap:9.1e} {method:>7} {wall:8.3f} {cpu:8.3f} {ph.iterations:5d} "
                  f"{ph.solver:>12} {ph.max_error:9.1e} {ref:9.1e} {ratio}", flush=True)
        if len(rows) == 1:
            print(f"{'':7} {'':9} {'newton':>7}  skipped above degree {PREVIOUS_UP_TO} (O(d^3) LU per iteration)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="degrees 101 and 1001 only")
    args = parser.parse_args()
    run("erf polynomial, delta = 2e-10", erf_of_degree, (101, 1001) if args.quick else (101, 1001, 3001, 10001))
    run("Jacobi-Anger cos(tau x), eta = 1e-10", jacobi_anger_of_degree, (100, 1000) if args.quick else
        (100, 1000, 3000))


if __name__ == "__main__":
    main()
