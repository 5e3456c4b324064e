"""The circuit backend of :func:`qdyn.cooling.cool`: one coherent, post-selected circuit per cooling step.

A step evolves for a time ``t`` under ``G = p(A) + lam V`` (``A = (H - mu)/alpha``, ``p`` the odd erf
polynomial of degree ``d``). The circuit is built from three layers of block encodings:

1. ``U_A``: a Hermitian block encoding of ``A`` (:mod:`qdyn.circuits.block_encoding`; ``"dilation"``, one
   ancilla, or ``"lcu"``) and ``U_V`` of ``V / ||V||_1`` on the same (shared) ancilla register ``a``.
2. ``U_p``: the real-part QSVT circuit of :func:`qdyn.circuits.qsp.qsvt_circuit`, ``d`` queries to ``U_A``
   and the select qubit ``c_p``: ``<0|U_p|0> = p(A)``.
3. ``U_G``: the LCU ``PREP^dag SELECT PREP`` with one ancilla ``b``, ``PREP|0> = (|0> + sqrt(lam v)|1>)
   / sqrt(beta)``, ``v = ||V||_1``, ``beta = 1 + lam v``, ``SELECT = |0><0|_b x U_p + |1><1|_b x U_V``:

       (<0_{a c_p b}| x 1) U_G (|0_{a c_p b}> x 1) = (p(A) + lam V) / beta = G / beta.

   ``|0><0|_b x U_p`` is ``U_p`` with its projector rotations controlled on ``b = 0`` and only its first
   query controlled: for ``b = 1`` the rest is ``U_A^{d-1} = 1`` (``U_A`` is a reflection, ``d`` odd).

The evolution is QSVT on ``U_G`` (queries alternate ``U_G``, ``U_G^dag``; projector ``Pi_G = |0><0|`` on
``a, c_p, b``; Gilyen, Su, Low, Wiebe, STOC 2019, Thm. 17) with the Jacobi-Anger polynomials

    C(x) = (1 - eta) [J_0(tau) + 2 sum_{k >= 1} (-1)^k J_{2k}(tau) T_{2k}(x)]      ~ (1 - eta) cos(tau x),
    S(x) = (1 - eta) 2 sum_{k >= 0} (-1)^k J_{2k+1}(tau) T_{2k+1}(x)              ~ (1 - eta) sin(tau x),

``tau = beta t``, truncated where :func:`qdyn.exact.evolution.chebyshev_coefficients` truncates the classical
propagator (so ``C - i S`` is exactly the polynomial the ``"poly"`` backend applies, times ``1 - eta``). The
phases (``"qsvt"`` convention, Newton, rebuild check on ``>= 2 deg`` points) realise ``Re P``
through a select qubit ``c`` (phases ``Psi`` / ``-Psi``), and one more ancilla ``e`` in ``|+>`` chooses
``C`` (``e = 0``) or ``S`` (``e = 1``): both branches share the queries (their phases differ, a diagonal
rotation on ``a, c_p, b, c, e``), the one extra query of the longer branch is controlled on ``e``.
``S^dag`` on ``e``, ``H`` on ``e`` and ``c``, and post-selecting every ancilla on ``|0>`` give

    (<0_anc| x 1) U_step (|0_anc> x 1) = (C(G/beta) - i S(G/beta)) / 2 ~ (1 - eta) e^{-i G t} / 2,

so the post-selection probability is about ``(1 - eta)^2 / 4`` and the renormalised output is the step.
Queries per step: ``m = max(deg C, deg S)`` to ``U_G``, i.e. ``m d`` to ``U_A`` and ``m`` to ``U_V`` -- the
accounting of :func:`qdyn.cooling.cool`.

Filter routes on the time evolution instead of ``U_A`` (``U_p`` replaced by ``U_f``, no ``c_p``;
``|0><0|_b x U_f`` is one dense gate, the operator of ``U_f`` computed once per ``mu``; the rest of the step
is unchanged):

* GQSP (:class:`GQSPFilter`): the Laurent-GQSP circuit :func:`qdyn.circuits.qsp.gqsp_circuit` (one ancilla,
  the first of ``a``) with ``<0|U_f|0> = g(tau H)``, ``g`` the Fourier sign series of
  :func:`qdyn.cooling.fourier_sign_series` (``tau (2 + eps) <= pi``: no phase wrap); ``2 deg g`` queries to
  ``e^{i tau Z_a H / 2}``.
* QETU (:class:`QETUFilter`): :func:`qdyn.circuits.qsp.qetu_circuit` on ``H + 1`` (two ancillas) with
  ``<0|U_f|0> = p(cos(tau (H + 1)/2))``, ``p`` of :func:`qdyn.cooling.qetu_sign_polynomial`
  (``tau <= pi/2``); ``deg p`` queries to the control-free ``e^{-i (tau/2) Z Z (H + 1)}``.

:class:`CoherentCoolingStep` simulates the step circuit: ``U_A`` and ``U_V`` are dense gates (their circuits'
operators, once per ``mu``), the projector rotations diagonal gates, and the circuit (``U_G`` expanded) runs
gate by gate on the statevector with :func:`apply_circuit` (numpy ``tensordot``; checked against Qiskit's
``Statevector``). :func:`cooling_circuit_resources` builds the same circuits at gate level (LCU block
encodings, multi-controlled-X flag rotations) and counts their qubits, queries and two-qubit gates.
:func:`qsvt_filter` runs the filter ``p(A)`` alone as a post-selected circuit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit

from qdyn.errors import check_choice, check_int, check_positive

__all__ = [
    "CoherentCoolingStep",
    "GQSPFilter",
    "QETUFilter",
    "StepLayout",
    "amplified_step_circuit",
    "apply_circuit",
    "circuit_operator",
    "cooling_circuit_resources",
    "evolution_phases",
    "gate_level_step_circuit",
    "jacobi_anger_polynomials",
    "qsvt_filter",
    "simulate_statevector",
    "step_circuit",
]


def simulate_statevector(circuit, initial: np.ndarray) -> np.ndarray:
    """The output statevector of ``circuit`` on ``initial`` (Qiskit's exact statevector simulator)."""
    from qiskit.quantum_info import Statevector

    return np.asarray(Statevector(initial).evolve(circuit).data)


def apply_circuit(circuit, initial: np.ndarray) -> np.ndarray:
    """``circuit`` applied to ``initial`` gate by gate with ``numpy.tensordot`` (Qiskit qubit order).

    An instruction with a matrix (``to_matrix``) is applied directly, a controlled gate through its base
    gate's matrix; a composite gate on at most ``_MATRIX_LIMIT`` qubits is turned into its matrix once
    (:func:`circuit_operator` of its definition, cached by name and parameters, see :func:`_matrix_of`); larger
    composite gates are expanded through their definitions. The same result as :func:`simulate_statevector`,
    without its per-gate overhead (a cooling step holds thousands of gates).
    """
    n = circuit.num_qubits
    state = np.asarray(initial, dtype=complex).reshape((2,) * n)
    return _apply_instructions(circuit, state, list(range(n)), n, {}).reshape(-1)


def circuit_operator(circuit) -> np.ndarray:
    """The unitary matrix of ``circuit``: :func:`apply_circuit` on every basis state at once (a trailing batch
    axis), ``tensordot`` per gate -- much faster than Qiskit's ``Operator`` for circuits of many dense gates."""
    n = circuit.num_qubits
    dim = 2**n
    state = np.eye(dim, dtype=complex).reshape((2,) * n + (dim,))
    return _apply_instructions(circuit, state, list(range(n)), n, {}).reshape(dim, dim)


_MATRIX_LIMIT = 7


def _matrix_of(op, cache):
    """The matrix of ``op`` or None (expand its definition). Composite gates are cached by name, size,
    parameters and control state: within one circuit, give different composite gates different names."""
    from qiskit.circuit import ControlledGate

    params = tuple(float(p) for p in op.params if isinstance(p, (int, float)))
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


def _block(H, mu, alpha, kind):
    from qdyn.circuits.block_encoding import dilation_block_encoding, lcu_block_encoding

    return lcu_block_encoding(H, mu, alpha) if kind == "lcu" else dilation_block_encoding(H, mu, alpha)


def qsvt_filter(H, poly, *, alpha: float, block_encoding: str = "lcu"):
    """``apply(v, mu) -> (p((H - mu)/alpha) v, probability)`` through a simulated, post-selected QSVT circuit.

    ``|0_anc>|v/||v||>`` runs through :func:`qdyn.circuits.qsp.qsvt_circuit`; the ancillas are post-selected
    on ``|0>``; ``probability = ||p(A) v||^2 / ||v||^2``.
    """
    from qiskit.circuit.library import UnitaryGate
    from qiskit.quantum_info import Operator

    from qdyn.circuits.qsp import qsvt_circuit
    from qdyn.qsp.phases import solve_phases_newton

    check_choice("block_encoding", block_encoding, ("lcu", "dilation"))
    phases = solve_phases_newton(poly, convention="qsvt").phases
    cache: dict = {}

    def circuit_for(mu):
        if mu not in cache:
            block = _block(H, mu, alpha, block_encoding)
            gate = UnitaryGate(Operator(block.circuit).data, check_input=False)
            cache.clear()
            cache[mu] = qsvt_circuit(block, phases, block_gate=gate, rotations="diagonal")
        return cache[mu]

    def apply(v, mu):
        circuit = circuit_for(float(mu))
        norm = float(np.linalg.norm(v))
        if norm == 0:
            return np.zeros_like(v), 0.0
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[: v.size] = v / norm  # every ancilla in |0>: the lowest 2^n amplitudes
        out = simulate_statevector(circuit, initial)[: v.size]
        return out * norm, float(np.vdot(out, out).real)

    return apply


# -- the evolution polynomials -----------------------------------------------------------------------------
def jacobi_anger_polynomials(tau: float, *, tol: float = 1e-13, eta: float = 1e-4):
    """Chebyshev coefficients of ``(1 - eta) cos(tau x)`` (even) and ``(1 - eta) sin(tau x)`` (odd).

    They are the even part and ``i`` times the odd part of :func:`qdyn.exact.evolution.chebyshev_coefficients`
    (``a_k = (2 - delta_k0) (-i)^k J_k(tau)``, truncated at ``|J_k| < tol``), so ``C - i S`` is ``1 - eta``
    times the classical propagator polynomial of ``e^{-i tau x}``.
    """
    from qdyn.exact.evolution import chebyshev_coefficients

    tau = check_positive("tau", tau)
    eta = check_positive("eta", eta)
    if not eta < 1:
        raise ValueError(f"eta must lie in (0, 1), got {eta}")
    a = chebyshev_coefficients(tau, tol=tol)
    k = np.arange(a.size)
    cos_c = np.where(k % 2 == 0, a.real, 0.0) * (1 - eta)
    sin_c = np.where(k % 2 == 1, -a.imag, 0.0) * (1 - eta)
    return cos_c, sin_c


def evolution_phases(tau: float, *, tol: float = 1e-13, eta: float = 1e-4):
    """``"qsvt"``-convention phases of the two Jacobi-Anger polynomials (verified by the Newton solver).

    Returns ``(cos_phases, sin_phases)`` (:class:`qdyn.qsp.phases.QSPPhases`); ``cos`` of ``tau < ~1e-7``
    is a constant and has no QSVT sequence, so ``tau`` must be large enough that both have degree >= 1.
    """
    from qdyn.qsp.phases import solve_phases_newton

    cos_c, sin_c = jacobi_anger_polynomials(tau, tol=tol, eta=eta)
    if np.trim_zeros(cos_c, "b").size < 3:
        raise ValueError(f"tau = {tau:.3g} is too small for a QSVT evolution circuit (cos(tau x) is constant "
                         f"to tol={tol:.1e}); use a longer time per step")
    return solve_phases_newton(cos_c, convention="qsvt"), solve_phases_newton(sin_c, convention="qsvt")


# -- layout and the gates of the two forms (dense for simulation, gate level for counting) ------------------
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


class _Dense:
    """Pieces as dense unitaries (``UnitaryGate``), rotations as diagonal gates: the simulated form."""

    @staticmethod
    def append(qc, u, targets, controls=(), ctrl_state=0, label=None):
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
    def ry(theta):
        c, s = np.cos(theta / 2), np.sin(theta / 2)
        return np.array([[c, -s], [s, c]], dtype=complex)

    @staticmethod
    def rotation(qc, psis, reflect_on, z_on, controls=(), ctrl_state=0):
        """``e^{i psi (2 Pi - 1) Z_z}``, ``Pi = |0..0>`` on ``reflect_on``; ``psis`` = one phase, or a pair
        chosen by the last control (then ``ctrl_state`` covers the other controls only)."""
        r = len(reflect_on)
        k = len(controls)
        index = np.arange(2 ** (r + 1 + k))
        reflect = np.where((index & (2**r - 1)) == 0, 1, -1)
        z = 1 - 2 * ((index >> r) & 1)
        ctrl = index >> (r + 1)
        if np.ndim(psis) == 0:
            phase = np.where(ctrl == ctrl_state, psis, 0.0)
        else:  # the last control picks psis[0] / psis[1]; the others must equal ctrl_state
            low = ctrl & (2 ** (k - 1) - 1)
            pick = np.asarray(psis)[ctrl >> (k - 1)]
            phase = np.where(low == ctrl_state, pick, 0.0)
        _Dense.append(qc, np.diag(np.exp(1j * phase * reflect * z)), list(reflect_on) + [z_on] + list(controls))


class _Gates:
    """Pieces as gate-level circuits, rotations through a flag qubit: the form counted for resources."""

    @staticmethod
    def append(qc, gate, targets, controls=(), ctrl_state=0, label=None):
        if controls:
            qc.append(gate.control(len(controls), ctrl_state=ctrl_state), list(controls) + list(targets))
        else:
            qc.append(gate, list(targets))

    @staticmethod
    def ry(theta):
        from qiskit.circuit.library import RYGate

        return RYGate(theta)

    @staticmethod
    def rotation(qc, psis, reflect_on, z_on, controls=(), ctrl_state=0, flag=None):
        mcx = _zero_controlled_x(len(reflect_on))
        qc.append(mcx, list(reflect_on) + [flag])  # flag = 1 on Pi: 2 Pi - 1 = -Z_flag
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


@functools.cache
def _zero_controlled_x(k: int):
    """One shared multi-controlled X (controls in ``|0>``) per size: inverted once, transpiled once."""
    from qiskit.circuit.library import MCXGate

    return MCXGate(k, ctrl_state=0)


def _rotation(form, qc, layout, psis, reflect_on, z_on, controls=(), ctrl_state=0):
    if form is _Gates:
        form.rotation(qc, psis, reflect_on, z_on, controls, ctrl_state, flag=layout.flag)
    else:
        form.rotation(qc, psis, reflect_on, z_on, controls, ctrl_state)


def _qsvt_filter(filter_phases, u_a, n_a: int):
    """Appender of ``|0><0|_b x U_p`` (QSVT on ``U_A``): rotations and the first query controlled on the
    controls, the other ``d - 1`` queries plain (for controls off they give ``U_A^{d-1} = 1``, ``d`` odd)."""

    def append(form, qc, layout, controls, ctrl_state):
        cp, sys_a = layout.filter_select, layout.system + layout.block[:n_a]
        qc.h(cp)
        _rotation(form, qc, layout, filter_phases[-1], layout.block, cp, controls, ctrl_state)
        for j, psi in enumerate(filter_phases[-2::-1]):
            if j == 0:
                form.append(qc, u_a, sys_a, controls, ctrl_state, label="c-U_A")
            else:
                form.append(qc, u_a, sys_a, label="U_A")
            _rotation(form, qc, layout, psi, layout.block, cp, controls, ctrl_state)
        qc.h(cp)

    return append


def _dense_filter(u_f: np.ndarray, n_f: int):
    """Appender of ``|0><0|_b x U_f`` for a filter given as one dense unitary on system + ``n_f`` ancillas."""

    def append(form, qc, layout, controls, ctrl_state):
        form.append(qc, u_f, layout.system + layout.block[:n_f], controls, ctrl_state, label="c-U_f")

    return append


def _g_block_circuit(form, layout: StepLayout, append_filter, u_v, n_v: int, weight: float,
                     control: tuple[int, int] | None = None) -> QuantumCircuit:
    """``U_G`` on the G-register (plus the branch qubit ``e`` when ``control = (e, state)``)."""
    # U_G acts on the G-register only; its controlled form also on e (the last qubit)
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


def step_circuit(form, layout: StepLayout, u_g, u_g_dag, c_u_g, cos_phases, sin_phases) -> QuantumCircuit:
    """The evolution QSVT of one step on ``layout.total`` qubits (module docstring).

    ``u_g``/``u_g_dag`` (gates) act on ``layout.g_register``; ``c_u_g`` on all qubits (the extra query of the
    longer branch, controlled on ``e``). ``form`` is the dense or the gate-level piece factory.
    """
    c, e = layout.select, layout.branch
    g = layout.g_register
    reflect_on = layout.g_ancillas
    phases = (np.asarray(cos_phases), np.asarray(sin_phases))
    degrees = (phases[0].size - 1, phases[1].size - 1)
    m = max(degrees)
    qc = QuantumCircuit(layout.total, name="cooling-step")
    qc.h(c)
    qc.h(e)

    def rotate(k):  # phase psi_{d_branch - k} of each branch, 0 (identity) once the branch is finished
        psis = [ph[d - k] if k <= d else 0.0 for ph, d in zip(phases, degrees, strict=True)]
        _rotation(form, qc, layout, psis, reflect_on, c, [e], 0)

    rotate(0)
    for k in range(1, m + 1):
        if k <= min(degrees):
            qc.append(u_g if k % 2 else u_g_dag, g)
        else:  # the longer branch's extra query, controlled on e = longer
            qc.append(c_u_g if k % 2 else c_u_g.inverse(), list(range(layout.total)))
        rotate(k)
    qc.h(c)
    qc.sdg(e)  # (C - i S)/2 on e = 0 after the final Hadamard
    qc.h(e)
    return qc


def amplified_step_circuit(form, layout: StepLayout, step: QuantumCircuit) -> QuantumCircuit:
    """One round of oblivious amplitude amplification on ``step``: ``-W R W^dag R W``, ``R = 1 - 2 Pi``.

    ``W = step`` has ``Pi W Pi = sin(theta) U`` with ``U`` (close to) unitary and ``Pi = |0_anc><0_anc|``
    (Berry, Childs, Cleve, Kothari, Somma, PRL 114, 090502 (2015), Lemma 3.6): the amplified block is
    ``sin(3 theta) U``. For the cooling step ``sin(theta) = (1 - eta)/2`` (``theta ~ pi/6``), so the
    post-selection probability rises from ``~1/4`` to ``sin^2(3 theta) = 1 - O(eta^2)`` for three times the
    queries.
    """
    ancillas = [q for q in range(layout.total) if q >= layout.n_system and q != layout.flag]
    step_dg = _inverse_circuit(step)
    qc = QuantumCircuit(layout.total, name="amplified-step")

    def append(circuit):  # the instructions themselves (no copy of the thousands of gates)
        for inst in circuit.data:
            qc.append(inst.operation, [circuit.find_bit(q).index for q in inst.qubits], copy=False)
        qc.global_phase += circuit.global_phase

    def reflect():  # 1 - 2 |0_anc><0_anc| (the flag, if any, is |0> between the pieces)
        if form is _Dense:
            diagonal = np.ones(2 ** len(ancillas), dtype=complex)
            diagonal[0] = -1.0
            _Dense.append(qc, np.diag(diagonal), ancillas)
        else:  # X H . MCX (others in |0>) . H X on the first ancilla: -1 on |0...0> only
            target = ancillas[0]
            qc.x(target)
            qc.h(target)
            qc.append(_zero_controlled_x(len(ancillas) - 1), ancillas[1:] + [target])
            qc.h(target)
            qc.x(target)

    append(step)
    reflect()
    append(step_dg)
    reflect()
    append(step)
    qc.global_phase += np.pi  # the leading minus sign
    return qc


def _inverse_circuit(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit^dag``, inverting each distinct operation object once (the step repeats ``U_G`` ``m`` times)."""
    memo: dict = {}
    inverse = QuantumCircuit(circuit.num_qubits, name=circuit.name + "_dg", global_phase=-circuit.global_phase)
    for inst in reversed(circuit.data):
        op = inst.operation
        if id(op) not in memo:
            memo[id(op)] = (op, op.inverse())
        inverse.append(memo[id(op)][1], [circuit.find_bit(q).index for q in inst.qubits])
    return inverse


# -- simulation ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GQSPFilter:
    """The shifted sign as a Fourier series in ``tau H`` (:func:`qdyn.cooling.fourier_sign_series`), realised
    by the Laurent-GQSP circuit :func:`qdyn.circuits.qsp.gqsp_circuit` on ``e^{i tau Z_a H / 2}``.

    ``|g(tau E) - sign(E - mu)| <= delta`` for ``|E - mu| >= eps``; with ``E, mu`` in ``[-1, 1]`` the phase
    does not wrap when ``tau (2 + eps) <= pi`` (checked). ``2 deg g`` queries per filter, one ancilla.
    """

    eps: float
    delta: float
    tau: float

    def __post_init__(self):
        check_positive("eps", self.eps)
        check_positive("tau", self.tau)
        if self.tau * (2 + self.eps) > np.pi:
            raise ValueError(f"tau must be <= pi / (2 + eps) = {np.pi / (2 + self.eps):.6g} so that tau |E - mu| "
                             f"+ tau eps stays below pi for E, mu in [-1, 1]; got tau = {self.tau:.6g}")

    def function(self, mu: float):
        """``g`` as a function of the energy: the filter's classical reference."""
        from qdyn.qsp.polynomials import fourier_sign_series

        return fourier_sign_series(mu, self.eps, self.delta, self.tau).of_energy

    def queries(self, mu: float) -> int:
        """Queries to the evolution per filter: ``2 deg g`` (the same for every ``mu``, which only multiplies
        each Fourier coefficient by a phase)."""
        from qdyn.qsp.polynomials import fourier_sign_series

        return 2 * fourier_sign_series(0.0, self.eps, self.delta, self.tau).degree

    def dense_unitary(self, H, mu: float) -> tuple[np.ndarray, int]:
        """The operator of the filter circuit for ``mu`` and its number of ancillas."""
        from qdyn.circuits.qsp import gqsp_circuit
        from qdyn.qsp.gqsp import solve_gqsp_phases
        from qdyn.qsp.polynomials import fourier_sign_series

        series = fourier_sign_series(mu, self.eps, self.delta, self.tau)
        return circuit_operator(gqsp_circuit(H, self.tau, solve_gqsp_phases(series.coeffs))), 1


@dataclass(frozen=True)
class QETUFilter:
    """The shifted sign as an even polynomial of ``cos(tau (H + 1) / 2)``
    (:func:`qdyn.cooling.qetu_sign_polynomial`), realised by the QETU circuit :func:`qdyn.circuits.qsp.qetu_circuit`
    on the control-free ``e^{-i (tau/2) Z_c Z_a (H + 1)}`` (Dong, Lin, Tong, PRX Quantum 3, 040305 (2022)).

    ``H + 1`` has its spectrum in ``[0, 2]``, which must lie inside ``[0, pi/tau]``: ``tau <= pi/2`` (checked);
    ``mu`` is shifted alike and must lie inside ``(-1, pi/tau - 1)``. ``|p - peak sign(E - mu)| <= delta`` for
    ``|E - mu| >= eps``; ``deg p`` queries per filter, two ancillas (``a`` and the real-part select ``c``).
    """

    eps: float
    delta: float
    tau: float
    peak: float = 0.9999

    def __post_init__(self):
        check_positive("eps", self.eps)
        check_positive("tau", self.tau)
        if self.tau > np.pi / 2:
            raise ValueError(f"tau must be <= pi/2 so that the spectrum of H + 1 lies inside [0, pi/tau]; got "
                             f"tau = {self.tau:.6g}")

    def polynomial(self, mu: float):
        from qdyn.qsp.polynomials import qetu_sign_polynomial

        return qetu_sign_polynomial(mu + 1.0, self.eps, self.delta, self.tau, peak=self.peak)

    def function(self, mu: float):
        """``p(cos(tau (E + 1) / 2))`` as a function of the energy: the filter's classical reference."""
        poly = self.polynomial(mu)
        return lambda energies: poly(np.cos(self.tau * (np.asarray(energies, dtype=float) + 1.0) / 2))

    def queries(self, mu: float) -> int:
        """Queries to the evolution per filter: ``deg p``, which depends on ``mu`` (the slope of the cosine)."""
        return self.polynomial(mu).degree

    def dense_unitary(self, H, mu: float) -> tuple[np.ndarray, int]:
        """The operator of the filter circuit for ``mu`` and its number of ancillas."""
        from qiskit.quantum_info import SparsePauliOp

        from qdyn.circuits.qsp import qetu_circuit
        from qdyn.qsp.phases import solve_phases_newton
        from qdyn.operators import as_pauli_op

        op = as_pauli_op(H, name="H")
        shifted = (op + SparsePauliOp("I" * op.num_qubits, [1.0])).simplify(atol=0)
        phases = solve_phases_newton(self.polynomial(mu), convention="qetu").phases
        return circuit_operator(qetu_circuit(shifted, self.tau, phases)), 2


class CoherentCoolingStep:
    """``step(psi, mu, lam, V, t) -> (state, probability)``: one cooling step as one simulated circuit.

    ``H`` has its spectrum in [-1, 1]. ``sign_filter`` is the filter route: an odd Chebyshev polynomial
    ``p`` (QSVT route: ``p((H - mu)/alpha)`` from ``U_A``; ``block_encoding`` ``"dilation"``, ``n + 5``
    qubits in all, or ``"lcu"``, ``n + m + 4`` with ``m = ceil(log2 #terms)``), a :class:`GQSPFilter`
    (GQSP route: ``U_f``, the GQSP circuit on ``e^{i tau Z_a H/2}``, precomputed as one dense gate per
    ``mu``; ``n + 4`` qubits with a dilation ``U_V``) or a :class:`QETUFilter` (QETU route, likewise, two
    filter ancillas: ``n + 5`` qubits). ``eta`` is the margin of the evolution polynomials,
    ``tol`` their truncation; ``amplify=True`` wraps the step in one round of oblivious amplitude
    amplification (:func:`amplified_step_circuit`: three uses of the step, post-selection ``~1/4 -> ~1``).
    ``probability`` is the post-selection probability of all ancillas in ``|0>``
    and ``state`` the renormalised system state. :meth:`filter_queries` gives the number of queries to the
    ``H`` oracle per application of the filter; ``last_circuit`` keeps the last simulated step circuit.
    """

    def __init__(self, H, sign_filter, *, alpha: float = 2.0, block_encoding: str = "dilation",
                 eta: float = 1e-4, tol: float = 1e-13, amplify: bool = False):
        from qdyn.qsp.phases import solve_phases_newton
        from qdyn.operators import as_pauli_op

        check_choice("block_encoding", block_encoding, ("lcu", "dilation"))
        self.H = as_pauli_op(H, name="H")
        self.alpha, self.kind, self.tol = float(alpha), block_encoding, float(tol)
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
        from qiskit.quantum_info import Operator

        from qdyn.operators import pauli_norm

        key = (tuple(p.to_label() for p in V.paulis), tuple(np.round(V.coeffs.real, 15)))
        if key not in self._v_cache:
            v_norm = pauli_norm(V)
            block = _block(V, 0.0, v_norm, self.kind)
            self._v_cache = {key: (Operator(block.circuit).data, block.n_ancillas, v_norm)}
        return self._v_cache[key], key

    def _filter(self, mu: float):
        """The filter appender for ``mu`` and its number of ancillas."""
        from qiskit.quantum_info import Operator

        if self.route == "qsvt":
            block = _block(self.H, mu, self.alpha, self.kind)
            u_a = Operator(block.circuit).data
            return _qsvt_filter(self.filter_phases, u_a, block.n_ancillas), block.n_ancillas
        u_f, n_f = self.sign_filter.dense_unitary(self.H, mu)
        return _dense_filter(u_f, n_f), n_f

    def g_circuits(self, mu: float, lam: float, V, longer: int):
        """``U_G``, ``U_G^dag``, the ``e``-controlled ``U_G`` (dense pieces) and the layout; cached per step data."""
        (u_v, n_v, v_norm), v_key = self._v_block(V)
        key = (float(mu), float(lam), v_key, longer)
        if key not in self._g_cache:
            append_filter, n_f = self._filter(float(mu))
            layout = StepLayout(self.H.num_qubits, max(n_f, n_v), with_flag=False,
                                with_filter_select=self.route == "qsvt")
            pieces = (_Dense, layout, append_filter, u_v, n_v, lam * v_norm)
            g_circuit = _g_block_circuit(*pieces)
            u_g, u_g_dag = g_circuit.to_gate(), _inverse_circuit(g_circuit).to_gate()
            c_u_g = _g_block_circuit(*pieces, control=(layout.branch, longer)).to_gate()
            self._g_cache = {key: (u_g, u_g_dag, c_u_g, layout)}
        return self._g_cache[key]

    def phases(self, tau: float):
        key = round(float(tau), 14)
        if key not in self._phase_cache:
            cos_ph, sin_ph = evolution_phases(tau, tol=self.tol, eta=self.eta)
            self._phase_cache[key] = (cos_ph.phases, sin_ph.phases)
        return self._phase_cache[key]

    def circuit(self, mu: float, lam: float, V, t: float) -> QuantumCircuit:
        """The step circuit for ``mu``, ``lam``, ``V`` (SparsePauliOp) and time ``t`` (dense pieces)."""
        from qdyn.operators import pauli_norm

        cos_ph, sin_ph = self.phases((1.0 + lam * pauli_norm(V)) * t)
        u_g, u_g_dag, c_u_g, layout = self.g_circuits(mu, lam, V, int(sin_ph.size > cos_ph.size))
        step = step_circuit(_Dense, layout, u_g, u_g_dag, c_u_g, cos_ph, sin_ph)
        return amplified_step_circuit(_Dense, layout, step) if self.amplify else step

    def __call__(self, psi, mu, lam, V, t):
        circuit = self.circuit(mu, lam, V, t)
        self.last_circuit = circuit
        psi = np.asarray(psi, dtype=complex)
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[: psi.size] = psi / np.linalg.norm(psi)  # every ancilla in |0>: the lowest 2^n amplitudes
        out = apply_circuit(circuit, initial)[: psi.size]
        prob = float(np.vdot(out, out).real)
        return out / np.sqrt(prob), prob


# -- resources of the gate-level circuit ------------------------------------------------------------------
_COMPOSITE = ("U_G", "U_G_dg", "c-U_G", "c-U_G_dg")


def _tally(circuit, basis, optimization_level, cache) -> dict:
    """Two-qubit gates and queries to ``U_A`` / ``U_V`` of ``circuit``, composite gates expanded once each."""
    total = {"two_qubit_gates": 0, "queries_h": 0, "queries_v": 0}
    for inst in circuit.data:
        part = _tally_op(inst.operation, basis, optimization_level, cache)
        for key in total:
            total[key] += part[key]
    return total


def _tally_op(op, basis, optimization_level, cache) -> dict:
    from qiskit import transpile

    key = (op.name, op.num_qubits)
    if key in cache:
        return cache[key]
    if op.name in _COMPOSITE:
        result = _tally(op.definition, basis, optimization_level, cache)
    else:
        base = getattr(op, "base_gate", None)
        name = (base.name if base is not None else op.name)
        if op.num_qubits == 1:
            two = 0
        elif op.num_qubits == 2 and op.name in basis:
            two = 1
        else:
            qc = QuantumCircuit(op.num_qubits)
            qc.append(op, range(op.num_qubits))
            two = _two_qubit_count(transpile(qc, basis_gates=list(basis), optimization_level=optimization_level))
        result = {"two_qubit_gates": two, "queries_h": int(name.startswith("U_A")),
                  "queries_v": int(name.startswith("U_V"))}
    cache[key] = result
    return result


def gate_level_step_circuit(H, poly, V=None, *, mu: float, lam: float, time: float, alpha: float,
                            eta: float = 1e-4, tol: float = 1e-13,
                            amplify: bool = False) -> tuple[QuantumCircuit, StepLayout]:
    """The cooling-step circuit at gate level: LCU ``U_A`` and ``U_V``, flag-qubit projector rotations.

    Same construction as :class:`CoherentCoolingStep` simulates (module docstring); ``U_A`` is the LCU
    block encoding of ``(H - mu)/alpha`` (``alpha >= ||H - mu||_1``), ``U_V`` of ``V / ||V||_1`` (default
    ``V = -sum X_i / n``). Post-selecting every ancilla (flag included) on ``|0>`` gives
    ``~ (1 - eta) e^{-i t (p(A) + lam V)} / 2`` (``amplify=True``: :func:`amplified_step_circuit`, block
    ``~ e^{-i t (p(A) + lam V)}``). Returns the circuit and its layout.
    """
    from qdyn.qsp.phases import solve_phases_newton
    from qdyn.cooling.problems import default_perturbation
    from qdyn.operators import as_pauli_op, pauli_norm

    op = as_pauli_op(H, name="H")
    n = op.num_qubits
    v_op = default_perturbation(n) if V is None else as_pauli_op(V, name="V")
    if v_op.num_qubits != n:
        raise ValueError(f"V acts on {v_op.num_qubits} qubits but H acts on {n}")
    v_norm = pauli_norm(v_op)
    block_a, block_v = _block(op, mu, alpha, "lcu"), _block(v_op, 0.0, v_norm, "lcu")
    u_a, u_v = block_a.circuit.to_gate(), block_v.circuit.to_gate()
    u_a.name, u_v.name = "U_A", "U_V"
    filter_phases = solve_phases_newton(poly, convention="qsvt").phases
    cos_ph, sin_ph = (p.phases for p in evolution_phases((1.0 + lam * v_norm) * time, tol=tol, eta=eta))
    longer = int(sin_ph.size > cos_ph.size)
    layout = StepLayout(n, max(block_a.n_ancillas, block_v.n_ancillas), with_flag=True)
    pieces = (_Gates, layout, _qsvt_filter(filter_phases, u_a, block_a.n_ancillas), u_v, block_v.n_ancillas,
              lam * v_norm)
    g_circuit = _g_block_circuit(*pieces)
    u_g, u_g_dag = g_circuit.to_gate(), _inverse_circuit(g_circuit).to_gate()
    c_u_g = _g_block_circuit(*pieces, control=(layout.branch, longer)).to_gate()
    step = step_circuit(_Gates, layout, u_g, u_g_dag, c_u_g, cos_ph, sin_ph)
    return (amplified_step_circuit(_Gates, layout, step) if amplify else step), layout


def cooling_circuit_resources(H, V=None, *, eps: float = 0.15, delta: float = 1e-6, alpha: float | None = None,
                              mu: float = 0.0, steps: int = 1, time: float = 5.0, lam: float = 0.5,
                              eta: float = 1e-4, tol: float = 1e-13, amplify: bool = False, basis=("cx", "u"),
                              optimization_level: int = 1) -> dict:
    """Qubits, queries and two-qubit gates of :func:`gate_level_step_circuit`, per step and for ``steps``.

    ``alpha`` defaults to the Pauli 1-norm of ``H`` plus 1, which covers every ``mu`` in [-1, 1]. Each
    distinct gate of the circuit (block encodings, their controlled forms, multi-controlled X, controlled
    ``RZZ``) is transpiled to ``basis`` once and counted at each occurrence; ``U_G`` and its controlled form
    are expanded. The queries to ``U_A`` and ``U_V`` are counted on the circuit: ``m d`` and ``m`` per step
    (``m = max(deg C, deg S)``, ``d = deg p``; three times that with ``amplify``), the accounting of
    :func:`qdyn.cooling.cool`. Only the QSVT filter route is counted at gate level.
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
    per_step = _tally(circuit, basis, optimization_level, cache)
    g_gate = next(inst.operation for inst in circuit.data if inst.operation.name == "U_G")
    per_g = _tally_op(g_gate, basis, optimization_level, cache)
    m = per_step["queries_v"]
    sin_theta = (1 - eta) / 2
    success = np.sin(3 * np.arcsin(sin_theta)) ** 2 if amplify else sin_theta**2
    return {"n_system": layout.n_system, "qubits": circuit.num_qubits, "block_ancillas": layout.n_block,
            "degree": poly.degree, "alpha": alpha, "evolution_degree": m // (3 if amplify else 1),
            "queries_h_per_step": per_step["queries_h"], "queries_v_per_step": m,
            "g_two_qubit_gates": per_g["two_qubit_gates"], "step_two_qubit_gates": per_step["two_qubit_gates"],
            "success_probability": float(success),
            "queries_h": steps * per_step["queries_h"], "queries_v": steps * m,
            "two_qubit_gates": steps * per_step["two_qubit_gates"]}


def _two_qubit_count(circuit) -> int:
    return int(sum(1 for inst in circuit.data if inst.operation.num_qubits == 2))
