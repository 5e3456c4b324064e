"""One circuit, two renderings: dense pieces for fast simulation, gate-level pieces for resource counts.

A construction written against the small interface below (``append``, ``ry``, ``rotation``, ``reflection``) is
built twice from the same code:

* :class:`DenseForm` -- every piece a ``UnitaryGate`` (a controlled piece one dense matrix), every projector
  rotation one diagonal gate; simulated by :func:`qdyn.circuits.simulate.apply_circuit`;
* :class:`GateForm` -- pieces as gates controlled by Qiskit's ``control``, projector rotations through a flag
  qubit and zero-controlled multi-controlled X gates; transpiled and counted by
  :func:`qdyn.circuits.gate_counts.expanded_gate_counts`.

The projector-controlled rotation is ``e^{i psi (2 Pi - 1) Z_z}`` with ``Pi = |0..0><0..0|`` on a register (the
QSVT phase rotation with a real-part select qubit ``z``; Gilyen, Su, Low, Wiebe, STOC 2019, Cor. 18).
Controls are in Qiskit's convention: ``ctrl_state`` bit ``j`` is the state of ``controls[j]``.
"""

from __future__ import annotations

import functools

import numpy as np
from qiskit import QuantumCircuit

__all__ = ["DenseForm", "GateForm", "inverse_circuit", "zero_controlled_x"]


@functools.cache
def zero_controlled_x(k: int):
    """The multi-controlled X with ``k`` controls in ``|0>``, one shared object per size (inverted once,
    transpiled once)."""
    from qiskit.circuit.library import MCXGate

    return MCXGate(k, ctrl_state=0)


def inverse_circuit(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit^dag``, inverting each distinct operation object once (a QSVT circuit repeats one query gate
    hundreds of times); named ``circuit.name + "_dg"``."""
    memo: dict = {}
    inverse = QuantumCircuit(circuit.num_qubits, name=circuit.name + "_dg", global_phase=-circuit.global_phase)
    for inst in reversed(circuit.data):
        op = inst.operation
        if id(op) not in memo:
            memo[id(op)] = (op, op.inverse())
        inverse.append(memo[id(op)][1], [circuit.find_bit(q).index for q in inst.qubits])
    return inverse


def _phase_pattern(psis, r: int, k: int, ctrl_state: int) -> np.ndarray:
    """The diagonal phase of ``e^{i psi (2 Pi - 1) Z_z}`` over (``r`` reflected qubits, ``z``, ``k`` controls),
    the reflected register least significant. ``psis`` is one phase, or a pair chosen by the last control
    (then ``ctrl_state`` covers the other controls only)."""
    index = np.arange(2 ** (r + 1 + k))
    reflect = np.where((index & (2**r - 1)) == 0, 1, -1)
    z = 1 - 2 * ((index >> r) & 1)
    ctrl = index >> (r + 1)
    if np.ndim(psis) == 0:
        phase = np.where(ctrl == ctrl_state, psis, 0.0)
    else:
        low = ctrl & (2 ** (k - 1) - 1)
        pick = np.asarray(psis)[ctrl >> (k - 1)]
        phase = np.where(low == ctrl_state, pick, 0.0)
    return phase * reflect * z


class DenseForm:
    """Pieces as dense unitaries (``UnitaryGate``), rotations and reflections as diagonal gates."""

    @staticmethod
    def append(qc: QuantumCircuit, u, targets, controls=(), ctrl_state: int = 0, label: str | None = None):
        """Append the matrix ``u`` on ``targets``, applied when ``controls`` are in ``ctrl_state``."""
        from qiskit.circuit.library import UnitaryGate

        u = np.asarray(u)
        if controls:
            # qargs targets + controls: the controls are the most significant bits of the gate's index
            dim, k = u.shape[0], len(controls)
            full = np.eye(dim * 2**k, dtype=complex)
            full[ctrl_state * dim:(ctrl_state + 1) * dim, ctrl_state * dim:(ctrl_state + 1) * dim] = u
            u = full
        qc.append(UnitaryGate(u, check_input=False, label=label), list(targets) + list(controls))

    @staticmethod
    def ry(theta: float) -> np.ndarray:
        """``RY(theta) = exp(-i theta Y / 2)`` as a matrix."""
        c, s = np.cos(theta / 2), np.sin(theta / 2)
        return np.array([[c, -s], [s, c]], dtype=complex)

    @staticmethod
    def rotation(qc: QuantumCircuit, psis, reflect_on, z_on: int, controls=(), ctrl_state: int = 0, *,
                 flag: int | None = None):
        """``e^{i psi (2 Pi - 1) Z_z}``, ``Pi = |0..0>`` on ``reflect_on``, when ``controls`` are in
        ``ctrl_state``; ``psis`` one phase or a pair picked by the last control. ``flag`` is unused here."""
        del flag  # the dense form needs no flag qubit
        phase = _phase_pattern(psis, len(reflect_on), len(controls), ctrl_state)
        DenseForm.append(qc, np.diag(np.exp(1j * phase)), list(reflect_on) + [z_on] + list(controls))

    @staticmethod
    def reflection(qc: QuantumCircuit, qubits):
        """``1 - 2 |0..0><0..0|`` on ``qubits``."""
        diagonal = np.ones(2 ** len(qubits), dtype=complex)
        diagonal[0] = -1.0
        DenseForm.append(qc, np.diag(diagonal), list(qubits))


class GateForm:
    """Pieces as gate-level circuits controlled by ``Gate.control``, rotations through a flag qubit."""

    @staticmethod
    def append(qc: QuantumCircuit, gate, targets, controls=(), ctrl_state: int = 0, label: str | None = None):
        """Append ``gate`` on ``targets``, controlled on ``controls`` in ``ctrl_state`` (``label`` unused: the
        gate's own name identifies it in the counts)."""
        del label
        if controls:
            qc.append(gate.control(len(controls), ctrl_state=ctrl_state), list(controls) + list(targets))
        else:
            qc.append(gate, list(targets))

    @staticmethod
    def ry(theta: float):
        """``RY(theta)`` as a gate."""
        from qiskit.circuit.library import RYGate

        return RYGate(theta)

    @staticmethod
    def rotation(qc: QuantumCircuit, psis, reflect_on, z_on: int, controls=(), ctrl_state: int = 0, *,
                 flag: int | None = None):
        """As :meth:`DenseForm.rotation`: a zero-controlled X sets ``flag`` on ``Pi`` (``2 Pi - 1 = -Z_flag``),
        an ``RZZ`` on ``(flag, z)`` (only its ``RZ`` controlled, or split into the two branch phases when
        ``psis`` is a pair), and the same X returns the flag to ``|0>``."""
        if flag is None:
            raise ValueError("the gate-level rotation needs a flag qubit")
        mcx = zero_controlled_x(len(reflect_on))
        qc.append(mcx, list(reflect_on) + [flag])
        if np.ndim(psis) == 0 and not controls:
            qc.rzz(2 * psis, flag, z_on)
        elif np.ndim(psis) == 0:  # RZZ = CX RZ CX: only the RZ needs the controls (0-controls X-conjugated)
            zeros = [q for j, q in enumerate(controls) if not (ctrl_state >> j) & 1]
            qc.cx(flag, z_on)
            if zeros:
                qc.x(zeros)
            qc.mcrz(2 * psis, list(controls), z_on)
            if zeros:
                qc.x(zeros)
            qc.cx(flag, z_on)
        else:  # psi_e = (psi_0 + psi_1)/2 + Z_e (psi_0 - psi_1)/2, e the only control
            if len(controls) != 1:
                raise ValueError("a branch-dependent rotation takes exactly one control, the branch qubit")
            e = controls[0]
            qc.rzz(psis[0] + psis[1], flag, z_on)
            qc.cx(e, z_on)
            qc.rzz(psis[0] - psis[1], flag, z_on)  # conjugated by CX(e, z): exp(-i .. Z_f Z_z Z_e)
            qc.cx(e, z_on)
        qc.append(mcx, list(reflect_on) + [flag])

    @staticmethod
    def reflection(qc: QuantumCircuit, qubits):
        """``1 - 2 |0..0><0..0|`` on ``qubits``: ``X H . MCX (others in |0>) . H X`` on the first qubit."""
        target, others = qubits[0], list(qubits[1:])
        qc.x(target)
        if others:
            qc.h(target)
            qc.append(zero_controlled_x(len(others)), others + [target])
            qc.h(target)
        else:
            qc.z(target)
        qc.x(target)
