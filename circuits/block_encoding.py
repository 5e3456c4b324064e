"""Hermitian block encodings of ``A = (H - mu) / alpha`` for QSVT.

A block encoding is a unitary ``U`` on ``m`` ancillas plus the system with ``(<0^m| x I) U (|0^m> x I) = A``.
Both constructions here give a Hermitian ``U`` (a reflection), so the QSVT sequence uses ``U`` itself at every
step and every eigenvalue ``a`` of ``A`` sees the 2x2 reflection ``[[a, s], [s, -a]]`` (qubitization; Low &
Chuang, Quantum 3, 163 (2019)); the projector is ``Pi = |0^m><0^m|``.

* :func:`lcu_block_encoding` -- ``PREP^dag SELECT PREP`` (Childs & Wiebe, QIC 12, 901 (2012)): with
  ``H - mu = sum_j c_j P_j``, ``PREP|0> = sum_j sqrt(|c_j|/alpha) |j>`` and
  ``SELECT = sum_j |j><j| x sign(c_j) P_j``.
  ``alpha`` must be at least ``sum_j |c_j|``; a larger ``alpha`` is reached exactly by a pair of cancelling
  identity terms ``+-beta I``. Gate-level: used for resource counts and for simulation.
* :func:`dilation_block_encoding` -- the one-ancilla unitary dilation ``[[A, S], [S, -A]]``,
  ``S = sqrt(1 - A^2)``, as a dense ``UnitaryGate`` (small registers; the reference encoding).

Qubit order (Qiskit): system qubits ``0..n-1``, then the ``m`` ancillas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import check_positive
from qdyn.operators import as_pauli_op

__all__ = ["BlockEncoding", "lcu_block_encoding", "dilation_block_encoding", "shifted_operator"]


@dataclass(frozen=True)
class BlockEncoding:
    """``circuit`` on ``n_system + n_ancillas`` qubits, ``operator / alpha`` in its ``|0^m>`` block."""

    circuit: QuantumCircuit
    n_system: int
    n_ancillas: int
    alpha: float
    operator: SparsePauliOp  #: the encoded operator (``H - mu``) before the division by ``alpha``
    kind: str


def shifted_operator(H, mu: float) -> SparsePauliOp:
    """``H - mu I`` as a SparsePauliOp with real coefficients."""
    op = as_pauli_op(H, name="H")
    shift = SparsePauliOp("I" * op.num_qubits, [-float(mu)])
    return (op + shift).simplify(atol=0)


def lcu_block_encoding(H, mu: float, alpha: float) -> BlockEncoding:
    """``PREP^dag SELECT PREP`` for ``(H - mu)/alpha``; ``alpha >= ||H - mu||_1`` (identity included)."""
    from qiskit.circuit.library import PauliGate, StatePreparation

    op = shifted_operator(H, mu)
    n = op.num_qubits
    alpha = check_positive("alpha", alpha)
    labels = [p.to_label() for p in op.paulis]
    coeffs = op.coeffs.real.astype(float)
    norm = float(np.sum(np.abs(coeffs)))
    if alpha < norm * (1 - 1e-12):
        raise ValueError(f"alpha must be >= the Pauli 1-norm of H - mu ({norm:.6g}) for an LCU block "
                         f"encoding, got {alpha:.6g}")
    if alpha > norm * (1 + 1e-12):
        beta = (alpha - norm) / 2
        labels += ["I" * n, "I" * n]
        coeffs = np.append(coeffs, [beta, -beta])
    m = max(1, int(np.ceil(np.log2(len(labels)))))
    amplitudes = np.zeros(2**m)
    amplitudes[: len(labels)] = np.sqrt(np.abs(coeffs) / np.sum(np.abs(coeffs)))
    qc = QuantumCircuit(n + m, name="lcu")
    system, anc = list(range(n)), list(range(n, n + m))
    prep = StatePreparation(amplitudes)
    qc.append(prep, anc)
    for j, (label, c) in enumerate(zip(labels, coeffs, strict=True)):
        term = QuantumCircuit(n, name=("-" if c < 0 else "") + label)
        term.append(PauliGate(label), system)
        if c < 0:
            term.global_phase = np.pi
        qc.append(term.to_gate().control(m, ctrl_state=j), anc + system)
    qc.append(prep.inverse(), anc)
    return BlockEncoding(qc, n, m, float(np.sum(np.abs(coeffs))), op, "lcu")


def dilation_block_encoding(H, mu: float, alpha: float) -> BlockEncoding:
    """The dense one-ancilla dilation ``[[A, S], [S, -A]]`` of ``A = (H - mu)/alpha`` (``||A|| <= 1``)."""
    from qiskit.circuit.library import UnitaryGate

    op = shifted_operator(H, mu)
    alpha = check_positive("alpha", alpha)
    n = op.num_qubits
    a = op.to_matrix() / alpha
    a = (a + a.conj().T) / 2
    w, v = np.linalg.eigh(a)
    if np.max(np.abs(w)) > 1 + 1e-12:
        raise ValueError(f"||(H - mu)/alpha|| = {np.max(np.abs(w)):.6g} > 1: increase alpha")
    s = (v * np.sqrt(np.clip(1 - w * w, 0, None))) @ v.conj().T
    u = np.block([[a, s], [s, -a]])
    qc = QuantumCircuit(n + 1, name="dilation")
    qc.append(UnitaryGate(u, check_input=False), list(range(n + 1)))
    return BlockEncoding(qc, n, 1, float(alpha), op, "dilation")
