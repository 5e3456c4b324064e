"""Exact statevector simulation of a circuit, and of a circuit post-selected on its ancillas.

* :func:`simulate_statevector` -- Qiskit's ``Statevector`` (the reference);
* :func:`apply_circuit` -- the same output, gate by gate with ``numpy.tensordot``: an instruction with a matrix is
  applied directly, a controlled gate through its base gate's matrix, a composite gate on at most
  ``_MATRIX_LIMIT`` qubits as its matrix (computed once per distinct gate), a larger one through its definition.
  Much faster than ``Statevector`` for circuits of thousands of dense gates (a coherent cooling step);
* :func:`circuit_operator` -- the unitary matrix, :func:`apply_circuit` on every basis state at once;
* :func:`run_postselected` -- ``(<0_anc| x 1) U (|0_anc> x |psi>)`` and its post-selection probability.

Qubit order (Qiskit): qubit 0 is the least significant bit of a basis index; a circuit's system qubits come first
(``0..n-1``) and its ancillas after them, so "every ancilla in ``|0>``" is the lowest ``2^n`` amplitudes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["apply_circuit", "circuit_operator", "run_postselected", "simulate_statevector"]

_MATRIX_LIMIT = 7  #: composite gates on at most this many qubits are applied as one matrix


def simulate_statevector(circuit, initial: np.ndarray) -> np.ndarray:
    """The output statevector of ``circuit`` on ``initial`` (Qiskit's exact statevector simulator)."""
    from qiskit.quantum_info import Statevector

    return np.asarray(Statevector(initial).evolve(circuit).data)


def apply_circuit(circuit, initial: np.ndarray) -> np.ndarray:
    """``circuit`` applied to ``initial`` gate by gate with ``numpy.tensordot`` (the module docstring).

    Composite gates are cached by name, size, parameters and control state: within one circuit, give different
    composite gates different names. Equal to :func:`simulate_statevector` to rounding.
    """
    n = circuit.num_qubits
    initial = np.asarray(initial, dtype=complex)
    if initial.shape != (2**n,):
        raise ValueError(f"initial must be a statevector of shape ({2**n},) for {n} qubits, got {initial.shape}")
    return _apply_instructions(circuit, initial.reshape((2,) * n), list(range(n)), n, {}).reshape(-1)


def circuit_operator(circuit) -> np.ndarray:
    """The unitary matrix of ``circuit``: :func:`apply_circuit` on every basis state at once (a trailing batch
    axis) -- much faster than Qiskit's ``Operator`` for circuits of many dense gates."""
    n = circuit.num_qubits
    dim = 2**n
    state = np.eye(dim, dtype=complex).reshape((2,) * n + (dim,))
    return _apply_instructions(circuit, state, list(range(n)), n, {}).reshape(dim, dim)


def run_postselected(circuit, psi: np.ndarray, *, simulator=apply_circuit) -> tuple[np.ndarray, float]:
    """``(out, probability)``: ``out = (<0_anc| x 1) U (|0_anc> x |psi>)`` for the system part ``psi`` (``2^n``
    amplitudes, any norm; ``out`` scales with ``||psi||``) and ``probability = ||out||^2 / ||psi||^2``, the chance
    that every ancilla is found in ``|0>``. ``simulator`` is :func:`apply_circuit` or :func:`simulate_statevector`.
    """
    psi = np.asarray(psi, dtype=complex)
    if psi.ndim != 1 or psi.size > 2**circuit.num_qubits:
        raise ValueError(f"psi must be a 1-D system state of at most 2^{circuit.num_qubits} amplitudes")
    norm = float(np.linalg.norm(psi))
    if norm == 0:
        return np.zeros_like(psi), 0.0
    initial = np.zeros(2**circuit.num_qubits, dtype=complex)
    initial[: psi.size] = psi / norm
    out = simulator(circuit, initial)[: psi.size]
    return out * norm, float(np.vdot(out, out).real)


def _matrix_of(op, cache):
    """The matrix of ``op``, or None (then its definition is expanded)."""
    from qiskit.circuit import ControlledGate

    params = tuple(float(p) for p in op.params if isinstance(p, int | float))
    if len(params) != len(op.params) and op.name != "unitary":
        params = None  # non-numeric parameters: no content key
    key = (op.name, op.num_qubits, params, getattr(op, "ctrl_state", None))
    if op.name == "unitary" or params is None:
        key = ("id", id(op))
    if key in cache:
        return cache[key][1]
    if isinstance(op, ControlledGate):
        base = _matrix_of(op.base_gate, cache)
        matrix = None if base is None else _controlled_matrix(base, op.num_ctrl_qubits, op.ctrl_state)
    else:
        try:
            matrix = op.to_matrix()
        except Exception:  # no direct matrix: a composite gate
            matrix = None
            if op.num_qubits <= _MATRIX_LIMIT and op.definition is not None:
                matrix = circuit_operator(op.definition)
    cache[key] = (op, matrix)  # keep op alive so that an id key stays unique
    return matrix


def _controlled_matrix(base: np.ndarray, k: int, ctrl_state: int) -> np.ndarray:
    """Qiskit's controlled gate: qargs controls + targets, the controls the least significant bits."""
    t = base.shape[0]
    out = np.eye(t * 2**k, dtype=complex).reshape(t, 2**k, t, 2**k)
    out[:, ctrl_state, :, ctrl_state] = base
    return out.reshape(t * 2**k, t * 2**k)


def _apply_instructions(circuit, state, wires, n, cache):
    for inst in circuit.data:
        op = inst.operation
        qargs = [wires[circuit.find_bit(q).index] for q in inst.qubits]
        matrix = _matrix_of(op, cache)
        if matrix is None:
            if op.definition is None:
                raise TypeError(f"instruction {op.name!r} has neither a matrix nor a definition")
            state = _apply_instructions(op.definition, state, qargs, n, cache)
            continue
        k = len(qargs)
        tensor = np.asarray(matrix, dtype=complex).reshape((2,) * (2 * k))
        axes = [n - 1 - q for q in reversed(qargs)]  # tensor axis j holds qubit n - 1 - j
        state = np.moveaxis(np.tensordot(tensor, state, axes=(list(range(k, 2 * k)), axes)), range(k), axes)
    if circuit.global_phase:
        state = state * np.exp(1j * float(circuit.global_phase))
    return state
