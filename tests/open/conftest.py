"""Models shared by the open-system tests."""

import pytest
from qiskit.quantum_info import SparsePauliOp

import qdyn.open as O


def _xyz_field_chain(n: int) -> O.Lindbladian:
    """Open XYZ chain (Jx, Jy, Jz = 1, 0.6, 0.3) in a field 0.5 X, with sigma^- decay at rates 0.5..0.5 + 0.1 (n-1):
    a model where the Jacobi-preconditioned steady-state GMRES needs thousands of products."""
    terms = [(p * 2, [i, i + 1], J) for i in range(n - 1) for p, J in (("X", 1.0), ("Y", 0.6), ("Z", 0.3))]
    terms += [("X", [i], 0.5) for i in range(n)]
    lowering = [SparsePauliOp.from_sparse_list([("X", [i], 0.5), ("Y", [i], 0.5j)], n) for i in range(n)]
    return O.Lindbladian(SparsePauliOp.from_sparse_list(terms, n), lowering, [0.5 + 0.1 * i for i in range(n)])


@pytest.fixture
def xyz_field_chain():
    """The builder of the open XYZ chain in a field (``xyz_field_chain(n)``)."""
    return _xyz_field_chain
