"""The ``"circuit"`` method of :func:`qdyn.cooling.cool`: each cooling step one simulated, post-selected circuit.

:class:`CoherentCoolingStep` builds the step circuit of :mod:`qdyn.cooling.step_circuit` in the dense form --
``U_A`` and ``U_V`` dense gates (their circuits' operators, once per ``mu``), the projector rotations diagonal
gates, ``U_G`` cached while ``mu``, ``lam`` and ``V`` stay the same -- and runs it on the statevector gate by
gate (:func:`qdyn.circuits.simulate.apply_circuit`). The filter is the QSVT of an odd polynomial on ``U_A``, or a
:class:`~qdyn.cooling.filters.GQSPFilter` / :class:`~qdyn.cooling.filters.QETUFilter` on the time evolution.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit

from qdyn.circuits.block_encoding import BLOCK_ENCODINGS, block_encoding_of, shifted_operator
from qdyn.circuits.forms import DenseForm
from qdyn.circuits.gate_counts import GateCounts
from qdyn.circuits.simulate import circuit_operator, run_postselected
from qdyn.cooling.accounting import propagator_degree
from qdyn.cooling.circuit_resources import step_gate_counts
from qdyn.cooling.filters import GQSPFilter, QETUFilter
from qdyn.cooling.step_circuit import (
    StepLayout,
    dense_filter_appender,
    g_gates,
    gate_level_step_circuit,
    qsvt_filter_appender,
    step_circuit,
)
from qdyn.errors import check_choice, check_positive
from qdyn.operators import as_pauli_op, pauli_norm

__all__ = ["CoherentCoolingStep"]


class CoherentCoolingStep:
    """``step(psi, mu, lam, V, t) -> (state, probability)``: one cooling step as one simulated circuit.

    ``H`` has its spectrum in [-1, 1]. ``sign_filter`` is the filter route: an odd Chebyshev polynomial
    ``p`` (QSVT route: ``p((H - mu)/alpha)`` from ``U_A``; ``block_encoding`` ``"dilation"``, ``n + 5``
    qubits in all, or ``"lcu"``, ``n + m + 4`` with ``m = ceil(log2 #terms)``), a :class:`GQSPFilter`
    (``n + 4`` qubits with a dilation ``U_V``) or a :class:`QETUFilter` (``n + 5`` qubits). ``eta`` is the
    margin of the evolution polynomials, ``tol`` their truncation; ``amplify=True`` wraps the step in one round
    of oblivious amplitude amplification (three uses of the step, post-selection ``~1/4 -> ~1``).
    ``probability`` is the post-selection probability of all ancillas in ``|0>`` and ``state`` the
    renormalised system state. :meth:`filter_queries` gives the queries to the ``H`` oracle per application of
    the filter, :meth:`gate_counts` the two-qubit gates and depth of the same step at gate level;
    ``last_circuit`` keeps the last simulated step circuit.
    """

    def __init__(self, H, sign_filter, *, alpha: float = 2.0, block_encoding: str = "dilation",
                 eta: float = 1e-4, tol: float = 1e-13, amplify: bool = False):
        from qdyn.qsp.phases import solve_phases_newton

        check_choice("block_encoding", block_encoding, BLOCK_ENCODINGS)
        self.H = as_pauli_op(H, name="H")
        self.alpha, self.kind, self.tol = check_positive("alpha", alpha), block_encoding, float(tol)
        self.eta = check_positive("eta", eta)
        if not isinstance(amplify, bool):
            raise TypeError(f"amplify must be True or False, got {amplify!r}")
        self.amplify = amplify
        self.query_factor = 3 if amplify else 1  #: uses of the step circuit per cooling step
        self.route = {GQSPFilter: "gqsp", QETUFilter: "qetu"}.get(type(sign_filter), "qsvt")
        self.sign_filter = sign_filter
        if self.route == "qsvt":
            coeffs = np.asarray(getattr(sign_filter, "coeffs", sign_filter))
            if getattr(sign_filter, "parity", 1) != 1 or (coeffs.size - 1) % 2 != 1:
                raise ValueError("the QSVT filter polynomial must be odd (the shifted sign): |0><0|_b x U_p "
                                 "relies on an odd number of queries")
            self.filter_phases = solve_phases_newton(sign_filter, convention="qsvt").phases
        self._g_cache: dict = {}
        self._phase_cache: dict = {}
        self._v_cache: dict = {}
        self.last_circuit = None

    def filter_queries(self, mu: float) -> int:
        """Queries to ``U_A`` (QSVT route) or to the time evolution (GQSP, QETU) per application of the filter."""
        if self.route == "qsvt":
            return self.filter_phases.size - 1
        return self.sign_filter.queries(mu)

    def _v_block(self, V):
        key = (tuple(p.to_label() for p in V.paulis), tuple(np.round(V.coeffs.real, 15)))
        if key not in self._v_cache:
            v_norm = pauli_norm(V)
            block = block_encoding_of(V, 0.0, v_norm, self.kind)
            self._v_cache = {key: (circuit_operator(block.circuit), block.n_ancillas, v_norm)}
        return self._v_cache[key], key

    def _filter(self, mu: float):
        """The filter appender for ``mu`` and its number of ancillas."""
        if self.route == "qsvt":
            block = block_encoding_of(self.H, mu, self.alpha, self.kind)
            u_a = circuit_operator(block.circuit)
            return qsvt_filter_appender(self.filter_phases, u_a, block.n_ancillas), block.n_ancillas
        u_f, n_f = self.sign_filter.dense_unitary(self.H, mu)
        return dense_filter_appender(u_f, n_f), n_f

    def _g(self, mu: float, lam: float, V, longer: int):
        """``(U_G, U_G^dag, c-U_G)`` (dense pieces) and the layout, kept while the step data repeat."""
        (u_v, n_v, v_norm), v_key = self._v_block(V)
        key = (float(mu), float(lam), v_key, longer)
        if key not in self._g_cache:
            append_filter, n_f = self._filter(float(mu))
            layout = StepLayout(self.H.num_qubits, max(n_f, n_v), with_flag=False,
                                with_filter_select=self.route == "qsvt")
            g = g_gates(DenseForm, layout, append_filter, u_v, n_v, lam * v_norm, longer)
            self._g_cache = {key: (g, layout)}
        return self._g_cache[key]

    def phases(self, tau: float) -> tuple[np.ndarray, np.ndarray]:
        """The ``"qsvt"`` phases of the Jacobi-Anger ``cos`` and ``sin`` polynomials for ``tau = beta t``."""
        from qdyn.qsp.evolution import evolution_phases

        key = round(float(tau), 14)
        if key not in self._phase_cache:
            cos_ph, sin_ph = evolution_phases(tau, propagator_degree(tau, self.tol), eta=self.eta)
            self._phase_cache[key] = (cos_ph.phases, sin_ph.phases)
        return self._phase_cache[key]

    def circuit(self, mu: float, lam: float, V, t: float) -> QuantumCircuit:
        """The step circuit for ``mu``, ``lam``, ``V`` (SparsePauliOp) and time ``t`` (dense pieces)."""
        cos_ph, sin_ph = self.phases((1.0 + lam * pauli_norm(V)) * t)
        g, layout = self._g(mu, lam, V, int(sin_ph.size > cos_ph.size))
        return step_circuit(DenseForm, layout, g, cos_ph, sin_ph, amplify=self.amplify)

    def gate_counts(self, mu: float, lam: float, V, t: float, **options) -> GateCounts | None:
        """Two-qubit gates, depth and queries of the same step at gate level
        (:func:`qdyn.cooling.step_circuit.gate_level_step_circuit`, counted by
        :func:`qdyn.cooling.circuit_resources.step_gate_counts`; ``options`` are its ``basis`` and
        ``optimization_level``): the same phases and query sequence with LCU block encodings. The dense
        dilation has no gate-level form, so for it the LCU takes its place, with ``alpha`` raised to the Pauli
        1-norm of ``H - mu`` where that is larger (same queries, another ``U_A``). None for the GQSP and QETU
        routes, whose filters have no gate-level form here."""
        if self.route != "qsvt":
            return None
        alpha = self.alpha
        if self.kind == "dilation":
            alpha = max(alpha, pauli_norm(shifted_operator(self.H, mu), include_identity=True))
        circuit, _ = gate_level_step_circuit(self.H, self.sign_filter, V, mu=mu, lam=lam, time=t, alpha=alpha,
                                             eta=self.eta, tol=self.tol, amplify=self.amplify)
        return step_gate_counts(circuit, **options)

    def __call__(self, psi, mu, lam, V, t):
        circuit = self.circuit(mu, lam, V, t)
        self.last_circuit = circuit
        out, prob = run_postselected(circuit, np.asarray(psi, dtype=complex))
        return out / np.sqrt(prob), prob
