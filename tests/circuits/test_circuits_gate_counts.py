"""Gate counts per distinct gate equal those of the whole circuit transpiled at once."""

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit.library import MCXGate

from qdyn.circuits.gate_counts import expanded_gate_counts


def _nested() -> QuantumCircuit:
    oracle = QuantumCircuit(3, name="U_A")
    oracle.ccx(0, 1, 2)
    oracle.h(0)
    oracle.cz(0, 2)
    block = QuantumCircuit(4, name="block")
    block.append(oracle.to_gate(), [0, 1, 2])
    block.rzz(0.3, 2, 3)
    block.append(oracle.to_gate().control(1, ctrl_state=0), [3, 0, 1, 2])
    block.append(oracle.to_gate().inverse(), [1, 2, 3])
    qc = QuantumCircuit(5)
    qc.h(4)
    for _ in range(3):
        qc.append(block.to_gate(), [0, 1, 2, 3])
        qc.append(MCXGate(3, ctrl_state=0), [1, 2, 3, 4])
        qc.append(block.to_gate(), [4, 3, 2, 1])
    return qc


def test_counts_equal_the_flat_transpilation():
    qc = _nested()
    # optimisation level 0 only translates gates: the flat circuit is the concatenation of the per-gate
    # translations, so depth and two-qubit gates must agree exactly
    flat = transpile(qc, basis_gates=["cx", "u"], optimization_level=0)
    counts = expanded_gate_counts(qc, expand=("block",), count=("U_A",), optimization_level=0)
    assert counts.depth == flat.depth()
    assert counts.two_qubit_gates == flat.count_ops()["cx"]
    assert counts.counts == {"U_A": 6 * 3}  # U_A, its controlled form and its inverse, in 6 blocks


def test_cache_is_reused_and_keyed_by_setting():
    qc = _nested()
    cache: dict = {}
    first = expanded_gate_counts(qc, expand=("block",), optimization_level=0, cache=cache)
    again = expanded_gate_counts(qc, expand=("block",), optimization_level=0, cache=cache)
    assert again == first and len(cache) == 1
    expanded_gate_counts(qc, expand=("block",), optimization_level=1, cache=cache)
    assert len(cache) == 2
    assert expanded_gate_counts(QuantumCircuit(2)).depth == 0


@pytest.mark.parametrize("level", [1])
def test_optimised_counts_do_not_exceed_level_zero(level):
    qc = _nested()
    base = expanded_gate_counts(qc, expand=("block",), optimization_level=0)
    opt = expanded_gate_counts(qc, expand=("block",), optimization_level=level)
    assert opt.two_qubit_gates <= base.two_qubit_gates and opt.depth <= base.depth
