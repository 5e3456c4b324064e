"""Krylov data from circuits on any target of :mod:`qdyn.circuits` (simulators, fake or real IBM devices).

Two ways to measure ``s[a, b, m] = <phi_a|U(t_m)|phi_b>`` (``overlaps=``):

* ``"control-free"`` (:mod:`qdyn.circuits.control_free`): for references that are computational basis states and
  a basis state ``|v>`` (``|0...0>`` or ``|1...1>``) that the evolution keeps as an eigenstate (Hamiltonians that
  conserve the particle number / total ``Z`` magnetisation), ``(|v> + |x_b>)/sqrt 2`` is evolved with no control
  qubit and un-prepared towards ``x_a``; two circuits per element give ``e^{i E_v t} s``, ``E_v = <v|H|v>``
  computed classically. The Hamiltonian rows come term by term in the basis:
  ``h_ab = <x_a|H U|x_b> = sum_y <x_a|H|y> <y|U|x_b>`` over the basis states ``y`` that ``H`` couples to
  ``x_a`` (:func:`qdyn.circuits.control_free.basis_action`), i.e. one more overlap per coupled state.
* ``"hadamard"`` (:func:`qdyn.circuits.hadamard.hadamard_test`): for every lag and pair one circuit prepares
  ``(|0>|phi_a> + |1>U|phi_b>)/sqrt 2`` and a second one its ``Y`` partner; ``<X_anc (x) H>`` and ``<Y_anc (x) H>``
  give ``Re``/``Im`` of ``h`` from the same circuits. Any references, any Hamiltonian.

``"auto"`` picks control-free when it applies. The diagonal lag-0 elements are real, so their ``Im`` circuit is
skipped. ``trotter={"steps_per_dt": r, "order": p}`` evolves ``t_m`` with ``m r`` steps of the layered product
formula of :func:`qdyn.circuits.trotter_layers.layered_hamiltonian` (which the ``"trotter"`` backend applies too);
``trotter="exact"`` puts the exact unitary in as a gate (small registers, simulators).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.exact import spectral_bounds
from qdyn.krylov.data import KrylovData
from qdyn.results import Resources, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = ["acquire_circuits", "overlap_pubs", "choose_overlaps", "OVERLAPS", "exact_unitary_error"]

OVERLAPS = ("auto", "control-free", "hadamard")


@dataclass(frozen=True)
class _Choice:
    """The overlap method and, for control-free, the vacuum and the references as basis states with phases."""

    method: str
    vacuum: int | None = None
    energy: float | None = None
    indices: tuple[int, ...] = ()
    phases: tuple[complex, ...] = ()
    reason: str = ""


def _as_basis(refs: np.ndarray) -> tuple[list[int], list[complex]] | None:
    """Each reference as ``phase |index>``, or ``None`` when one is not a basis state."""
    indices, phases = [], []
    for r in refs:
        nonzero = np.flatnonzero(np.abs(r) > 1e-12)
        if nonzero.size != 1:
            return None
        indices.append(int(nonzero[0]))
        phases.append(complex(r[nonzero[0]]))
    return indices, phases


def choose_overlaps(op: SparsePauliOp, refs: np.ndarray, trotter, overlaps: str) -> _Choice:
    """Resolve ``overlaps`` (see the module docstring); an explicit ``"control-free"`` that does not apply is a
    ``ValueError`` saying why."""
    from qdyn.circuits.control_free import MAX_QUBITS, vacuum_energy

    if overlaps == "hadamard":
        return _Choice("hadamard", reason="requested")
    n = op.num_qubits
    basis = _as_basis(refs)
    reason = ""
    if basis is None:
        reason = "the references are not all computational basis states"
    elif n > MAX_QUBITS:
        reason = f"{n} qubits exceed the {MAX_QUBITS} of the control-free projector observable"
    else:
        indices, phases = basis
        for vacuum in (0, 2**n - 1):
            if vacuum in indices:
                continue
            energy = vacuum_energy(op, vacuum, product_formula=isinstance(trotter, dict))
            if energy is not None:
                return _Choice("control-free", vacuum, energy, tuple(indices), tuple(phases),
                               reason=f"|{vacuum:0{n}b}> is an eigenstate of the evolution")
        reason = ("neither |0...0> nor |1...1> is an eigenstate of the evolution (or of every factor of the "
                  "product formula) apart from the references: H does not conserve the particle number")
    if overlaps == "control-free":
        raise ValueError(f"overlaps='control-free' does not apply: {reason}; use overlaps='hadamard'")
    return _Choice("hadamard", reason=reason)


def exact_unitary_error(target, n_qubits: int, method: str) -> ValueError:
    """The error for ``trotter=None`` on a circuit target, with the two-qubit count and depth the exact unitary
    would cost: an ``m``-qubit unitary (``m = n + 1`` when controlled by the Hadamard test's ancilla) takes
    ``(23/48) 4^m - (3/2) 2^m + 4/3`` CNOTs in the quantum Shannon decomposition (Shende, Bullock & Markov,
    IEEE TCAD 25, 1000 (2006)), nearly all in sequence, so the depth is at least as large."""
    m = n_qubits + (method == "hadamard")
    cnots = int(round(23 / 48 * 4**m - 1.5 * 2**m + 4 / 3))
    return ValueError(f"backend={target!r} runs circuits and trotter=None would synthesise the exact "
                      f"exp(-iHt) as a dense {'controlled ' if method == 'hadamard' else ''}gate on {m} qubits: "
                      f"about {cnots} two-qubit gates and a depth of at least {cnots} per circuit (quantum "
                      "Shannon decomposition); pass trotter={'steps_per_dt': r, 'order': 2} for shallow "
                      "product-formula circuits, or trotter='exact' to opt in to the dense unitary")


def _evolution(op, t: float, trotter, m: int):
    from qdyn.circuits.evolution import evolution_circuit
    from qdyn.circuits.trotter_layers import layered_evolution_circuit

    if trotter == "exact":
        return evolution_circuit(op, t, steps=None)
    return layered_evolution_circuit(op, t, steps=max(1, m * trotter["steps_per_dt"]), order=trotter["order"])


def _lefts(op, choice: _Choice, with_h: bool) -> tuple[list[int], list[dict[int, complex]]]:
    """Basis states whose overlaps are measured (the references, then the states ``H`` couples them to) and, per
    reference, ``H|x_a>`` as ``{index: amplitude}``."""
    from qdyn.circuits.control_free import basis_action

    lefts = list(dict.fromkeys(choice.indices))
    actions = []
    if with_h:
        for index in choice.indices:
            action = {y: c for y, c in basis_action(op, index).items() if y != choice.vacuum}  # <v|U|x_b> = 0
            actions.append(action)
            lefts += [y for y in action if y not in lefts]
    return lefts, actions


def overlap_pubs(op: SparsePauliOp, refs: np.ndarray, times: np.ndarray, *, trotter, with_h: bool,
                 choice: _Choice, progress: bool = False):
    """``(pubs, slots, lefts, actions)``: the circuits with their observables, and per pub ``(left, b, m, part)``;
    ``left`` indexes the references (Hadamard) or ``lefts`` (control-free basis states)."""
    from tqdm.auto import tqdm

    n_refs, n_times = refs.shape[0], times.size
    pubs, slots = [], []
    if choice.method == "control-free":
        from qdyn.circuits.control_free import control_free_overlap

        lefts, actions = _lefts(op, choice, with_h)
        for m in tqdm(range(n_times), desc="control-free circuits", disable=not progress):
            evolution = _evolution(op, float(times[m]), trotter, m)
            for k, y in enumerate(lefts):
                for b in range(n_refs):
                    for part in ("real", "imag"):
                        if m == 0 and part == "imag" and y == choice.indices[b]:
                            continue
                        qc, obs = control_free_overlap(evolution, choice.vacuum, choice.indices[b], ref_left=y,
                                                       part=part)
                        pubs.append((qc, [obs]))
                        slots.append((k, b, m, part))
        return pubs, slots, lefts, actions

    from qdyn.circuits.hadamard import hadamard_test
    from qdyn.circuits.state_prep import state_circuit

    preps = [state_circuit(r) for r in refs]
    x_obs = [SparsePauliOp("X" + "I" * op.num_qubits)]
    y_obs = [SparsePauliOp("Y" + "I" * op.num_qubits)]
    if with_h:
        x_obs.append(SparsePauliOp("X").tensor(op))
        y_obs.append(SparsePauliOp("Y").tensor(op))
    for m in tqdm(range(n_times), desc="hadamard circuits", disable=not progress):
        steps = None if trotter == "exact" else max(1, m * trotter["steps_per_dt"])
        order = 2 if trotter == "exact" else trotter["order"]
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
    return pubs, slots, [], []


def _rotate(values: np.ndarray, errors: np.ndarray, factor: np.ndarray):
    """``factor * values`` and the 1-sigma errors of its real and imaginary parts (``errors = sigma_re + i
    sigma_im`` of independent parts): ``Var Re(c v) = Re(c)^2 s_re^2 + Im(c)^2 s_im^2`` and likewise for ``Im``."""
    cr, ci = factor.real, factor.imag
    var_re = cr**2 * errors.real**2 + ci**2 * errors.imag**2
    var_im = ci**2 * errors.real**2 + cr**2 * errors.imag**2
    return factor * values, var_re, var_im


def _decode_control_free(est, slots, choice: _Choice, lefts, actions, times, n_refs: int, with_h: bool):
    """``s`` and ``h`` (with errors) from the control-free pubs: ``s_yb = e^{-i E_v t} (<O>_re + i <O>_im)``,
    references' phases applied, ``h_ab = sum_y conj(<y|H|x_a>) s_yb``."""
    raw = np.zeros((len(lefts), n_refs, times.size), dtype=complex)
    raw_err = np.zeros_like(raw)
    for (k, b, m, part), vals, errs in zip(slots, est.values, est.std_errors, strict=True):
        unit = 1.0 if part == "real" else 1j
        raw[k, b, m] += unit * vals[0]
        raw_err[k, b, m] += unit * errs[0]
    basis, var_re, var_im = _rotate(raw, raw_err, np.exp(-1j * choice.energy * times)[None, None, :])
    phases = np.asarray(choice.phases)
    position = {y: k for k, y in enumerate(lefts)}
    rows = [position[x] for x in choice.indices]
    pair = (phases.conj()[:, None] * phases[None, :])[:, :, None]  # conj(alpha_a) alpha_b
    s, s_vr, s_vi = _rotate(basis[rows], np.sqrt(var_re[rows]) + 1j * np.sqrt(var_im[rows]), pair)
    s_err = np.sqrt(s_vr) + 1j * np.sqrt(s_vi)
    if not with_h:
        return s, s_err, None, None
    h = np.zeros_like(s)
    h_vr = np.zeros(s.shape)
    h_vi = np.zeros(s.shape)
    for a, action in enumerate(actions):
        for y, amp in action.items():
            k = position[y]
            factor = np.conj(amp) * pair[a]
            val, vr, vi = _rotate(basis[k], np.sqrt(var_re[k]) + 1j * np.sqrt(var_im[k]), factor)
            h[a] += val
            h_vr[a] += vr
            h_vi[a] += vi
    return s, s_err, h, np.sqrt(h_vr) + 1j * np.sqrt(h_vi)


def _decode_hadamard(est, slots, n_refs: int, n_times: int, with_h: bool):
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
    return s, s_err, h, h_err


def acquire_circuits(op: SparsePauliOp, refs: np.ndarray, times: np.ndarray, dt: float, *, target, shots,
                     trotter, seed, with_h: bool, progress: bool = False, execution: str = "job",
                     overlaps: str = "auto", mitigation=None) -> KrylovData:
    """Krylov rows on ``target`` (see the module docstring); called by :func:`qdyn.krylov.acquire`, which has
    reordered ``op`` into layers when ``trotter`` is a product formula. ``execution``: the IBM execution mode,
    ``"job"`` or ``"batch"``; ``mitigation`` goes to :func:`qdyn.circuits.backends.estimate` as it is."""
    from qdyn.circuits.backends import estimate, resolve_target

    tgt = resolve_target(target)
    choice = choose_overlaps(op, refs, trotter, overlaps)
    if trotter is None:
        raise exact_unitary_error(tgt.name, op.num_qubits, choice.method)
    rng, recorded = make_rng(seed)
    n_refs, n_times = refs.shape[0], times.size
    pubs, slots, lefts, actions = overlap_pubs(op, refs, times, trotter=trotter, with_h=with_h, choice=choice,
                                               progress=progress)
    with Stopwatch() as clock:
        est = estimate(pubs, tgt, shots=shots, seed=rng, execution=execution, mitigation=mitigation)
    if choice.method == "control-free":
        s, s_err, h, h_err = _decode_control_free(est, slots, choice, lefts, actions, times, n_refs, with_h)
    else:
        s, s_err, h, h_err = _decode_hadamard(est, slots, n_refs, n_times, with_h)
    for arr in (s, h):
        if arr is not None:
            arr[:, :, 0] = (arr[:, :, 0] + arr[:, :, 0].conj().T) / 2
    res = est.resources
    resources = Resources(evolutions=sum(1 for _, _, m, _ in slots if m > 0), circuits=res.circuits,
                          shots=res.shots, depth=res.depth, two_qubit_gates=res.two_qubit_gates,
                          wall_time=clock.elapsed)
    metadata = make_metadata(seed=recorded, backend=tgt.name, trotter=trotter, shots=shots, n_refs=n_refs,
                             n_times=n_times, dt=dt, job_ids=list(est.job_ids), estimate_seed=est.metadata.seed,
                             overlaps=choice.method, overlaps_reason=choice.reason, vacuum=choice.vacuum,
                             vacuum_energy=choice.energy, mitigation=est.metadata.options.get("mitigation"))
    bounds = spectral_bounds(op, method="lanczos")
    return KrylovData(times=times, dt=dt, s=s, h=h, s_err=s_err, h_err=h_err, bounds=tuple(map(float, bounds)),
                      backend=tgt.name, resources=resources, metadata=metadata)
