"""Gate-level resources of the coherent cooling step: qubits, queries, two-qubit gates and depth.

:func:`step_gate_counts` counts a step circuit of :func:`qdyn.cooling.step_circuit.gate_level_step_circuit`
with :func:`qdyn.circuits.gate_counts.expanded_gate_counts`: ``U_G`` and its inverse and controlled forms are
expanded, every other distinct gate (block encodings and their controlled forms, multi-controlled X, controlled
``RZZ``) is transpiled to ``basis`` once. :func:`cooling_circuit_resources` builds the step for a given ``H``
and reports the counts per step and for a run of ``steps`` steps.
"""

from __future__ import annotations

import numpy as np

from qdyn.circuits.amplification import amplified_probability
from qdyn.circuits.gate_counts import GateCounts, expanded_gate_counts
from qdyn.cooling.step_circuit import G_GATE_NAMES, gate_level_step_circuit
from qdyn.errors import check_int

__all__ = ["cooling_circuit_resources", "step_gate_counts"]

QUERY_GATES = ("U_A", "U_V")  #: the oracles of a step: block encodings of (H - mu)/alpha and of V/||V||_1


def step_gate_counts(circuit, *, basis=("cx", "u"), optimization_level: int = 1,
                     cache: dict | None = None) -> GateCounts:
    """Two-qubit gates, depth and the queries ``counts["U_A"]``, ``counts["U_V"]`` of a gate-level step circuit
    (or of a piece of one); ``cache`` as in :func:`qdyn.circuits.gate_counts.expanded_gate_counts`."""
    return expanded_gate_counts(circuit, expand=G_GATE_NAMES, count=QUERY_GATES, basis=basis,
                                optimization_level=optimization_level, cache=cache)


def cooling_circuit_resources(H, V=None, *, eps: float = 0.15, delta: float = 1e-6, alpha: float | None = None,
                              mu: float = 0.0, steps: int = 1, time: float = 5.0, lam: float = 0.5,
                              eta: float = 1e-4, tol: float = 1e-13, amplify: bool = False, basis=("cx", "u"),
                              optimization_level: int = 1) -> dict:
    """Qubits, queries, two-qubit gates and depth of the gate-level cooling step, per step and for ``steps``.

    ``H`` is normalised (spectrum inside [-1, 1]); the filter is the erf polynomial of ``(H - mu)/alpha`` of
    width ``eps`` and accuracy ``delta`` on LCU block encodings. ``alpha`` defaults to the Pauli 1-norm of ``H``
    plus 1, which covers every ``mu`` in [-1, 1]. The queries to ``U_A`` and ``U_V`` are counted on the circuit:
    ``m d`` and ``m`` per step (``m = max(deg C, deg S)``, ``d = deg p``; three times that with ``amplify``),
    the accounting of :func:`qdyn.cooling.cool`. ``success_probability`` is that of the step's post-selection,
    ``((1 - eta)/2)^2`` (amplified: ``sin^2(3 arcsin((1 - eta)/2))``). Only the QSVT filter route is counted.
    """
    from qdyn.circuits.block_encoding import shifted_operator
    from qdyn.qsp.polynomials import erf_polynomial

    steps = check_int("steps", steps, minimum=1)
    if alpha is None:
        alpha = float(np.sum(np.abs(shifted_operator(H, 0.0).coeffs))) + 1.0
    poly = erf_polynomial(alpha / eps, delta)
    circuit, layout = gate_level_step_circuit(H, poly, V, mu=mu, lam=lam, time=time, alpha=alpha, eta=eta,
                                              tol=tol, amplify=amplify)
    cache: dict = {}
    per_step = step_gate_counts(circuit, basis=basis, optimization_level=optimization_level, cache=cache)
    g_gate = next(inst.operation for inst in circuit.data if inst.operation.name == "U_G")
    per_g = step_gate_counts(g_gate.definition, basis=basis, optimization_level=optimization_level, cache=cache)
    q_h, q_v = per_step.counts["U_A"], per_step.counts["U_V"]
    success = ((1 - eta) / 2) ** 2
    return {"n_system": layout.n_system, "qubits": circuit.num_qubits, "block_ancillas": layout.n_block,
            "degree": poly.degree, "alpha": alpha, "evolution_degree": q_v // (3 if amplify else 1),
            "queries_h_per_step": q_h, "queries_v_per_step": q_v,
            "g_two_qubit_gates": per_g.two_qubit_gates, "step_two_qubit_gates": per_step.two_qubit_gates,
            "step_depth": per_step.depth,
            "success_probability": amplified_probability(success) if amplify else success,
            "queries_h": steps * q_h, "queries_v": steps * q_v, "two_qubit_gates": steps * per_step.two_qubit_gates}
