"""Exact Lindblad dynamics: qdyn's vectorised-Liouvillian propagator against QuTiP ``mesolve``.

The dissipative Ising chain (PRL 128, 090501 convention, V = 2, g = 1, gamma = 1, periodic) from |0...0>, every
<Z_i> recorded at the same times, both engines at the same tolerance (qdyn: Taylor truncation ``tol``; QuTiP:
``atol = rtol = tol``, its default Adams method). Each run is a fresh subprocess so that its peak memory is
measured on its own; the times include building the generator. Printed: wall times, the ratio
``t_qutip / t_qdyn`` (> 1: qdyn faster), the largest difference between the two results, the peak memory above
the interpreter's baseline, and the largest N that each engine's measured memory scaling fits into 24 GB
(bytes per stored generator entry, ``(3N + 1) 4^N`` entries, from the largest N measured).

    python benchmarks/open_systems.py            # N = 4..10
    python benchmarks/open_systems.py --quick    # N = 4..7
    python benchmarks/open_systems.py --device cuda   # also time the torch engine on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

BUDGET_BYTES = 24 * 1024**3


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def worker(engine: str, n: int, tol: float, t_final: float, points: int, warm_up: bool = True) -> dict:
    """One timed run in this process (after an untimed N = 2 run that pays for imports and first calls)."""
    import numpy as np

    if warm_up:
        worker(engine, 2, tol, t_final, points, warm_up=False)

    from qdyn.open import dissipative_ising, evolve, pauli_on
    from qdyn.operators import to_qutip
    from qdyn.states import product_state

    lb = dissipative_ising(n, V=2.0, g=1.0, gamma=1.0, periodic=True)
    psi = product_state(["0"] * n)
    ops = [pauli_on(n, {i: "Z"}) for i in range(n)]
    times = np.linspace(0.0, t_final, points)
    if engine == "qutip":
        import qutip

        H, c_ops = lb.to_qutip()
        q_ops = [to_qutip(op) for op in ops]
        rho0 = qutip.ket2dm(qutip.tensor([qutip.basis(2, 0)] * n))  # |0...0> in either qubit order
        base = _peak_rss()
        start = time.perf_counter()
        result = qutip.mesolve(H, rho0, times, c_ops, e_ops=q_ops,
                               options={"atol": tol, "rtol": tol, "nsteps": 10**7, "progress_bar": False})
        wall = time.perf_counter() - start
        expect = np.array([np.asarray(e).real for e in result.expect])
    else:
        device = {"numpy": "cpu", "torch-cpu": "torch-cpu"}.get(engine, engine)
        base = _peak_rss()
        start = time.perf_counter()
        result = evolve(lb, psi, times, method="liouvillian", e_ops=ops, device=device, tol=tol)
        wall = time.perf_counter() - start
        expect = np.array([result.expect[k] for k in range(n)])
    return {"wall": wall, "peak_bytes": max(_peak_rss() - base, 0), "expect": expect.tolist()}


def run_worker(engine: str, n: int, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", engine, str(n), "--tol", str(args.tol),
           "--t-final", str(args.t_final), "--points", str(args.points)]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"rc={out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def generator_entries(n: int) -> int:
    return (3 * n + 1) * 4**n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N = 4..7 only")
    parser.add_argument("--nmin", type=int, default=4)
    parser.add_argument("--nmax", type=int, default=10)
    parser.add_argument("--tol", type=float, default=1e-8)
    parser.add_argument("--t-final", type=float, default=2.0)
    parser.add_argument("--points", type=int, default=21)
    parser.add_argument("--device", default=None, help="also run the torch engine on this device (cuda, torch-cpu)")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.tol, args.t_final, args.points)))
        return
    import numpy as np

    nmax = min(args.nmax, 7) if args.quick else args.nmax
    engines = ["numpy", "qutip"] + ([args.device] if args.device else [])
    print(f"dissipative Ising chain, V=2 g=1 gamma=1, t in [0, {args.t_final}] ({args.points} points), "
          f"tol={args.tol:g}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    header = (f"{'N':>3} {'qdyn s':>9} {'qutip s':>9} {'qutip/qdyn':>10} {'max|diff|':>10} {'qdyn MB':>9} "
              f"{'qutip MB':>9}")
    if args.device:
        header += f" {args.device + ' s':>12} {'qutip/' + args.device:>14}"
    print(header)
    last = {}
    for n in range(args.nmin, nmax + 1):
        res = {e: run_worker(e, n, args) for e in engines}
        ours, ref = res["numpy"], res["qutip"]
        if "error" in ours or "error" in ref:
            print(f"{n:>3} failed: {ours.get('error', '')} {ref.get('error', '')}")
            break
        diff = float(np.max(np.abs(np.array(ours["expect"]) - np.array(ref["expect"]))))
        row = (f"{n:>3} {ours['wall']:>9.3f} {ref['wall']:>9.3f} {ref['wall'] / ours['wall']:>10.2f} {diff:>10.1e} "
               f"{ours['peak_bytes'] / 2**20:>9.1f} {ref['peak_bytes'] / 2**20:>9.1f}")
        if args.device:
            dev = res[args.device]
            row += (f" {dev['wall']:>12.3f} {ref['wall'] / dev['wall']:>14.2f}" if "error" not in dev
                    else f"  {dev['error']}")
        print(row, flush=True)
        last = {"n": n, "qdyn": ours["peak_bytes"], "qutip": ref["peak_bytes"]}
    if last:
        print(f"\nlargest N within 24 GB (extrapolated from the peak memory per generator entry at N={last['n']}):")
        for engine in ("qdyn", "qutip"):
            per_entry = last[engine] / generator_entries(last["n"])
            n = last["n"]
            while per_entry * generator_entries(n + 1) <= BUDGET_BYTES:
                n += 1
            print(f"  {engine:>5}: {per_entry:6.1f} bytes per entry -> N = {n} "
                  f"({per_entry * generator_entries(n) / 2**30:.1f} GB)")


if __name__ == "__main__":
    main()
