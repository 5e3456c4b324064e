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

:func:`block_encoding_of` picks one of the two by name.

Qubit order (Qiskit): system qubits ``0..n-1``, then the ``m`` ancillas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Gate
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import check_choice, check_positive
from qdyn.operators import as_pauli_op

__all__ = ["BLOCK_ENCODINGS", "BlockEncoding", "block_encoding_of", "dilation_block_encoding", "lcu_block_encoding",
           "shifted_operator"]

BLOCK_ENCODINGS = ("lcu", "dilation")


@dataclass(frozen=True)
class BlockEncoding:
    """``circuit`` on ``n_system + n_ancillas`` qubits, ``operator / alpha`` in its ``|0^m>`` block."""

    circuit: QuantumCircuit
    n_system: int
    n_ancillas: int
    alpha: float
    operator: SparsePauliOp  #: the encoded operator (``H - mu``) before the division by ``alpha``
    kind: str

    def gate(self, name: str) -> Gate:
        """The block encoding as one gate named ``name``. An LCU gate's controlled forms (``Gate.control``)
        control ``SELECT`` only -- far fewer gates than controlling the whole definition, the same operator."""
        if self.kind == "lcu":
            labels, coeffs = _lcu_terms(self.operator, self.alpha)
            return _LCUGate(labels, coeffs, self.n_system, name)
        gate = self.circuit.to_gate()
        gate.name = name
        return gate


def shifted_operator(H, mu: float) -> SparsePauliOp:
    """``H - mu I`` as a SparsePauliOp with real coefficients."""
    op = as_pauli_op(H, name="H")
    shift = SparsePauliOp("I" * op.num_qubits, [-float(mu)])
    return (op + shift).simplify(atol=0)


def _lcu_terms(op: SparsePauliOp, alpha: float) -> tuple[list[str], np.ndarray]:
    """The Pauli labels and real coefficients of ``op``, padded with ``+-beta I`` up to the 1-norm ``alpha``."""
    n = op.num_qubits
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
    return labels, coeffs


def _lcu_circuit(labels, coeffs, n: int, controls: int = 0, ctrl_state: int = 0) -> QuantumCircuit:
    """``PREP^dag SELECT PREP`` on (``controls`` control qubits, the ``n`` system qubits, the ancillas), with only
    ``SELECT`` controlled: when the controls are off, ``PREP^dag PREP = 1``."""
    from qiskit.circuit.library import PauliGate, StatePreparation

    m = max(1, int(np.ceil(np.log2(len(labels)))))
    amplitudes = np.zeros(2**m)
    amplitudes[: len(labels)] = np.sqrt(np.abs(coeffs) / np.sum(np.abs(coeffs)))
    qc = QuantumCircuit(controls + n + m, name="lcu")
    ctrl = list(range(controls))
    system, anc = list(range(controls, controls + n)), list(range(controls + n, controls + n + m))
    prep = StatePreparation(amplitudes)
    qc.append(prep, anc)
    for j, (label, c) in enumerate(zip(labels, coeffs, strict=True)):
        term = QuantumCircuit(n, name=("-" if c < 0 else "") + label)
        term.append(PauliGate(label), list(range(n)))
        if c < 0:
            term.global_phase = np.pi
        # controls of a Qiskit controlled gate: ctrl_state bit i is qargs[i]: the ancillas first, then ``ctrl``
        qc.append(term.to_gate().control(m + controls, ctrl_state=j + (ctrl_state << m)), anc + ctrl + system)
    qc.append(prep.inverse(), anc)
    return qc


class _LCUGate(Gate):
    """An LCU block encoding as a gate, Hermitian like its operator (so ``inverse`` is the same gate), whose
    controlled forms (``control``) control ``SELECT`` only (:func:`_lcu_circuit`) instead of every gate of the
    definition. A controlled form is named ``f"{name}_c{k}_{ctrl_state}"``; qubits: the ``k`` controls first."""

    def __init__(self, labels, coeffs, n: int, name: str, controls: int = 0, ctrl_state: int = 0):
        self._terms = (list(labels), np.asarray(coeffs, dtype=float), n)
        self._base, self._controls, self._ctrl_state = name, controls, ctrl_state
        label = name if not controls else f"{name}_c{controls}_{ctrl_state}"
        m = max(1, int(np.ceil(np.log2(len(labels)))))
        super().__init__(label, controls + n + m, [])

    def _define(self):
        self.definition = _lcu_circuit(*self._terms, controls=self._controls, ctrl_state=self._ctrl_state)

    def inverse(self, annotated: bool = False):
        """The same gate: ``PREP^dag SELECT PREP`` is Hermitian (Pauli terms with real signs), controlled or not."""
        return _LCUGate(*self._terms, self._base, self._controls, self._ctrl_state)

    def control(self, num_ctrl_qubits: int = 1, label=None, ctrl_state=None, annotated=None):
        """``num_ctrl_qubits`` more controls in ``ctrl_state`` (Qiskit's convention: the new controls first)."""
        if ctrl_state is None:
            state = 2**num_ctrl_qubits - 1
        else:
            state = int(ctrl_state, 2) if isinstance(ctrl_state, str) else int(ctrl_state)
        return _LCUGate(*self._terms, self._base, self._controls + num_ctrl_qubits,
                        state + (self._ctrl_state << num_ctrl_qubits))


def lcu_block_encoding(H, mu: float, alpha: float) -> BlockEncoding:
    """``PREP^dag SELECT PREP`` for ``(H - mu)/alpha``; ``alpha >= ||H - mu||_1`` (identity included)."""
    op = shifted_operator(H, mu)
    alpha = check_positive("alpha", alpha)
    labels, coeffs = _lcu_terms(op, alpha)
    qc = _lcu_circuit(labels, coeffs, op.num_qubits)
    return BlockEncoding(qc, op.num_qubits, qc.num_qubits - op.num_qubits, float(np.sum(np.abs(coeffs))), op, "lcu")


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


def block_encoding_of(H, mu: float, alpha: float, kind: str = "lcu") -> BlockEncoding:
    """The block encoding of ``(H - mu)/alpha`` named by ``kind``: ``"lcu"`` (:func:`lcu_block_encoding`) or
    ``"dilation"`` (:func:`dilation_block_encoding`)."""
    check_choice("kind", kind, BLOCK_ENCODINGS)
    build = lcu_block_encoding if kind == "lcu" else dilation_block_encoding
    return build(H, mu, alpha)
