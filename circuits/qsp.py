"""QSVT circuits for a real polynomial of a Hermitian block encoding.

With a Hermitian block encoding ``U`` of ``A`` (projector ``Pi = |0^m><0^m|``) and phases ``Psi`` in the
``"qsvt"`` convention of :mod:`qdyn.cooling.phases`,

    U_Psi = e^{i psi_0 (2 Pi - 1)} U e^{i psi_1 (2 Pi - 1)} U ... U e^{i psi_d (2 Pi - 1)}

has ``Pi U_Psi Pi = P_Psi(A)`` with ``Re P_Psi = p``. One more ancilla ``c`` in ``|+>`` selects ``Psi`` or
``-Psi`` (the rotations become ``e^{i psi (2 Pi - 1) Z_c}``); a final Hadamard on ``c`` and post-selection of
``c = 0`` give ``(P_Psi(A) + P_{-Psi}(A))/2 = p(A)`` (Gilyen, Su, Low, Wiebe, STOC 2019, Cor. 18).

The projector-controlled rotation uses the ancilla register directly when ``m = 1`` (``2 Pi - 1 = Z``) and a
flag qubit set by a zero-controlled multi-controlled X otherwise (``rotations="gates"``, the gate-level form
counted for resources). ``rotations="diagonal"`` writes the same operator as one diagonal unitary gate on the
ancillas and ``c`` and drops the flag (it returns to ``|0>`` anyway): the form used for fast simulation.
Qubit order: system ``0..n-1``, block-encoding ancillas ``n..n+m-1``, then the flag (gate-level form with
``m > 1`` only), then ``c``.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit

__all__ = ["qsvt_circuit", "qsvt_layout"]


def qsvt_layout(n_system: int, n_ancillas: int, with_flag: bool = True) -> dict:
    """Qubit indices: ``system``, ``ancillas``, ``flag`` (or None), ``select`` and the ``total`` count."""
    anc = list(range(n_system, n_system + n_ancillas))
    flag = n_system + n_ancillas if (n_ancillas > 1 and with_flag) else None
    select = n_system + n_ancillas + (1 if flag is not None else 0)
    return {"system": list(range(n_system)), "ancillas": anc, "flag": flag, "select": select,
            "total": select + 1}


def qsvt_circuit(block, phases, *, block_gate=None, rotations: str = "gates") -> QuantumCircuit:
    """The real-part QSVT circuit for ``block`` (a :class:`~qdyn.circuits.block_encoding.BlockEncoding`).

    ``phases`` are the ``d + 1`` QSVT-convention phases. ``block_gate`` replaces the block encoding's circuit
    by an equivalent gate (e.g. its unitary, for faster simulation) without changing the structure.
    Post-select every ancilla (block, flag, select) on ``|0>`` to obtain ``p(A)`` acting on the system.
    """
    from qdyn.errors import check_choice

    check_choice("rotations", rotations, ("gates", "diagonal"))
    phases = np.asarray(phases, dtype=float)
    if phases.ndim != 1 or phases.size < 2:
        raise ValueError("phases must be a 1-D array of d + 1 >= 2 QSVT phases")
    layout = qsvt_layout(block.n_system, block.n_ancillas, with_flag=(rotations == "gates"))
    qc = QuantumCircuit(layout["total"], name="qsvt")
    be_qubits = layout["system"] + layout["ancillas"]
    gate = block.circuit.to_gate() if block_gate is None else block_gate
    c = layout["select"]

    m = block.n_ancillas
    # diagonal of (2 Pi - 1) x Z_c over the basis of (ancillas, c), ancilla 0 least significant
    index = np.arange(2 ** (m + 1))
    z_c = 1 - 2 * (index >> m)
    reflect = np.where((index & (2**m - 1)) == 0, 1, -1)

    def rotation(psi):
        # e^{i psi (2 Pi - 1) Z_c}; RZZ(theta) = exp(-i theta/2 Z Z)
        if rotations == "diagonal":
            from qiskit.circuit.library import UnitaryGate

            diagonal = np.diag(np.exp(1j * psi * reflect * z_c))
            qc.append(UnitaryGate(diagonal, check_input=False), layout["ancillas"] + [c])
        elif layout["flag"] is None:
            qc.rzz(-2 * psi, layout["ancillas"][0], c)  # 2 Pi - 1 = Z on the single ancilla
        else:
            from qiskit.circuit.library import MCXGate

            mcx = MCXGate(block.n_ancillas, ctrl_state=0)
            qc.append(mcx, layout["ancillas"] + [layout["flag"]])
            qc.rzz(2 * psi, layout["flag"], c)  # flag = 1 on Pi: 2 Pi - 1 = -Z_flag
            qc.append(mcx, layout["ancillas"] + [layout["flag"]])

    qc.h(c)
    # operator order e^{i psi_0} U ... U e^{i psi_d}: the circuit applies psi_d first
    rotation(phases[-1])
    for psi in phases[-2::-1]:
        qc.append(gate, be_qubits)
        rotation(psi)
    qc.h(c)
    return qc
