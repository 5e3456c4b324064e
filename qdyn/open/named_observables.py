"""Named observables of the open-system solvers: the default site averages, ``e_ops`` normalised to a dict, and the
table rows of named expectation values."""

from __future__ import annotations

from qdyn.errors import check_int
from qdyn.results import value_rows

__all__ = ["expectation_rows", "named_e_ops", "site_average_paulis"]


def site_average_paulis(n_sites: int, bonds=()) -> dict:
    """Named observables: the site averages ``(1/n) sum_i P_i`` of P = X, Y, Z (``"X"``, ``"Y"``, ``"Z"``) and,
    for ``bonds`` (pairs of sites), the bond averages of the correlations ``"XX"``, ``"YY"``, ``"ZZ"``."""
    from qiskit.quantum_info import SparsePauliOp

    from qdyn.open.lindbladian import pauli_on

    n = check_int("n_sites", n_sites, minimum=1)
    out = {p: SparsePauliOp.sum([pauli_on(n, {i: p}, 1.0 / n) for i in range(n)]) for p in "XYZ"}
    bonds = [tuple(b) for b in bonds]
    if bonds:
        for p in "XYZ":
            out[p + p] = SparsePauliOp.sum([pauli_on(n, {i: p, j: p}, 1.0 / len(bonds)) for i, j in bonds])
    return out


def named_e_ops(e_ops, n_qubits: int) -> dict:
    """``e_ops`` as a dict ``{name: operator}`` on ``n_qubits`` qubits.

    ``None``: the site averages of X, Y, Z (:func:`site_average_paulis`); a dict keeps its names; a list or
    tuple is named by position (``0, 1, ...``). An operator is a ``SparsePauliOp``, a Pauli label (``"ZII"``,
    rightmost character = qubit 0), a dense or sparse matrix, a PennyLane operator or a ``qutip.Qobj``.
    """
    from qiskit.quantum_info import SparsePauliOp

    from qdyn.operators import num_qubits

    if e_ops is None:
        return site_average_paulis(n_qubits)
    if isinstance(e_ops, dict):
        named = dict(e_ops)
    elif isinstance(e_ops, list | tuple):
        named = dict(enumerate(e_ops))
    else:
        raise TypeError(f"e_ops must be a dict {{name: operator}}, a list of operators or None, "
                        f"got {type(e_ops).__name__}")
    if not named:
        raise ValueError("e_ops must name at least one operator")
    out = {}
    for name, op in named.items():
        if isinstance(op, str):
            if len(op) != n_qubits or set(op) - set("IXYZ"):
                raise ValueError(f"e_ops[{name!r}] = {op!r} must be a Pauli label of {n_qubits} characters "
                                 "from I, X, Y, Z")
            op = SparsePauliOp(op)
        if num_qubits(op) != n_qubits:
            raise ValueError(f"e_ops[{name!r}] acts on {num_qubits(op)} qubits, the Lindbladian on {n_qubits}")
        out[name] = op
    return out


def expectation_rows(expect: dict, errors: dict) -> list[dict]:
    """Table rows of named expectation values: ``{"observable", "quantity", "value", "error", "reference"}``,
    one per observable (see :func:`qdyn.results.value_rows`)."""
    return [{**row, "observable": name}
            for name, value in expect.items()
            for row in value_rows("expectation", value, errors=errors.get(name), index="observable")]
