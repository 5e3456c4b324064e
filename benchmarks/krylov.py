"""Real-time Krylov benchmark: exact Krylov rows against eigsh, and Hadamard-test circuit throughput on Aer.

For TFIM (from |+...+>) and Heisenberg (from the Neel state) periodic chains it prints, in one run:
  * the time to acquire K = 30 exact rows s(t), h(t) with the exact engine (one matrix-free Lanczos run,
    :mod:`qdyn.krylov.lanczos_rows`), against the time of ``scipy.sparse.linalg.eigsh`` (ARPACK, ``which="SA"``)
    on the sparse matrix for the same ground energy, as a ratio (goal: within 3x at n = 20); the sparse-matrix
    build and ``choose_dt`` (a Lanczos estimate of the spectral range) are reported apart;
  * the ground-energy error VQPE reaches from those rows, against eigsh;
  * Hadamard-test circuits per second on Aer at n = 8 (exact expectation values, and 4096 shots);
  * with ``--lih``: LiH (STO-3G, 12 qubits) from Hartree-Fock against full CI, every method with its error bar,
    on the exact backend and from 10^6 shots per Hadamard test over five seeds.

    python benchmarks/krylov.py            # n = 12, 14, ..., 22
    python benchmarks/krylov.py --quick    # n = 12, 14, 16
    python benchmarks/krylov.py --lih      # LiH against full CI (about a minute)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse.linalg as spla

import qdyn.krylov as kr
from qdyn import models, states

K = 30


def _problems(n):
    return [("tfim", models.tfim(n, J=1.0, g=1.0, periodic=True), states.plus_state(n)),
            ("heisenberg", models.heisenberg(n, periodic=True), states.neel_state(n))]


def krylov_vs_eigsh(sizes):
    print(f"{'model':<11}{'n':>4}{'build s':>9}{'eigsh s':>9}{'dt s':>7}{'krylov s':>10}{'ratio':>8}"
          f"{'VQPE err':>11}{'UVQPE err':>11}")
    for n in sizes:
        for name, H, psi in _problems(n):
            start = time.perf_counter()
            sparse = H.to_matrix(sparse=True)
            if np.allclose(sparse.data.imag, 0):
                sparse = sparse.real
            build = time.perf_counter() - start
            start = time.perf_counter()
            e_ref = float(spla.eigsh(sparse, k=1, which="SA", tol=1e-10)[0][0])
            t_eigsh = time.perf_counter() - start
            del sparse
            start = time.perf_counter()
            dt = kr.choose_dt(H)
            t_dt = time.perf_counter() - start
            start = time.perf_counter()
            data = kr.acquire(H, psi, kr.time_grid(dt, K + 1))
            t_krylov = time.perf_counter() - start
            vqpe = kr.solve(data, "vqpe", K=K).energy
            uvqpe = kr.solve(data, "uvqpe", K=K).energy
            print(f"{name:<11}{n:>4}{build:>9.2f}{t_eigsh:>9.2f}{t_dt:>7.2f}{t_krylov:>10.2f}{t_krylov / t_eigsh:>8.2f}"
                  f"{abs(vqpe - e_ref):>11.2e}{abs(uvqpe - e_ref):>11.2e}")


def circuit_throughput(n=8, lags=6):
    H = models.tfim(n, J=1.0, g=1.0, periodic=True)
    grid = kr.time_grid(kr.choose_dt(H), lags)
    trotter = {"steps_per_dt": 1, "order": 2}
    kr.acquire(H, states.plus_state(n), kr.time_grid(0.1, 2), backend="aer", trotter=trotter)  # warm-up
    baseline = None
    for label, shots in (("exact", None), ("4096 shots", 4096)):
        start = time.perf_counter()
        data = kr.acquire(H, states.plus_state(n), grid, backend="aer", trotter=trotter, shots=shots, seed=1)
        elapsed = time.perf_counter() - start
        rate = data.resources.circuits / elapsed
        baseline = baseline or rate
        print(f"Aer n={n}, {label:<11}: {data.resources.circuits:4d} circuits in {elapsed:6.2f} s = "
              f"{rate:7.1f} circuits/s (x{rate / baseline:.2f} of exact; depth <= {data.resources.depth}, "
              f"2q gates <= {data.resources.two_qubit_gates})")


def lih_fci(lags=24, seeds=range(5)):
    """LiH (STO-3G, 12 qubits, no active space) from Hartree-Fock: every method's error against full CI (exact
    diagonalisation in the 2-up, 2-down sector) and its error bar, on the exact backend and from 10^6 shots per
    Hadamard test (Hamiltonian rows measured term by term), over ``seeds``."""
    import warnings

    mol = models.molecule(("Li", "H"), [[0, 0, 0], [0, 0, 1.5949]], active_electrons=None, active_orbitals=None)
    H, hf = mol.hamiltonian, mol.hf_state
    index = np.arange(2**mol.n_qubits)
    spins = [sum((index >> q) & 1 for q in range(s, mol.n_qubits, 2)) for s in (0, 1)]
    sector = np.flatnonzero((spins[0] == 2) & (spins[1] == 2))
    e_fci = float(np.linalg.eigvalsh(H.to_matrix(sparse=True)[sector][:, sector].toarray())[0])
    grid = kr.time_grid(kr.choose_dt(H), lags)
    print(f"LiH STO-3G, {mol.n_qubits} qubits, {len(H)} Pauli terms: E_FCI = {e_fci:.6f} Ha; {lags} lags, "
          f"dt = {grid[1]:.4f}/Ha; errors E - E_FCI and 1-sigma bars in mHa (chemical accuracy 1.6)")
    runs = [("exact", kr.acquire(H, [hf], grid))]
    runs += [(f"shots 1e6 seed {seed}", kr.acquire(H, [hf], grid, backend="shots", shots=10**6, seed=seed))
             for seed in seeds]
    print(f"{'data':<18}" + "".join(f"{m:>22}" for m in kr.METHODS))
    for label, data in runs:
        cells = []
        for method in kr.METHODS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = kr.solve(data, method, seed=0)
            flag = "" if r.converged else " NC"
            cells.append(f"{1e3 * (r.energy - e_fci):+9.3f} +- {1e3 * r.energy_err:7.3f}{flag:3}")
        print(f"{label:<18}" + "".join(f"{c:>22}" for c in cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="n = 12, 14, 16 only")
    parser.add_argument("--sizes", type=int, nargs="*", help="chain lengths (default 12..22 step 2)")
    parser.add_argument("--lih", action="store_true", help="only the LiH (12 qubits) full-CI table")
    args = parser.parse_args()
    if args.lih:
        lih_fci()
        return
    sizes = args.sizes or ([12, 14, 16] if args.quick else [12, 14, 16, 18, 20, 22])
    krylov_vs_eigsh(sizes)
    circuit_throughput()


if __name__ == "__main__":
    main()
