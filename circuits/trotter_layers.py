"""Shallow product-formula circuits: layers of commuting bonds, one minimal two-qubit block per bond.

A Hamiltonian ``H = sum_j c_j P_j`` is sorted into *layers* (:func:`layered_hamiltonian`):

1. the two-qubit supports ``(i, j)`` (bonds) are edge-coloured, so that the bonds of one colour are disjoint and
   their factors commute: Konig's bipartite colouring (``Delta`` colours; brick-wall on chains, two-colouring of
   square and heavy-hex lattices) when the coupling graph is bipartite, else Misra-Gries (``Delta + 1`` colours),
   both from rustworkx;
2. all single-qubit terms (fields) form one layer;
3. the terms on one support of three or more qubits (a Jordan-Wigner hopping ``XZ..ZX + YZ..ZY``) form a layer of
   their own, in order of first appearance; the identity term is the last layer.

The layered Hamiltonian is ``H`` with its terms reordered layer by layer (the terms of one bond kept in their
original order), so the product formula of :func:`qdyn.exact.trotter_evolve` applied to it *is* the formula the
circuit implements, and its Trotter error is known exactly.

:func:`layered_evolution_circuit` writes ``steps`` steps of that formula. Consecutive factors of one layer (the two
half-steps at the turn of a Strang step, the last and first factors of adjacent steps) act on disjoint units that
commute with each other, so each unit's factors are multiplied into one block: a bond block (e.g.
``exp(-i(a XX + b YY + c ZZ))``) is any two-qubit unitary, synthesised by Qiskit's ``TwoQubitBasisDecomposer``
(KAK / Weyl decomposition; at most 3 CNOTs, Vatan & Williams, PRA 69, 032315 (2004); 2 when the block is a
``ZZ`` rotation); fields are ``RX``/``RY``/``RZ`` gates that the transpiler merges. Open Heisenberg chain of ``n``
sites, ``r`` second-order steps: ``(2r + 1)`` bond layers, ``3 (n - 1) r + 3 floor(n/2)`` CNOTs.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qdyn.circuits.evolution import pauli_rotation
from qdyn.errors import check_int, check_positive
from qdyn.operators import as_pauli_op

__all__ = ["bond_layers", "layered_hamiltonian", "layered_evolution_circuit", "layer_units"]

_PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
          "Z": np.diag([1.0, -1.0])}


def _support(pauli) -> tuple[int, ...]:
    return tuple(int(q) for q in np.flatnonzero(pauli.x | pauli.z))


def bond_layers(bonds) -> list[list[tuple[int, int]]]:
    """Edge colouring of the coupling graph ``bonds`` (pairs of qubits): lists of disjoint bonds ``(i, j)``,
    ``i < j``, sorted, the layers ordered by their smallest bond. Bipartite graphs get ``max degree`` colours
    (brick-wall on a chain), others ``max degree + 1``. The colouring depends on the set of bonds only (they are
    coloured in sorted order), so reordering a Hamiltonian's terms never changes its layers."""
    import rustworkx as rx

    bonds = [tuple(sorted(map(int, b))) for b in bonds]
    if any(len(b) != 2 or b[0] == b[1] or b[0] < 0 for b in bonds):
        raise ValueError("bonds must be pairs of distinct non-negative qubit indices")
    unique = sorted(set(bonds))
    if not unique:
        return []
    graph = rx.PyGraph()
    graph.add_nodes_from(range(max(q for b in unique for q in b) + 1))
    graph.add_edges_from_no_data(unique)
    colours = (rx.graph_bipartite_edge_color(graph) if rx.is_bipartite(graph)
               else rx.graph_misra_gries_edge_color(graph))
    layers: dict[int, list] = {}
    for index, bond in enumerate(unique):
        layers.setdefault(colours[index], []).append(bond)
    return list(layers.values())  # dict order = order of each colour's smallest bond


def _layer_keys(op: SparsePauliOp) -> list[tuple]:
    """Per term: ``(layer rank, unit)``, the unit being the term's support; sorting by the rank (stably) gives the
    layered order."""
    supports = [_support(p) for p in op.paulis]
    layers = bond_layers([s for s in supports if len(s) == 2])
    colour = {bond: k for k, layer in enumerate(layers) for bond in layer}
    many = list(dict.fromkeys(s for s in supports if len(s) > 2))
    rank = {s: len(layers) + 1 + k for k, s in enumerate(many)}
    keys = []
    for s in supports:
        if len(s) == 2:
            keys.append((colour[s], s))
        elif len(s) == 1:
            keys.append((len(layers), s))
        else:  # the terms on one many-body support form one layer, the identity the last one
            keys.append((rank.get(s, len(layers) + 1 + len(many)), s))
    return keys


def layered_hamiltonian(H) -> SparsePauliOp:
    """``H`` with its terms reordered layer by layer (see the module docstring): the term order whose product
    formula :func:`layered_evolution_circuit` implements. Same operator, same coefficients; within a layer the
    terms keep their relative order, so the map is idempotent (a layered ``H`` is its own layered form)."""
    op = as_pauli_op(H)
    keys = _layer_keys(op)
    order = sorted(range(len(op)), key=lambda j: (keys[j][0], j))
    return SparsePauliOp(op.paulis[order], op.coeffs[order])


def layer_units(H) -> dict[tuple[int, ...], SparsePauliOp]:
    """The units of the layered formula: support -> the sum of ``H``'s terms on it (a bond's ``aXX + bYY + cZZ``,
    a qubit's field, a hopping's ``XZ..ZX + YZ..ZY``; ``()`` the identity term). The circuit multiplies each unit's
    consecutive factors into one block."""
    op = layered_hamiltonian(H)
    units: dict[tuple[int, ...], list[int]] = {}
    for j, pauli in enumerate(op.paulis):
        units.setdefault(_support(pauli), []).append(j)
    return {u: SparsePauliOp(op.paulis[idx], op.coeffs[idx]) for u, idx in units.items()}


@lru_cache(maxsize=4096)
def _bond_block(factors: tuple[tuple[str, float], ...]) -> QuantumCircuit:
    """``prod exp(-i theta P)`` over two-qubit ``factors`` (first factor applied first), minimal CNOT count."""
    unitary = np.eye(4, dtype=complex)
    for label, theta in factors:
        pauli = np.kron(_PAULI[label[0]], _PAULI[label[1]])  # label[0] acts on the block's qubit 1
        unitary = (np.cos(theta) * np.eye(4) - 1j * np.sin(theta) * pauli) @ unitary
    return _cnot_decomposer()(unitary)


@lru_cache(maxsize=1)
def _cnot_decomposer():
    from qiskit.circuit.library import CXGate
    from qiskit.synthesis import TwoQubitBasisDecomposer

    return TwoQubitBasisDecomposer(CXGate())


def _emit(qc: QuantumCircuit, unit: tuple[int, ...], factors: list[tuple[object, float]]) -> None:
    """Append the ordered product of ``exp(-i theta P)`` over ``factors`` acting on ``unit``."""
    if len(unit) == 2:
        i, j = unit
        local = tuple((_local_label(p, (j, i)), theta) for p, theta in factors)
        qc.compose(_bond_block(local), [i, j], inplace=True)
    elif len(unit) == 1:
        q = unit[0]
        for p, theta in factors:
            letter = _local_label(p, (q,))
            getattr(qc, "r" + letter.lower())(2 * theta, q)
    else:
        for p, theta in factors:
            pauli_rotation(qc, p, theta)


def _local_label(pauli, qubits: tuple[int, ...]) -> str:
    """The letters of ``pauli`` on ``qubits`` (in that order); the Pauli must carry no phase."""
    label = pauli.to_label()
    n = pauli.num_qubits
    return "".join(label[n - 1 - q] for q in qubits)


def layered_evolution_circuit(H, t: float, *, steps: int = 1, order: int = 2) -> QuantumCircuit:
    """``steps`` steps of the order-``order`` product formula of :func:`layered_hamiltonian` ``(H)`` for time ``t``.

    Equal (to rounding) to ``qdyn.exact.trotter_evolve(layered_hamiltonian(H), psi, t, steps=steps,
    order=order)``; every bond block has at most 3 CNOTs, fields are single-qubit rotations, and the identity term
    is the global phase ``exp(-i c t)``. Gates: ``cx``, ``u`` (from the two-qubit synthesis), ``rx``/``ry``/``rz``
    and, for terms on three or more qubits, the Pauli-rotation ladders of
    :func:`qdyn.circuits.evolution.pauli_rotation`.
    """
    from qdyn.exact import product_formula_sequence

    op = layered_hamiltonian(H)
    t = check_positive("t", t, allow_zero=True)
    steps = check_int("steps", steps, minimum=1)
    n = op.num_qubits
    qc = QuantumCircuit(n, name=f"U({t:.4g})")
    if t == 0:
        return qc
    if np.any(op.paulis.phase):
        raise ValueError("H must have phase-free Pauli labels (a phase belongs in the coefficient)")
    keys = _layer_keys(op)
    coeffs = np.real(op.coeffs)
    dt = t / steps
    sequence = product_formula_sequence(len(op), order) * steps
    run: dict[tuple[int, ...], list] = {}
    current = None
    for j, fraction in sequence:
        layer, unit = keys[j]
        if layer != current and run:
            for u, factors in run.items():
                _emit(qc, u, factors)
            run = {}
        current = layer
        if not unit:
            qc.global_phase -= coeffs[j] * fraction * dt
            continue
        run.setdefault(unit, []).append((op.paulis[j], coeffs[j] * fraction * dt))
    for u, factors in run.items():
        _emit(qc, u, factors)
    return qc
