"""Layered product-formula circuits: equal to the exact engine's term-by-term formula, minimal CNOT counts."""

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp, Statevector

from qdyn import models, states
from qdyn.circuits.trotter_layers import bond_layers, layer_units, layered_evolution_circuit, layered_hamiltonian
from qdyn.exact import trotter_evolve

MODELS = {
    "open XXZ + field": models.heisenberg(6, delta=0.7, h=0.3, periodic=False),
    "odd XXZ ring (3 colours)": models.heisenberg(5, delta=0.5, h=0.2, periodic=True),
    "TFIM ring": models.tfim(4, J=1.0, g=0.7),
    "Hubbard (JW strings)": models.hubbard(2, t=1.0, U=3.0),
    "mixed terms + identity": (SparsePauliOp(["IIII", "XYZI", "ZXII", "IIYX"], [0.5, 0.3, 0.7, -0.4])
                               + models.heisenberg(4, h=0.2)).simplify(),
}


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(("steps", "order"), [(1, 2), (3, 2), (2, 1), (1, 4)])
def test_layered_circuit_equals_the_exact_engine(name, steps, order):
    H = MODELS[name]
    psi = states.haar_random_state(H.num_qubits, seed=3)
    qc = layered_evolution_circuit(H, 1.3, steps=steps, order=order)
    want = trotter_evolve(layered_hamiltonian(H), psi, 1.3, steps=steps, order=order)
    # both apply the same exponentials (blocks synthesised to ~1e-15 by the KAK decomposition): 1e-10
    np.testing.assert_allclose(Statevector(psi).evolve(qc).data, want, atol=1e-10)


def test_layered_hamiltonian_is_the_same_operator_in_layer_order():
    H = models.heisenberg(6, periodic=False)
    layered = layered_hamiltonian(H)
    assert layered.equiv(H) and len(layered) == len(H)
    pairs = [tuple(int(q) for q in np.flatnonzero(p.x | p.z)) for p in layered.paulis]
    # brick-wall: bonds (0,1), (2,3), (4,5) first, each with its XX, YY, ZZ together, then (1,2), (3,4)
    assert pairs[::3] == [(0, 1), (2, 3), (4, 5), (1, 2), (3, 4)]
    assert layered.paulis[:3].to_labels() == ["IIIIXX", "IIIIYY", "IIIIZZ"]
    assert set(layer_units(H)) == set(pairs)


@pytest.mark.parametrize(("steps", "n"), [(1, 6), (3, 6), (2, 5)])
def test_heisenberg_chain_cnot_count_and_depth(steps, n):
    H = models.heisenberg(n, periodic=False)
    qc = layered_evolution_circuit(H, 0.4 * steps, steps=steps)
    # (2r + 1) layers, r (n - 1) bond blocks per step plus the first layer's floor(n/2): 3 CNOTs per
    # XX+YY+ZZ block (Vatan-Williams), every CNOT inside a layer parallel
    assert qc.count_ops()["cx"] == 3 * (n - 1) * steps + 3 * (n // 2)
    assert qc.depth(lambda inst: inst.operation.num_qubits == 2) == 3 * (2 * steps + 1)


def test_zz_only_blocks_take_two_cnots():
    H = models.tfim(4, periodic=False)
    # one Strang step A B F B A: bond layers A = {(0,1), (2,3)}, B = {(1,2)}, fields F: 6 ZZ blocks of 2 CNOTs
    assert layered_evolution_circuit(H, 0.5, steps=1).count_ops()["cx"] == 2 * 6


def test_edge_colouring_of_the_heavy_hex_coupling_map():
    from qiskit_ibm_runtime.fake_provider import FakeTorino

    edges = sorted({tuple(sorted(e)) for e in FakeTorino().coupling_map.get_edges()})
    layers = bond_layers(edges)
    # every bond once, disjoint bonds in each layer, max degree 3 -> 3 colours (heavy-hex is bipartite)
    assert sorted(b for layer in layers for b in layer) == edges
    for layer in layers:
        qubits = [q for b in layer for q in b]
        assert len(qubits) == len(set(qubits))
    assert len(layers) == 3
    assert bond_layers([(1, 2), (2, 0), (0, 1)]) == [[(0, 1)], [(0, 2)], [(1, 2)]]  # odd ring: Delta + 1


def test_layered_order_is_idempotent_on_random_coupling_graphs():
    # acquire() layers H once and the circuit builder layers it again: both must give the same product formula
    rng = np.random.default_rng(11)
    for _ in range(12):
        n = 6
        bonds = [(a, b) for a in range(n) for b in range(a + 1, n) if rng.random() < 0.5] or [(0, 1)]
        labels = ["".join(p if q in bond else "I" for q in reversed(range(n))) for bond in bonds for p in "XYZ"]
        order = rng.permutation(len(labels))
        H = SparsePauliOp([labels[k] for k in order], rng.normal(size=len(labels)))
        layered = layered_hamiltonian(H)
        assert layered_hamiltonian(layered).paulis.to_labels() == layered.paulis.to_labels()
        for layer in bond_layers(bonds):
            qubits = [q for b in layer for q in b]
            assert len(qubits) == len(set(qubits))


def test_bad_input():
    with pytest.raises(ValueError, match="bonds"):
        bond_layers([(0, 0)])
    with pytest.raises(ValueError, match="steps"):
        layered_evolution_circuit(models.tfim(2), 0.3, steps=0)
    with pytest.raises(ValueError, match="order"):
        layered_evolution_circuit(models.tfim(2), 0.3, steps=1, order=3)
    with pytest.raises(ValueError, match="Hermitian"):
        layered_evolution_circuit(SparsePauliOp(["XX", "ZI"], [1.0, 1j]), 0.3)
    assert layered_evolution_circuit(models.tfim(2), 0.0).size() == 0
