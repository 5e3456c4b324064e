"""Running the backend layer's circuits on PennyLane Lightning (``lightning.qubit`` on the CPU, ``lightning.gpu``).

Circuits arrive compiled to Qiskit's ``u``/``cx`` basis (:func:`qdyn.circuits.backends.estimate`); each gate maps
to PennyLane one to one — ``U(theta, phi, lam)`` to ``qml.U3`` (the same matrix) and ``CX`` to ``qml.CNOT`` — with
Qiskit qubit ``q`` on wire ``q``. Observables go through :func:`qdyn.operators.to_pennylane`, which uses the same
wire map, so expectation values need no reordering. Sampled counts are returned as Qiskit bit strings (rightmost
character = classical bit 0) so the backend layer treats every target alike.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit

__all__ = ["lightning_expectations", "lightning_counts"]


def _apply(circuit: QuantumCircuit):
    """Queue the unitary part of ``circuit`` as PennyLane operations (measurements are read by :func:`_measured`)."""
    import pennylane as qml

    for inst in circuit.data:
        name = inst.operation.name
        wires = [circuit.find_bit(q).index for q in inst.qubits]
        if name == "u":
            qml.U3(*[float(p) for p in inst.operation.params], wires=wires[0])
        elif name == "cx":
            qml.CNOT(wires=wires)
        elif name not in ("barrier", "measure"):
            raise ValueError(f"lightning targets run u/cx circuits; got the gate {name!r} (compile first)")


def lightning_expectations(circuits, observables, device_name: str, *, shots=None):
    """Exact expectation values of each circuit's observables on ``device_name``."""
    import pennylane as qml

    from qdyn.operators import to_pennylane

    out = []
    for circuit, obs in zip(circuits, observables, strict=True):
        dev = qml.device(device_name, wires=circuit.num_qubits)

        @qml.qnode(dev)
        def run(circuit=circuit, obs=obs):
            _apply(circuit)
            return [qml.expval(to_pennylane(o)) for o in obs]

        out.append(np.asarray(run(), dtype=float))
    return out


def lightning_counts(circuits, device_name: str, *, shots: int, seed: int):
    """Counts of the measured qubits of each circuit as ``{bitstring: count}`` (Qiskit bit order)."""
    import pennylane as qml

    rng = np.random.default_rng(seed)
    out = []
    for circuit in circuits:
        dev = qml.device(device_name, wires=circuit.num_qubits, seed=int(rng.integers(0, 2**31 - 1)))
        measured = _measured(circuit)
        wires = [w for _, w in sorted(measured, reverse=True)]  # highest classical bit first

        @qml.qnode(dev)
        def run(circuit=circuit, wires=wires):
            _apply(circuit)
            return qml.counts(wires=wires)

        counts = qml.set_shots(run, shots=shots)()
        out.append({str(k): int(v) for k, v in counts.items()})
    return out


def _measured(circuit: QuantumCircuit):
    """The measured (clbit, wire) pairs of ``circuit``."""
    return [(circuit.find_bit(inst.clbits[0]).index, circuit.find_bit(inst.qubits[0]).index)
            for inst in circuit.data if inst.operation.name == "measure"]
