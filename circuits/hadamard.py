"""Hadamard-test circuits for ``<phi_a| V |phi_b>`` with ``V = U(t)`` or ``V = P U(t)``, ``U(t) = exp(-i H t)``.

The ancilla (qubit ``n``) starts in ``|+>``; the system is prepared in ``|phi_a>`` on the ancilla's ``|0>`` branch and
in ``|phi_b>`` on its ``|1>`` branch (one unconditional preparation when ``a = b``), then ``V`` acts controlled by
the ancilla. The state is ``(|0>|phi_a> + |1> V|phi_b>)/sqrt(2)``, so

    <X_anc> = Re <phi_a|V|phi_b>,        <Y_anc> = Im <phi_a|V|phi_b>.

:func:`hadamard_test` returns the circuit and the ancilla observable (``X`` for ``part="real"``, ``Y`` for
``part="imag"``) as a ``SparsePauliOp`` on all ``n + 1`` qubits, ready for :func:`qdyn.circuits.backends.estimate`.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import Pauli, SparsePauliOp

from qdyn.circuits.evolution import controlled_evolution_circuit, pauli_rotation
from qdyn.circuits.state_prep import state_circuit
from qdyn.errors import check_choice, check_state

__all__ = ["hadamard_test", "controlled_pauli"]


def controlled_pauli(qc: QuantumCircuit, pauli: Pauli, control: int) -> None:
    """Append ``P = (-i)^q P0`` controlled by ``control``: ``C-exp(+i pi/2 P0)``, then a phase on the control."""
    pauli_rotation(qc, Pauli((pauli.z, pauli.x)), -np.pi / 2, control=control)  # C-exp(+i pi/2 P) = C-(i P)
    qc.p(-np.pi / 2 * (1 + pauli.phase), control)  # P = (-i)^q P0: phase (-i)^q / i on the control


def _as_prep(ref, n: int, name: str) -> QuantumCircuit:
    """The preparation circuit of argument ``name`` on ``n`` qubits: a circuit without measurements, or a
    normalised state vector of length ``2**n`` (checked here, before any circuit is built)."""
    if isinstance(ref, QuantumCircuit):
        if ref.num_clbits:
            raise ValueError(f"{name} must not measure: a preparation circuit has no classical bits")
        if ref.num_qubits != n:
            raise ValueError(f"{name} is a circuit on {ref.num_qubits} qubits but the Hamiltonian acts on {n}")
        return ref
    if isinstance(ref, str) or not np.ndim(ref):
        raise TypeError(f"{name} must be a state vector or a preparation circuit, got {type(ref).__name__}")
    return state_circuit(check_state(ref, n, name=name))


def hadamard_test(H, t: float, ref, *, ref_left=None, pauli=None, part: str = "real", steps: int | None = 1,
                  order: int = 2) -> tuple[QuantumCircuit, SparsePauliOp]:
    """Circuit and observable whose expectation value is Re or Im of ``<phi_left| P U(t) |phi>``.

    Parameters
    ----------
    H : Hamiltonian; ``U(t) = exp(-i H t)`` by ``steps`` product-formula steps of ``order``
        (:func:`qdyn.circuits.evolution.controlled_evolution_circuit`; ``steps=None`` = exact unitary).
    ref : the ket ``|phi>``: a state vector or a preparation circuit from ``|0...0>``.
    ref_left : the bra's state (default ``ref``).
    pauli : optional Pauli (``Pauli`` or label) applied after ``U(t)``: ``<phi_left|P U(t)|phi>``.
    part : ``"real"`` (ancilla ``X``) or ``"imag"`` (ancilla ``Y``).
    """
    from qdyn.operators import as_pauli_op

    check_choice("part", part, ("real", "imag"))
    op = as_pauli_op(H)
    n = op.num_qubits
    ket = _as_prep(ref, n, "ref")
    bra = None if ref_left is None else _as_prep(ref_left, n, "ref_left")
    anc = n
    qc = QuantumCircuit(n + 1, name=f"hadamard_{part}")
    qc.h(anc)
    system = list(range(n))
    if bra is None:
        qc.compose(ket, system, inplace=True)
    else:  # |0>|phi_left> + |1>|phi>: each preparation controlled on its branch
        qc.append(bra.to_gate(label="prep_left").control(1, ctrl_state=0), [anc, *system])
        qc.append(ket.to_gate(label="prep").control(1, ctrl_state=1), [anc, *system])
    qc.compose(controlled_evolution_circuit(op, t, steps=steps, order=order), [*system, anc], inplace=True)
    if pauli is not None:
        p = Pauli(pauli) if isinstance(pauli, str) else pauli
        if not isinstance(p, Pauli) or p.num_qubits != n:
            raise ValueError(f"pauli must be a Pauli (or label) on {n} qubits, got {pauli!r}")
        controlled_pauli(qc, p, anc)
    label = ("X" if part == "real" else "Y") + "I" * n  # ancilla = qubit n = leftmost label character
    return qc, SparsePauliOp(label)
