"""Exact open systems against QuTiP: Lindblad dynamics (``mesolve``), steady states (``steadystate``), assembly.

The dissipative Ising chain (PRL 128, 090501 convention, V = 2, g = 1, gamma = 1, periodic) from |0...0>, every
<Z_i> recorded at the same times, both engines at the same tolerance (qdyn: Taylor truncation ``tol``; QuTiP:
``atol = rtol = tol``, its default Adams method). Each run is a fresh subprocess so that its peak memory is
measured on its own; the times include building the generator. Printed: wall times, the ratio
``t_qutip / t_qdyn`` (> 1: qdyn faster), the largest difference between the two results, the peak memory above
the interpreter's baseline, and the largest N that each engine's measured memory scaling fits into 24 GB
(bytes per stored generator entry, ``(3N + 1) 4^N`` entries, from the largest N measured).

Steady states (``--steady-nmax``, default 8): qdyn's ``steady_state`` (GMRES on the bordered Liouvillian beyond
4096 unknowns, :mod:`qdyn.open.stationarity`) against ``qutip.steadystate`` on the same chain; printed: both wall
times (model building included), their ratio, the largest difference of the ``<Z_i>``, qdyn's reported residual
``||L rho||_F`` and distance estimate. Assembly (``--assembly-nmax``, default 10): the wall time of
``liouvillian_matrix`` and its number of entries.

POVM steady states (``--povm-nmax``, default 8): :func:`qdyn.open.povm_steady_state` by GMRES (the default from
N = 6) against the previous method (sparse LU, ``method="sparse-lu"``) and ``qutip.steadystate`` (model building
included); printed: wall times, ratios, the largest difference of the ``<Z_i>`` from QuTiP's, the residual
``||L P||_2``, and the CPU times (the wall times of an unshared core with ``OMP_NUM_THREADS=1``).

The POVM transformer's steady state at N = 6 (``--transformer``; g = 2, the published 1-layer width-32 network
from |0...0>, seed 1): the old README recipe (Adam, 200 iterations x 1000 samples, lr 1e-2 -> 1e-3, then 60
sampled Levenberg-Marquardt iterations x 300 samples) and the new one (exact enumeration of the 4^6 strings,
Levenberg-Marquardt in Golub-Kahan subspaces from the first step, 10 iterations), in the same run; printed: the
training time, the worst single-site error of <X>, <Y>, <Z> (exact sum over the strings of the kept model)
against the exact steady state (``qdyn.open.steady_state``, Liouvillian), the goal (1e-2 within 60 s), and for
the sampled recipe whether its reported error bars (2 sigma) cover the exact values; also the CPU time of the
training (with ``OMP_NUM_THREADS=1``, the wall time on an unshared core). ``--quick``: N = 4.

    python benchmarks/open_systems.py            # N = 4..10
    python benchmarks/open_systems.py --quick    # N = 4..7 (steady states and assembly up to N = 6)
    python benchmarks/open_systems.py --device cuda   # also time the torch engine on a GPU
    python benchmarks/open_systems.py --transformer   # only the transformer steady state, old and new recipe
    python benchmarks/open_systems.py --povm --nmin 6 # only the POVM steady states, N = 6..8
    python benchmarks/open_systems.py --preconditioners  # only the preconditioner table, N = 6..8

Preconditioners of the steady states (``--preconditioners``, in the full run too; N = 6..``--steady-nmax``): GMRES
on the bordered Liouvillian and on the POVM-space generator with the inverse of the no-jump part
(:mod:`qdyn.open.no_jump`, the default of ``steady_state`` and ``povm_steady_state``) against the Jacobi diagonal
alone (the previous default, plain GMRES and then sparse LU where it fails), for the dissipative Ising chain and two
open XYZ chains in a field (the tests' models: one with Z dephasing on the first site); printed: wall times (the
system and its 1-norm estimate), products of the matrix, the preconditioner that solved (or the sparse LU), the
ratio, and the distance between the two steady states.
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


def steady_worker(engine: str, n: int) -> dict:
    """One timed steady state (after an untimed N = 2 one): wall time, ``<Z_i>``, qdyn's residual and estimate."""
    import numpy as np

    from qdyn.open import dissipative_ising, pauli_on, steady_state

    for size in (2, n):
        start = time.perf_counter()
        lb = dissipative_ising(size, V=2.0, g=1.0, gamma=1.0, periodic=True)
        ops = {i: pauli_on(size, {i: "Z"}) for i in range(size)}
        if engine == "qutip":
            import qutip

            from qdyn.operators import to_qutip

            H, c_ops = lb.to_qutip()
            rho = qutip.steadystate(H, c_ops)
            expect = [float(qutip.expect(to_qutip(op), rho)) for op in ops.values()]
            fields = {}
        else:
            result = steady_state(lb, e_ops=ops)
            expect = [result.expect[i] for i in ops]
            fields = {"residual": result.residual, "distance": result.distance_bound}
        wall = time.perf_counter() - start
    return {"wall": wall, "expect": np.asarray(expect).tolist(), **fields}


#: The models of the preconditioner table: name -> (builder of the N-qubit Lindbladian, description).
PRECONDITIONER_MODELS = {
    "ising": "dissipative Ising chain, V = 2, g = 1, gamma = 1, periodic",
    "xyz-field": "open XYZ chain (1, 0.6, 0.3), field 0.5 X, sigma^- at 0.5 .. 0.5 + 0.1 (N - 1)",
    "xyz-dephased": "open XYZ chain (0.7, 1.1, 0.4), field 0.6 X, sigma^- at 0.4 .. 0.4 + 0.1 (N - 1), Z dephasing "
                    "0.3 on site 0",
}


def _preconditioner_model(name: str, n: int):
    """The Lindbladian ``name`` of :data:`PRECONDITIONER_MODELS` on ``n`` qubits."""
    from qiskit.quantum_info import SparsePauliOp

    from qdyn.open import Lindbladian, dissipative_ising

    if name == "ising":
        return dissipative_ising(n, V=2.0, g=1.0, gamma=1.0)
    couplings, field, first_rate = ((1.0, 0.6, 0.3), 0.5, 0.5) if name == "xyz-field" else ((0.7, 1.1, 0.4), 0.6, 0.4)
    terms = [(p * 2, [i, i + 1], J) for i in range(n - 1) for p, J in zip("XYZ", couplings, strict=True)]
    terms += [("X", [i], field) for i in range(n)]
    jumps = [SparsePauliOp.from_sparse_list([("X", [i], 0.5), ("Y", [i], 0.5j)], n) for i in range(n)]
    rates = [first_rate + 0.1 * i for i in range(n)]
    if name == "xyz-dephased":
        jumps.append(SparsePauliOp.from_sparse_list([("Z", [0], 1.0)], n))
        rates.append(0.3)
    return Lindbladian(SparsePauliOp.from_sparse_list(terms, n), jumps, rates)


def preconditioner_worker(engine: str, n: int) -> dict:
    """One steady state of ``engine`` = "PRECONDITIONER:MODEL:SPACE" ("no-jump" or "jacobi"; "liouvillian" or
    "povm", the tetrahedral POVM): wall time (assembly excluded), products, the solver's method and
    preconditioner, and the state."""
    import numpy as np

    from qdyn.open import POVMLindbladian
    from qdyn.open.liouvillian import liouvillian_matrix, steady_state_system
    from qdyn.open.povm_dynamics import povm_steady_system
    from qdyn.open.stationarity import BorderedGenerator

    preconditioner, model, space = engine.split(":")
    lb = _preconditioner_model(model, n)
    generator = POVMLindbladian(lb, "tetra") if space == "povm" else None
    matrix, functional = ((generator.matrix(), np.ones(4**n)) if space == "povm"
                          else (liouvillian_matrix(lb), np.eye(2**n).reshape(-1)))
    start = time.perf_counter()
    if preconditioner == "no-jump":
        system = povm_steady_system(generator) if space == "povm" else steady_state_system(lb)
    else:
        system = BorderedGenerator(matrix, functional, what="the generator")
    x = system.solve()
    wall = time.perf_counter() - start
    return {"wall": wall, "matvecs": system.matvecs, "method": system.method,
            "preconditioner": system.preconditioner, "state": [x.real.tolist(), x.imag.tolist()]}


def preconditioner_table(args) -> None:
    """The preconditioners of the Liouvillian and POVM steady states, N = 6..steady-nmax, three models."""
    import numpy as np

    nmax = min(args.steady_nmax, 7) if args.quick else args.steady_nmax
    print("\nSteady states (bordered Liouvillian; POVM-space generator, tetrahedral POVM): GMRES preconditioned by "
          "the no-jump inverse against the Jacobi diagonal (system and 1-norm estimate; assembly excluded)")
    for name, description in PRECONDITIONER_MODELS.items():
        print(f"{name}: {description}")
    print(f"{'space':>11} {'model':>13} {'N':>3} {'no-jump s':>10} {'products':>9} {'Jacobi s':>9} {'products':>9} "
          f"{'solved by':>10} {'ratio':>7} {'max|diff|':>10}")
    for space in ("liouvillian", "povm"):
        for name in PRECONDITIONER_MODELS:
            for n in range(6, nmax + 1):
                new, old = (run_worker(f"{p}:{name}:{space}", n, args, "preconditioner") for p in ("no-jump", "jacobi"))
                row = f"{space:>11} {name:>13} {n:>3}"
                if "error" in new:
                    print(f"{row} no-jump failed: {new['error']}")
                    continue
                if "error" in old:
                    print(f"{row} {new['wall']:>10.2f} {new['matvecs']:>9d} {'(' + old['error'] + ')':>30}", flush=True)
                    continue
                x_new, x_old = (np.array(r["state"][0]) + 1j * np.array(r["state"][1]) for r in (new, old))
                solver = old["preconditioner"] if old["method"] == "gmres" else old["method"]
                print(f"{row} {new['wall']:>10.2f} {new['matvecs']:>9d} {old['wall']:>9.2f} {old['matvecs']:>9d} "
                      f"{solver:>10} {old['wall'] / new['wall']:>7.1f} {np.abs(x_new - x_old).max():>10.1e}",
                      flush=True)


def assembly_worker(n: int) -> dict:
    """Wall time of ``liouvillian_matrix`` for the chain (the Lindbladian built beforehand; imports paid)."""
    from qdyn.open import dissipative_ising, liouvillian_matrix

    liouvillian_matrix(dissipative_ising(2))
    lb = dissipative_ising(n, V=2.0, g=1.0, gamma=1.0, periodic=True)
    start = time.perf_counter()
    matrix = liouvillian_matrix(lb)
    return {"wall": time.perf_counter() - start, "nnz": int(matrix.nnz)}


def povm_steady_worker(engine: str, n: int) -> dict:
    """One timed POVM steady state (after an untimed N = 2 one): ``engine`` "gmres" or "sparse-lu"
    (:func:`qdyn.open.povm_steady_state`), or "qutip" (``qutip.steadystate``, converted to POVM probabilities);
    wall time, ``<Z_i>`` and the residual ``||L P||_2``."""
    import numpy as np

    from qdyn.open import POVM, POVMLindbladian, dissipative_ising, pauli_on, povm_steady_state

    povm = POVM("tetra")
    for size in (2, n):
        start, cpu = time.perf_counter(), time.process_time()
        lb = dissipative_ising(size, V=2.0, g=1.0, gamma=1.0, periodic=True)
        generator = POVMLindbladian(lb, povm)
        if engine == "qutip":
            from qdyn.open.reference import qutip_steadystate

            P = povm.probabilities(qutip_steadystate(lb))
        else:
            P = povm_steady_state(generator, method=engine)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    expect = [povm.expectation(pauli_on(n, {i: "Z"}), P).real for i in range(n)]
    return {"wall": wall, "cpu": cpu, "expect": np.asarray(expect).tolist(),
            "residual": float(np.linalg.norm(generator.apply(P)))}


#: The POVM transformer steady-state recipes compared (``transformer_worker``): optimiser stages, each
#: ``(optimizer, iterations, samples per iteration or None for exact enumeration, lr, lr_final)``.
RECIPES = {
    "old": [("adam", 200, 1000, 1e-2, 1e-3), ("lm", 60, 300, None, None)],
    "new": [("lm", 10, None, None, None)],
}


def transformer_worker(recipe: str, n: int) -> dict:
    """The dissipative Ising chain (V = 2, g = 2, gamma = 1, periodic) trained for its steady state by ``recipe``
    (:data:`RECIPES`) from |0...0>: training time, the kept model's site-averaged X, Y, Z summed exactly over all
    4^n strings, its reported estimates and error bars, and the exact values (Liouvillian steady state)."""
    import warnings

    import torch

    from qdyn.errors import ConvergenceWarning
    from qdyn.open import (
        POVM,
        POVMLindbladian,
        dissipative_ising,
        observables,
        povm_transformer_state,
        site_average_paulis,
        steady_state,
        steady_state_transformer,
    )

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    lb = dissipative_ising(n, V=2.0, g=2.0, gamma=1.0, periodic=True)
    ops = site_average_paulis(n)
    reference = steady_state(lb, method="liouvillian", e_ops=ops).expect
    povm = POVM("tetra")
    generator = POVMLindbladian(lb, povm)
    state = povm_transformer_state(povm, ["0"] * n, seed=1)
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the loss reached is printed instead
        for k, (optimizer, iterations, n_samples, lr, lr_final) in enumerate(RECIPES[recipe]):
            result = steady_state_transformer(state, generator, e_ops=ops, n_samples=n_samples,
                                              iterations=iterations, optimizer=optimizer, lr=lr or 1e-2,
                                              lr_final=lr_final, seed=k)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    exact_sum = observables(state, povm, ops, n_samples=None).values
    return {"wall": wall, "cpu": cpu, "loss": result.best_loss, "converged": result.converged,
            "expect": exact_sum, "estimate": result.expect, "errors": result.errors, "reference": reference}


def run_worker(engine: str, n: int, args, kind: str = "dynamics") -> dict:
    cmd = [sys.executable, __file__, "--worker", engine, str(n), "--kind", kind, "--tol", str(args.tol),
           "--t-final", str(args.t_final), "--points", str(args.points)]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {args.timeout:g} s"}
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
    parser.add_argument("--tol", type=float, default=1e-10)
    parser.add_argument("--t-final", type=float, default=1.0)
    parser.add_argument("--points", type=int, default=11)
    parser.add_argument("--steady-nmax", type=int, default=8, help="largest N of the steady-state comparison")
    parser.add_argument("--assembly-nmax", type=int, default=10, help="largest N of the assembly timing")
    parser.add_argument("--povm-nmax", type=int, default=8, help="largest N of the POVM steady-state comparison")
    parser.add_argument("--transformer", action="store_true",
                        help="only the POVM transformer steady state (old and new recipe)")
    parser.add_argument("--povm", action="store_true", help="only the POVM steady states (GMRES, LU, QuTiP)")
    parser.add_argument("--preconditioners", action="store_true",
                        help="only the preconditioners of the Liouvillian and POVM steady states (no-jump, Jacobi)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed to one run")
    parser.add_argument("--kind", default="dynamics", help=argparse.SUPPRESS)
    parser.add_argument("--device", default=None, help="also run the torch engine on this device (cuda, torch-cpu)")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        engine, n = args.worker[0], int(args.worker[1])
        if args.kind == "steady":
            print(json.dumps(steady_worker(engine, n)))
        elif args.kind == "povm-steady":
            print(json.dumps(povm_steady_worker(engine, n)))
        elif args.kind == "transformer":
            print(json.dumps(transformer_worker(engine, n)))
        elif args.kind == "preconditioner":
            print(json.dumps(preconditioner_worker(engine, n)))
        elif args.kind == "assembly":
            print(json.dumps(assembly_worker(n)))
        else:
            print(json.dumps(worker(engine, n, args.tol, args.t_final, args.points)))
        return
    import numpy as np

    if args.preconditioners:
        preconditioner_table(args)
        return
    if args.transformer or args.povm:
        if args.povm:
            povm_table(args)
        if args.transformer:
            transformer_table(args)
        return
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
    steady_nmax = min(args.steady_nmax, 6) if args.quick else args.steady_nmax
    print("\nsteady state (same chain; model building included)")
    print(f"{'N':>3} {'qdyn s':>9} {'qutip s':>9} {'qutip/qdyn':>10} {'max|diff|':>10} {'residual':>10} "
          f"{'distance':>10}")
    for n in range(args.nmin, steady_nmax + 1):
        ours, ref = run_worker("qdyn", n, args, "steady"), run_worker("qutip", n, args, "steady")
        if "error" in ours:
            print(f"{n:>3} qdyn failed: {ours['error']}")
            break
        if "error" in ref:
            print(f"{n:>3} {ours['wall']:>9.3f} {'(' + ref['error'] + ')':>20} {'':>10} {ours['residual']:>10.1e} "
                  f"{ours['distance']:>10.1e}", flush=True)
            continue
        diff = float(np.max(np.abs(np.array(ours["expect"]) - np.array(ref["expect"]))))
        print(f"{n:>3} {ours['wall']:>9.3f} {ref['wall']:>9.3f} {ref['wall'] / ours['wall']:>10.2f} {diff:>10.1e} "
              f"{ours['residual']:>10.1e} {ours['distance']:>10.1e}", flush=True)
    assembly_nmax = min(args.assembly_nmax, 6) if args.quick else args.assembly_nmax
    print("\nLiouvillian assembly (liouvillian_matrix)")
    print(f"{'N':>3} {'qdyn s':>9} {'entries':>12}")
    for n in range(args.nmin, assembly_nmax + 1):
        res = run_worker("qdyn", n, args, "assembly")
        if "error" in res:
            print(f"{n:>3} failed: {res['error']}")
            break
        print(f"{n:>3} {res['wall']:>9.3f} {res['nnz']:>12d}", flush=True)
    preconditioner_table(args)
    povm_table(args)
    transformer_table(args)


def povm_table(args) -> None:
    """POVM steady states N = nmin..povm-nmax: GMRES, the previous sparse LU and QuTiP's ``steadystate``."""
    import numpy as np

    povm_nmax = min(args.povm_nmax, 6) if args.quick else args.povm_nmax
    print("\nPOVM steady state (povm_steady_state; same chain, g = 1; model building included)")
    print(f"{'N':>3} {'gmres s':>9} {'LU s':>9} {'qutip s':>9} {'LU/gmres':>9} {'qutip/gmres':>11} "
          f"{'max|diff|':>10} {'residual':>10}   (CPU s: gmres, LU, qutip)")
    for n in range(args.nmin, povm_nmax + 1):
        res = {e: run_worker(e, n, args, "povm-steady") for e in ("gmres", "sparse-lu", "qutip")}
        ours = res["gmres"]
        if "error" in ours:
            print(f"{n:>3} gmres failed: {ours['error']}")
            break

        cells = {e: (f"{r['wall']:.3f}", f"{r['wall'] / ours['wall']:.1f}") if "error" not in r
                 else ("(" + r["error"] + ")", "-") for e, r in res.items()}
        diff = (float(np.max(np.abs(np.array(ours["expect"]) - np.array(res["qutip"]["expect"]))))
                if "error" not in res["qutip"] else float("nan"))
        print(f"{n:>3} {ours['wall']:>9.3f} {cells['sparse-lu'][0]:>9} {cells['qutip'][0]:>9} "
              f"{cells['sparse-lu'][1]:>9} {cells['qutip'][1]:>11} {diff:>10.1e} {ours['residual']:>10.1e}   "
              + ", ".join(f"{r['cpu']:.2f}" if "cpu" in r else "-" for r in res.values()), flush=True)


def transformer_table(args) -> None:
    """The POVM transformer steady state at N = 6 (``--quick``: 4), old and new recipe in the same run, against
    the goal: worst single-site error <= 1e-2 within 60 s."""
    n = 4 if args.quick else 6
    print(f"\nPOVM transformer steady state, dissipative Ising N = {n} (V = 2, g = 2, gamma = 1; goal: worst "
          "single-site error <= 1e-2 within 60 s)")
    print(f"{'recipe':>6} {'train s':>9} {'CPU s':>9} {'loss':>9} {'worst err':>10} {'goal':>6} "
          f"{'sampled bars cover':>19}")
    runs = {}
    for recipe in RECIPES:
        res = runs[recipe] = run_worker(recipe, n, args, "transformer")
        if "error" in res:
            print(f"{recipe:>6} failed: {res['error']}")
            continue
        worst = max(abs(res["expect"][k] - res["reference"][k]) for k in res["reference"])
        sampled = any(v > 0 for v in res["errors"].values())
        cover = (all(abs(res["estimate"][k] - res["reference"][k]) <= 2 * res["errors"][k] for k in res["reference"])
                 if sampled else None)
        met = worst <= 1e-2 and res["cpu"] <= 60  # CPU time: the machine may be shared
        print(f"{recipe:>6} {res['wall']:>9.1f} {res['cpu']:>9.1f} {res['loss']:>9.2e} {worst:>10.2e} "
              f"{'met' if met else 'missed':>6} "
              f"{'-' if cover is None else ('yes' if cover else 'no'):>19}", flush=True)
    if all("error" not in r for r in runs.values()):
        print(f"old/new: wall {runs['old']['wall'] / runs['new']['wall']:.1f}x, "
              f"CPU {runs['old']['cpu'] / runs['new']['cpu']:.1f}x (CPU time: the wall time of an unshared core)")


if __name__ == "__main__":
    main()
