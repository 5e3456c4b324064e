"""One prepared GPU check: every GPU path of qdyn against the CPU in the same run, as time ratios.

Checks (each runs the same work on the CPU and on the GPU, reports both wall times, CPU/GPU speed-up and the
largest difference between the two results):

* ``exact-apply`` - one ``H psi`` of the Heisenberg chain (:class:`qdyn.exact.PauliSum`, numpy vs torch);
* ``exact-evolve`` - ``exp(-i H t) psi`` of the TFIM chain (:func:`qdyn.exact.evolve`, Chebyshev);
* ``exact-ground`` - the Heisenberg ground energy (:func:`qdyn.exact.ground_state`, Lanczos);
* ``liouvillian`` - dissipative Ising dynamics (:class:`qdyn.open.Liouvillian`, scipy vs torch sparse CSR);
* ``cooling`` - dynamical cooling steps, ``method="poly"`` (Clenshaw's recurrence, scipy vs torch sparse CSR);
* ``aer-gpu`` - a Trotter circuit's ``<Z_0>`` on Qiskit Aer, CPU vs GPU (where the GPU build is installed);
* ``lightning-gpu`` - the same on PennyLane ``lightning.qubit`` vs ``lightning.gpu`` (where installed);
* ``transformer`` - POVM transformer trapezoid steps (:func:`qdyn.open.evolve_transformer`);
* ``povm-steady`` - steady-state iterations of the transformer at N = 64 (cached local loss, float32);
* ``steady-liouv`` / ``steady-povm`` - the exact steady states of the dissipative Ising chain by
  Jacobi-preconditioned GMRES (:func:`qdyn.open.steady_state`, ``method="liouvillian"`` / ``"povm"``, scipy vs
  torch sparse CSR; the difference is the largest of ``<Z_i>``);
* ``pinn`` - PINN training on the finite well (:func:`qdyn.schrodinger.solve_eigen`, default mode).

The stochastic checks (transformer) draw different random streams on the two devices, so their difference
is statistical, not a bug. Without a GPU every check is reported as skipped and the script exits 0;
``--emulate`` runs the GPU side through the same code paths on the CPU (torch on the CPU, ``aer``,
``lightning.qubit``) to test this script without a GPU. The full run is sized to finish within 8 minutes on
one H100 (``--budget`` seconds, default 420, skips the checks that would start after it).

    python benchmarks/gpu_check.py            # full sizes (GPU machine)
    python benchmarks/gpu_check.py --quick    # small sizes
    python benchmarks/gpu_check.py --quick --emulate   # no GPU: the GPU code paths on the CPU
"""

from __future__ import annotations

import argparse
import time
import traceback
import warnings

import numpy as np


class Skip(Exception):
    """A check that cannot run here (no GPU, optional package missing)."""


def _timed(fn, repeats: int = 1):
    """``(best wall time over repeats, last result)``; CUDA work is synchronised before the clock stops."""
    best, out = np.inf, None
    for _ in range(repeats):
        _synchronise()
        start = time.perf_counter()
        out = fn()
        _synchronise()
        best = min(best, time.perf_counter() - start)
    return best, out


def _synchronise():
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.synchronize()


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _torch_device(emulate: bool) -> str:
    """The device string of the torch-based GPU paths: "cuda", or "torch-cpu" when emulating."""
    from qdyn.devices import cuda_works

    if emulate:
        return "torch-cpu"
    if not cuda_works():
        raise Skip("no usable CUDA GPU (torch.cuda)")
    return "cuda"


def _nets_device(emulate: bool) -> str:
    return "cpu" if emulate else ("cuda" if _torch_device(False) == "cuda" else "cpu")


# -- checks -----------------------------------------------------------------------------------------------
def check_exact_apply(size: dict, emulate: bool) -> dict:
    from qdyn import models
    from qdyn.exact import PauliSum

    device = _torch_device(emulate)
    n = size["apply_n"]
    H = models.heisenberg(n)
    psi = np.random.default_rng(0).standard_normal(2**n) + 0j
    psi /= np.linalg.norm(psi)
    cpu_op = PauliSum(H)
    gpu_op = PauliSum(H, engine="torch", device="cpu" if device == "torch-cpu" else device)
    psi_gpu = gpu_op.asarray(psi)
    gpu_op.apply(psi_gpu)  # warm-up (CUDA context, kernels)
    t_cpu, ref = _timed(lambda: cpu_op.apply(psi), 3)
    t_gpu, out = _timed(lambda: gpu_op.apply(psi_gpu), 3)
    return {"size": f"n={n}", "cpu_s": t_cpu, "gpu_s": t_gpu, "diff": float(np.abs(_numpy(out) - ref).max())}


def check_exact_evolve(size: dict, emulate: bool) -> dict:
    from qdyn import models
    from qdyn.exact import evolve
    from qdyn.states import plus_state

    device = _torch_device(emulate)
    n = size["evolve_n"]
    H = models.tfim(n, 1.0, 0.9, periodic=True)
    psi = plus_state(n)
    evolve(H, psi, 0.1, device=device)  # warm-up
    t_cpu, ref = _timed(lambda: evolve(H, psi, 2.0))
    t_gpu, out = _timed(lambda: evolve(H, psi, 2.0, device=device))
    diff = float(np.abs(_numpy(out) - ref).max())
    return {"size": f"n={n}, t=2", "cpu_s": t_cpu, "gpu_s": t_gpu, "diff": diff}


def check_exact_ground(size: dict, emulate: bool) -> dict:
    from qdyn import models
    from qdyn.exact import ground_state

    device = _torch_device(emulate)
    n = size["ground_n"]
    H = models.heisenberg(n)
    t_cpu, ref = _timed(lambda: ground_state(H, method="lanczos", seed=0))
    t_gpu, out = _timed(lambda: ground_state(H, method="lanczos", device=device, seed=0))
    return {"size": f"n={n}", "cpu_s": t_cpu, "gpu_s": t_gpu, "diff": abs(out.energy - ref.energy)}


def check_liouvillian(size: dict, emulate: bool) -> dict:
    from qdyn.open import Liouvillian, dissipative_ising, site_average_paulis
    from qdyn.states import product_state

    device = _torch_device(emulate)
    n = size["liouvillian_n"]
    L = dissipative_ising(n)
    rho0 = product_state(["0"] * n)
    times = np.linspace(0.0, 1.0, 11)
    ops = list(site_average_paulis(n).values())
    cpu, gpu = Liouvillian(L), Liouvillian(L, device=device)
    gpu.evolve(rho0, times[:2], ops)  # warm-up
    t_cpu, ref = _timed(lambda: cpu.evolve(rho0, times, ops))
    t_gpu, out = _timed(lambda: gpu.evolve(rho0, times, ops))
    return {"size": f"n={n}, 11 times", "cpu_s": t_cpu, "gpu_s": t_gpu,
            "diff": float(np.abs(np.asarray(out.expect) - np.asarray(ref.expect)).max())}


def check_cooling(size: dict, emulate: bool) -> dict:
    from qdyn import models
    from qdyn.cooling import cool

    device = _torch_device(emulate)
    n = size["cooling_n"]
    H = models.heisenberg(n)
    options = {"steps": size["cooling_steps"], "method": "poly", "seed": 0}
    cool(H, steps=1, method="poly", device=device, seed=0)  # warm-up
    t_cpu, ref = _timed(lambda: cool(H, **options))
    t_gpu, out = _timed(lambda: cool(H, device=device, **options))
    return {"size": f"n={n}, {options['steps']} poly steps", "cpu_s": t_cpu, "gpu_s": t_gpu,
            "diff": float(np.abs(np.asarray(out.energies) - np.asarray(ref.energies)).max())}


def _circuit_pub(n: int, steps: int):
    from qiskit.quantum_info import SparsePauliOp

    from qdyn import models
    from qdyn.circuits.evolution import evolution_circuit

    H = models.tfim(n, 1.0, 0.9, periodic=False)
    circuit = evolution_circuit(H, 1.0, steps=steps)
    return [(circuit, [SparsePauliOp("I" * (n - 1) + "Z")])]


def _circuit_check(cpu_target: str, gpu_target: str, n: int, steps: int) -> dict:
    from qdyn.circuits.backends import estimate, resolve_target

    try:
        resolve_target(gpu_target)
    except (ValueError, ImportError) as exc:
        raise Skip(str(exc).split(";")[0]) from exc
    pubs = _circuit_pub(n, steps)
    estimate(pubs, gpu_target, seed=0)  # warm-up
    t_cpu, ref = _timed(lambda: estimate(pubs, cpu_target, seed=0))
    t_gpu, out = _timed(lambda: estimate(pubs, gpu_target, seed=0))
    return {"size": f"n={n}, {steps} Trotter steps", "cpu_s": t_cpu, "gpu_s": t_gpu,
            "diff": float(np.abs(np.asarray(out.values) - np.asarray(ref.values)).max())}


def check_aer_gpu(size: dict, emulate: bool) -> dict:
    return _circuit_check("aer", "aer" if emulate else "aer-gpu", size["circuit_n"], size["circuit_steps"])


def check_lightning_gpu(size: dict, emulate: bool) -> dict:
    gpu = "lightning.qubit" if emulate else "lightning.gpu"
    return _circuit_check("lightning.qubit", gpu, size["circuit_n"], size["circuit_steps"])


def check_transformer(size: dict, emulate: bool) -> dict:
    from qdyn.open import (
        POVM,
        POVMLindbladian,
        dissipative_ising,
        evolve_transformer,
        povm_transformer_state,
        site_average_paulis,
    )

    device = _nets_device(emulate)
    n = size["transformer_n"]
    povm = POVM("tetra")
    generator = POVMLindbladian(dissipative_ising(n), povm)
    ops = site_average_paulis(n)
    network = {"d_model": 32, "n_layers": 2, "n_heads": 2, "seed": 0}
    options = {"n_samples": size["transformer_samples"], "iterations": size["transformer_iterations"],
               "seed": 0}

    t_final = 0.05 * size["transformer_steps"]

    def run(dev, t_final=t_final, **changes):
        state = povm_transformer_state(povm, ["0"] * n, device=dev, **network)
        return evolve_transformer(state, generator, t_final, 0.05, e_ops=ops, **{**options, **changes})

    for dev in ("cpu", device):  # warm-up: imports, CUDA context and kernels
        run(dev, 0.05, iterations=1)

    t_cpu, ref = _timed(lambda: run("cpu"))
    t_gpu, out = _timed(lambda: run(device))
    diff = max(float(np.abs(out.expect[k] - ref.expect[k]).max()) for k in ops)
    return {"size": f"n={n}, {size['transformer_steps']} steps x {options['iterations']} it x "
                    f"{options['n_samples']} samples",
            "cpu_s": t_cpu, "gpu_s": t_gpu, "diff": diff}


def check_transformer_steady(size: dict, emulate: bool) -> dict:
    from qdyn.open import POVM, POVMLindbladian, dissipative_ising, povm_transformer_state, steady_state_transformer

    device = _nets_device(emulate)
    n, samples = size["steady_n"], size["steady_samples"]
    generator = POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), POVM("tetra"))
    options = {"n_samples": samples, "iterations": 2, "eval_every": 10**6, "n_eval_samples": 2, "seed": 0}

    def run(dev, iterations=2):
        state = povm_transformer_state(POVM("tetra"), ["0"] * n, seed=1, device=dev)
        with warnings.catch_warnings():  # two iterations do not converge: only the cost is measured
            warnings.simplefilter("ignore")
            return steady_state_transformer(state, generator, **{**options, "iterations": iterations})

    for dev in ("cpu", device):  # warm-up: imports, CUDA context and kernels
        run(dev, 1)
    t_cpu, ref = _timed(lambda: run("cpu"))
    t_gpu, out = _timed(lambda: run(device))
    return {"size": f"n={n}, 2 iterations x {samples} samples", "cpu_s": t_cpu, "gpu_s": t_gpu,
            "diff": abs(float(out.loss_history[-1]) - float(ref.loss_history[-1]))}


def _check_steady(method: str, size: dict, emulate: bool) -> dict:
    from qiskit.quantum_info import SparsePauliOp

    from qdyn.open import dissipative_ising, steady_state

    device = _torch_device(emulate)
    n = size[f"steady_{method}_n"]
    ops = {f"Z{i}": SparsePauliOp.from_sparse_list([("Z", [i], 1.0)], n) for i in range(n)}
    steady_state(dissipative_ising(6), method=method, device=device)  # warm-up (6 qubits: the GMRES path)
    model = dissipative_ising(n)
    t_cpu, ref = _timed(lambda: steady_state(model, method=method, e_ops=ops))
    t_gpu, out = _timed(lambda: steady_state(model, method=method, e_ops=ops, device=device))
    return {"size": f"n={n}, {out.metadata.options['solver']}, {out.resources.matvecs} products on the GPU",
            "cpu_s": t_cpu, "gpu_s": t_gpu, "diff": max(abs(out.expect[k] - ref.expect[k]) for k in ops)}


def check_steady_liouvillian(size: dict, emulate: bool) -> dict:
    return _check_steady("liouvillian", size, emulate)


def check_steady_povm(size: dict, emulate: bool) -> dict:
    return _check_steady("povm", size, emulate)


def check_pinn(size: dict, emulate: bool) -> dict:
    from qdyn.schrodinger import finite_well, solve_eigen

    device = _nets_device(emulate)
    well = finite_well()
    options = {"adam_epochs": size["pinn_adam"], "lbfgs_iters": size["pinn_lbfgs"], "seed": 0}
    for dev in ("cpu", device):  # warm-up: imports, CUDA context and kernels
        solve_eigen(well, 3, method="pinn", device=dev, adam_epochs=2, lbfgs_iters=0, seed=0)
    t_cpu, ref = _timed(lambda: solve_eigen(well, 3, method="pinn", device="cpu", **options))
    t_gpu, out = _timed(lambda: solve_eigen(well, 3, method="pinn", device=device, **options))
    return {"size": f"k=3, {options['adam_epochs']} Adam + {options['lbfgs_iters']} L-BFGS", "cpu_s": t_cpu,
            "gpu_s": t_gpu, "diff": float(np.abs(out.energies - ref.energies).max())}


CHECKS = {
    "exact-apply": check_exact_apply,
    "exact-evolve": check_exact_evolve,
    "exact-ground": check_exact_ground,
    "liouvillian": check_liouvillian,
    "cooling": check_cooling,
    "aer-gpu": check_aer_gpu,
    "lightning-gpu": check_lightning_gpu,
    "transformer": check_transformer,
    "povm-steady": check_transformer_steady,
    "steady-liouv": check_steady_liouvillian,
    "steady-povm": check_steady_povm,
    "pinn": check_pinn,
}

FULL = {"apply_n": 22, "evolve_n": 20, "ground_n": 20, "liouvillian_n": 8, "cooling_n": 14, "cooling_steps": 3,
        "circuit_n": 22,
        "circuit_steps": 4,
        "transformer_n": 6, "transformer_samples": 1000, "transformer_iterations": 5, "transformer_steps": 2,
        "steady_n": 64, "steady_samples": 100, "pinn_adam": 500, "pinn_lbfgs": 100,
        "steady_liouvillian_n": 8, "steady_povm_n": 7}
QUICK = {"apply_n": 14, "evolve_n": 12, "ground_n": 12, "liouvillian_n": 4, "cooling_n": 8, "cooling_steps": 2,
         "circuit_n": 10,
         "circuit_steps": 2,
         "transformer_n": 4, "transformer_samples": 200, "transformer_iterations": 5, "transformer_steps": 2,
         "steady_n": 16, "steady_samples": 50, "pinn_adam": 50, "pinn_lbfgs": 10,
         "steady_liouvillian_n": 6, "steady_povm_n": 6}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--emulate", action="store_true", help="GPU code paths on the CPU (no GPU)")
    parser.add_argument("--only", nargs="+", choices=list(CHECKS), help="run only these checks")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds; later checks are skipped")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    start = time.perf_counter()
    from qdyn.devices import cuda_works

    gpu = cuda_works()
    print(f"qdyn GPU check ({'quick' if args.quick else 'full'} sizes); CUDA GPU usable: {gpu}"
          + ("; --emulate: the GPU side runs on the CPU" if args.emulate else ""))
    if gpu:
        import torch

        print(f"GPU: {torch.cuda.get_device_name(0)}")
    print(f"{'check':<15} {'size':<44} {'CPU s':>9} {'GPU s':>9} {'CPU/GPU':>8} {'max |diff|':>11}")
    failures = 0
    for name in args.only or CHECKS:
        if time.perf_counter() - start > args.budget:
            print(f"{name:<15} skipped: the time budget of {args.budget:.0f} s is spent")
            continue
        try:
            row = CHECKS[name](size, args.emulate)
        except Skip as why:
            print(f"{name:<15} skipped: {why}")
            continue
        except Exception:  # noqa: BLE001 - report and go on: one broken path must not hide the others
            failures += 1
            print(f"{name:<15} FAILED:")
            traceback.print_exc()
            continue
        ratio = row["cpu_s"] / row["gpu_s"] if row["gpu_s"] > 0 else float("inf")
        print(f"{name:<15} {row['size']:<44} {row['cpu_s']:9.3f} {row['gpu_s']:9.3f} {ratio:8.2f} "
              f"{row['diff']:11.2e}", flush=True)
    print(f"total {time.perf_counter() - start:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
