"""The circuit of one coherent cooling step, in the dense (simulated) and the gate-level (counted) form.

A step evolves for a time ``t`` under ``G = f(H) + lam V``, ``f ~ sign(H - mu)`` the shifted-sign filter
(``H`` normalised: spectrum and ``mu`` inside [-1, 1]). Three layers of block encodings:

1. ``U_A``: a Hermitian block encoding of ``A = (H - mu)/alpha`` (:mod:`qdyn.circuits.block_encoding`;
   ``"dilation"``, one ancilla, or ``"lcu"``) and ``U_V`` of ``V / ||V||_1`` on the same (shared) ancilla
   register ``a``.
2. ``U_p``: the real-part QSVT circuit (:func:`qdyn.circuits.qsp.qsvt_circuit`), ``d`` queries to ``U_A``
   and the select qubit ``c_p``: ``<0|U_p|0> = p(A)``, ``p`` the odd erf polynomial. Filter routes on the time
   evolution replace ``U_p`` by one dense gate ``U_f`` (:mod:`qdyn.cooling.filters`; no ``c_p``).
3. ``U_G``: the LCU ``PREP^dag SELECT PREP`` with one ancilla ``b``, ``PREP|0> = (|0> + sqrt(lam v)|1>)
   / sqrt(beta)``, ``v = ||V||_1``, ``beta = 1 + lam v``, ``SELECT = |0><0|_b x U_p + |1><1|_b x U_V``:

       (<0_{a c_p b}| x 1) U_G (|0_{a c_p b}> x 1) = (p(A) + lam V) / beta = G / beta.

   ``|0><0|_b x U_p`` is ``U_p`` with its projector rotations controlled on ``b = 0`` and only its first
   query controlled: for ``b = 1`` the rest is ``U_A^{d-1} = 1`` (``U_A`` is a reflection, ``d`` odd).

The evolution is QSVT on ``U_G`` (queries alternate ``U_G``, ``U_G^dag``; projector ``Pi_G = |0><0|`` on
``a, c_p, b``; Gilyen, Su, Low, Wiebe, STOC 2019, Thm. 17) with the Jacobi-Anger polynomials ``C ~ (1 - eta)
cos(beta t x)`` and ``S ~ (1 - eta) sin(beta t x)`` of :mod:`qdyn.qsp.evolution`, truncated where the classical
propagator is (:func:`qdyn.cooling.accounting.propagator_degree`). Their ``"qsvt"`` phases realise ``Re P``
through a select qubit ``c`` (phases ``Psi`` / ``-Psi``), and one more ancilla ``e`` in ``|+>`` chooses ``C``
(``e = 0``) or ``S`` (``e = 1``): both branches share the queries (their phases differ, a diagonal rotation on
``a, c_p, b, c, e``), the one extra query of the longer branch is controlled on ``e``. ``S^dag`` on ``e``,
``H`` on ``e`` and ``c``, and post-selecting every ancilla on ``|0>`` give

    (<0_anc| x 1) U_step (|0_anc> x 1) = (C(G/beta) - i S(G/beta)) / 2 ~ (1 - eta) e^{-i G t} / 2,

so the post-selection probability is about ``(1 - eta)^2 / 4``; one round of oblivious amplitude amplification
(:func:`qdyn.circuits.amplification.amplified_circuit`) raises it to ``sin^2(3 arcsin((1 - eta)/2)) ~ 1`` for three
uses of the step. Queries per step: ``m = max(deg C, deg S)`` to ``U_G``, i.e. ``m d`` to ``U_A`` and ``m`` to
``U_V``.

Both forms come from the same code (:mod:`qdyn.circuits.forms`): :class:`~qdyn.circuits.forms.DenseForm` for
simulation (pieces as dense gates, no flag qubit), :class:`~qdyn.circuits.forms.GateForm` for counting
(:func:`gate_level_step_circuit`: LCU block encodings, flag-qubit rotations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit

from qdyn.circuits.amplification import amplified_circuit
from qdyn.circuits.block_encoding import lcu_block_encoding
from qdyn.circuits.forms import GateForm, inverse_circuit
from qdyn.cooling.accounting import propagator_degree

__all__ = [
    "G_GATE_NAMES",
    "StepLayout",
    "dense_filter_appender",
    "g_gates",
    "gate_level_step_circuit",
    "qsvt_filter_appender",
    "step_circuit",
]

G_GATE_NAMES = ("U_G", "U_G_dg", "c-U_G", "c-U_G_dg")  #: the composite gates of a step (expanded when counting)


@dataclass(frozen=True)
class StepLayout:
    """Qubits of one cooling step: system, the shared block ancillas ``a``, ``c_p`` (QSVT filter only),
    ``b``, a flag (gate-level form only), then the evolution's select ``c`` and the branch ``e``.
    ``g_register`` is what ``U_G`` acts on, ``g_ancillas`` where its projector ``Pi_G`` lives."""

    n_system: int
    n_block: int
    with_flag: bool
    with_filter_select: bool = True

    @property
    def system(self) -> list[int]:
        return list(range(self.n_system))

    @property
    def block(self) -> list[int]:
        return list(range(self.n_system, self.n_system + self.n_block))

    @property
    def filter_select(self) -> int | None:
        return self.n_system + self.n_block if self.with_filter_select else None

    @property
    def lcu(self) -> int:
        return self.n_system + self.n_block + int(self.with_filter_select)

    @property
    def flag(self) -> int | None:
        return self.lcu + 1 if self.with_flag else None

    @property
    def g_register(self) -> list[int]:
        return list(range(self.lcu + (2 if self.with_flag else 1)))

    @property
    def g_ancillas(self) -> list[int]:
        return list(range(self.n_system, self.lcu + 1))

    @property
    def select(self) -> int:
        return len(self.g_register)

    @property
    def branch(self) -> int:
        return self.select + 1

    @property
    def total(self) -> int:
        return self.branch + 1

    @property
    def postselected(self) -> list[int]:
        """The ancillas post-selected on ``|0>`` (the flag, back in ``|0>`` after every rotation, left out)."""
        return [q for q in range(self.n_system, self.total) if q != self.flag]


def qsvt_filter_appender(filter_phases, u_a, n_a: int):
    """Appender of ``|0><0|_b x U_p`` (QSVT on ``U_A``, a matrix or a gate): rotations and the first query
    controlled on the controls, the other ``d - 1`` queries plain (for controls off they give
    ``U_A^{d-1} = 1``, ``d`` odd)."""

    def append(form, qc, layout, controls, ctrl_state):
        cp, sys_a = layout.filter_select, layout.system + layout.block[:n_a]
        qc.h(cp)
        form.rotation(qc, filter_phases[-1], layout.block, cp, controls, ctrl_state, flag=layout.flag)
        for j, psi in enumerate(filter_phases[-2::-1]):
            if j == 0:
                form.append(qc, u_a, sys_a, controls, ctrl_state, label="c-U_A")
            else:
                form.append(qc, u_a, sys_a, label="U_A")
            form.rotation(qc, psi, layout.block, cp, controls, ctrl_state, flag=layout.flag)
        qc.h(cp)

    return append


def dense_filter_appender(u_f: np.ndarray, n_f: int):
    """Appender of ``|0><0|_b x U_f`` for a filter given as one dense unitary on system + ``n_f`` ancillas."""

    def append(form, qc, layout, controls, ctrl_state):
        form.append(qc, u_f, layout.system + layout.block[:n_f], controls, ctrl_state, label="c-U_f")

    return append


def _g_block_circuit(form, layout: StepLayout, append_filter, u_v, n_v: int, weight: float,
                     control: tuple[int, int] | None = None) -> QuantumCircuit:
    """``U_G`` on the G-register (on every qubit, controlled on the branch qubit, when ``control = (e, state)``)."""
    qc = QuantumCircuit(len(layout.g_register) if control is None else layout.total,
                        name="U_G" if control is None else "c-U_G")
    b = layout.lcu
    extra, extra_state = ([control[0]], control[1]) if control is not None else ([], 0)
    phi = 2 * np.arctan(np.sqrt(weight))  # PREP: cos^2(phi/2) = 1/beta, sin^2(phi/2) = lam v / beta
    form.append(qc, form.ry(phi), [b], extra, extra_state)
    append_filter(form, qc, layout, [b] + extra, 0 + 2 * extra_state)  # on b = 0 (and e)
    form.append(qc, u_v, layout.system + layout.block[:n_v], [b] + extra, 1 + 2 * extra_state, label="c-U_V")
    form.append(qc, form.ry(-phi), [b], extra, extra_state)
    return qc


def g_gates(form, layout: StepLayout, append_filter, u_v, n_v: int, weight: float, longer: int):
    """``(U_G, U_G^dag, c-U_G)`` as gates: ``weight = lam ||V||_1``; ``c-U_G`` is controlled on the branch qubit
    in state ``longer`` (the branch with the extra query)."""
    pieces = (form, layout, append_filter, u_v, n_v, weight)
    g_circuit = _g_block_circuit(*pieces)
    c_u_g = _g_block_circuit(*pieces, control=(layout.branch, longer)).to_gate()
    return g_circuit.to_gate(), inverse_circuit(g_circuit).to_gate(), c_u_g


def step_circuit(form, layout: StepLayout, g: tuple, cos_phases, sin_phases, *,
                 amplify: bool = False) -> QuantumCircuit:
    """The evolution QSVT of one step on ``layout.total`` qubits (module docstring).

    ``g = (U_G, U_G^dag, c-U_G)`` from :func:`g_gates`; ``amplify=True`` wraps the step in one round of
    oblivious amplitude amplification.
    """
    u_g, u_g_dag, c_u_g = g
    c, e = layout.select, layout.branch
    phases = (np.asarray(cos_phases), np.asarray(sin_phases))
    degrees = (phases[0].size - 1, phases[1].size - 1)
    qc = QuantumCircuit(layout.total, name="cooling-step")
    qc.h(c)
    qc.h(e)

    def rotate(k):  # phase psi_{d_branch - k} of each branch, 0 (identity) once the branch is finished
        psis = [ph[d - k] if k <= d else 0.0 for ph, d in zip(phases, degrees, strict=True)]
        form.rotation(qc, psis, layout.g_ancillas, c, [e], 0, flag=layout.flag)

    rotate(0)
    for k in range(1, max(degrees) + 1):
        if k <= min(degrees):
            qc.append(u_g if k % 2 else u_g_dag, layout.g_register)
        else:  # the longer branch's extra query, controlled on e = longer
            qc.append(c_u_g if k % 2 else c_u_g.inverse(), list(range(layout.total)))
        rotate(k)
    qc.h(c)
    qc.sdg(e)  # (C - i S)/2 on e = 0 after the final Hadamard
    qc.h(e)
    return amplified_circuit(form, qc, layout.postselected) if amplify else qc


def gate_level_step_circuit(H, poly, V=None, *, mu: float, lam: float, time: float, alpha: float,
                            eta: float = 1e-4, tol: float = 1e-13,
                            amplify: bool = False) -> tuple[QuantumCircuit, StepLayout]:
    """The cooling-step circuit at gate level: LCU ``U_A`` and ``U_V``, flag-qubit projector rotations.

    ``H`` normalised (spectrum inside [-1, 1]), ``poly`` the odd filter polynomial of ``A = (H - mu)/alpha``;
    ``U_A`` is the LCU block encoding of ``A`` (``alpha >= ||H - mu||_1``), ``U_V`` that of ``V / ||V||_1``
    (default ``V = -sum X_i / n``). Post-selecting every ancilla (flag included) on ``|0>`` gives
    ``~ (1 - eta) e^{-i t (p(A) + lam V)} / 2`` (``amplify=True``: block ``~ e^{-i t (p(A) + lam V)}``). Returns
    the circuit and its layout; the queries are the gates named ``U_A`` and ``U_V`` (and their inverses and
    controlled forms).
    """
    from qdyn.cooling.problems import default_perturbation
    from qdyn.operators import as_pauli_op, pauli_norm
    from qdyn.qsp.evolution import evolution_phases
    from qdyn.qsp.phases import solve_phases_newton

    op = as_pauli_op(H, name="H")
    n = op.num_qubits
    v_op = default_perturbation(n) if V is None else as_pauli_op(V, name="V")
    if v_op.num_qubits != n:
        raise ValueError(f"V acts on {v_op.num_qubits} qubits but H acts on {n}")
    v_norm = pauli_norm(v_op)
    block_a, block_v = lcu_block_encoding(op, mu, alpha), lcu_block_encoding(v_op, 0.0, v_norm)
    u_a, u_v = block_a.gate("U_A"), block_v.gate("U_V")
    filter_phases = solve_phases_newton(poly, convention="qsvt").phases
    tau = (1.0 + lam * v_norm) * time
    cos_ph, sin_ph = (p.phases for p in evolution_phases(tau, propagator_degree(tau, tol), eta=eta))
    layout = StepLayout(n, max(block_a.n_ancillas, block_v.n_ancillas), with_flag=True)
    append_filter = qsvt_filter_appender(filter_phases, u_a, block_a.n_ancillas)
    g = g_gates(GateForm, layout, append_filter, u_v, block_v.n_ancillas, lam * v_norm,
                longer=int(sin_ph.size > cos_ph.size))
    return step_circuit(GateForm, layout, g, cos_ph, sin_ph, amplify=amplify), layout
