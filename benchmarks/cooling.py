"""Benchmark of qdyn.cooling: phase finding, the poly method's cost per step, cooling against baselines.

Run ``python benchmarks/cooling.py`` (``--quick`` for a short run). Prints:

1. QSP phase finding (Newton) at degree 101, 301, 1001, 3001: seconds and rebuild error; the
   Levenberg-Marquardt solver on the same polynomial is the baseline where run (degree <= 301), as a ratio.
2. Cost per cooling step of the poly method at n = 8, 10, ..., 18 (``--quick``: 8 ... 12), and of the exact
   method at n <= 10: seconds per step, oracle queries per step, and their ratio to queries x the time of one
   product of H (the faster of ``PauliSum.apply`` and a scipy CSR product, measured in the same run; the goal is
   <= 3), with how the filter was applied (eigenbasis or recurrence) and the energy error against exact
   diagonalisation.
3. Fidelity and energy error against total H-queries for cooling and each baseline, on the regression ring at
   n = 8 and on the same ring with a weak field 0.05 (small gap) at n = 8.
4. Total H-queries against the number of cooling steps d, with a least-squares power-law fit.
5. The circuit method (one coherent circuit per step; filter routes qsvt, gqsp, qetu; qsvt+OAA: one round of
   oblivious amplitude amplification per step) on the regression ring
   at n = 4 and 6: seconds per step against the poly method (ratio), simulated qubits, post-selection
   probability, H-queries per step, distance to the poly method (qsvt route, the same filter); and the
   gate-level circuit's qubits, queries, two-qubit gates and depth per step.

``--only N`` runs section N alone.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qdyn.cooling import (
    SpectralNormalisation,
    adiabatic,
    cool,
    cooling_circuit_resources,
    eigenstate_filter,
    imaginary_time,
    normalise_hamiltonian,
    ring_with_field,
    sign_polynomial,
    solve_phases_lm,
    solve_phases_newton,
    spectral_normalisation,
)
from qdyn.exact import PauliSum
from qdyn.qsp import of_degree


def _sign_of_degree(target_degree):
    """The sign polynomial (delta = 1e-6) of the largest degree at most ``target_degree``."""
    return of_degree(lambda eps: sign_polynomial(eps, 1e-6), target_degree, 1e-4, 0.9, increasing=False)


def phase_benchmark(degrees):
    print("\n# 1. QSP phases (Newton, symmetric, verified on >= 2d points)")
    print("(wall and CPU seconds: on a shared machine the CPU time is the load-independent figure)")
    header = ("degree", "newton s", "cpu s", "error", "iters", "LM s", "newton/LM")
    print("{:>7} {:>9} {:>7} {:>9} {:>5} {:>8} {:>9}".format(*header))
    for target in degrees:
        p = _sign_of_degree(target)
        t0, c0 = time.perf_counter(), time.process_time()
        ph = solve_phases_newton(p)
        t_newton, c_newton = time.perf_counter() - t0, time.process_time() - c0
        if p.degree <= 301:
            t0 = time.perf_counter()
            solve_phases_lm(p)
            t_lm = time.perf_counter() - t0
            lm = f"{t_lm:8.3f} {t_newton / t_lm:9.2f}"
        else:
            lm = f"{'-':>8} {'-':>9}"
        print(f"{p.degree:7d} {t_newton:9.3f} {c_newton:7.3f} {ph.max_error:9.1e} {ph.iterations:5d} {lm}")


def _product_seconds(h_n, repeats=5):
    """The faster of qdyn's ``PauliSum.apply`` and a scipy CSR product of ``h_n`` on a complex state: seconds per
    product, best of ``repeats`` batches (each batch ~0.05 s or at least 3 products)."""
    rng = np.random.default_rng(0)
    psi = rng.normal(size=2**h_n.num_qubits) + 1j * rng.normal(size=2**h_n.num_qubits)
    h_sum, csr = PauliSum(h_n), h_n.to_matrix(sparse=True)
    best = np.inf
    for product in (h_sum.apply, csr.dot):
        product(psi)
        t0 = time.perf_counter()
        product(psi)
        count = max(3, int(0.05 / max(time.perf_counter() - t0, 1e-7)))
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(count):
                product(psi)
            best = min(best, (time.perf_counter() - t0) / count)
    return best


def step_benchmark(sizes, steps):
    print(f"\n# 2. cost per cooling step ({steps} steps of the default schedule, t = 5, eps = 0.15 scale, "
          "delta = 1e-6)")
    print("s/step: the fastest step (the first also makes V in the eigenbasis, shown apart); ratio = s/step /")
    print("(queries/step x product), product = the faster of PauliSum.apply and a scipy CSR product (best of 5),")
    print("both measured in this run (fastest, as the machine may be shared);")
    print("E - E0: the energy after the run against the ground energy (exact diagonalisation / Lanczos);")
    print("|poly - exact|: the two methods' final energies (n <= 10; they differ by the filter's delta)")
    header = ("n", "method", "evaluation", "1st step s", "s/step", "queries/step", "product us", "ratio", "E - E0",
              "|poly - exact|")
    print("{:>3} {:>6} {:>11} {:>10} {:>9} {:>12} {:>10} {:>7} {:>9} {:>14}".format(*header))
    for n in sizes:
        H = ring_with_field(n)
        energies, product = {}, None
        for method in ("poly", "exact") if n <= 10 else ("poly",):
            r = cool(H, steps=steps, method=method)
            energies[method] = r.energy
            difference = f"{abs(r.energy - energies['poly']):14.1e}" if method == "exact" else f"{'':14}"
            options = r.metadata.options
            if product is None:  # the same H_n for both methods
                product = _product_seconds(SpectralNormalisation(options["shift"], options["scale"]).hamiltonian(H))
            per_step = float(np.min(r.wall_times[1:]))
            queries = r.resources.queries / steps
            print(f"{n:3d} {method:>6} {options['evaluation']:>11} {r.wall_times[1]:10.3f} {per_step:9.4f} "
                  f"{queries:12.0f} {product * 1e6:10.1f} {per_step / (queries * product):7.2f} "
                  f"{r.energy - r.ground_energy:9.2e} {difference}")


def comparison(name, H):
    print(f"\n# 3. {name}: fidelity and energy error against total H-queries")
    header = ("method", "parameter", "H-queries", "fidelity", "E - E0", "p_success")
    print("{:>18} {:>14} {:>10} {:>9} {:>9} {:>9}".format(*header))
    rows = []
    for steps in (25, 50, 100):
        r = cool(H, steps=steps, eps=0.15, method="exact")  # eps in the units of H (divided by 1.05 max|E|)
        rows.append(("cooling", f"d={steps}", r))
    for total in (25.0, 100.0, 400.0):
        r = adiabatic(H, total_time=total, steps=int(total // 2) or 1)
        rows.append(("adiabatic", f"T={total:g}", r))
    res = eigenstate_filter(H, orders=(4, 16, 64))
    for k, order in enumerate((4, 16, 64), start=1):
        rows.append(("lin-tong filter", f"l={order}", (res, k)))
    res = imaginary_time(H, betas=(4.0, 16.0, 64.0))
    for k, beta in enumerate((4.0, 16.0, 64.0), start=1):
        rows.append(("imaginary time", f"beta={beta:g}", (res, k)))
    for method, param, r in rows:
        if isinstance(r, tuple):  # one entry of a filter / imaginary-time scan
            r, k = r
            q, f, e = r.queries_h[k], r.fidelities[k], r.energies[k] - r.ground_energy
            p = r.success_probabilities[k]
        else:
            q, f, e = r.total_queries_h, r.fidelity, r.energy_error
            p = float(np.prod(r.success_probabilities))
        print(f"{method:>18} {param:>14} {q:10d} {f:9.4f} {e:9.2e} {p:9.3f}")


def query_scaling(H, ds):
    print("\n# 4. total H-queries against the number of cooling steps d (t = 5, eps = 0.15, delta = 1e-6)")
    qs, fids = [], []
    for d in ds:
        r = cool(H, steps=d, eps=0.15, method="exact")
        qs.append(r.total_queries_h)
        fids.append(r.fidelity)
        print(f"d={d:4d}  queries={r.total_queries_h:9d}  fidelity={r.fidelity:.4f}")
    slope, _ = np.polyfit(np.log(ds), np.log(qs), 1)
    print(f"fit: queries ~ d^{slope:.3f} (d^1.5 would be 1.5)")
    return slope


def circuit_benchmark(sizes):
    print("\n# 5. circuit method: one coherent circuit per step (lam = 0.5, eps = 0.15, t = 5, delta = 1e-6,")
    print("#    dilation encodings, alpha = 2; mu = first, middle and last of the 100-step regression schedule)")
    header = ("n", "route", "qubits", "circ s/step", "poly s/step", "ratio", "p_success", "H-q/step", "max |dpsi|")
    print("{:>3} {:>8} {:>6} {:>11} {:>11} {:>7} {:>9} {:>9} {:>10}".format(*header))
    for n in sizes:
        H = normalise_hamiltonian(ring_with_field(n), 1.05)[0]
        w = np.linalg.eigvalsh(H.to_matrix())
        top = spectral_normalisation(H, bounds=(w[0], w[-1])).denormalise(1.0)  # the default first mu
        mus = np.linspace(top, (w[0] + w[1]) / 2, 100)[[0, 49, 99]]
        kw = {"steps": 3, "lam": 0.5, "eps": 0.15, "time": 5.0, "delta": 1e-6, "alpha": 2.0, "schedule": mus,
              "store_states": True}
        poly = cool(H, method="poly", **kw)
        t_p = float(np.mean(poly.wall_times[1:]))
        for route in ("qsvt", "qsvt+OAA", "gqsp", "qetu"):
            options = {"route": route.split("+")[0], "amplify": route.endswith("OAA")}
            circ = cool(H, method="circuit", circuit_options=options, **kw)
            t_c = float(np.mean(circ.wall_times[1:]))
            # only the qsvt route applies the poly method's filter; the others are their own filters
            same = route.startswith("qsvt")
            dist = float(np.max(np.linalg.norm(circ.states - poly.states, axis=1))) if same else np.nan
            qubits = {"qsvt": n + 5, "qsvt+OAA": n + 5, "gqsp": n + 4, "qetu": n + 5}[route]
            print(f"{n:3d} {route:>8} {qubits:6d} {t_c:11.3f} {t_p:11.3f} {t_c / t_p:7.1f} "
                  f"{np.mean(circ.success_probabilities[1:]):9.5f} {int(np.mean(circ.queries_h[1:])):9d} {dist:10.1e}")
    print("gate-level circuit (LCU encodings, alpha = ||H||_1 + 1, mu = 0), per step:")
    header = ("n", "OAA", "qubits", "deg p", "m", "H-queries", "V-queries", "2q gates", "depth", "2q per U_G",
              "p_success", "s to count")
    print("{:>3} {:>5} {:>6} {:>5} {:>3} {:>9} {:>9} {:>11} {:>11} {:>10} {:>9} {:>10}".format(*header))
    for n in sizes:
        H = normalise_hamiltonian(ring_with_field(n), 1.05)[0]
        for amplify in (False, True):
            t0 = time.perf_counter()
            r = cooling_circuit_resources(H, eps=0.15, delta=1e-6, time=5.0, lam=0.5, amplify=amplify)
            elapsed = time.perf_counter() - t0
            print(f"{n:3d} {amplify!s:>5} {r['qubits']:6d} {r['degree']:5d} {r['evolution_degree']:3d} "
                  f"{r['queries_h_per_step']:9d} {r['queries_v_per_step']:9d} {r['step_two_qubit_gates']:11d} "
                  f"{r['step_depth']:11d} {r['g_two_qubit_gates']:10d} {r['success_probability']:9.6f} "
                  f"{elapsed:10.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and degrees")
    parser.add_argument("--only", type=int, choices=range(1, 6), help="run one section")
    args = parser.parse_args(argv)
    n = 6 if args.quick else 8
    # small gap: at the critical transverse field a weak longitudinal field only just splits the two
    # ferromagnetic-like states
    sections = {
        1: lambda: phase_benchmark((101, 301, 1001) if args.quick else (101, 301, 1001, 3001)),
        2: lambda: step_benchmark((8, 10, 12) if args.quick else (8, 10, 12, 14, 16, 18), 3 if args.quick else 4),
        3: lambda: (comparison(f"regression ring, n={n}", normalise_hamiltonian(ring_with_field(n), 1.05)[0]),
                    comparison(f"small-gap ring (field 0.05), n={n}",
                               normalise_hamiltonian(ring_with_field(n, 0.05), 1.05)[0])),
        4: lambda: query_scaling(normalise_hamiltonian(ring_with_field(6), 1.05)[0], (10, 20, 40, 80, 160)),
        5: lambda: circuit_benchmark((4, 6)),
    }
    for number, section in sections.items():
        if args.only in (None, number):
            section()

if __name__ == "__main__":
    main()
