"""Exact engine benchmark: Pauli-sum products, time evolution and ground states against scipy, in one run.

Models: the TFIM ring, the Heisenberg ring, the cooling regression ring (``qdyn.cooling.ring_with_field``) and a
molecule-like random Pauli sum (long strings, odd Y counts: complex matrix elements). Ratios are qdyn / scipy
from the same run (below 1: qdyn faster); each row prints its error against the reference.

1. ``H psi``: qdyn's chosen representation ("auto": CSR where it fits, see ``qdyn.exact.csr_budget``) and the
   matrix-free one, against scipy's CSR product on Qiskit's sparse matrix (complex CSR, its fastest form for the
   complex vector; built apart, not timed), with qdyn's build time and the peak memory of one product
   (tracemalloc). Reference: the scipy product (or the matrix-free product where scipy's matrix does not fit).
2. ``exact.evolve(H, psi, t)`` (first call, including building and bounds; and a repeated call, which reuses the
   cached operator) against ``scipy.sparse.linalg.expm_multiply`` on the prebuilt CSR matrix. Reference:
   ``expm_multiply``.
3. ``exact.ground_state`` against ``eigsh`` on the sparse matrix (Heisenberg ring). Reference: ``eigsh``.

    python benchmarks/exact_engine.py            # products n = 8, 12, 16, 20; evolve n = 10, 14, 18
    python benchmarks/exact_engine.py --quick    # n = 8, 10 only (smoke test)
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import scipy.sparse.linalg as spla
from qiskit.quantum_info import SparsePauliOp

from qdyn import exact, models
from qdyn.cooling import ring_with_field


def molecule_like(n: int, seed: int = 0) -> SparsePauliOp:
    """A Hermitian random Pauli sum of ``6 n`` strings over all n qubits (Y's included: complex elements)."""
    rng = np.random.default_rng(seed)
    labels = ["".join(rng.choice(list("IXYZ"), n, p=[0.55, 0.15, 0.15, 0.15])) for _ in range(6 * n)]
    return SparsePauliOp(labels, rng.normal(size=len(labels))).simplify()


MODELS = {
    "tfim": lambda n: models.tfim(n),
    "heisenberg": lambda n: models.heisenberg(n),
    "ring_with_field": ring_with_field,
    "molecule_like": molecule_like,
}


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


def _scipy_matrix(H: SparsePauliOp):
    """Qiskit's sparse matrix as complex CSR: scipy's fastest form for complex vectors (a real CSR matrix is
    upcast on every product with a complex vector, several times slower at n >= 12)."""
    return H.to_matrix(sparse=True).tocsr()


def _repeats(n: int) -> int:
    return 20 if n <= 14 else 10 if n <= 16 else 3


def _fits(H: SparsePauliOp) -> bool:
    """Whether a complex CSR matrix of ``H`` (one entry per row and flip pattern) fits in the CSR budget."""
    patterns = len(np.unique(H.paulis.x, axis=0))
    return patterns * 2**H.num_qubits * 20 <= exact.csr_budget()


def products(name: str, n: int) -> None:
    H = MODELS[name](n)
    rng = np.random.default_rng(0)
    psi = rng.standard_normal(2**n) + 1j * rng.standard_normal(2**n)
    start = time.perf_counter()
    chosen = exact.PauliSum(H)
    build = time.perf_counter() - start
    free = exact.PauliSum(H, representation="free")
    reps = _repeats(n)
    t_chosen = _best_time(lambda: chosen.apply(psi), reps)
    t_free = _best_time(lambda: free.apply(psi), reps)
    peak = (chosen.nbytes + _peak_bytes(lambda: chosen.apply(psi))) / 2**20
    row = (f"{name:>16} {n:>3} {chosen.representation:>5} {build:>8.3f} {1e6 * t_chosen:>11.1f} "
           f"{1e6 * t_free:>11.1f}")
    if not _fits(H):  # no scipy baseline where CSR does not fit: the matrix-free pair against each other
        error = np.abs(chosen.apply(psi) - free.apply(psi)).max()
        print(f"{row} {'-':>11} {'-':>9} {'-':>9} {peak:>9.1f} {error:>9.1e} (vs free)", flush=True)
        return
    matrix = _scipy_matrix(H)
    t_scipy = _best_time(lambda: matrix @ psi, reps)
    reference = matrix @ psi
    error = max(np.abs(chosen.apply(psi) - reference).max(), np.abs(free.apply(psi) - reference).max())
    print(f"{row} {1e6 * t_scipy:>11.1f} {t_chosen / t_scipy:>9.2f} {t_free / t_scipy:>9.2f} "
          f"{peak:>9.1f} {error:>9.1e}", flush=True)


def evolution(name: str, n: int, t: float) -> None:
    H = MODELS[name](n)
    if not _fits(H):
        print(f"{name:>16} {n:>3} skipped: the scipy CSR baseline does not fit in memory", flush=True)
        return
    rng = np.random.default_rng(1)
    psi = rng.standard_normal(2**n) + 1j * rng.standard_normal(2**n)
    psi /= np.linalg.norm(psi)
    start = time.perf_counter()
    exact.evolve(H, psi, t)
    first = time.perf_counter() - start
    again = _best_time(lambda: exact.evolve(H, psi, t), 3)
    matrix = _scipy_matrix(H)
    scaled = (-1j * t) * matrix
    reference = spla.expm_multiply(scaled, psi)
    t_scipy = _best_time(lambda: spla.expm_multiply(scaled, psi), 3)
    error = np.linalg.norm(exact.evolve(H, psi, t) - reference)
    print(f"{name:>16} {n:>3} {t:>5.1f} {first:>9.4f} {again:>9.4f} {t_scipy:>10.4f} {first / t_scipy:>8.2f} "
          f"{again / t_scipy:>8.2f} {error:>9.1e}", flush=True)


def ground(n: int) -> None:
    H = models.heisenberg(n)
    start = time.perf_counter()
    result = exact.ground_state(H, seed=1)
    t_free = time.perf_counter() - start
    matrix = _scipy_matrix(H).real.tocsr()  # real symmetric Lanczos, as the matrix-free path runs it
    v0 = np.random.default_rng(1).standard_normal(2**n)
    start = time.perf_counter()
    values = spla.eigsh(matrix, k=1, which="SA", v0=v0, tol=1e-12)[0]
    t_sparse = time.perf_counter() - start
    print(f"{'heisenberg':>16} {n:>3} {t_free:>9.3f} {t_sparse:>9.3f} {t_free / t_sparse:>8.2f} "
          f"{abs(values[0] - result.energy):>9.1e}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 12, 16, 20], help="register sizes of part 1")
    parser.add_argument("--evolve-sizes", type=int, nargs="+", default=[10, 14, 18])
    parser.add_argument("--ground-sizes", type=int, nargs="+", default=[16, 18])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--time", type=float, default=2.0, help="evolution time of part 2")
    parser.add_argument("--quick", action="store_true", help="n = 8 and 10 only")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.evolve_sizes, args.ground_sizes = [8, 10], [10], [10]

    print("1. H psi (complex psi): qdyn chosen representation and matrix-free vs scipy CSR; ratio = qdyn / scipy")
    print(f"{'model':>16} {'n':>3} {'repr':>5} {'build s':>8} {'chosen us':>11} {'free us':>11} {'scipy us':>11} "
          f"{'chosen/sp':>9} {'free/sp':>9} {'peak MB':>9} {'max err':>9}")
    for n in args.sizes:
        for name in args.models:
            products(name, n)

    print("\n2. exact.evolve vs expm_multiply (prebuilt CSR); ratio = qdyn / expm_multiply; error = 2-norm")
    print(f"{'model':>16} {'n':>3} {'t':>5} {'first s':>9} {'again s':>9} {'expm_mul s':>10} {'first/x':>8} "
          f"{'again/x':>8} {'error':>9}")
    for n in args.evolve_sizes:
        for name in args.models:
            evolution(name, n, args.time)

    print("\n3. exact.ground_state vs eigsh (sparse); ratio = qdyn / eigsh")
    print(f"{'model':>16} {'n':>3} {'qdyn s':>9} {'eigsh s':>9} {'ratio':>8} {'|dE0|':>9}")
    for n in args.ground_sizes:
        ground(n)


if __name__ == "__main__":
    main()
