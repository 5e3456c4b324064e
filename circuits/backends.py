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

The result records shots, the largest depth and two-qubit gate count of the executed circuits, the seed and the
job ids; a job sent to IBM can be fetched again with :func:`qdyn.circuits.ibm.fetch_job`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qdyn.deprecation import renamed_arguments
from qdyn.errors import check_int
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = ["Target", "Estimates", "resolve_target", "estimate", "circuit_costs", "SIMULATOR_NAMES"]

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
    """Expectation values ``values[i][j]`` of observable ``j`` of pub ``i`` (ragged pubs are flattened in order)."""

    values: np.ndarray
    std_errors: np.ndarray
    target: str
    shots: int | None
    job_ids: tuple[str, ...]
    resources: Resources = field(default_factory=Resources)
    metadata: Metadata = field(default_factory=Metadata)


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


def _compile(circuits: list[QuantumCircuit], target: Target, seed: int) -> list[QuantumCircuit]:
    """ISA circuits for devices (preset pass manager, level 1); simulators get ``u``/``cx`` decompositions."""
    from qiskit.transpiler import generate_preset_pass_manager

    if target.is_device:
        pm = generate_preset_pass_manager(optimization_level=1, backend=target.backend, seed_transpiler=seed)
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
    circuits = _compile([c for c, _ in pubs], target, seed)
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


def _run_sampler(circuits: list[QuantumCircuit], target: Target, shots: int, seed: int, execution: str):
    """Counts per circuit and the job ids."""
    if target.kind == "statevector":
        from qiskit.primitives import StatevectorSampler

        job = StatevectorSampler(default_shots=shots, seed=np.random.default_rng(seed)).run(circuits)
        return [r.data.meas.get_counts() for r in job.result()], ()
    if target.kind == "aer":
        from qiskit_aer.primitives import SamplerV2

        options = {"backend_options": {"method": "statevector", "device": target.backend.options.device}}
        job = SamplerV2(default_shots=shots, seed=seed, options=options).run(circuits)
        return [r.data.meas.get_counts() for r in job.result()], ()
    if target.kind == "lightning":
        from qdyn.circuits.lightning import lightning_counts

        return lightning_counts(circuits, target.backend, shots=shots, seed=seed), ()
    from qdyn.circuits.ibm import sampler

    runner, batch = sampler(target.backend, shots=shots, seed=seed, execution=execution,
                            noise=target.options.get("noise", True))
    try:
        job = runner.run(circuits)
        result = job.result()
    finally:
        if batch is not None:
            batch.close()
    return [r.data.meas.get_counts() for r in result], (job.job_id(),)


def _group_statistics(counts: dict, labels: list[str], support: list[int], observables, owner, g_index: int):
    """Per observable: (sum of c_t <P_t> over its terms measured in group ``g_index``, variance of that mean)."""
    outcomes = list(counts)
    weights = np.array([counts[b] for b in outcomes], dtype=float)
    n_shots = weights.sum()
    bits = np.array([[int(b[len(b) - 1 - k]) for k in range(len(support))] for b in outcomes], dtype=int)
    signs = {}
    for label in labels:
        pauli_support = [k for k, q in enumerate(support) if label[len(label) - 1 - q] != "I"]
        signs[label] = 1.0 - 2.0 * (bits[:, pauli_support].sum(axis=1) % 2)
    out = []
    for obs in observables:
        per_outcome = np.zeros(len(outcomes))
        used = False
        for label, coeff in zip(obs.paulis.to_labels(), obs.coeffs, strict=True):
            if owner.get(label) == g_index:
                per_outcome += float(np.real(coeff)) * signs[label]
                used = True
        if not used:
            out.append((0.0, 0.0))
            continue
        mean = float(weights @ per_outcome / n_shots)
        var = float(weights @ (per_outcome - mean) ** 2 / max(n_shots - 1, 1)) / n_shots
        out.append((mean, var))
    return out


def _sampled(pubs, target: Target, shots: int, seed: int, execution: str):
    """Values and standard errors from sampled measurement circuits (see the module docstring)."""
    plans = []  # per pub: observables, [(labels, support)], owner: label -> group index
    circuits = []
    for circuit, observables in pubs:
        labels = sorted({lab for o in observables for lab in o.paulis.to_labels() if set(lab) != {"I"}})
        groups = SparsePauliOp(labels).group_commuting(qubit_wise=True) if labels else []
        owner, entries = {}, []
        for g_index, g in enumerate(groups):
            g_labels = g.paulis.to_labels()
            owner.update({lab: g_index for lab in g_labels})
            qc, support = _measurement_circuit(circuit, g)
            entries.append((g_labels, support))
            circuits.append(qc)
        plans.append((observables, entries, owner))
    compiled = _compile(circuits, target, seed) if circuits else []
    counts, job_ids = _run_sampler(compiled, target, shots, seed, execution) if compiled else ([], ())
    values, errors = [], []
    k = 0
    for observables, entries, owner in plans:
        vals = np.array([float(sum(np.real(c) for lab, c in zip(o.paulis.to_labels(), o.coeffs, strict=True)
                                   if set(lab) == {"I"})) for o in observables])
        var = np.zeros(len(observables))
        for g_index, (g_labels, support) in enumerate(entries):
            stats = _group_statistics(counts[k], g_labels, support, observables, owner, g_index)
            k += 1
            for j, (mean, v) in enumerate(stats):
                vals[j] += mean
                var[j] += v
        values.append(vals)
        errors.append(np.sqrt(var))
    return values, errors, compiled, job_ids


@renamed_arguments(mode="execution")
def estimate(pubs, target="statevector", *, shots: int | None = None, seed=None,
             execution: str = "job") -> Estimates:
    """Expectation values of each pub's observables on ``target`` (see the module docstring).

    ``pubs``: list of ``(circuit, observable)`` or ``(circuit, [observables])`` (``SparsePauliOp`` or labels, on
    all the circuit's qubits, Qiskit order). ``execution``: the IBM execution mode, ``"job"`` or ``"batch"``
    (``mode`` is its deprecated name).
    Returns :class:`Estimates` with ``values`` and ``std_errors`` of shape ``(n_pubs, n_observables)``.
    """
    tgt = resolve_target(target)
    pubs = _normalise_pubs(pubs)
    rng, recorded = make_rng(seed)
    seed_int = int(rng.integers(0, 2**31 - 1))
    with Stopwatch() as clock:
        if shots is None:
            if tgt.is_device:
                raise ValueError(f"target {tgt.name!r} is a device: it samples, so shots=<int> is required")
            values, executed = _exact(pubs, tgt, seed_int)
            errors = [np.zeros_like(v) for v in values]
            job_ids = ()
        else:
            shots = check_int("shots", shots, minimum=1)
            values, errors, executed, job_ids = _sampled(pubs, tgt, shots, seed_int, execution)
    costs = [circuit_costs(c) for c in executed]
    resources = Resources(circuits=len(executed), shots=len(executed) * (shots or 0),
                          depth=max((d for d, _ in costs), default=0),
                          two_qubit_gates=max((t for _, t in costs), default=0), wall_time=clock.elapsed)
    width = max(len(v) for v in values)
    pad = [np.pad(v, (0, width - len(v)), constant_values=np.nan) for v in values]
    pad_err = [np.pad(e, (0, width - len(e)), constant_values=np.nan) for e in errors]
    return Estimates(values=np.array(pad), std_errors=np.array(pad_err), target=tgt.name, shots=shots,
                     job_ids=tuple(job_ids), resources=resources,
                     metadata=make_metadata(seed=recorded, backend=tgt.name, job_ids=list(job_ids)))
