"""The cost of a Krylov experiment before it runs: :func:`plan`.

``plan(H, refs, times, backend="fake:FakeTorino" | "ibm:<name>", shots=..., trotter=...)`` builds exactly the
circuits :func:`qdyn.krylov.acquire` would send (same overlap method, same product formula), transpiles them with
the backend layer's own compiler (the one :func:`qdyn.circuits.backends.estimate` applies: Qiskit's preset pass
manager, to the device's ISA), and counts, without running anything:

* per logical circuit: two-qubit gates, depth, and the number of measurement settings (qubit-wise commuting groups
  of its observables; each is one executed circuit whose extra basis change is single-qubit gates only);
* executed circuits and shots, mitigation included (:meth:`qdyn.circuits.mitigation.Mitigation.overhead`:
  randomizations times noise factors per setting, plus the readout calibration);
* device time, in seconds: per executed circuit ``shots x (duration + rep_delay) + overhead_per_circuit``, where
  ``duration`` is the circuit's longest path through the Target's gate and measurement durations
  (``QuantumCircuit.estimate_duration``), scaled by the noise factor for folded zero-noise circuits (folding
  repeats the two-qubit layers ``lambda`` times); ``rep_delay`` is the backend's ``default_rep_delay`` (250 us on
  IBM Eagle/Heron devices) and ``overhead_per_circuit`` (default :data:`CIRCUIT_OVERHEAD_S`) an assumed
  per-circuit cost of loading and arming the control electronics: calibrate it against the usage an IBM job
  reports. Simulators have no durations: their ``device_time`` is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from qdyn.errors import check_choice, check_int, check_positive
from qdyn.krylov.acquire import mpf_parts, normalise_refs, normalise_trotter
from qdyn.krylov.circuit_data import OVERLAPS, choose_overlaps, exact_unitary_error, overlap_pubs
from qdyn.krylov.data import check_times
from qdyn.krylov.mpf import combine_resources
from qdyn.operators import as_pauli_op
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = ["plan", "KrylovPlan", "CIRCUIT_OVERHEAD_S", "DEFAULT_REP_DELAY_S"]

CIRCUIT_OVERHEAD_S = 0.05  #: assumed seconds of device time per executed circuit besides its shots
DEFAULT_REP_DELAY_S = 250e-6  #: delay between shots when the backend does not say (IBM's default)


@dataclass(frozen=True)
class KrylovPlan(Result):
    """What a Krylov acquisition would run and cost (see :mod:`qdyn.krylov.plan`).

    ``circuits``: the transpiled logical circuits (measurements appended); ``slots[i]`` = ``(left, ref, lag,
    part)`` of circuit ``i``; ``two_qubit_gates``, ``depths``, ``settings`` (measurement circuits per logical
    circuit) and ``durations`` (seconds per shot at noise factor 1, ``None`` on simulators) per circuit;
    ``executed_circuits`` and ``shots`` in total with the mitigation's overhead; ``device_time`` in seconds
    (``None`` on simulators). ``resources`` holds the same totals and the largest circuit's depth and two-qubit
    count.
    """

    circuits: tuple
    slots: tuple
    two_qubit_gates: np.ndarray
    depths: np.ndarray
    settings: np.ndarray
    durations: np.ndarray | None
    executed_circuits: int
    shots: int
    device_time: float | None
    overlaps: str
    backend: str
    resources: Resources = field(default_factory=Resources)
    metadata: Metadata = field(default_factory=Metadata)

    def rows(self) -> list[dict]:
        """One row per logical circuit: left, ref, lag, part, settings, two-qubit gates, depth, duration."""
        return [{"left": left, "ref": ref, "lag": lag, "part": part, "settings": int(self.settings[i]),
                 "two_qubit_gates": int(self.two_qubit_gates[i]), "depth": int(self.depths[i]),
                 "duration": None if self.durations is None else float(self.durations[i])}
                for i, (left, ref, lag, part) in enumerate(self.slots)]


def _settings(observables) -> int:
    """Qubit-wise commuting groups of the non-identity Pauli terms (measurement circuits of one pub)."""
    from qiskit.quantum_info import SparsePauliOp

    labels = sorted({lab for o in observables for lab in o.paulis.to_labels() if set(lab) != {"I"}})
    return len(SparsePauliOp(labels).group_commuting(qubit_wise=True)) if labels else 0


def _rep_delay(backend) -> float:
    delay = getattr(backend, "default_rep_delay", None)
    if delay is None and hasattr(backend, "configuration"):
        delay = getattr(backend.configuration(), "default_rep_delay", None)
    return float(delay) if delay is not None else DEFAULT_REP_DELAY_S


def _combined(plans: list[KrylovPlan], trotter: dict) -> KrylovPlan:
    """One plan for the circuits of every product formula of a multi-product formula (slots keep their order,
    product formula by product formula)."""
    def joined(name):
        return np.concatenate([getattr(p, name) for p in plans])

    first = plans[0]
    options = dict(first.metadata.options) | {"trotter": trotter}
    return replace(first, circuits=sum((p.circuits for p in plans), ()), slots=sum((p.slots for p in plans), ()),
                   two_qubit_gates=joined("two_qubit_gates"), depths=joined("depths"), settings=joined("settings"),
                   durations=None if first.durations is None else joined("durations"),
                   executed_circuits=sum(p.executed_circuits for p in plans), shots=sum(p.shots for p in plans),
                   device_time=None if first.device_time is None else sum(p.device_time for p in plans),
                   resources=combine_resources([p.resources for p in plans]),
                   metadata=replace(first.metadata, options=options))


def plan(H, refs, times, *, backend, shots: int, trotter, overlaps: str = "auto", mitigation=None, seed=None,
         with_h: bool = True, overhead_per_circuit: float = CIRCUIT_OVERHEAD_S) -> KrylovPlan:
    """The circuits, their costs after transpilation, the shots and the device time of
    ``acquire(H, refs, times, backend=backend, shots=shots, trotter=trotter, overlaps=overlaps,
    mitigation=mitigation, with_h=with_h)``, without running anything (see the module docstring).

    ``backend``: ``"fake:<Name>"`` (offline), ``"ibm:<name>"`` (needs IBM credentials, only to read the device's
    Target), or any circuit target of :func:`qdyn.circuits.backends.resolve_target`. ``seed`` seeds the
    transpiler (as in ``acquire``).
    """
    from qdyn.circuits.backends import circuit_costs, compile_circuits, resolve_target  # estimate()'s transpilation
    from qdyn.circuits.mitigation import resolve_mitigation

    op = as_pauli_op(H)
    refs = normalise_refs(refs, op.num_qubits)
    times, dt = check_times(times)
    trotter = normalise_trotter(trotter)
    shots = check_int("shots", shots, minimum=1)
    check_choice("overlaps", overlaps, OVERLAPS)
    overhead_per_circuit = check_positive("overhead_per_circuit", overhead_per_circuit, allow_zero=True)
    if not isinstance(with_h, bool):
        raise TypeError("with_h must be True or False")
    tgt = resolve_target(backend)
    parts = mpf_parts(trotter)
    if parts is not None:  # a multi-product formula runs the circuits of each of its product formulas
        plans = [plan(H, refs, times, backend=tgt, shots=shots, trotter=part, overlaps=overlaps,
                      mitigation=mitigation, seed=seed, with_h=with_h, overhead_per_circuit=overhead_per_circuit)
                 for part in parts]
        return _combined(plans, trotter)
    if isinstance(trotter, dict):
        from qdyn.circuits.trotter_layers import layered_hamiltonian

        op = layered_hamiltonian(op)
    choice = choose_overlaps(op, refs, trotter, overlaps)
    if trotter is None:
        raise exact_unitary_error(tgt.name, op.num_qubits, choice.method)
    noisy = tgt.is_device and tgt.options.get("noise", True)
    mit = resolve_mitigation(mitigation, noisy=noisy)
    rng, recorded = make_rng(seed)
    with Stopwatch() as clock:
        pubs, slots, _, _ = overlap_pubs(op, refs, times, trotter=trotter, with_h=with_h, choice=choice)
        measured = []
        for qc, _ in pubs:
            qc = qc.copy()
            qc.measure_all()
            measured.append(qc)
        compiled = compile_circuits(measured, tgt, int(rng.integers(0, 2**31 - 1)))
    costs = np.array([circuit_costs(c) for c in compiled], dtype=int).reshape(-1, 2)
    settings = np.array([_settings(obs) for _, obs in pubs], dtype=int)
    n_settings = int(settings.sum())
    if mit is None:
        executed, total_shots, factors = n_settings, n_settings * shots, (1.0,)
        per_setting = [(1.0, 1, shots)]
        calibration = (0, 0)
    else:
        over = mit.overhead(shots)
        executed = n_settings * over.circuits + over.calibration_circuits
        total_shots = n_settings * over.shots + over.calibration_shots
        factors = mit.noise_factors
        per_setting = [(f, over.circuits // len(factors), over.shots // len(factors)) for f in factors]
        calibration = (over.calibration_circuits, over.calibration_shots)
    durations, device_time = None, None
    if tgt.is_device:
        delay = _rep_delay(tgt.backend)
        durations = np.array([c.estimate_duration(tgt.backend.target, unit="s") for c in compiled])
        device_time = 0.0
        for factor, n_exec, n_shots in per_setting:
            device_time += float(np.sum(settings * (n_shots * (factor * durations + delay)
                                                    + n_exec * overhead_per_circuit)))
        # the readout calibration: measurement-only circuits
        measure_time = max(((p.duration or 0.0) for p in tgt.backend.target["measure"].values() if p is not None),
                           default=0.0)
        device_time += calibration[1] * (measure_time + delay) + calibration[0] * overhead_per_circuit
    resources = Resources(evolutions=sum(1 for _, _, m, _ in slots if m > 0), circuits=executed,
                          shots=total_shots, depth=int(costs[:, 0].max(initial=0)),
                          two_qubit_gates=int(costs[:, 1].max(initial=0)), wall_time=clock.elapsed)
    metadata = make_metadata(seed=recorded, backend=tgt.name, trotter=trotter, shots=shots, dt=dt,
                             overlaps=choice.method, overlaps_reason=choice.reason,
                             mitigation=None if mit is None else mit.to_dict(),
                             overhead_per_circuit=overhead_per_circuit)
    return KrylovPlan(circuits=tuple(compiled), slots=tuple(slots), two_qubit_gates=costs[:, 1],
                      depths=costs[:, 0], settings=settings, durations=durations, executed_circuits=executed,
                      shots=total_shots, device_time=device_time, overlaps=choice.method, backend=tgt.name,
                      resources=resources, metadata=metadata)
