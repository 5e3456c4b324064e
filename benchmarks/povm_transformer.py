"""POVM transformer benchmark: steady-state accuracy against the exact reference, throughput, the cost of the
local loss against N, and a 6 x 6 dissipative XYZ lattice.

    python benchmarks/povm_transformer.py            # full run (N = 8 accuracy for g in {0.3, 1, 2}; timings)
    python benchmarks/povm_transformer.py --quick    # short run
    python benchmarks/povm_transformer.py --no-accuracy   # throughput and local-loss scaling only
    python benchmarks/povm_transformer.py --accuracy-only # N = 8 accuracy only
    python benchmarks/povm_transformer.py --accuracy-only --g 1  # one transverse field
    python benchmarks/povm_transformer.py --lattice  # the 6 x 6 lattice only (add --quick for a short run)
    git show HEAD~1:nets/povm_transformer.py > /tmp/old.py
    python benchmarks/povm_transformer.py --baseline /tmp/old.py  # N = 64 iteration against another version

Prints
1. the dissipative Ising chain (V = 2, gamma = 1, periodic) at N = 8: the neural steady state (sampled)
   against the exact density-matrix steady state, per single-site component (goal: every one within 1e-2),
   after Adam on the L1 loss (the paper's method) and after sampled Levenberg-Marquardt steps from there;
2. wall time per optimiser iteration of the steady-state loss and exact samples per second at N = 8, 16, 40
   (and 64 with 100 samples, the issue's figure, in the full run) on the CPU (ratios against N = 8 in the same run),
   with the loss's chunks side by side on the torch threads (the default) and in turn;
3. the cost per sample of the steady-state local loss and its gradient at N = 16, 32, 64, 128 (the chain, a
   generic network): the default (cached keys/values, float32 arithmetic), the cached loss in float64, and the
   old full recomputation of every distinct connected string in float64, same samples, same run; the fitted
   exponent of the cost against N; the float32 - float64 differences of the ratios, the loss and the gradient;
   and the float32 - float64 difference of a trapezoid-step residual (which cancels O(1) terms);
4. the 6 x 6 periodic dissipative XYZ lattice (Jx = 0.9, Jy = Jz = 1, gamma = 1; 36 sites, 72 bonds) read along
   one row-snake ordering: a sampled Adam steady-state run from |0...0> (64 samples x 300 iterations, lr 1e-2 ->
   1e-3; about 40 min on one core), its loss history against the tolerance 0.02 N, and the site- and
   bond-averaged observables with their Monte-Carlo error bars (no exact reference exists at this size: the
   symmetry <X> = <Y> = 0 and the exact 2 x 2 lattice are printed as checks);
5. on a GPU (when one works): throughput at N = 40 and 64 with the speed-up over the CPU in the same run;
6. with ``--baseline FILE`` only: one N = 64 steady-state iteration (100 samples, the driver's chunks) with this
   checkout's network and with the ``POVMTransformer`` of ``FILE`` (another version of
   ``nets/povm_transformer.py``), same weights and samples, alternated, on 1 and 2 torch threads (the chunks in
   turn; on 2 threads also side by side, as the driver runs them).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.sparse.linalg import expm_multiply

from qdyn import devices
from qdyn.devices import cuda_works
from qdyn.nets.string_states import snake_strings
from qdyn.open import (
    dissipative_ising,
    dissipative_xyz,
    expectation,
    liouvillian_matrix,
    observables,
    povm_transformer_state,
    site_average_paulis,
    steady_state,
    steady_state_transformer,
)
from qdyn.open.models import square_lattice_bonds
from qdyn.open.neural.connections import local_action
from qdyn.open.neural.losses import StationaryProblem, TrapezoidProblem
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


def throughput(n: int, device: str, n_samples: int, repeats: int, side_by_side: bool = True) -> tuple[float, float]:
    """(seconds per optimiser iteration of the steady-state loss with ``n_samples`` samples, exact samples per
    second when drawing 10^4); ``side_by_side=False``: the loss's chunks in turn (:data:`qdyn.devices.SIDE_BY_SIDE`)."""
    devices.SIDE_BY_SIDE = side_by_side
    try:
        return _throughput(n, device, n_samples, repeats)
    finally:
        devices.SIDE_BY_SIDE = True


def _throughput(n: int, device: str, n_samples: int, repeats: int) -> tuple[float, float]:
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


def _generic_state(n: int, seed: int = 1):
    """A network whose conditionals depend on the prefix (a random output layer), as after training."""
    state = povm_transformer_state(POVM("tetra"), ["0"] * n, seed=seed)
    with torch.no_grad():
        torch.nn.init.normal_(state.head.weight, std=0.5, generator=torch_generator(seed))
    return state


def _loss_and_gradient(problem, state, a, repeats: int = 1):
    """(CPU seconds, ratios, gradient) of the local loss and its gradient on samples ``a``: the smallest of
    ``repeats`` evaluations, in CPU time of this process (all its threads), which a shared machine disturbs far
    less than wall time."""
    best = np.inf
    for _ in range(repeats):
        state.zero_grad()
        t0 = time.process_time()
        ratio = problem.ratio(a)
        ratio.abs().mean().backward()
        best = min(best, time.process_time() - t0)
    return best, ratio.detach(), torch.cat([p.grad.reshape(-1) for p in state.parameters()])


def local_loss_scaling(sizes: dict, repeats: int) -> None:
    """Seconds per sample of the steady-state local loss ``(L P)(a) / P(a)`` and its gradient against N (samples
    per N in ``sizes``; the fastest of ``repeats``): default (cached, float32), cached float64, and the old full
    recomputation (float64)."""
    print("\n== local loss and gradient per sample against N (dissipative Ising chain, generic 1-layer width-32 "
          "network) ==")
    print("CPU ms per sample: default (cached, float32 arithmetic), cached float64, old full recomputation (float64)")
    print(f"{'N':>4} {'samples':>7} {'default ms':>11} {'cached64 ms':>12} {'old full ms':>12} {'speed-up':>9} "
          f"{'f32 ratio err':>14} {'f32 loss err':>13} {'f32 grad err':>13}")
    per_sample = {}
    for n, n_samples in sizes.items():
        gen = local_action(POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), POVM("tetra")))
        state = _generic_state(n)
        a = state.sample(n_samples, generator=torch_generator(0))
        _loss_and_gradient(StationaryProblem(state, gen, prefix=True), state, a[:1])  # warm-up
        timed = {}
        for key, prefix, precision in (("single", True, "single"), ("double", True, "double"),
                                       ("old", False, "double")):
            problem = StationaryProblem(state, gen, prefix=prefix, precision=precision)
            timed[key] = _loss_and_gradient(problem, state, a, repeats)
        (t32, r32, g32), (t64, r64, g64), (old, r_old, _) = timed["single"], timed["double"], timed["old"]
        assert float((r_old - r64).abs().max()) <= 1e-9 * float(r64.abs().max())  # cached == full in float64
        per_sample[n] = t32 / n_samples
        print(f"{n:4d} {n_samples:7d} {1e3 * t32 / n_samples:11.1f} {1e3 * t64 / n_samples:12.1f} "
              f"{1e3 * old / n_samples:12.1f} {old / t32:9.2f} "
              f"{float((r32 - r64).abs().max() / r64.abs().max()):14.1e} "
              f"{abs(float(r32.abs().mean() / r64.abs().mean()) - 1):13.1e} "
              f"{float((g32 - g64).abs().max() / g64.abs().max()):13.1e}", flush=True)
    ns = np.array(sorted(per_sample))
    slope = np.polyfit(np.log(ns), np.log([per_sample[n] for n in ns]), 1)[0]
    print(f"default cost per sample ~ N^{slope:.2f} (fit over N = {', '.join(map(str, ns))}); errors relative to "
          "the largest float64 ratio, the float64 loss, the largest gradient entry")
    trapezoid_precision(16, n_samples=200)


def trapezoid_precision(n: int, n_samples: int, dt: float = 0.01) -> None:
    """float32 against float64 on the sampled trapezoid residual ``r(a) / P(a)`` of a step of size ``2 dt``
    after a small parameter change (relative size 1e-3, as between a frozen model and its trained successor):
    the residual cancels O(1) terms, so its float32 error relative to ``||r||_1`` is the figure that matters."""
    gen = local_action(POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), POVM("tetra")))
    frozen = _generic_state(n)
    state = _generic_state(n)
    with torch.no_grad():
        for p in state.parameters():
            p.mul_(1 + 1e-3 * torch.randn(p.shape, generator=torch_generator(3), dtype=p.dtype))
    a = state.sample(n_samples, generator=torch_generator(2))
    with torch.no_grad():
        r = {prec: TrapezoidProblem(state, frozen, gen, dt, prefix=True, precision=prec).ratio(a)
             for prec in ("single", "double")}
    loss = float(r["double"].abs().mean())
    print(f"trapezoid step (N = {n}, dt = {dt:g}, {n_samples} samples): ||r||_1 = {loss:.3e}; float32 - float64: "
          f"loss {abs(float(r['single'].abs().mean()) - loss) / loss:.1e} relative, ratios "
          f"{float((r['single'] - r['double']).abs().mean()) / loss:.1e} of ||r||_1 (mean)")


def lattice(size: int, n_samples: int, iterations: int, n_eval_samples: int) -> None:
    """A sampled Adam steady-state run of the ``size x size`` dissipative XYZ lattice (module docstring), its
    convergence against the driver's tolerance ``0.02 N``, and two checks with no exact reference at this size:
    ``<X>`` and ``<Y>`` vanish in the steady state (a rotation by pi about z maps the jumps to minus themselves and
    the couplings to themselves, and the steady state is unique), so their deviation in units of their bars shows
    the network's bias; and the exact steady state of the 2 x 2 periodic lattice (Liouvillian, here) as a
    small-size comparison (the 3 x 3 one, 21 min by the same solver: Z = -0.929, ZZ = 0.877, XX = -0.007,
    YY = 0.110)."""
    n = size * size
    povm = POVM("tetra")
    t0 = time.perf_counter()
    gen = POVMLindbladian(dissipative_xyz(size, Jx=0.9, Jy=1.0, Jz=1.0, gamma=1.0), povm)
    built = time.perf_counter() - t0
    state = povm_transformer_state(povm, ["0"] * n, seed=1, strings=snake_strings(size, size)[:1])
    ops = site_average_paulis(n, bonds=square_lattice_bonds(size))
    print(f"\n== {size} x {size} dissipative XYZ lattice (Jx = 0.9, Jy = Jz = 1, gamma = 1, periodic), row-snake "
          f"ordering: Adam, {iterations} iterations x {n_samples} samples, scored on {n_eval_samples} ==")
    t0 = time.perf_counter()
    res = steady_state_transformer(state, gen, e_ops=ops, n_samples=n_samples, iterations=iterations,
                                   eval_every=max(1, iterations // 8), n_eval_samples=n_eval_samples, lr=1e-2,
                                   lr_final=1e-3, optimizer="adam", seed=0)
    wall = time.perf_counter() - t0
    history = res.loss_history
    print(f"POVM generator built in {built:.1f} s; {wall:.0f} s in all ({wall / iterations:.1f} s per iteration with "
          "its share of the scoring)")
    print(f"sampled ||L P||_1 per iteration: first {history[0]:.3f}, mean of the last 5 {history[-5:].mean():.3f}; "
          "scored: " + ", ".join(f"it {i}: {v:.3f}" for i, v in zip(res.eval_iterations, res.eval_losses,
                                                                       strict=True))
          + f"; kept it {res.best_iteration}: {res.best_loss:.3f} +- {res.best_loss_error:.3f} "
          f"({'converged' if res.converged else 'not converged'}: tol 0.02 N = {0.02 * n:.2f})")
    small = steady_state(dissipative_xyz(2, Jx=0.9, Jy=1.0, Jz=1.0, gamma=1.0), method="liouvillian",
                         e_ops=site_average_paulis(4, bonds=square_lattice_bonds(2))).expect
    print(f"{'observable':>10} {'value':>9} {'+-':>8} {'2x2 exact':>10}   (|0...0>: Z = 1, the rest 0)")
    for key in ops:
        print(f"{key:>10} {res.expect[key]:9.4f} {res.errors[key]:8.4f} {small[key]:10.4f}")
    print("symmetry (exact: <X> = <Y> = 0): "
          + ", ".join(f"{key} {abs(res.expect[key]) / res.errors[key]:.1f} sigma" for key in ("X", "Y")))


def against_baseline(path: str, n: int = 64, n_samples: int = 100, repeats: int = 3) -> None:
    """Seconds of one steady-state optimiser iteration -- the default loss (cached, float32) and its gradient on
    ``n_samples`` samples, in the chunks the driver uses (``chunk_size`` 8192 strings) -- with this checkout's
    transformer and with the ``POVMTransformer`` class of the file ``path``, loaded with the same weights:
    alternated, the fastest of ``repeats`` (wall and CPU time), on 1 and 2 torch threads, with the largest
    differences of their ratios and gradients. The chunks run in turn; on 2 threads this checkout also runs them
    side by side, as the driver does (:func:`qdyn.devices.map_chunks`)."""
    import importlib.util

    from qdyn.devices import map_chunks
    from qdyn.open.neural.connections import slots

    spec = importlib.util.spec_from_file_location("baseline_povm_transformer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    gen = local_action(POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), POVM("tetra")))
    new = _generic_state(n)
    old = module.POVMTransformer(n, seed=1)
    old.load_state_dict(new.state_dict())
    a = new.sample(n_samples, generator=torch_generator(0))
    chunk = max(1, 8192 // slots(gen, new))

    def iteration(state, side_by_side):
        problem = StationaryProblem(state, gen, prefix=True)
        parameters = list(state.parameters())

        def chunk_gradient(start):
            ratio = problem.ratio(a[start:start + chunk])
            grads = torch.autograd.grad(ratio.abs().sum() / n_samples, parameters)
            return ratio.detach(), torch.cat([g.reshape(-1) for g in grads])

        starts = range(0, n_samples, chunk)
        results = map_chunks(chunk_gradient, starts, "cpu") if side_by_side else [chunk_gradient(s) for s in starts]
        return torch.cat([r for r, _ in results]), sum(g for _, g in results)

    print(f"\n== one steady-state iteration, N = {n}, {n_samples} samples in chunks of {chunk}: this checkout "
          f"against {path} ==")
    threads = torch.get_num_threads()
    for t in (1, 2):
        torch.set_num_threads(t)
        runs = [("baseline", old, False), ("this", new, False)] + ([("this, side by side", new, True)] if t > 1 else [])
        best = {}
        for _ in range(repeats):
            for name, state, side_by_side in runs:
                t0, c0 = time.perf_counter(), time.process_time()
                ratio, grad = iteration(state, side_by_side)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                previous = best.get(name, (np.inf, np.inf))
                best[name] = (min(previous[0], wall), min(previous[1], cpu), ratio, grad)
        w_old, c_old, r_old, g_old = best["baseline"]
        for name, _, _ in runs[1:]:
            w_new, c_new, r_new, g_new = best[name]
            print(f"{t} thread(s): baseline {w_old:.2f} s wall ({c_old:.2f} s CPU), {name} {w_new:.2f} s wall "
                  f"({c_new:.2f} s CPU): {w_old / w_new:.2f}x; ratios differ by "
                  f"{float((r_new - r_old).abs().max() / r_old.abs().max()):.1e} of the largest, gradients by "
                  f"{float((g_new - g_old).abs().max() / g_old.abs().max()):.1e}", flush=True)
    torch.set_num_threads(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run")
    parser.add_argument("--accuracy-only", action="store_true", help="skip the throughput part")
    parser.add_argument("--no-accuracy", action="store_true",
                        help="skip the N = 8 accuracy part")
    parser.add_argument("--lattice", action="store_true", help="the 6 x 6 lattice only")
    parser.add_argument("--baseline", metavar="FILE",
                        help="only time an N = 64 iteration against the POVMTransformer of FILE")
    parser.add_argument("--g", type=float, nargs="+", default=[0.3, 1.0, 2.0],
                        help="transverse fields of the accuracy part (default 0.3 1 2)")
    args = parser.parse_args()
    if args.baseline:
        against_baseline(args.baseline)
        return
    if args.lattice:
        lattice(6, *((24, 20, 100) if args.quick else (64, 300, 256)))
        return
    if args.quick:
        if not args.no_accuracy:
            accuracy(8, [1.0], stages=[("adam", 60, 500, 1e-2, 3e-3), ("lm", 4, 200, None, None)])
        sizes, repeats = {8: 100, 16: 20, 40: 4}, 1
    else:
        if not args.no_accuracy:
            accuracy(8, args.g, stages=[("adam", 200, 1000, 1e-2, 1e-3), ("lm", 60, 300, None, None)])
        sizes, repeats = {8: 1000, 16: 100, 40: 20, 64: 100}, 3
    if args.accuracy_only:
        return

    print("\n== throughput on the CPU (1-layer width-32 transformer; steady-state loss and gradient; "
          f"{torch.get_num_threads()} torch threads; the loss's chunks side by side, and in turn) ==")
    print(f"{'N':>4} {'samples/it':>10} {'s/iteration':>12} {'in turn':>8} {'gain':>5} {'ms/sample':>10} "
          f"{'ratio':>7} {'samples/s':>10} {'ratio':>7}")
    base = None
    cpu = {}
    for n, n_samples in sizes.items():
        in_turn = throughput(n, "cpu", n_samples, repeats, side_by_side=False)[0]
        it, sps = throughput(n, "cpu", n_samples, repeats)
        cpu[n] = it / n_samples
        per_sample = 1e3 * it / n_samples
        base = base or (per_sample, sps)
        print(f"{n:4d} {n_samples:10d} {it:12.3f} {in_turn:8.3f} {in_turn / it:5.2f} {per_sample:10.2f} "
              f"{per_sample / base[0]:7.2f} {sps:10.0f} {sps / base[1]:7.2f}", flush=True)

    local_loss_scaling({16: 16, 32: 8, 64: 4, 128: 2} if args.quick else {16: 100, 32: 50, 64: 20, 128: 8},
                       repeats)
    lattice(6, *((24, 20, 100) if args.quick else (64, 300, 256)))

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
