"""Oblivious amplitude amplification of a post-selected circuit.

``W`` with ``Pi W Pi = sin(theta) (|0_anc><0_anc| x U)``, ``U`` (close to) unitary and ``Pi`` the projector on every
ancilla in ``|0>``: one round ``-W R W^dag R W``, ``R = 1 - 2 Pi``, has the block ``sin(3 theta) U`` (Berry,
Childs, Cleve, Kothari, Somma, PRL 114, 090502 (2015), Lemma 3.6), for three uses of ``W``. For ``sin(theta) =
1/2`` the post-selection probability rises from ``1/4`` to 1.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit

from qdyn.circuits.forms import DenseForm, GateForm, inverse_circuit

__all__ = ["amplified_circuit", "amplified_probability"]


def amplified_probability(probability: float, rounds: int = 1) -> float:
    """``sin^2((2 rounds + 1) theta)`` with ``sin^2(theta) = probability``: the post-selection probability after
    ``rounds`` rounds of (oblivious) amplitude amplification."""
    if not 0 <= probability <= 1:
        raise ValueError(f"probability must lie in [0, 1], got {probability}")
    return float(np.sin((2 * rounds + 1) * np.arcsin(np.sqrt(probability))) ** 2)


def amplified_circuit(form: type[DenseForm] | type[GateForm], circuit: QuantumCircuit, ancillas) -> QuantumCircuit:
    """One round ``-W R W^dag R W`` of oblivious amplitude amplification on ``W = circuit``.

    ``ancillas`` are the qubits post-selected on ``|0>`` (a flag qubit that every piece returns to ``|0>`` may be
    left out); ``form`` renders the reflections (:class:`DenseForm` or :class:`GateForm`). The instructions of
    ``circuit`` are appended without copies (a step holds thousands of gates).
    """
    ancillas = list(ancillas)
    if not ancillas or any(not 0 <= q < circuit.num_qubits for q in ancillas):
        raise ValueError(f"ancillas must be a non-empty list of qubits of the {circuit.num_qubits}-qubit circuit")
    inverse = inverse_circuit(circuit)
    qc = QuantumCircuit(circuit.num_qubits, name="amplified-" + circuit.name)

    def append(piece):
        for inst in piece.data:
            qc.append(inst.operation, [piece.find_bit(q).index for q in inst.qubits], copy=False)
        qc.global_phase += piece.global_phase

    append(circuit)
    form.reflection(qc, ancillas)
    append(inverse)
    form.reflection(qc, ancillas)
    append(circuit)
    qc.global_phase += np.pi  # the leading minus sign
    return qc
