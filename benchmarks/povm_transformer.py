"""POVM transformer benchmark: steady-state accuracy against the exact reference, and throughput.

    python benchmarks/povm_transformer.py            # full run (N = 8 accuracy for g in {0.3, 1, 2}; timings)
    python benchmarks/povm_transformer.py --quick    # short run
    python benchmarks/povm_transformer.py --no-accuracy   # throughput only
    python benchmarks/povm_transformer.py --accuracy-only # N = 8 accuracy only
    python benchmarks/povm_transformer.py --accuracy-only --g 1  # one transverse field

Prints
1. the dissipative Ising chain (V = 2, gamma = 1, periodic) at N = 8: the neural steady state (sampled)
   against the exact density-matrix steady state, per single-site component (goal: every one within 1e-2),
   after Adam on the L1 loss (the paper's method) and after sampled Levenberg-Marquardt steps from there;
2. wall time per optimiser iteration of the steady-state loss and exact samples per second at N = 8, 16, 40
   on the CPU (ratios against N = 8 in the same run);
3. the local loss with prefix sharing against the full evaluation of every distinct string (same samples, same
   run) at N = 8, 16, 40: the speed-up of the loss-and-gradient evaluation;
4. on a GPU (when one works): the same at N = 40 and 64 with the speed-up over the CPU in the same run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.sparse.linalg import expm_multiply

from qdyn.devices import cuda_works
from qdyn.open import (
    dissipative_ising,
    expectation,
    liouvillian_matrix,
    observables,
    povm_transformer_state,
    site_average_paulis,
    steady_state_transformer,
)
from qdyn.open.neural.connections import local_action
from qdyn.open.neural.losses import StationaryProblem
from qdyn.open.povm import POVM
from qdyn.open.povm_lindbladian import POVMLindbladian
from qdyn.seeding import torch_generator


def relaxed_steady_state(lindbladian, tol: float = 1e-10, chunk: float = 10.0, max_time: float = 500.0):
    """The exact steady density matrix as the long-time limit ``rho = lim e^{t L} |0><0|``: ``e^{10 L}`` applied
    by :func:`scipy.sparse.linalg.expm_multiply` to the vectorised state until ``|| L vec(rho) ||_1 < tol``.
    (At N = 8 this takes seconds, where the sparse LU of :func:`qdyn.open.steady_state_density` on the
    65536 x 65536 Liouvillian runs for many minutes.)"""
    sup = liouvillian_matrix(lindbladian).tocsr()
    d = 2**lindbladian.num_qubits
    vec = np.zeros(d * d, dtype=complex)
    vec[0] = 1.0
    t, residual = 0.0, np.inf
    while residual >= tol:
        if t >= max_time:
            raise RuntimeError(f"not relaxed by t = {max_time}: || L rho ||_1 = {residual:.1e}")
        vec = expm_multiply(chunk * sup, vec)
        vec /= np.trace(vec.reshape(d, d))
        t += chunk
        residual = float(np.abs(sup @ vec).sum())
    rho = vec.reshape(d, d)
    return 0.5 * (rho + rho.conj().T)


def accuracy(n: int, gs, stages, chunk_size: int = 65536) -> None:
    """Sampled steady states at ``n`` sites for each ``g``: the training runs in ``stages`` (optimizer,
    iterations, samples per iteration, lr, lr_final), each warm-started from the model kept by the previous one
    (the best by the sampled L1 loss on ``4 x samples`` fresh samples). After each stage the kept model's
    single-site averages are summed exactly over all ``4^n`` strings (no Monte-Carlo error in the comparison);
    the last stage's are also estimated on its evaluation samples (with their standard error)."""
    plan = ", then ".join(f"{opt} {it} it x {ns} samples" + (f" (lr {lr:g}->{lr1:g})" if opt == "adam" else "")
                          for opt, it, ns, lr, lr1 in stages)
    print(f"\n== steady state, dissipative Ising N = {n} (V = 2, gamma = 1, periodic), sampled: {plan} ==")
    povm = POVM("tetra")
    ops = site_average_paulis(n)
    for g in gs:
        lb = dissipative_ising(n, V=2.0, g=g, gamma=1.0)
        rho = relaxed_steady_state(lb)
        reference = {k: expectation(op, rho) for k, op in ops.items()}
        generator = POVMLindbladian(lb, povm)
        state = povm_transformer_state(povm, ["0"] * n, seed=1)
        t0 = time.perf_counter()
        for k, (optimizer, iterations, n_samples, lr, lr_final) in enumerate(stages):
            res = steady_state_transformer(state, generator, e_ops=ops, n_samples=n_samples, iterations=iterations,
                               optimizer=optimizer, lr=lr or 1e-2, lr_final=lr_final, seed=k, chunk_size=chunk_size,
                               prefix_sharing=False)
            exact_sum = observables(state, povm, ops, n_samples=None).values
            errors = {key: abs(exact_sum[key] - reference[key]) for key in ops}
            print(f"g = {g:g}, after {optimizer} ({time.perf_counter() - t0:.0f} s): best L1 loss "
                  f"{res.best_loss:.3e} +- {res.best_loss_error:.1e}; |error| "
                  + ", ".join(f"{key} {err:.1e}" for key, err in errors.items()), flush=True)
        print(f"{'g':>5} {'comp':>4} {'neural':>10} {'sampled':>10} {'+-':>8} {'exact':>10} {'|err|':>8}")
        for key in ops:
            print(f"{g:5.2f} {key:>4} {exact_sum[key]:10.5f} {res.expect[key]:10.5f} {res.errors[key]:8.1e} "
                  f"{reference[key]:10.5f} {errors[key]:8.1e}")
        worst = max(errors.values())
        print(f"      worst error {worst:.2e} ({'meets' if worst < 1e-2 else 'misses'} the 1e-2 goal); "
              f"wall {time.perf_counter() - t0:.0f} s", flush=True)


def throughput(n: int, device: str, n_samples: int, repeats: int) -> tuple[float, float]:
    """(seconds per optimiser iteration of the steady-state loss with ``n_samples`` samples, exact samples per
    second when drawing 10^4)."""
    gen = POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), POVM("tetra"))
    state = povm_transformer_state(POVM("tetra"), ["0"] * n, seed=1, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    steady_state_transformer(state, gen, n_samples=n_samples, iterations=1, eval_every=10**6, n_eval_samples=2,
                             seed=0)
    sync()
    t0 = time.perf_counter()
    steady_state_transformer(state, gen, n_samples=n_samples, iterations=repeats, eval_every=10**6,
                             n_eval_samples=2, seed=0)
    sync()
    per_iteration = (time.perf_counter() - t0) / repeats
    gen_t = torch_generator(0, device)
    t0 = time.perf_counter()
    state.sample(10_000, generator=gen_t)
    sync()
    return per_iteration, 10_000 / (time.perf_counter() - t0)


def local_loss_speed(n: int, n_samples: int, repeats: int) -> tuple[float, float]:
    """Seconds for the steady-state local loss ``(L P)(a) / P(a)`` and its gradient on ``n_samples`` samples, with
    the connected strings evaluated from their first difference on (prefix sharing) and with every distinct
    string evaluated in full (one deduplicated batched call); the two agree to float64 rounding."""
    gen = POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), POVM("tetra"))
    state = povm_transformer_state(POVM("tetra"), ["0"] * n, seed=1)
    with torch.no_grad():  # a generic (non-product) state, so that every conditional depends on the prefix
        torch.nn.init.normal_(state.head.weight, std=0.5, generator=torch_generator(1))
    a = state.sample(n_samples, generator=torch_generator(0))
    action = local_action(gen)
    times = {}
    for prefix in (True, False):
        ratio = StationaryProblem(state, action, prefix=prefix).ratio
        ratio(a[:8]).abs().sum().backward()  # warm-up
        t0 = time.perf_counter()
        for _ in range(repeats):
            state.zero_grad()
            ratio(a).abs().sum().backward()
        times[prefix] = (time.perf_counter() - t0) / repeats
    return times[True], times[False]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run")
    parser.add_argument("--accuracy-only", action="store_true", help="skip the throughput part")
    parser.add_argument("--no-accuracy", action="store_true",
                        help="skip the N = 8 accuracy part")
    parser.add_argument("--g", type=float, nargs="+", default=[0.3, 1.0, 2.0],
                        help="transverse fields of the accuracy part (default 0.3 1 2)")
    args = parser.parse_args()
    if args.quick:
        if not args.no_accuracy:
            accuracy(8, [1.0], stages=[("adam", 60, 500, 1e-2, 3e-3), ("lm", 4, 200, None, None)])
        sizes, repeats = {8: 100, 16: 20, 40: 4}, 1
    else:
        if not args.no_accuracy:
            accuracy(8, args.g, stages=[("adam", 200, 1000, 1e-2, 1e-3), ("lm", 60, 300, None, None)])
        sizes, repeats = {8: 1000, 16: 100, 40: 20}, 3
    if args.accuracy_only:
        return

    print("\n== throughput on the CPU (1-layer width-32 transformer; steady-state loss and gradient) ==")
    print(f"{'N':>4} {'samples/it':>10} {'s/iteration':>12} {'ms/sample':>10} {'ratio':>7} "
          f"{'samples/s':>10} {'ratio':>7}")
    base = None
    cpu = {}
    for n, n_samples in sizes.items():
        it, sps = throughput(n, "cpu", n_samples, repeats)
        cpu[n] = it / n_samples
        per_sample = 1e3 * it / n_samples
        base = base or (per_sample, sps)
        print(f"{n:4d} {n_samples:10d} {it:12.3f} {per_sample:10.2f} {per_sample / base[0]:7.2f} {sps:10.0f} "
              f"{sps / base[1]:7.2f}")

    print("\n== local loss and gradient: prefix sharing against the full evaluation of every distinct string ==")
    print(f"{'N':>4} {'samples':>8} {'prefix s':>9} {'full s':>9} {'speed-up':>9}")
    for n, n_samples in ({8: 100, 16: 50, 40: 20} if args.quick else {8: 500, 16: 200, 40: 100}).items():
        shared, full = local_loss_speed(n, n_samples, repeats)
        print(f"{n:4d} {n_samples:8d} {shared:9.3f} {full:9.3f} {full / shared:9.2f}", flush=True)

    if cuda_works():
        print("\n== GPU against CPU, same run (time per sample of one optimiser iteration) ==")
        print(f"{'N':>4} {'GPU ms/sample':>14} {'CPU ms/sample':>14} {'speed-up':>9} {'GPU samples/s':>14}")
        for n in ([40] if args.quick else [40, 64]):
            git, gsps = throughput(n, "cuda", 1000, repeats)
            cpu_per_sample = cpu[n] if n in cpu else throughput(n, "cpu", 4, 1)[0] / 4
            print(f"{n:4d} {1e3 * git / 1000:14.3f} {1e3 * cpu_per_sample:14.3f} "
                  f"{cpu_per_sample / (git / 1000):9.1f} {gsps:14.0f}")
    else:
        print("\n(no working CUDA GPU: GPU figures skipped)")


if __name__ == "__main__":
    main()
