"""Two-qubit gates, depth and named-gate occurrences of a large circuit, each distinct gate transpiled once.

A coherent cooling step repeats a few composite gates (block encodings, their controlled forms, multi-controlled
X) thousands of times, so transpiling the flat circuit is slow. :func:`expanded_gate_counts` expands the composite
gates named in ``expand`` through their definitions, transpiles every other distinct gate (keyed by name and size)
to ``basis`` once, and combines the pieces:

* two-qubit gates add up;
* depth composes exactly through longest-path matrices: for a piece on qubits ``q_1..q_k``, ``L[a, b]`` is the
  largest number of gates on a path from its input on ``q_a`` to its output on ``q_b`` (``-inf`` without a
  path, ``0`` on the diagonal of an idle qubit), and a circuit's frontier after the piece is
  ``f'_b = max_a (f_a + L[a, b])`` (max-plus product). The depth is that of the circuit with every distinct
  gate transpiled on its own (no optimisation across gates), counted like ``QuantumCircuit.depth`` (every gate
  one layer, barriers none).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from qiskit import QuantumCircuit

__all__ = ["GateCounts", "expanded_gate_counts"]


@dataclass(frozen=True)
class GateCounts:
    """``two_qubit_gates`` and ``depth`` in the transpiled basis; ``counts[prefix]``: occurrences of the gates
    whose name (or, for a controlled gate, its base gate's name) starts with ``prefix``."""

    two_qubit_gates: int
    depth: int
    counts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Piece:
    two: int
    paths: np.ndarray  # longest-path matrix between the piece's own qubits
    counts: Counter


def expanded_gate_counts(circuit: QuantumCircuit, *, expand=(), count=(), basis=("cx", "u"),
                         optimization_level: int = 1, cache: dict | None = None) -> GateCounts:
    """Counts of ``circuit`` with the composite gates named in ``expand`` expanded (module docstring).

    ``count``: name prefixes whose occurrences are tallied (e.g. the queries to a block encoding ``"U_A"``,
    which also match its inverse ``"U_A_dg"`` and controlled forms). Gates of one qubit count one layer of
    depth without being transpiled; a two-qubit gate in ``basis`` counts one two-qubit gate. ``cache``: a dict
    the caller keeps to reuse the transpiled gates across calls (one entry per setting).
    """
    settings = (frozenset(expand), tuple(count), tuple(basis), int(optimization_level))
    pieces = ({} if cache is None else cache).setdefault(settings, {})
    context = dict(zip(("expand", "count", "basis", "level"), settings, strict=True), cache=pieces)
    piece = _circuit_piece(circuit, context)
    finite = piece.paths[np.isfinite(piece.paths)]
    return GateCounts(two_qubit_gates=piece.two, depth=int(max(finite.max(initial=0.0), 0.0)),
                      counts={prefix: piece.counts.get(prefix, 0) for prefix in context["count"]})


def _circuit_piece(circuit: QuantumCircuit, context) -> _Piece:
    n = circuit.num_qubits
    index = {q: i for i, q in enumerate(circuit.qubits)}
    # frontier[q][i]: the longest path from the input on qubit i to the current end of qubit q (-inf: none)
    frontier = list(np.where(np.eye(n, dtype=bool), 0.0, -np.inf))
    count, basis = context["count"], context["basis"]
    two, counts = 0, Counter()
    for inst in circuit.data:
        name = inst.name  # only the name is read for basis gates: building operation objects is the slow part
        if name == "barrier":
            continue
        qubits = [index[q] for q in inst.qubits]
        if len(qubits) == 1:  # one layer
            frontier[qubits[0]] = frontier[qubits[0]] + 1.0
        elif len(qubits) == 2 and name in basis:  # one layer on both: they end together, one after the latest
            a, b = qubits
            frontier[a] = frontier[b] = np.maximum(frontier[a], frontier[b]) + 1.0
            two += 1
        else:
            piece = _operation_piece(inst.operation, context)
            ends = np.max(np.stack([frontier[q] for q in qubits], axis=1)[:, :, None] + piece.paths[None], axis=1)
            for j, q in enumerate(qubits):
                frontier[q] = ends[:, j]
            two += piece.two
            counts.update(piece.counts)
            continue
        if count and name.startswith(count):
            counts.update(prefix for prefix in count if name.startswith(prefix))
    return _Piece(two, np.stack(frontier, axis=1), counts)


def _operation_piece(op, context) -> _Piece:
    from qiskit import transpile

    key = (op.name, op.num_qubits)
    cache = context["cache"]
    if key in cache:
        return cache[key]
    base = getattr(op, "base_gate", None)
    name = base.name if base is not None else op.name
    if op.name in context["expand"]:
        piece = _circuit_piece(op.definition, context)
    else:
        qc = QuantumCircuit(op.num_qubits)
        qc.append(op, range(op.num_qubits))
        compiled = transpile(qc, basis_gates=list(context["basis"]), optimization_level=context["level"])
        piece = _circuit_piece(compiled, context)
    hits = Counter({prefix: 1 for prefix in context["count"] if name.startswith(prefix)})
    piece = _Piece(piece.two, piece.paths, piece.counts + hits)
    cache[key] = piece
    return piece
