"""The backend layer: resolve a target, run circuits + observables, return values with standard errors.

Targets (:func:`resolve_target`)
--------------------------------
``"statevector"`` (Qiskit's reference primitives), ``"aer"`` (Qiskit Aer, CPU), ``"aer-gpu"`` (Aer on a GPU),
``"lightning"`` / ``"lightning.gpu"`` (PennyLane Lightning), ``"fake:<Name>"`` (a qiskit-ibm-runtime fake device,
run locally with its noise model), ``"ibm:<backend>"`` (IBM Quantum through :mod:`qdyn.circuits.ibm`), or a
``BackendV2`` object. A GPU target without a usable GPU is a ``ValueError`` naming what is missing.

Estimation (:func:`estimate`), modelled on the V2 primitives: pubs ``(circuit, observables)`` in, expectation
values and standard errors out.

* ``shots=None`` (simulators only): exact expectation values (``StatevectorEstimator``; Aer's ``EstimatorV2`` with
  zero precision), standard error 0.
* ``shots=N``: every pub's Pauli terms are split into qubit-wise commuting groups; each group is one circuit with
  the basis change and measurements appended, run through a V2 sampler (device targets: ISA circuits from
  ``generate_preset_pass_manager``). A term's value is the mean of ``(-1)^parity`` over the shots; an observable's
  standard error is the sample standard deviation of ``sum_t c_t (-1)^{parity_t}`` over the shots of its group
  divided by ``sqrt(N)`` (covariances inside a group included), with groups independent.

Mitigation (``mitigation=None | "auto" | Mitigation(...)``, :mod:`qdyn.circuits.mitigation`) composes with the
sampled path: each compiled measurement circuit is folded for every ZNE noise factor, twirled ``R`` times (gates
and, with readout mitigation, measurements), padded with dynamical decoupling (:mod:`qdyn.circuits.mitigated`), and
the readout calibration runs in the same job. A term's value at noise factor ``lambda`` is the mean over the
randomizations of its parity, divided by its TREX factor; the zero-noise value is the fit's linear combination of the
noise factors' values. Its standard error combines the larger of the shot variance and the spread over
randomizations, the fit's weights, and the calibration's own variance (delta method). On ``"ibm:<name>"`` the
runtime's ``EstimatorV2`` applies the same settings (:func:`qdyn.circuits.ibm.estimator`) and reports its own
standard errors; a ``Target`` with ``options={"estimator": "runtime"}`` sends a fake device there too (local mode,
which runs the options without mitigating).

The result records shots, the largest depth and two-qubit gate count of the executed circuits, the seed and the
job ids; a job sent to IBM can be fetched again with :func:`qdyn.circuits.ibm.fetch_job`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qdyn.circuits.mitigated import calibration_circuits, executed_variants, flip_masks, measured_qubits
from qdyn.circuits.mitigation import Mitigation, resolve_mitigation
from qdyn.circuits.sample_statistics import combine_draws, moments, outcomes, parities, readout_factors
from qdyn.deprecation import renamed_arguments
from qdyn.errors import check_int
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = ["Target", "Estimates", "resolve_target", "estimate", "circuit_costs", "compile_circuits",
           "SIMULATOR_NAMES"]

SIMULATOR_NAMES = ("statevector", "aer", "aer-gpu", "lightning", "lightning.gpu")


@dataclass(frozen=True)
class Target:
    """A runnable target. ``kind``: ``"statevector" | "aer" | "lightning" | "device"``."""

    name: str
    kind: str
    backend: object = None
    is_device: bool = False
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Estimates(Result):
    """Expectation values ``values[i][j]`` of observable ``j`` of pub ``i`` (ragged pubs are padded with NaN).

    With client-side mitigation, ``noise_scaled_values[i][j][f]`` and ``noise_scaled_errors`` are the
    (readout-mitigated, twirl-averaged) values at ``noise_factors[f]`` before the zero-noise fit; ``None`` otherwise.
    """

    values: np.ndarray
    std_errors: np.ndarray
    target: str
    shots: int | None
    job_ids: tuple[str, ...]
    resources: Resources = field(default_factory=Resources)
    metadata: Metadata = field(default_factory=Metadata)
    noise_factors: tuple[float, ...] | None = None
    noise_scaled_values: np.ndarray | None = None
    noise_scaled_errors: np.ndarray | None = None


def _aer_gpu_available() -> bool:
    from qiskit_aer import AerSimulator

    return "GPU" in AerSimulator().available_devices()


def _lightning_device(name: str):
    from qdyn.errors import require

    qml = require("pennylane", purpose=f"the {name!r} target")
    short = name.split(".", 1)[1] if "." in name else "qubit"
    try:
        qml.device(f"lightning.{short}", wires=1)
    except Exception as exc:  # noqa: BLE001 - plugin missing or no GPU: both mean the target cannot run
        what = ("a CUDA GPU and `pip install pennylane-lightning-gpu`" if short == "gpu"
                else "`pip install pennylane-lightning`")
        raise ValueError(f"target {name!r} is not available here ({exc.__class__.__name__}); it needs {what}; "
                         "use target='statevector' or 'aer' on the CPU") from exc
    return f"lightning.{short}"


def resolve_target(target, *, noise: bool = True) -> Target:
    """A :class:`Target` from a name (see the module docstring), a ``BackendV2`` or a ``Target``.

    ``noise=False`` (fake devices only) keeps the device's transpile-and-run path but simulates it without its noise
    model, so results can be compared with exact values within their shot error bars.
    """
    if isinstance(target, Target):
        return target
    if not noise and not (isinstance(target, str) and target.startswith("fake:")):
        raise ValueError("noise=False applies only to fake devices ('fake:<Name>')")
    if not isinstance(target, str):
        from qiskit.providers import BackendV2

        if isinstance(target, BackendV2):
            from qiskit_aer import AerSimulator

            if isinstance(target, AerSimulator):
                return Target(name=target.name, kind="aer", backend=target)
            return Target(name=getattr(target, "name", type(target).__name__), kind="device", backend=target,
                          is_device=True)
        raise TypeError(f"target must be a name {SIMULATOR_NAMES + ('fake:<Name>', 'ibm:<backend>')} or a "
                        f"qiskit BackendV2, got {type(target).__name__}")
    if target == "statevector":
        return Target(name=target, kind="statevector")
    if target in ("aer", "aer-gpu"):
        from qiskit_aer import AerSimulator

        if target == "aer-gpu" and not _aer_gpu_available():
            raise ValueError("target 'aer-gpu' needs a CUDA GPU and the GPU build of Aer "
                             "(`pip install qiskit-aer-gpu`); none is available here; use target='aer' on the CPU")
        device = "GPU" if target == "aer-gpu" else "CPU"
        return Target(name=target, kind="aer", backend=AerSimulator(method="statevector", device=device))
    if target in ("lightning", "lightning.qubit", "lightning.gpu"):
        return Target(name=target, kind="lightning", backend=_lightning_device(target))
    if target.startswith("fake:"):
        from qdyn.circuits.ibm import fake_backend

        return Target(name=target if noise else f"{target}(ideal)", kind="device", backend=fake_backend(target[5:]),
                      is_device=True, options={"noise": noise})
    if target.startswith("ibm:"):
        from qdyn.circuits.ibm import ibm_backend

        return Target(name=target, kind="device", backend=ibm_backend(target[4:]), is_device=True)
    raise ValueError(f"unknown target {target!r}; expected one of {SIMULATOR_NAMES}, 'fake:<Name>', "
                     "'ibm:<backend>' or a qiskit BackendV2")


def circuit_costs(circuit: QuantumCircuit) -> tuple[int, int]:
    """``(depth, two-qubit gates)`` of a circuit as it is executed."""
    two = sum(1 for inst in circuit.data if inst.operation.num_qubits == 2 and inst.operation.name != "barrier")
    return int(circuit.depth()), int(two)


def _shared_layout(circuits: list[QuantumCircuit], target: Target, seed: int) -> list[int]:
    """The physical qubits (index = virtual qubit) every circuit of one call runs on: the noise-aware layout of
    the preset pass manager at level 2 (VF2 layout scored by the device's gate and readout errors) for the
    circuit with the most multi-qubit gates. One layout for all keeps the circuits of one experiment (e.g. the
    lags of a Krylov run) on the same qubits, so they see the same noise; level 1 alone places a chain on the
    first qubits that fit, whatever their errors."""
    from qiskit.transpiler import generate_preset_pass_manager

    largest = max(circuits, key=lambda c: sum(1 for inst in c.data if inst.operation.num_qubits >= 2))
    pm = generate_preset_pass_manager(optimization_level=2, backend=target.backend, seed_transpiler=seed)
    return list(pm.run(largest).layout.initial_index_layout(filter_ancillas=True))


def compile_circuits(circuits: list[QuantumCircuit], target: Target, seed: int) -> list[QuantumCircuit]:
    """ISA circuits for devices (preset pass manager, level 1, on the :func:`_shared_layout`); simulators get
    ``u``/``cx`` decompositions."""
    from qiskit.transpiler import generate_preset_pass_manager

    if target.is_device:
        layout = _shared_layout(circuits, target, seed)
        pm = generate_preset_pass_manager(optimization_level=1, backend=target.backend, seed_transpiler=seed,
                                          initial_layout=layout)
    else:
        pm = generate_preset_pass_manager(optimization_level=1, basis_gates=["u", "cx"], seed_transpiler=seed)
    return pm.run(circuits)


def _normalise_pubs(pubs) -> list[tuple[QuantumCircuit, list[SparsePauliOp]]]:
    if not isinstance(pubs, list | tuple) or not pubs:
        raise TypeError("pubs must be a non-empty list of (circuit, observable or list of observables)")
    out = []
    for i, pub in enumerate(pubs):
        if not (isinstance(pub, tuple) and len(pub) == 2 and isinstance(pub[0], QuantumCircuit)):
            raise TypeError(f"pubs[{i}] must be a (QuantumCircuit, observables) pair")
        circuit, obs = pub
        obs_list = list(obs) if isinstance(obs, list | tuple) else [obs]
        ops = []
        for o in obs_list:
            o = SparsePauliOp(o) if isinstance(o, str) else o
            if not isinstance(o, SparsePauliOp) or o.num_qubits != circuit.num_qubits:
                raise ValueError(f"pubs[{i}]: observables must be SparsePauliOps on {circuit.num_qubits} qubits")
            ops.append(o)
        if circuit.num_clbits:
            raise ValueError(f"pubs[{i}]: the circuit must not measure (the backend layer adds measurements)")
        out.append((circuit, ops))
    return out


def _exact(pubs, target: Target, seed: int):
    circuits = compile_circuits([c for c, _ in pubs], target, seed)
    if target.kind == "statevector":
        from qiskit.primitives import StatevectorEstimator

        estimator = StatevectorEstimator()
    elif target.kind == "aer":
        from qiskit_aer.primitives import EstimatorV2

        estimator = EstimatorV2(options={"default_precision": 0.0,
                                         "backend_options": {"method": "statevector",
                                                             "device": target.backend.options.device}})
    else:
        from qdyn.circuits.lightning import lightning_expectations

        values = lightning_expectations(circuits, [obs for _, obs in pubs], target.backend, shots=None)
        return values, circuits
    result = estimator.run([(c, obs) for c, (_, obs) in zip(circuits, pubs, strict=True)]).result()
    return [np.asarray(r.data.evs, dtype=float) for r in result], circuits


def _measurement_circuit(circuit: QuantumCircuit, group: SparsePauliOp) -> tuple[QuantumCircuit, list[int]]:
    """``circuit`` + basis change to Z on the union support of a qubit-wise commuting group + measurements."""
    n = circuit.num_qubits
    x = np.any(group.paulis.x, axis=0)
    z = np.any(group.paulis.z, axis=0)
    support = [q for q in range(n) if x[q] or z[q]]
    qc = circuit.copy()
    for q in support:
        if x[q] and z[q]:  # Y
            qc.sdg(q)
            qc.h(q)
        elif x[q]:
            qc.h(q)
    if support:
        creg = ClassicalRegister(len(support), "meas")
        qc.add_register(creg)
        qc.measure(support, creg)
    return qc, support


def _active_qubits(circuits: list[QuantumCircuit]) -> list[int]:
    """The qubits any instruction of ``circuits`` acts on (physical qubits for ISA circuits)."""
    return sorted({c.find_bit(q).index for c in circuits for inst in c.data for q in inst.qubits})


def _run_sampler(circuits: list[QuantumCircuit], target: Target, shots: int, seed: int, execution: str):
    """Counts per circuit and the job ids."""
    if target.kind == "statevector":
        from qiskit.primitives import StatevectorSampler

        job = StatevectorSampler(default_shots=shots, seed=np.random.default_rng(seed)).run(circuits)
        return [r.data.meas.get_counts() for r in job.result()], ()
    if target.kind == "aer":
        from qiskit_aer.primitives import SamplerV2

        options = {"backend_options": {"method": "statevector", "device": target.backend.options.device}}
        if getattr(target.backend.options, "noise_model", None) is not None:  # an AerSimulator with a noise model
            options["backend_options"]["noise_model"] = target.backend.options.noise_model
        job = SamplerV2(default_shots=shots, seed=seed, options=options).run(circuits)
        return [r.data.meas.get_counts() for r in job.result()], ()
    if target.kind == "lightning":
        from qdyn.circuits.lightning import lightning_counts

        return lightning_counts(circuits, target.backend, shots=shots, seed=seed), ()
    from qdyn.circuits.ibm import sampler

    runner, batch = sampler(target.backend, shots=shots, seed=seed, execution=execution,
                            noise=target.options.get("noise", True), qubits=_active_qubits(circuits))
    try:
        job = runner.run(circuits)
        result = job.result()
    finally:
        if batch is not None:
            batch.close()
    return [r.data.meas.get_counts() for r in result], (job.job_id(),)


def _measurement_plan(pubs):
    """Per measurement circuit: ``(pub index, term columns, coefficient matrix (observables, terms))`` and the
    circuits (one per qubit-wise commuting group of each pub's non-identity Pauli terms)."""
    plans, circuits = [], []
    for p, (circuit, observables) in enumerate(pubs):
        n = circuit.num_qubits
        terms = [o.simplify(atol=0).to_list() for o in observables]  # (label, coefficient), labels unique
        weights = [{lab: float(np.real(c)) for lab, c in t} for t in terms]
        labels = sorted({lab for t in terms for lab, _ in t if set(lab) != {"I"}})
        for group in SparsePauliOp(labels).group_commuting(qubit_wise=True) if labels else []:
            g_labels = group.paulis.to_labels()
            qc, support = _measurement_circuit(circuit, group)
            columns = [[k for k, q in enumerate(support) if lab[n - 1 - q] != "I"] for lab in g_labels]
            coeffs = np.array([[w.get(lab, 0.0) for lab in g_labels] for w in weights])
            plans.append((p, columns, coeffs))
            circuits.append(qc)
    return plans, circuits


def _sampled(pubs, target: Target, shots: int, seed: int, execution: str, mitigation: Mitigation | None,
             rng: np.random.Generator):
    """Values, standard errors, executed circuits, shots executed and job ids from sampled measurement circuits,
    mitigated client side (see the module docstring)."""
    mitigation = mitigation or Mitigation()
    plans, circuits = _measurement_plan(pubs)
    compiled = compile_circuits(circuits, target, seed) if circuits else []
    variants = executed_variants(compiled, mitigation, rng=rng,
                                 device_target=target.backend.target if target.is_device else None)
    executed = [v.circuit for v in variants]
    per_draw = math.ceil(shots / mitigation.randomizations)
    measured = [measured_qubits(c) for c in compiled]
    if mitigation.readout and compiled:
        union = sorted({q for qubits in measured for q in qubits})
        cal_masks = flip_masks(mitigation.randomizations, len(union), rng)
        executed += calibration_circuits(max(c.num_qubits for c in compiled), union, cal_masks)
    counts, job_ids = _run_sampler(executed, target, per_draw, seed, execution) if executed else ([], ())
    if mitigation.readout and compiled:
        cal = [outcomes(c, len(union)) for c in counts[len(variants):]]
        cal_bits = np.concatenate([b ^ m for (b, _), m in zip(cal, cal_masks, strict=True)])
        cal_weights = np.concatenate([w for _, w in cal])
    draws = [[[] for _ in mitigation.noise_factors] for _ in compiled]
    for v, c in zip(variants, counts[:len(variants)], strict=True):
        bits, weights = outcomes(c, len(v.flips))
        draws[v.index][v.factor].append(moments(parities(bits ^ v.flips, plans[v.index][1]), weights))
    values = [np.array([float(sum(np.real(c) for lab, c in zip(o.paulis.to_labels(), o.coeffs, strict=True)
                                   if set(lab) == {"I"})) for o in obs]) for _, obs in pubs]
    var = [np.zeros(len(obs)) for _, obs in pubs]
    scaled = [np.repeat(v[:, None], len(mitigation.noise_factors), axis=1) for v in values]
    scaled_var = [np.zeros_like(v) for v in scaled]
    for k, (p, columns, coeffs) in enumerate(plans):
        if mitigation.readout:
            factors, cal_cov = readout_factors(cal_bits, cal_weights, measured[k], union, columns)
        else:
            factors, cal_cov = np.ones(len(columns)), np.zeros((len(columns), len(columns)))
        v, s2, per_factor, per_factor_var = combine_draws(draws[k], coeffs, factors, cal_cov, mitigation)
        values[p] += v
        var[p] += s2
        scaled[p] += per_factor
        scaled_var[p] += per_factor_var
    noise_scaled = (scaled, [np.sqrt(v) for v in scaled_var])
    return values, [np.sqrt(v) for v in var], executed, len(executed) * per_draw, job_ids, noise_scaled


def _runtime_estimated(pubs, target: Target, shots: int, seed: int, execution: str, mitigation: Mitigation):
    """Values and standard errors from the runtime's ``EstimatorV2`` with ``mitigation`` as resilience options
    (:func:`qdyn.circuits.ibm.estimator`): ISA circuits, observables mapped to their layouts."""
    from qdyn.circuits.ibm import estimator

    compiled = compile_circuits([c for c, _ in pubs], target, seed)
    runner, batch = estimator(target.backend, mitigation=mitigation, shots=shots, seed=seed, execution=execution,
                              noise=target.options.get("noise", True), qubits=_active_qubits(compiled))
    try:
        job = runner.run([(c, [o.apply_layout(c.layout) for o in obs])
                          for c, (_, obs) in zip(compiled, pubs, strict=True)])
        result = job.result()
    finally:
        if batch is not None:
            batch.close()
    values = [np.atleast_1d(np.asarray(r.data.evs, dtype=float)) for r in result]
    errors = [np.atleast_1d(np.asarray(r.data.stds, dtype=float)) for r in result]
    over = mitigation.overhead(shots)
    executed_shots = len(compiled) * over.shots + over.calibration_shots
    return values, errors, compiled, executed_shots, (job.job_id(),)


def _is_noisy(target: Target) -> bool:
    """Devices (unless ``noise=False``) and Aer simulators with a noise model."""
    if target.is_device:
        return target.options.get("noise", True)
    return target.kind == "aer" and getattr(target.backend.options, "noise_model", None) is not None


def _uses_runtime_estimator(target: Target) -> bool:
    """IBM devices mitigate in the runtime's ``EstimatorV2``; fake devices client side, unless the target asks
    for the runtime path (``Target.options["estimator"] == "runtime"``, the runtime's local mode)."""
    if not target.is_device:
        return False
    from qdyn.circuits.ibm import is_fake

    return target.options.get("estimator") == "runtime" or not is_fake(target.backend)


@renamed_arguments(mode="execution")
def estimate(pubs, target="statevector", *, shots: int | None = None, seed=None, execution: str = "job",
             mitigation=None) -> Estimates:
    """Expectation values of each pub's observables on ``target`` (see the module docstring).

    ``pubs``: list of ``(circuit, observable)`` or ``(circuit, [observables])`` (``SparsePauliOp`` or labels, on
    all the circuit's qubits, Qiskit order). ``execution``: the IBM execution mode, ``"job"`` or ``"batch"``
    (``mode`` is its deprecated name). ``mitigation``: ``None``, ``"auto"`` or a
    :class:`~qdyn.circuits.mitigation.Mitigation` (needs ``shots``; ``"auto"`` mitigates on devices only).
    Returns :class:`Estimates` with ``values`` and ``std_errors`` of shape ``(n_pubs, n_observables)``; the
    standard errors include the mitigation's own variance, and ``metadata.options["mitigation"]`` records the
    settings applied (``None`` for none).
    """
    tgt = resolve_target(target)
    pubs = _normalise_pubs(pubs)
    mit = resolve_mitigation(mitigation, noisy=_is_noisy(tgt))
    rng, recorded = make_rng(seed)
    seed_int = int(rng.integers(0, 2**31 - 1))
    with Stopwatch() as clock:
        if shots is None:
            if tgt.is_device:
                raise ValueError(f"target {tgt.name!r} is a device: it samples, so shots=<int> is required")
            if mit is not None:
                raise ValueError("mitigation needs sampled estimates: pass shots=<int>")
            values, executed = _exact(pubs, tgt, seed_int)
            errors = [np.zeros_like(v) for v in values]
            n_shots, job_ids, noise_scaled = 0, (), None
        else:
            shots = check_int("shots", shots, minimum=1)
            if mit is not None and _uses_runtime_estimator(tgt):
                values, errors, executed, n_shots, job_ids = _runtime_estimated(pubs, tgt, shots, seed_int,
                                                                                execution, mit)
                noise_scaled = None
            else:
                values, errors, executed, n_shots, job_ids, noise_scaled = _sampled(pubs, tgt, shots, seed_int,
                                                                                    execution, mit, rng)
                noise_scaled = noise_scaled if mit is not None else None
    costs = [circuit_costs(c) for c in executed]
    n_circuits = len(executed)
    if mit is not None and _uses_runtime_estimator(tgt):
        over = mit.overhead(shots)
        n_circuits = len(executed) * over.circuits + over.calibration_circuits
    resources = Resources(circuits=n_circuits, shots=n_shots,
                          depth=max((d for d, _ in costs), default=0),
                          two_qubit_gates=max((t for _, t in costs), default=0), wall_time=clock.elapsed)
    scaled = {}
    if noise_scaled is not None:
        scaled = {"noise_factors": mit.noise_factors, "noise_scaled_values": _padded(noise_scaled[0]),
                  "noise_scaled_errors": _padded(noise_scaled[1])}
    return Estimates(values=_padded(values), std_errors=_padded(errors), target=tgt.name, shots=shots,
                     job_ids=tuple(job_ids), resources=resources,
                     metadata=make_metadata(seed=recorded, backend=tgt.name, job_ids=list(job_ids),
                                            mitigation=None if mit is None else mit.to_dict()), **scaled)


def _padded(per_pub: list[np.ndarray]) -> np.ndarray:
    """Per-pub arrays (observables first) stacked, shorter pubs padded with NaN."""
    width = max(len(v) for v in per_pub)
    return np.array([np.pad(v, [(0, width - len(v))] + [(0, 0)] * (v.ndim - 1), constant_values=np.nan)
                     for v in per_pub])
