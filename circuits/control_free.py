"""Control-free overlaps ``<x_a| U(t) |x_b>`` between computational basis states, without a controlled evolution.

If a basis state ``|v>`` (the "vacuum", e.g. ``|0...0>`` of an XXZ chain or of a Jordan-Wigner fermion model)
is an eigenstate of the evolution, ``U(t)|v> = exp(-i E_v t)|v>`` with ``E_v`` known classically, the vacuum can
play the role of the Hadamard test's ancilla branch (Cortes & Gray, PRA 105, 022417 (2022); Yoshioka et al.,
arXiv:2407.14431 (2024)):

1. ``G_b`` prepares ``(|v> + |x_b>)/sqrt 2`` from ``|0...0>``: ``H`` and ``P(phi)`` on the lowest qubit ``q`` of
   ``d = v XOR x_b``, nearest-neighbour CNOTs that carry the ``1`` along the qubit order to every qubit of ``d``
   and clear the ones in between (``2g + 1`` CNOTs across a gap of ``g`` qubits; on a chain laid out along the
   device's coupling map no SWAP is needed), then ``X`` on the set bits of ``v`` (:func:`branch_circuit`);
2. ``U(t)`` acts with no control: ``|Psi> = (exp(-i E_v t)|v> + U|x_b>)/sqrt 2`` (``<v|U|x_b> = 0`` because
   ``<v|x_b> = 0``);
3. ``G_a(phi)^dagger`` maps ``(|v> +- e^{i phi}|x_a>)/sqrt 2`` to ``|0...0>`` and ``|e_q>`` (only qubit ``q`` set),
   so with ``O_q = Z_q prod_{p != q} (1 + Z_p)/2`` (the probability of ``|0...0>`` minus that of ``|e_q>``)

       <O_q>_{phi=0} = Re(e^{i E_v t} s),   <O_q>_{phi=pi/2} = Im(e^{i E_v t} s),   s = <x_a|U(t)|x_b>.

Nothing but the vacuum's being an eigenstate is needed: for a product formula, every factor must keep ``|v>`` an
eigenstate, which :func:`vacuum_energy` checks unit by unit (bonds ``XX + YY`` conserving the particle number do,
single ``XX`` factors would not). The observable has ``2**(n-1)`` ``Z`` strings, all measured in one setting;
it is built for up to :data:`MAX_QUBITS` qubits (beyond, the backend layer would need projector observables).

On a noisy device the signal is the probability that *every* qubit returns to ``|0...0>`` or ``|e_q>``, so it
decays with the error of the whole register rather than of one ancilla; in exchange no evolution gate is
controlled, which makes the circuits several times shallower (open Heisenberg chain, n = 6, five Strang steps on
FakeTorino: 96 instead of 702 two-qubit gates).
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import check_choice, check_int
from qdyn.operators import as_pauli_op

__all__ = ["basis_action", "vacuum_energy", "branch_circuit", "control_free_overlap", "MAX_QUBITS"]

MAX_QUBITS = 16  #: largest register for the ``2**(n-1)``-term projector observable


def basis_action(H, index: int) -> dict[int, complex]:
    """``H|index>`` as ``{basis index: amplitude}`` (Pauli algebra on bit masks; no state vector).

    A Pauli ``P = (-i)^q Z^z X^x`` (Qiskit's internal phase ``q`` = label phase + number of ``Y``) maps ``|v>`` to
    ``(-i)^q (-1)^{popcount(z & (v ^ x))} |v ^ x>``."""
    op = as_pauli_op(H)
    weights = 1 << np.arange(op.num_qubits, dtype=object)
    out: dict[int, complex] = {}
    q = (op.paulis.phase + np.sum(op.paulis.x & op.paulis.z, axis=1)) % 4
    for x, z, phase, c in zip(op.paulis.x, op.paulis.z, q, op.coeffs, strict=True):
        xm, zm = int(weights[x].sum()), int(weights[z].sum())
        target = index ^ xm
        amp = complex(c) * (-1j) ** int(phase) * (-1) ** bin(zm & target).count("1")
        out[target] = out.get(target, 0) + amp
    return {k: v for k, v in out.items() if abs(v) > 1e-12}


def _eigenvalue(op: SparsePauliOp, index: int) -> float | None:
    action = basis_action(op, index)
    if set(action) - {index}:
        return None
    return float(np.real(action.get(index, 0.0)))


def vacuum_energy(H, index: int, *, product_formula: bool) -> float | None:
    """``E_v`` if the basis state ``|index>`` is an eigenstate of the evolution, else ``None``.

    ``product_formula=False``: an eigenstate of ``H``. ``True``: an eigenstate of every unit of the layered product
    formula (:func:`qdyn.circuits.trotter_layers.layer_units`) whose terms commute, so that each of its factors
    ``exp(-i f dt h_u)`` only multiplies ``|v>`` by a phase; the phases add up to ``exp(-i E_v t)``."""
    op = as_pauli_op(H)
    if not product_formula:
        return _eigenvalue(op, index)
    from qdyn.circuits.trotter_layers import layer_units

    total = 0.0
    for unit in layer_units(op).values():
        paulis = unit.paulis
        if len(paulis) > 1 and not all(paulis[i].commutes(paulis[k]) for i in range(len(paulis))
                                       for k in range(i + 1, len(paulis))):
            return None
        energy = _eigenvalue(unit, index)
        if energy is None:
            return None
        total += energy
    return total


def branch_circuit(n: int, vacuum: int, ref: int, phi: float = 0.0) -> QuantumCircuit:
    """``G``: ``|0...0> -> (|vacuum> + e^{i phi}|ref>)/sqrt 2`` and ``|e_q> -> (|vacuum> - e^{i phi}|ref>)/sqrt 2``,
    ``q`` the lowest set bit of ``vacuum XOR ref`` (returned circuit's ``metadata["pivot"]``)."""
    n = check_int("n", n, minimum=1)
    diff = vacuum ^ ref
    if diff == 0:
        raise ValueError("ref must differ from the vacuum: the vacuum is the branch that carries the phase")
    bits = [p for p in range(n) if (diff >> p) & 1]
    qc = QuantumCircuit(n, name="branch")
    qc.h(bits[0])
    if phi:
        qc.p(phi, bits[0])
    for start, stop in zip(bits[:-1], bits[1:], strict=True):  # carry the 1 along the path start..stop
        for p in range(start, stop):
            qc.cx(p, p + 1)
        for p in range(stop - 2, start - 1, -1):  # clear the qubits in between (1 on that branch only)
            qc.cx(p, p + 1)
    for p in range(n):
        if (vacuum >> p) & 1:
            qc.x(p)
    qc.metadata = {"pivot": bits[0]}
    return qc


def _pivot_observable(n: int, pivot: int) -> SparsePauliOp:
    """``Z_q prod_{p != q} (1 + Z_p)/2`` = P(0...0) - P(e_q), as ``2**(n-1)`` ``Z`` strings."""
    if n > MAX_QUBITS:
        raise ValueError(f"control-free overlaps on {n} qubits need a {2 ** (n - 1)}-term projector observable; "
                         f"this is built for up to {MAX_QUBITS} qubits; use overlaps='hadamard'")
    others = [p for p in range(n) if p != pivot]
    labels = []
    for mask in range(2 ** len(others)):
        chars = ["I"] * n
        chars[n - 1 - pivot] = "Z"
        for k, p in enumerate(others):
            if (mask >> k) & 1:
                chars[n - 1 - p] = "Z"
        labels.append("".join(chars))
    return SparsePauliOp(labels, np.full(len(labels), 2.0 ** -len(others)))


def control_free_overlap(evolution: QuantumCircuit, vacuum: int, ref: int, *, ref_left: int | None = None,
                         part: str = "real") -> tuple[QuantumCircuit, SparsePauliOp]:
    """Circuit and observable with expectation ``Re`` (``part="real"``) or ``Im`` (``"imag"``) of
    ``exp(i E_v t) <ref_left| U |ref>``, ``U`` the circuit ``evolution`` (uncontrolled, on ``n`` qubits), for which
    the basis state ``|vacuum>`` must be an eigenstate with eigenvalue ``exp(-i E_v t)`` (see the module
    docstring). ``ref``, ``ref_left`` (default ``ref``) and ``vacuum`` are basis indices.

    Barriers separate preparation, evolution and un-preparation, so every lag (``t = 0`` included, where the
    transpiler would otherwise cancel the two preparations) carries the same preparation circuit: on a noisy device
    the lag-0 value then measures the damping common to all lags."""
    check_choice("part", part, ("real", "imag"))
    n = evolution.num_qubits
    left = ref if ref_left is None else ref_left
    for name, value in (("ref", ref), ("ref_left", left), ("vacuum", vacuum)):
        if not isinstance(value, int | np.integer) or not 0 <= value < 2**n:
            raise ValueError(f"{name} must be a basis index in [0, 2**{n}), got {value!r}")
    qc = branch_circuit(n, int(vacuum), int(ref))
    qc.barrier()  # keeps the transpiler from cancelling G_b against G_a^dagger at t = 0 (see below)
    qc.compose(evolution, inplace=True)
    qc.barrier()
    unprepare = branch_circuit(n, int(vacuum), int(left), phi=0.0 if part == "real" else np.pi / 2)
    qc.compose(unprepare.inverse(), inplace=True)
    qc.name = f"control_free_{part}"
    return qc, _pivot_observable(n, unprepare.metadata["pivot"])
