"""Krylov data from Hadamard-test circuits on any target of :mod:`qdyn.circuits` (simulators, fake or real IBM).

For every lag ``t_m`` and reference pair ``(a, b)`` one circuit prepares ``(|0>|phi_a> + |1>U(t_m)|phi_b>)/sqrt 2``
(:func:`qdyn.circuits.hadamard.hadamard_test`) and a second one its ``Y`` partner. Because ``H`` is Hermitian the
same circuits also give the Hamiltonian rows: ``<X_anc (x) H> = Re <phi_a|H U|phi_b>`` and
``<Y_anc (x) H> = Im <phi_a|H U|phi_b>``, measured in qubit-wise commuting groups of ``X (x) P_j`` (no controlled
Pauli circuits needed). The diagonal lag-0 elements are real, so their ``Y`` circuit is skipped.

``trotter={"steps_per_dt": r, "order": p}`` evolves ``t_m`` with ``m r`` product-formula steps (the same unitary as the
``"trotter"`` backend); ``trotter=None`` uses the exact unitary as a gate (simulators, small registers).
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.exact import spectral_bounds
from qdyn.krylov.data import KrylovData
from qdyn.results import Resources, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = ["acquire_circuits"]


def acquire_circuits(op: SparsePauliOp, refs: np.ndarray, times: np.ndarray, dt: float, *, target, shots,
                     trotter, seed, with_h: bool, progress: bool = False, execution: str = "job") -> KrylovData:
    """Hadamard-test Krylov rows on ``target`` (see the module docstring); called by :func:`qdyn.krylov.acquire`.
    ``execution``: the IBM execution mode, ``"job"`` or ``"batch"``."""
    from tqdm.auto import tqdm

    from qdyn.circuits.backends import estimate, resolve_target
    from qdyn.circuits.hadamard import hadamard_test
    from qdyn.circuits.state_prep import state_circuit

    tgt = resolve_target(target)
    rng, recorded = make_rng(seed)
    n_refs, n_times = refs.shape[0], times.size
    preps = [state_circuit(r) for r in refs]
    x_obs = [SparsePauliOp("X" + "I" * op.num_qubits)]
    y_obs = [SparsePauliOp("Y" + "I" * op.num_qubits)]
    if with_h:
        x_obs.append(SparsePauliOp("X").tensor(op))
        y_obs.append(SparsePauliOp("Y").tensor(op))
    pubs, slots = [], []
    for m in tqdm(range(n_times), desc="hadamard circuits", disable=not progress):
        steps = None if trotter is None else max(1, m * trotter["steps_per_dt"])
        order = 2 if trotter is None else trotter["order"]
        for a in range(n_refs):
            for b in range(n_refs):
                left = None if a == b else preps[a]
                for part, obs in (("real", x_obs), ("imag", y_obs)):
                    if m == 0 and a == b and part == "imag":
                        continue
                    qc, _ = hadamard_test(op, float(times[m]), preps[b], ref_left=left, part=part,
                                          steps=steps, order=order)
                    pubs.append((qc, obs))
                    slots.append((a, b, m, part))
    with Stopwatch() as clock:
        est = estimate(pubs, tgt, shots=shots, seed=rng, execution=execution)
    s = np.zeros((n_refs, n_refs, n_times), dtype=complex)
    s_err = np.zeros_like(s)
    h = np.zeros_like(s) if with_h else None
    h_err = np.zeros_like(s) if with_h else None
    for (a, b, m, part), vals, errs in zip(slots, est.values, est.std_errors, strict=True):
        unit = 1.0 if part == "real" else 1j
        s[a, b, m] += unit * vals[0]
        s_err[a, b, m] += unit * errs[0]
        if with_h:
            h[a, b, m] += unit * vals[1]
            h_err[a, b, m] += unit * errs[1]
    for arr in (s, h):
        if arr is not None:
            arr[:, :, 0] = (arr[:, :, 0] + arr[:, :, 0].conj().T) / 2
    res = est.resources
    resources = Resources(evolutions=sum(1 for _, _, m, _ in slots if m > 0), circuits=res.circuits,
                          shots=res.shots, depth=res.depth, two_qubit_gates=res.two_qubit_gates,
                          wall_time=clock.elapsed)
    metadata = make_metadata(seed=recorded, backend=tgt.name, trotter=trotter, shots=shots, n_refs=n_refs,
                             n_times=n_times, dt=dt, job_ids=list(est.job_ids), estimate_seed=est.metadata.seed)
    bounds = spectral_bounds(op, method="lanczos")
    return KrylovData(times=times, dt=dt, s=s, h=h, s_err=s_err, h_err=h_err, bounds=tuple(map(float, bounds)),
                      backend=tgt.name, resources=resources, metadata=metadata)
