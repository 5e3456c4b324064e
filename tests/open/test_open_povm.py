"""POVMs, rho <-> P, observables, the POVM-space Lindbladian and its batched local action."""

import numpy as np
import pytest

from qdyn.open.density import expectation
from qdyn.open.lindbladian import Lindbladian, pauli_on, sigma_minus
from qdyn.open.liouvillian import liouvillian_matrix
from qdyn.open.models import dissipative_ising, dissipative_xyz
from qdyn.open.povm import POVM, check_distribution, index_to_strings, strings_to_index
from qdyn.open.povm_lindbladian import POVMLindbladian

KINDS = ["tetra", "pauli4"]


def random_density(n, seed):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(2**n, 2**n)) + 1j * rng.normal(size=(2**n, 2**n))
    rho = g @ g.conj().T
    return rho / np.trace(rho)


def global_povm_generator(lb, povm):
    """Independent reference: L_ab = Tr[M^a L(N^b)] with M^a, N^b built by explicit Kronecker products and L the
    vectorised global Liouvillian (no local decomposition)."""
    n = lb.num_qubits
    liouv = liouvillian_matrix(lb)
    strings = index_to_strings(np.arange(4**n), n)

    def product(ops, a):
        out = np.eye(1)
        for q in reversed(range(n)):  # qubit 0 is the last (least significant) Kronecker factor
            out = np.kron(out, ops[a[q]])
        return out

    M = [product(povm.elements, a) for a in strings]
    N = [product(povm.dual, a) for a in strings]
    d = 2**n
    images = [(liouv @ Nb.reshape(-1)).reshape(d, d) for Nb in N]
    return np.array([[np.trace(Ma @ X) for X in images] for Ma in M])


@pytest.mark.parametrize("kind", KINDS)
def test_elements_sum_to_identity_and_dual_frame(kind):
    povm = POVM(kind)
    assert np.allclose(povm.elements.sum(axis=0), np.eye(2), atol=1e-15)
    assert all(np.linalg.eigvalsh(m)[0] >= -1e-15 for m in povm.elements)
    # Tr[M^a N^b] = delta_ab defines the dual frame
    overlap = np.einsum("aij,bji->ab", povm.elements, povm.dual)
    assert np.allclose(overlap, np.eye(4), atol=1e-13)


def test_tetra_is_symmetric():
    # SIC: Tr[M^a M^b] = (1 + 3 delta_ab... ) -> 1/12 off-diagonal, 1/4 diagonal for the tetrahedral POVM
    T = POVM("tetra").overlap
    assert np.allclose(np.diag(T), 0.25) and np.allclose(T[~np.eye(4, dtype=bool)], 1 / 12)


@pytest.mark.parametrize("kind", KINDS)
def test_probabilities_match_explicit_traces_and_round_trip(kind):
    povm, n = POVM(kind), 3
    rho = random_density(n, 5)
    P = povm.probabilities(rho)
    for index in (0, 7, 21, 63):  # explicit Tr[rho M^a] with qubit 0 the last Kronecker factor
        a = index_to_strings(index, n)
        M = np.kron(np.kron(povm.elements[a[2]], povm.elements[a[1]]), povm.elements[a[0]])
        assert abs(P[index] - np.trace(rho @ M).real) < 1e-15
    assert abs(P.sum() - 1) < 1e-13 and P.min() >= 0
    # rho -> P -> rho is exact (round-off only)
    assert np.max(np.abs(povm.density_matrix(P) - rho)) < 1e-14


@pytest.mark.parametrize("kind", KINDS)
def test_observables(kind):
    povm, n = POVM(kind), 3
    rho = random_density(n, 6)
    P = povm.probabilities(rho)
    strings = index_to_strings(np.arange(4**n), n)
    ops = [pauli_on(n, {0: "Z"}), pauli_on(n, {1: "X", 2: "Y"}),
           pauli_on(n, {0: "X", 1: "X"}, 0.3) + pauli_on(n, {2: "Z"}, -1.2)]
    for op in ops:
        exact = expectation(op, rho)
        assert abs(povm.expectation(op, P) - exact) < 1e-13
        # the per-string estimator averaged over the exact distribution gives the same value
        assert abs(np.dot(P, povm.pauli_values(op, strings)) - exact) < 1e-13


def test_product_probabilities():
    povm = POVM("tetra")
    p = povm.product_probabilities(["0", "+"])
    full = povm.probabilities(np.kron([1, 1] / np.sqrt(2), [1, 0]))  # qubit 0 = |0>, qubit 1 = |+>
    assert np.allclose(np.outer(p[1], p[0]).reshape(-1), full, atol=1e-15)
    assert np.allclose(p[0], [0.5, 1 / 6, 1 / 6, 1 / 6])  # (1 + s_a . z)/4 on |0>


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("model", ["ising", "random"])
def test_povm_generator_matches_global_construction(kind, model):
    if model == "ising":
        lb = dissipative_ising(3, V=2.0, g=1.0, gamma=0.7)
    else:  # a generic Lindbladian with a two-site non-Hermitian jump and a three-site Hamiltonian term
        lb = Lindbladian(pauli_on(3, {0: "X", 2: "Y"}, 0.4) + pauli_on(3, {1: "Z", 0: "Z", 2: "X"}, -0.3)
                         + pauli_on(3, {1: "Y"}, 0.8),
                         [sigma_minus(0, 3) @ pauli_on(3, {1: "X"}), pauli_on(3, {2: "Z"}), sigma_minus(1, 3)],
                         [0.5, 0.3, 1.1])
    gen = POVMLindbladian(lb, kind)
    L = gen.matrix().toarray()
    ref = global_povm_generator(lb, gen.povm)
    assert np.max(np.abs(ref.imag)) < 1e-13  # L is real
    assert np.max(np.abs(L - ref.real)) < 1e-13
    assert np.max(np.abs(L.sum(axis=0))) < 1e-13  # columns sum to zero (trace preservation)
    P = gen.povm.probabilities(random_density(3, 9))
    assert np.max(np.abs(gen.apply(P) - L @ P)) < 1e-14
    for term in gen.terms:  # the sparse nonzero lists rebuild each tensor
        rows, cols, vals = term.nonzeros()
        rebuilt = np.zeros_like(term.tensor)
        rebuilt[rows, cols] = vals
        assert np.array_equal(rebuilt, term.tensor) and np.all(vals != 0)


@pytest.mark.parametrize("kind", KINDS)
def test_connections_reproduce_rows_of_L(kind):
    lb = dissipative_xyz(2, Jx=0.9, Jy=1.0, Jz=1.1, B=0.2, gamma=1.0)
    gen = POVMLindbladian(lb, kind)
    L = gen.matrix().toarray()
    P = gen.povm.probabilities(random_density(4, 3))
    rng = np.random.default_rng(0)
    strings = rng.integers(0, 4, size=(50, 4)).astype(np.int8)
    conn = gen.connections(strings)
    batch, slots, n = conn.connected.shape
    assert (batch, slots, n) == (50, gen.num_slots, 4) and conn.connected.dtype == np.int8
    rows = strings_to_index(strings)
    lp = conn.contract(P[strings_to_index(conn.connected)])
    assert np.max(np.abs(lp - (L @ P)[rows])) < 1e-14
    # every unmasked off-diagonal slot is a nonzero of L, every padding slot has value 0 and the input string
    off = conn.mask.copy()
    off[:, 0] = False
    cols = strings_to_index(conn.connected)
    assert np.all(conn.values[off] != 0)
    # slots of several terms may reach the same string: accumulated per (row, column) they give L's entries
    acc = np.zeros((batch, 4**n))
    np.add.at(acc, (np.broadcast_to(np.arange(batch)[:, None], cols.shape)[conn.mask], cols[conn.mask]),
              conn.values[conn.mask])
    assert np.max(np.abs(acc - L[rows])) < 1e-14
    assert np.all(conn.values[~conn.mask] == 0) and np.all(cols[~conn.mask] == np.broadcast_to(
        rows[:, None], cols.shape)[~conn.mask])
    # connected strings agree with the input below first_site
    sites = np.arange(n)
    below = sites[None, None, :] < conn.first_site[:, :, None]
    assert np.all((conn.connected == strings[:, None, :]) | ~below)
    # the flat layout carries the same sum
    row, flat_conn, flat_vals, _ = conn.flat()
    flat_lp = np.bincount(row, weights=flat_vals * P[strings_to_index(flat_conn)], minlength=50)
    assert np.max(np.abs(flat_lp - (L @ P)[rows])) < 1e-14
    # zero entries are skipped: unmasked slots per string = 1 (merged diagonal) + the off-diagonal nonzeros of
    # its row in every term tensor
    expected = np.ones(batch, dtype=int)
    for term in gen.terms:
        local = (strings[:, list(term.sites)].astype(int) * 4 ** np.arange(len(term.sites))).sum(1)
        off_diag = term.tensor.copy()
        np.fill_diagonal(off_diag, 0)
        expected += np.count_nonzero(off_diag, axis=1)[local]
    assert np.array_equal(conn.mask.sum(1), expected)


def test_connections_torch_path_matches_numpy():
    torch = pytest.importorskip("torch")
    gen = POVMLindbladian(dissipative_ising(4, V=2.0, g=1.0, gamma=1.0), "tetra")
    strings = np.random.default_rng(1).integers(0, 4, size=(20, 4))
    a = gen.connections(strings)
    b = gen.connections(torch.as_tensor(strings))
    assert isinstance(b.values, torch.Tensor)
    for x, y in zip((a.connected, a.values, a.mask, a.first_site), (b.connected, b.values, b.mask, b.first_site),
                    strict=True):
        assert np.array_equal(x, y.numpy())
    P = gen.povm.probabilities(random_density(4, 2))
    via_torch = gen.local_apply(torch.as_tensor(strings), lambda s: torch.as_tensor(P)[
        torch.as_tensor(strings_to_index(s.numpy()))])
    assert np.max(np.abs(via_torch.numpy() - (gen.matrix() @ P)[strings_to_index(strings)])) < 1e-14
    row, conn, vals, first = b.flat()
    assert conn.shape == (int(b.mask.sum()), 4) and vals.shape == row.shape == first.shape


def test_bad_input():
    with pytest.raises(ValueError, match="not informationally complete"):
        z = np.diag([1.0, 0.0]).astype(complex)
        POVM(np.stack([z / 2, z / 2, (np.eye(2) - z) / 2, (np.eye(2) - z) / 2]))
    with pytest.raises(ValueError, match="sum to the identity"):
        POVM(POVM("tetra").elements * 1.1)
    with pytest.raises(ValueError, match="shape"):
        POVM(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="unknown POVM"):
        POVM("sic")
    with pytest.raises(ValueError, match="positive semidefinite"):
        e = POVM("tetra").elements.copy()
        e[0] += np.diag([0.3, -0.3])
        e[1] -= np.diag([0.3, -0.3])
        POVM(e)
    P = POVM("tetra").probabilities(random_density(2, 1))
    with pytest.raises(ValueError, match="normalised distribution"):
        POVM("tetra").density_matrix(P * 1.01)
    with pytest.raises(ValueError, match="length 4"):
        check_distribution(np.ones(8) / 8)
    gen = POVMLindbladian(dissipative_ising(2), "tetra")
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        gen.connections(np.zeros((3, 3), dtype=int))
    with pytest.raises(ValueError, match="outcomes 0..3"):
        gen.connections(np.full((3, 2), 4))
    with pytest.raises(TypeError, match="Lindbladian"):
        POVMLindbladian("x")
    with pytest.raises(ValueError, match="acts on 2 qubits"):
        POVM("tetra").pauli_values(pauli_on(2, {0: "Z"}), np.zeros((1, 3), dtype=int))
