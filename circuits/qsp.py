"""QSVT circuits for a real polynomial of a Hermitian block encoding, and QETU circuits on ``e^{-i tau H}``.

With a Hermitian block encoding ``U`` of ``A`` (projector ``Pi = |0^m><0^m|``) and phases ``Psi`` in the
``"qsvt"`` convention of :mod:`qdyn.qsp.phases`,

    U_Psi = e^{i psi_0 (2 Pi - 1)} U e^{i psi_1 (2 Pi - 1)} U ... U e^{i psi_d (2 Pi - 1)}

has ``Pi U_Psi Pi = P_Psi(A)`` with ``Re P_Psi = p``. One more ancilla ``c`` in ``|+>`` selects ``Psi`` or
``-Psi`` (the rotations become ``e^{i psi (2 Pi - 1) Z_c}``); a final Hadamard on ``c`` and post-selection of
``c = 0`` give ``(P_Psi(A) + P_{-Psi}(A))/2 = p(A)`` (Gilyen, Su, Low, Wiebe, STOC 2019, Cor. 18).

The projector-controlled rotation uses the ancilla register directly when ``m = 1`` (``2 Pi - 1 = Z``) and a
flag qubit set by a zero-controlled multi-controlled X otherwise (``rotations="gates"``, the gate-level form
counted for resources). ``rotations="diagonal"`` writes the same operator as one diagonal unitary gate on the
ancillas and ``c`` and drops the flag (it returns to ``|0>`` anyway): the form used for fast simulation.
Qubit order: system ``0..n-1``, block-encoding ancillas ``n..n+m-1``, then the flag (gate-level form with
``m > 1`` only), then ``c``. :func:`qsvt_filter` runs such a circuit on a state, post-selected (simulated).
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit

__all__ = ["gqsp_circuit", "qetu_circuit", "qsvt_circuit", "qsvt_filter", "qsvt_layout"]


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


def qsvt_filter(H, poly, *, alpha: float, block_encoding: str = "lcu"):
    """``apply(v, mu) -> (p((H - mu)/alpha) v, probability)`` through a simulated, post-selected QSVT circuit.

    ``poly`` is a real Chebyshev polynomial of definite parity with ``|p| <= 1`` on [-1, 1] (its ``"qsvt"``
    phases are solved once); ``block_encoding`` ``"lcu"`` or ``"dilation"`` encodes ``(H - mu)/alpha`` (built
    again, as one dense gate, whenever ``mu`` changes). ``|0_anc>|v/||v||>`` runs through :func:`qsvt_circuit`
    with diagonal rotations and every ancilla is post-selected on ``|0>``;
    ``probability = ||p(A) v||^2 / ||v||^2``.
    """
    from qiskit.circuit.library import UnitaryGate

    from qdyn.circuits.block_encoding import BLOCK_ENCODINGS, block_encoding_of
    from qdyn.circuits.simulate import circuit_operator, run_postselected
    from qdyn.errors import check_choice
    from qdyn.qsp.phases import solve_phases_newton

    check_choice("block_encoding", block_encoding, BLOCK_ENCODINGS)
    phases = solve_phases_newton(poly, convention="qsvt").phases
    built: dict = {}

    def apply(v, mu):
        mu = float(mu)
        if mu not in built:
            block = block_encoding_of(H, mu, alpha, block_encoding)
            gate = UnitaryGate(circuit_operator(block.circuit), check_input=False)
            built.clear()
            built[mu] = qsvt_circuit(block, phases, block_gate=gate, rotations="diagonal")
        return run_postselected(built[mu], v)

    return apply


def qetu_circuit(H, tau: float, phases, *, evolution: str = "exact", trotter_reps: int = 1) -> QuantumCircuit:
    """QETU circuit for ``p(cos(tau H / 2))`` with ``"qetu"``-convention phases (Dong, Lin, Tong 2022).

    The signal is the control-free time evolution ``e^{-i (tau/2) Z_a x H}`` (eigenvalue ``E`` of ``H``:
    ``e^{-i theta Z_a}``, ``theta = tau E / 2``), the phases are ``e^{i psi X_a}``. Complex conjugation of the
    sequence is ``theta -> -theta`` (up to ``Z_a`` conjugation, invisible in ``<0|.|0>``), so a select qubit
    ``c`` in ``|+>`` that flips the evolution time, ``e^{-i (tau/2) Z_c Z_a x H}``, and post-selection of
    ``a = c = 0`` give the real part, ``p(cos(tau H / 2))``. ``evolution="exact"`` uses the dense unitary
    (simulation); ``"trotter"`` a Lie-Trotter ``PauliEvolutionGate`` with ``trotter_reps`` steps (gate
    counts). Qubits: system ``0..n-1``, ``a = n``, ``c = n + 1``. Spectrum of ``H``: inside ``[0, pi/tau]``.
    """
    from qiskit.quantum_info import SparsePauliOp

    from qdyn.errors import check_choice, check_int, check_positive
    from qdyn.operators import as_pauli_op

    check_choice("evolution", evolution, ("exact", "trotter"))
    tau = check_positive("tau", tau)
    phases = np.asarray(phases, dtype=float)
    if phases.ndim != 1 or phases.size < 2:
        raise ValueError("phases must be a 1-D array of d + 1 >= 2 QETU phases")
    op = as_pauli_op(H, name="H")
    n = op.num_qubits
    a, c = n, n + 1
    zh = SparsePauliOp("ZZ").tensor(op)  # Z_c Z_a (qubits n + 1, n: most significant), H on the system
    if evolution == "exact":
        from qiskit.circuit.library import UnitaryGate
        from scipy.linalg import expm

        signal = UnitaryGate(expm(-0.5j * tau * zh.to_matrix()), check_input=False, label="e^{-i tau/2 ZZH}")
    else:
        from qiskit.circuit.library import PauliEvolutionGate
        from qiskit.synthesis import LieTrotter

        reps = check_int("trotter_reps", trotter_reps, minimum=1)
        signal = PauliEvolutionGate(zh, time=tau / 2, synthesis=LieTrotter(reps=reps))
    qc = QuantumCircuit(n + 2, name="qetu")
    qc.h(c)
    qc.rx(-2 * phases[-1], a)  # RX(t) = exp(-i t/2 X)
    for psi in phases[-2::-1]:
        qc.append(signal, list(range(n)) + [a, c])
        qc.rx(-2 * psi, a)
    qc.h(c)
    return qc


def gqsp_circuit(H, tau: float, phases, *, evolution: str = "exact", trotter_reps: int = 1) -> QuantumCircuit:
    """Laurent-GQSP circuit for a Fourier series ``g(tau H)``, phases from ``solve_gqsp_phases``.

    One ancilla ``a`` (qubit ``n``); the signal ``A' = |0><0| x U + |1><1| x U^dag``, ``U = e^{i tau H/2}``,
    is ``e^{i (tau/2) Z_a x H}``; ``R(theta_j, phi_j, lam)`` are single-qubit gates on ``a``. The ``<0|.|0>``
    block is ``U^{-D} P(U^2) = g(tau H)`` (Motlagh & Wiebe, PRX Quantum 5, 020368 (2024), Cor. 8);
    post-select ``a = 0``. ``evolution`` as in :func:`qetu_circuit`.
    """
    from qiskit.circuit.library import UnitaryGate
    from qiskit.quantum_info import SparsePauliOp

    from qdyn.errors import check_choice, check_int, check_positive
    from qdyn.operators import as_pauli_op
    from qdyn.qsp.gqsp import r_matrix

    check_choice("evolution", evolution, ("exact", "trotter"))
    tau = check_positive("tau", tau)
    op = as_pauli_op(H, name="H")
    n = op.num_qubits
    zh = SparsePauliOp("Z").tensor(op)
    if evolution == "exact":
        from scipy.linalg import expm

        signal = UnitaryGate(expm(0.5j * tau * zh.to_matrix()), check_input=False, label="e^{i tau/2 ZH}")
    else:
        from qiskit.circuit.library import PauliEvolutionGate
        from qiskit.synthesis import LieTrotter

        reps = check_int("trotter_reps", trotter_reps, minimum=1)
        signal = PauliEvolutionGate(zh, time=-tau / 2, synthesis=LieTrotter(reps=reps))  # e^{+i tau/2 ZH}
    qc = QuantumCircuit(n + 1, name="gqsp")
    qc.append(UnitaryGate(r_matrix(phases.thetas[0], phases.phis[0], phases.lam), check_input=False), [n])
    for theta, phi in zip(phases.thetas[1:], phases.phis[1:], strict=True):
        qc.append(signal, list(range(n + 1)))
        qc.append(UnitaryGate(r_matrix(theta, phi), check_input=False), [n])
    return qc
