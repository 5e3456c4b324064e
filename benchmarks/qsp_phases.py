"""Benchmark of the QSP phase solver (``qdyn.qsp.solve_phases_newton``) on erf polynomials near |p| = 1.

The polynomial is ``qdyn.qsp.erf_polynomial(s, delta=2e-10)``: its clipping margin ``delta/8`` puts
``max|p| = 1 - 2.5e-11`` up to the truncation (the regime where nlft-qsp 2.1 refuses, ``1 - max|p| < 1e-8``);
the steepness ``s`` is bisected so that the degree is the nearest odd degree to the one asked for. Per degree it
prints the wall and CPU seconds, the Newton iterations, ``1 - max|p|``, the solver's own verified rebuild error
(``max_error``, on ``>= 2d + 2`` Chebyshev points) and, as the reference, the error of the plain product
:func:`qdyn.qsp.qsp_response` against the Chebyshev series on a fresh grid that includes ``x = +-1``. There is no
baseline in the same run: ``solve_phases_lm`` exceeds its evaluation budget (~40 s) already at degree 101 this
close to 1, and the old Newton loop is gone; its figures, measured with this script before the change, are below.

Figures before the batched solver (the per-node Python loop of commit 4808510, same machine, 2 shared cores):
degree 101: 0.037 s, 30 iterations; degree 1001: 1.1-1.4 s, 29 iterations, error 8.7e-13.

    python benchmarks/qsp_phases.py            # degrees 101, 1001, 3001, 10001
    python benchmarks/qsp_phases.py --quick    # degrees 101, 1001
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qdyn.qsp import erf_polynomial, of_degree, qsp_response, solve_phases_newton

DELTA = 2e-10  #: erf_polynomial's delta: clipping margin delta/8 = 2.5e-11 below 1


def erf_of_degree(target: int, delta: float = DELTA):
    """The erf polynomial (``delta``) whose degree is the largest at most ``target``."""
    return of_degree(lambda width: erf_polynomial(width, delta), target, 1.0, 2.0 * target, increasing=True)


def run(degrees) -> None:
    print("# QSP phases (Newton, symmetric, verified on >= 2d + 2 points), erf polynomial, delta = 2e-10")
    print("(wall and CPU seconds: on a shared machine the CPU time is the load-independent figure)")
    header = ("degree", "1-max|p|", "newton s", "cpu s", "iters", "max_error", "ref error")
    print("{:>7} {:>9} {:>9} {:>8} {:>5} {:>9} {:>9}".format(*header))
    for target in degrees:
        p = erf_of_degree(target)
        x = np.cos(np.linspace(0, np.pi, 2 * p.degree + 3))  # fresh grid, endpoints included
        gap = 1 - float(np.max(np.abs(p(np.cos(np.linspace(0, np.pi, 8 * p.degree + 1))))))
        t0, c0 = time.perf_counter(), time.process_time()
        ph = solve_phases_newton(p)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        ref = float(np.max(np.abs(qsp_response(ph.phases, x).imag - p(x))))
        print(f"{p.degree:7d} {gap:9.1e} {wall:9.3f} {cpu:8.3f} {ph.iterations:5d} {ph.max_error:9.1e} "
              f"{ref:9.1e}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="degrees 101 and 1001 only")
    args = parser.parse_args()
    run((101, 1001) if args.quick else (101, 1001, 3001, 10001))


if __name__ == "__main__":
    main()
