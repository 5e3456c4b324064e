"""Time-evolution circuits ``U(t) = exp(-i H t)`` (hbar = 1), decomposed to gates before simulation.

* :func:`evolution_circuit` — Qiskit's ``PauliEvolutionGate`` with ``LieTrotter`` (order 1) or ``SuzukiTrotter``
  (even orders) synthesis, ``preserve_order=True`` so the term order is that of the ``SparsePauliOp`` (the order of
  :func:`qdyn.exact.trotter_evolve`), then decomposed: a statevector simulator given the gate itself would apply
  the exact exponential and hide the Trotter error. ``steps=None`` gives the exact unitary (small registers).
* :func:`controlled_evolution_circuit` — the same product formula with every factor controlled by an ancilla:
  ``exp(-i theta P)`` is a basis change to ``Z...Z``, a CNOT parity ladder, a *controlled* ``RZ(2 theta)`` and the
  inverse ladder (only the rotation needs the control); the identity term becomes a phase on the ancilla. This is
  what a Hadamard test needs, at the cost of one controlled rotation per Pauli factor.

The ancilla of a controlled circuit is the last qubit (index ``n``); system qubit ``i`` stays qubit ``i``.
For uncontrolled evolution on hardware, :mod:`qdyn.circuits.trotter_layers` builds the shallow, layered form of
the same kind of product formula (one at most 3-CNOT block per bond).
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import PauliEvolutionGate

from qdyn.errors import check_int, check_positive
from qdyn.operators import as_pauli_op

__all__ = ["evolution_circuit", "controlled_evolution_circuit", "pauli_rotation", "MAX_EXACT_QUBITS"]

MAX_EXACT_QUBITS = 10  #: largest register for which ``steps=None`` builds the exact unitary as a gate


def _check_order(order: int) -> int:
    order = check_int("order", order, minimum=1)
    if order != 1 and order % 2:
        raise ValueError(f"order must be 1 or an even number, got {order}")
    return order


def _exact_unitary(op, t: float):
    from qiskit.circuit.library import UnitaryGate
    from scipy.linalg import expm

    if op.num_qubits > MAX_EXACT_QUBITS:
        raise ValueError(f"steps=None builds the exact {2**op.num_qubits}-dimensional unitary; that is limited to "
                         f"{MAX_EXACT_QUBITS} qubits; give steps=<Trotter steps> instead")
    return UnitaryGate(expm(-1j * t * op.to_matrix()), label="exp(-iHt)")


def evolution_circuit(H, t: float, *, steps: int | None = 1, order: int = 2) -> QuantumCircuit:
    """``exp(-i H t)`` as ``steps`` product-formula steps of the given ``order``, decomposed to Pauli rotations.

    ``t`` may be 0 (an empty circuit). ``steps=None`` gives the exact unitary as one gate.
    """
    from qiskit.synthesis import LieTrotter, SuzukiTrotter

    op = as_pauli_op(H)
    t = check_positive("t", t, allow_zero=True)
    qc = QuantumCircuit(op.num_qubits, name=f"U({t:.4g})")
    if t == 0:
        return qc
    if steps is None:
        qc.append(_exact_unitary(op, t), range(op.num_qubits))
        return qc
    steps = check_int("steps", steps, minimum=1)
    order = _check_order(order)
    synthesis = (LieTrotter(reps=steps, preserve_order=True) if order == 1
                 else SuzukiTrotter(order=order, reps=steps, preserve_order=True))
    qc.append(PauliEvolutionGate(op, time=t, synthesis=synthesis), range(op.num_qubits))
    return qc.decompose(reps=2)


def pauli_rotation(qc: QuantumCircuit, pauli, theta: float, control: int | None = None) -> None:
    """Append ``exp(-i theta P)`` for a Pauli ``P`` (qubit ``i`` = label character ``-1-i``), optionally controlled.

    The identity Pauli contributes the phase ``exp(-i theta)``: global without a control, a ``P(-theta)`` gate on
    the control qubit with one.
    """
    support = [q for q in range(pauli.num_qubits) if pauli.x[q] or pauli.z[q]]
    if not support:
        if control is None:
            qc.global_phase -= theta
        else:
            qc.p(-theta, control)
        return
    for q in support:  # rotate X -> Z (H) and Y -> Z (S^dagger then H)
        if pauli.x[q] and pauli.z[q]:
            qc.sdg(q)
            qc.h(q)
        elif pauli.x[q]:
            qc.h(q)
    ladder = list(zip(support[:-1], support[1:], strict=True))
    for a, b in ladder:
        qc.cx(a, b)
    if control is None:
        qc.rz(2 * theta, support[-1])
    else:
        qc.crz(2 * theta, control, support[-1])
    for a, b in reversed(ladder):
        qc.cx(a, b)
    for q in support:
        if pauli.x[q] and pauli.z[q]:
            qc.h(q)
            qc.s(q)
        elif pauli.x[q]:
            qc.h(q)


def controlled_evolution_circuit(H, t: float, *, steps: int | None = 1, order: int = 2) -> QuantumCircuit:
    """Controlled ``exp(-i H t)`` on ``n + 1`` qubits, the control (ancilla) being qubit ``n``.

    Factors follow :func:`qdyn.exact.product_formula_sequence`, so the circuit equals the exact engine's
    :func:`qdyn.exact.trotter_evolve` with the same ``steps`` and ``order``. ``steps=None``: the exact unitary,
    controlled (small registers only).
    """
    from qdyn.exact import product_formula_sequence

    op = as_pauli_op(H)
    n = op.num_qubits
    t = check_positive("t", t, allow_zero=True)
    qc = QuantumCircuit(n + 1, name=f"c-U({t:.4g})")
    if t == 0:
        return qc
    if steps is None:
        qc.append(_exact_unitary(op, t).control(1), [n, *range(n)])
        return qc
    steps = check_int("steps", steps, minimum=1)
    sequence = product_formula_sequence(len(op), _check_order(order))
    dt = t / steps
    coeffs = np.real(op.coeffs)
    for _ in range(steps):
        for j, fraction in sequence:
            pauli_rotation(qc, op.paulis[j], coeffs[j] * fraction * dt, control=n)
    return qc
