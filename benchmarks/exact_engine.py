"""Exact engine benchmark: matrix-free Pauli-sum products and ground states against Qiskit's sparse matrix.

For the periodic Heisenberg chain at each n it prints, in one run:
  * the build time of Qiskit's sparse matrix (``to_matrix(sparse=True)``, reported apart) and of the PauliSum;
  * the time of one product H psi, matrix-free against the sparse product, as a ratio;
  * the peak memory of one product (operator storage + transient allocations, traced with tracemalloc);
  * the time of ``qdyn.exact.ground_state`` against ``scipy.sparse.linalg.eigsh`` on the sparse matrix.
The sparse baseline is given its best form: real CSR when the matrix is real (it is here), so ARPACK runs
its symmetric real Lanczos exactly as the matrix-free path does.

    python benchmarks/exact_engine.py                # n = 16, 18, 20, 22
    python benchmarks/exact_engine.py --sizes 24 --skip-sparse   # the matrix-free path alone at n = 24
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import scipy.sparse.linalg as spla

from qdyn import exact, models


def _best_time(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _pauli_sum_bytes(op: exact.PauliSum) -> int:
    total = 0 if op.diagonal is None else op.diagonal.nbytes
    return total + sum(g.phase.nbytes for g in op.gather_groups)


def run(n: int, repeats: int, skip_sparse: bool) -> dict:
    H = models.heisenberg(n)
    rng = np.random.default_rng(0)
    psi = rng.standard_normal(2**n)
    row = {"n": n}

    start = time.perf_counter()
    op = exact.PauliSum(H)
    row["pauli_sum_build_s"] = time.perf_counter() - start
    row["free_apply_s"] = _best_time(lambda: op.apply(psi), repeats)
    row["free_peak_MB"] = (_pauli_sum_bytes(op) + _peak_bytes(lambda: op.apply(psi))) / 2**20

    start = time.perf_counter()
    result = exact.ground_state(op, seed=1)
    row["free_ground_s"] = time.perf_counter() - start
    row["E0"] = result.energy

    if skip_sparse:
        return row
    start = time.perf_counter()
    matrix = H.to_matrix(sparse=True)
    if not np.any(matrix.data.imag):
        matrix = matrix.real.tocsr()
    row["sparse_build_s"] = time.perf_counter() - start
    row["sparse_apply_s"] = _best_time(lambda: matrix @ psi, repeats)
    storage = matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    row["sparse_peak_MB"] = (storage + _peak_bytes(lambda: matrix @ psi)) / 2**20
    v0 = np.random.default_rng(1).standard_normal(2**n)
    start = time.perf_counter()
    values = spla.eigsh(matrix, k=1, which="SA", v0=v0, tol=1e-12)[0]
    row["sparse_ground_s"] = time.perf_counter() - start
    row["E0_error"] = abs(values[0] - result.energy)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 18, 20, 22])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-sparse", action="store_true", help="matrix-free path only (large n)")
    parser.add_argument("--quick", action="store_true", help="n = 12, 14 only")
    args = parser.parse_args()
    sizes = [12, 14] if args.quick else args.sizes
    print("Heisenberg ring (J = Delta = 1): matrix-free PauliSum vs Qiskit sparse matrix (real CSR)")
    header = (f"{'n':>3} {'build sp/free s':>16} {'apply free ms':>14} {'apply sparse ms':>16} {'speed-up':>9} "
              f"{'peak free MB':>13} {'peak sparse MB':>15} {'mem ratio':>10} {'ground free s':>14} "
              f"{'eigsh s':>8} {'time ratio':>11} {'|dE0|':>9}")
    print(header)
    for n in sizes:
        r = run(n, args.repeats, args.skip_sparse)
        if args.skip_sparse:
            print(f"{n:>3} {'-':>7}/{r['pauli_sum_build_s']:<8.2f} {1e3 * r['free_apply_s']:>14.1f} {'-':>16} "
                  f"{'-':>9} {r['free_peak_MB']:>13.0f} {'-':>15} {'-':>10} {r['free_ground_s']:>14.2f}   "
                  f"E0 = {r['E0']:.10f}", flush=True)
            continue
        print(f"{n:>3} {r['sparse_build_s']:>7.2f}/{r['pauli_sum_build_s']:<8.2f} {1e3 * r['free_apply_s']:>14.1f} "
              f"{1e3 * r['sparse_apply_s']:>16.1f} {r['sparse_apply_s'] / r['free_apply_s']:>8.2f}x "
              f"{r['free_peak_MB']:>13.0f} {r['sparse_peak_MB']:>15.0f} "
              f"{r['free_peak_MB'] / r['sparse_peak_MB']:>10.3f} {r['free_ground_s']:>14.2f} "
              f"{r['sparse_ground_s']:>8.2f} {r['free_ground_s'] / r['sparse_ground_s']:>11.2f} "
              f"{r['E0_error']:>9.1e}", flush=True)
    print("speed-up = sparse apply / matrix-free apply; mem ratio = matrix-free peak / sparse peak; "
          "time ratio = ground_state / eigsh(sparse)")


if __name__ == "__main__":
    main()
