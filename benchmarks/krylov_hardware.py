"""Real-time Krylov on noisy fake IBM devices: circuit cost, energy error unmitigated / mitigated, and error bars.

For each model and device it prints, in one run:
  * the largest logical circuit's two-qubit gates and depth after transpilation to the device
    (:func:`qdyn.krylov.plan`; zero-noise folding then multiplies them by the noise factor), for the control-free
    overlaps and, next to them, for the controlled Hadamard test of the same K and Trotter
    steps (``overlaps="hadamard"``);
  * the shots spent (mitigation overhead included; at most ``--budget`` in total), the wall time of the
    acquisition, and the UVQPE energy (automatic threshold) with its 1-sigma error bar, unmitigated and mitigated
    (Pauli twirling, TREX readout mitigation, zero-noise extrapolation by gate folding, exponential fit;
    :mod:`qdyn.circuits.mitigation`);
  * the errors against the exact ground energy E0 (:func:`qdyn.exact.ground_state`, independent of the circuits)
    and against ``E_trot``, the energy the same K and Trotter circuits give without noise (the exact engine's
    ``"trotter"`` backend): ``E - E_trot`` is what the noise and its mitigation leave, ``E_trot - E0`` the Trotter
    bias that no mitigation removes (the error bar covers noise only).

Models (``--quick``: the first at n = 4 with a 2e5-shot budget):
  1. open Heisenberg chain n = 6 from the Neel state on fake:FakeTorino (Heron, CZ), K = 6, dt = 0.4, one
     second-order Trotter step per dt (the issue's case; goal: within 1 % of E0 with <= 1e6 shots);
  2. open XXZ chain n = 5, Delta = 0.5, from the Neel state on fake:FakeSherbrooke (Eagle, ECR), same K and dt
     (at n = 6 UVQPE from the Neel state needs K > 8 even on exact data).

    python benchmarks/krylov_hardware.py                 # both models, 1e6 shots each (several minutes)
    python benchmarks/krylov_hardware.py --quick         # n = 4 on FakeTorino only
    python benchmarks/krylov_hardware.py --steps-per-dt 2 --model heisenberg
    python benchmarks/krylov_hardware.py --mpf 1 2 --model xxz      # multi-product formula of 1 and 2 steps
"""

from __future__ import annotations

import argparse
import time
import warnings

import qdyn.krylov as kr
from qdyn import models, states
from qdyn.circuits.mitigation import Mitigation
from qdyn.exact import ground_state

K = 6
DT = 0.4
MITIGATION = Mitigation(twirling=8, readout=True, zne=(1, 3), extrapolator="exponential")  # = mitigation="auto"


def _cases(quick: bool, only: str | None):
    if quick:
        return [("heisenberg", 4, models.heisenberg(4, periodic=False), "fake:FakeTorino")]
    cases = [("heisenberg", 6, models.heisenberg(6, periodic=False), "fake:FakeTorino"),
             ("xxz d=0.5", 5, models.heisenberg(5, delta=0.5, periodic=False), "fake:FakeSherbrooke")]
    return [case for case in cases if only is None or case[0].startswith(only)]


def _shots_within(H, ref, grid, device, trotter, mitigation, budget: int) -> tuple[int, kr.KrylovPlan]:
    """The largest shots per logical circuit whose plan (mitigation overhead included) stays within ``budget``."""
    probe = kr.plan(H, ref, grid, backend=device, shots=1000, trotter=trotter, mitigation=mitigation,
                    with_h=False, seed=0)
    shots = int(1000 * budget / probe.shots)
    while True:
        planned = kr.plan(H, ref, grid, backend=device, shots=shots, trotter=trotter, mitigation=mitigation,
                          with_h=False, seed=0)
        if planned.shots <= budget:
            return shots, planned
        shots = int(shots * budget / planned.shots) - 1


def _solve(data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = kr.solve(data, "uvqpe", seed=0)
    flags = sorted({w.category.__name__ for w in caught})
    return result, flags


def run(quick: bool, budget: int, trotter: dict, K: int = K, only: str | None = None) -> None:
    grid = kr.time_grid(DT, K + 1)  # UVQPE of dimension K needs lags 0..K
    formula = (f"multi-product formula of {trotter['mpf']} second-order steps per dt" if "mpf" in trotter
               else f"{trotter['steps_per_dt']} second-order Trotter step(s) per dt")
    print(f"UVQPE, K = {K}, dt = {DT}, {formula}, budget {budget:.0e} shots per run; mitigation: {MITIGATION}")
    header = (f"{'model':<11}{'n':>3} {'device':<20}{'overlaps':<14}{'2q':>6}{'depth':>7}{'run':>6}{'shots':>9}"
              f"{'wall s':>8}{'E - E0':>9}{'E - Etrot':>11}{'bar':>8}{'rel':>8}  flags")
    for name, n, H, device in _cases(quick, only):
        ref = states.neel_state(n)
        e0 = float(ground_state(H).energies[0])
        exact_trotter = kr.acquire(H, ref, grid, backend="trotter", trotter=trotter, with_h=False)
        noiseless, flags = _solve(exact_trotter)
        e_trot = noiseless.energy
        print(f"\n{name} n = {n}: E0 = {e0:.6f} (exact diagonalisation), E_trot = {e_trot:.6f} "
              f"(Trotter bias {e_trot - e0:+.4f}, {100 * (e_trot - e0) / abs(e0):+.2f} %"
              f"{'; K not converged on noiseless data' if 'ConvergenceWarning' in flags else ''})")
        hadamard = kr.plan(H, ref, grid, backend=device, shots=1000, trotter=trotter, overlaps="hadamard",
                           with_h=False, seed=0)
        print(header)
        print(f"{name:<11}{n:>3} {device:<20}{'hadamard':<14}{hadamard.resources.two_qubit_gates:>6}"
              f"{hadamard.resources.depth:>7}{'plan':>6}")
        for label, mitigation in (("none", None), ("mitig", MITIGATION)):
            shots, planned = _shots_within(H, ref, grid, device, trotter, mitigation, budget)
            start = time.perf_counter()
            data = kr.acquire(H, ref, grid, backend=device, shots=shots, trotter=trotter, with_h=False, seed=1,
                              mitigation=mitigation)
            wall = time.perf_counter() - start
            result, flags = _solve(data)
            err = result.energy - e0
            print(f"{name:<11}{n:>3} {device:<20}{planned.overlaps:<14}{planned.resources.two_qubit_gates:>6}"
                  f"{planned.resources.depth:>7}{label:>6}{data.resources.shots:>9}{wall:>8.1f}{err:>+9.4f}"
                  f"{result.energy - e_trot:>+11.4f}{result.energy_err:>8.4f}{100 * err / abs(e0):>+7.2f}%  "
                  f"{','.join(flags) or '-'}{'' if result.converged else ' (not converged)'}")
        ratio = hadamard.resources.two_qubit_gates / max(planned.resources.two_qubit_gates, 1)
        print(f"two-qubit gates of the largest circuit: Hadamard test / control-free = {ratio:.1f}x")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="n = 4 Heisenberg on FakeTorino, 2e5 shots")
    parser.add_argument("--budget", type=float, default=None, help="total shots per run (default 1e6; quick 2e5)")
    parser.add_argument("--steps-per-dt", type=int, default=1, help="second-order Trotter steps per dt")
    parser.add_argument("--mpf", type=int, nargs="+", default=None,
                        help="a multi-product formula of these steps per dt instead of --steps-per-dt")
    parser.add_argument("--K", type=int, default=K, help="Krylov dimension (lags 0..K)")
    parser.add_argument("--model", choices=("heisenberg", "xxz"), default=None, help="run one model only")
    args = parser.parse_args(argv)
    budget = int(args.budget or (2e5 if args.quick else 1e6))
    trotter = ({"mpf": tuple(args.mpf), "order": 2} if args.mpf
               else {"steps_per_dt": args.steps_per_dt, "order": 2})
    run(args.quick, budget, trotter, args.K, args.model)


if __name__ == "__main__":
    main()
