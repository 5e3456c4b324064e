"""The circuit backend of :func:`qdyn.cooling.cool`: the shifted-sign filter as a simulated QSVT circuit.

:func:`qsvt_filter` returns ``apply(v, mu) -> (p(A) v, probability)`` with ``A = (H - mu)/alpha``: the state
``|0_anc>|v/||v||>`` is run through :func:`qdyn.circuits.qsp.qsvt_circuit` (block encoding ``"lcu"`` or
``"dilation"``) on a statevector simulator, and the ancillas are post-selected on ``|0>``; the projected
amplitude times ``||v||`` is ``p(A) v``, and ``probability = ||p(A) v||^2 / ||v||^2`` is the post-selection
probability. The phases are solved once (Newton, ``"qsvt"`` convention, verified on ``>= 2d`` points).
For simulation each block-encoding query is one dense gate equal to its gate-level circuit (built once per
``mu``) and each projector rotation one diagonal gate; :func:`cooling_circuit_resources` counts the
gate-level circuit instead.

:func:`simulate_statevector` is the one place that runs a circuit here (Qiskit ``Statevector``).
"""

from __future__ import annotations

import numpy as np

from qdyn.errors import check_choice, check_int

__all__ = ["qsvt_filter", "simulate_statevector", "cooling_circuit_resources"]


def simulate_statevector(circuit, initial: np.ndarray) -> np.ndarray:
    """The output statevector of ``circuit`` on ``initial`` (Qiskit's exact statevector simulator)."""
    from qiskit.quantum_info import Statevector

    return np.asarray(Statevector(initial).evolve(circuit).data)


def _block(H, mu, alpha, kind):
    from qdyn.circuits.block_encoding import dilation_block_encoding, lcu_block_encoding

    return lcu_block_encoding(H, mu, alpha) if kind == "lcu" else dilation_block_encoding(H, mu, alpha)


def qsvt_filter(H, poly, *, alpha: float, block_encoding: str = "lcu"):
    """``apply(v, mu)``: ``poly((H - mu)/alpha) v`` through a simulated QSVT circuit (see module doc)."""
    from qiskit.circuit.library import UnitaryGate
    from qiskit.quantum_info import Operator

    from qdyn.circuits.qsp import qsvt_circuit
    from qdyn.cooling.phases import solve_phases_newton

    check_choice("block_encoding", block_encoding, ("lcu", "dilation"))
    phases = solve_phases_newton(poly, convention="qsvt").phases
    cache: dict = {}

    def circuit_for(mu):
        if mu not in cache:
            block = _block(H, mu, alpha, block_encoding)
            gate = UnitaryGate(Operator(block.circuit).data, check_input=False)
            cache.clear()
            cache[mu] = (qsvt_circuit(block, phases, block_gate=gate, rotations="diagonal"), block)
        return cache[mu]

    def apply(v, mu):
        circuit, block = circuit_for(float(mu))
        norm = float(np.linalg.norm(v))
        if norm == 0:
            return np.zeros_like(v), 0.0
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[: v.size] = v / norm  # every ancilla in |0>: the lowest 2^n amplitudes
        out = simulate_statevector(circuit, initial)[: v.size]
        return out * norm, float(np.vdot(out, out).real)

    return apply


def cooling_circuit_resources(H, *, eps: float = 0.15, delta: float = 1e-6, alpha: float | None = None,
                              mu: float = 0.0, steps: int = 1, time: float = 5.0, lam: float = 0.5,
                              v_norm: float = 1.0, tol: float = 1e-13, basis=("cx", "u"),
                              optimization_level: int = 1) -> dict:
    """Queries, qubits and two-qubit gates of the gate-level QSVT filter, per filter and per cooling run.

    The block encoding is the LCU circuit of ``(H - mu)/alpha`` (``alpha`` defaults to its Pauli 1-norm plus
    1, which covers every ``mu`` in [-1, 1]); its two-qubit count comes from transpiling it to ``basis``. A
    filter of degree ``d`` uses ``d`` block-encoding queries and ``d + 1`` projector rotations; a cooling step
    applies it ``m`` times (the propagator's count, as in :func:`qdyn.cooling.cool`).
    """
    from qiskit import transpile

    from qdyn.circuits.block_encoding import shifted_operator
    from qdyn.circuits.qsp import qsvt_circuit
    from qdyn.cooling.polynomials import erf_polynomial
    from qdyn.exact.evolution import chebyshev_coefficients

    steps = check_int("steps", steps, minimum=1)
    if alpha is None:
        alpha = float(np.sum(np.abs(shifted_operator(H, 0.0).coeffs))) + 1.0
    block = _block(H, mu, alpha, "lcu")
    poly = erf_polynomial(alpha / eps, delta)
    d = poly.degree
    be_2q = _two_qubit_count(transpile(block.circuit, basis_gates=list(basis),
                                       optimization_level=optimization_level))
    # one projector rotation, on its own (a 2-phase QSVT circuit minus its single query)
    one_query = qsvt_circuit(block, np.zeros(2))
    rot_2q = (_two_qubit_count(transpile(one_query, basis_gates=list(basis),
                                         optimization_level=optimization_level)) - be_2q) // 2
    per_filter = d * be_2q + (d + 1) * rot_2q
    m = chebyshev_coefficients((1 + lam * v_norm) * time, tol=tol).size - 1
    return {"n_system": block.n_system, "qubits": one_query.num_qubits, "degree": d, "alpha": alpha,
            "queries_per_filter": d, "block_encoding_two_qubit_gates": be_2q,
            "filter_two_qubit_gates": per_filter, "filters_per_step": m,
            "queries_h": steps * m * d, "queries_v": steps * m,
            "two_qubit_gates": steps * m * per_filter}


def _two_qubit_count(circuit) -> int:
    return int(sum(1 for inst in circuit.data if inst.operation.num_qubits == 2))
