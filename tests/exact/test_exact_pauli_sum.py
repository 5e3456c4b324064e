"""Matrix-free Pauli-sum application against Qiskit's sparse matrix, on numpy and torch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.quantum_info import SparsePauliOp

from qdyn import models
from qdyn.cooling import ring_with_field
from qdyn.exact import PauliSum


@st.composite
def pauli_sums(draw):
    n = draw(st.integers(1, 6))
    n_terms = draw(st.integers(1, 10))
    labels = [draw(st.text(alphabet="IXYZ", min_size=n, max_size=n)) for _ in range(n_terms)]
    parts = st.floats(-2, 2, allow_nan=False)
    coeffs = [complex(draw(parts), draw(parts)) for _ in range(n_terms)]
    return SparsePauliOp(labels, coeffs)


def _random_state(dim, seed, batch=()):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((dim, *batch)) + 1j * rng.standard_normal((dim, *batch))


# Tolerance 1e-12: both sides are sums of a few exact products in double precision.
@settings(max_examples=60, deadline=None)
@given(op=pauli_sums(), seed=st.integers(0, 2**32 - 1), local_limit=st.sampled_from([0, 2, 10]),
       representation=st.sampled_from(["csr", "free"]))
def test_numpy_apply_equals_sparse_product(op, seed, local_limit, representation):
    psi = _random_state(2**op.num_qubits, seed)
    expected = op.to_matrix(sparse=True) @ psi
    got = PauliSum(op, local_limit=local_limit, representation=representation).apply(psi)
    np.testing.assert_allclose(got, expected, atol=1e-12 * max(1.0, np.abs(expected).max()))


@settings(max_examples=25, deadline=None)
@given(op=pauli_sums(), seed=st.integers(0, 2**32 - 1), local_limit=st.sampled_from([0, 10]))
def test_torch_apply_equals_sparse_product(op, seed, local_limit):
    psi = _random_state(2**op.num_qubits, seed, batch=(2,))
    expected = op.to_matrix(sparse=True) @ psi
    got = PauliSum(op, engine="torch", device="cpu", local_limit=local_limit).apply(psi).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-12 * max(1.0, np.abs(expected).max()))


def test_single_precision_on_torch():
    op = SparsePauliOp(["XZY", "ZZI", "IIX"], [0.3, -1.0, 0.7])
    psi = _random_state(8, 0)
    got = PauliSum(op, engine="torch", precision="single").apply(psi)
    assert str(got.dtype) == "torch.complex64"
    # 1e-5: complex64 carries about 7 significant digits.
    np.testing.assert_allclose(got.numpy(), op.to_matrix() @ psi, atol=1e-5)


def test_unknown_engine_and_wrong_length():
    op = SparsePauliOp(["XZ"], [1.0])
    with pytest.raises(ValueError, match="engine"):
        PauliSum(op, engine="jax")
    with pytest.raises(ValueError, match="psi"):
        PauliSum(op).apply(np.ones(8))


def test_real_hamiltonian_with_wide_flips_applies_to_real_vectors():
    # Jordan-Wigner hopping terms span many qubits (wide flips, applied by gathering); with an even number of
    # Y's every matrix element is real, so a real vector must stay real (a complex gather phase used to make
    # numpy refuse the in-place add, as on 12-qubit LiH). Reference: scipy's sparse matrix product.
    n = 12
    labels = ["Y" + "Z" * (n - 2) + "Y", "X" + "Z" * (n - 2) + "X", "XXYY" + "I" * (n - 4), "Z" * n,
              "I" * (n - 1) + "Z"]
    H = SparsePauliOp(labels, [0.3, 0.3, -0.2, 0.7, 0.1])
    engine = PauliSum(H, representation="free")
    assert engine.is_real and engine.gather_groups
    psi = np.random.default_rng(0).standard_normal(2**n)
    out = engine.apply(psi)
    assert not np.iscomplexobj(out)
    np.testing.assert_allclose(out, (H.to_matrix(sparse=True) @ psi).real, atol=1e-12)


def _molecule_like(n, seed):
    # Hermitian random Pauli sum with long strings and odd Y counts (complex matrix elements), like a
    # Jordan-Wigner molecular Hamiltonian without its structure.
    rng = np.random.default_rng(seed)
    labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(4 * n)] + ["Y" + "Z" * (n - 2) + "X"]
    return SparsePauliOp(labels, rng.normal(size=len(labels))).simplify()


_MODELS = {
    "tfim": lambda n: models.tfim(n, J=1.0, g=0.7),
    "heisenberg": lambda n: models.heisenberg(n, delta=0.5, h=0.2),
    "ring_with_field": ring_with_field,
    "molecule_like": lambda n: _molecule_like(n, seed=n),
}


@pytest.mark.parametrize("name", list(_MODELS))
@pytest.mark.parametrize("n", [3, 7, 10])
def test_csr_and_matrix_free_give_the_same_products(name, n):
    # The representation "auto" picks (CSR here) must agree with the matrix-free one and with Qiskit's sparse
    # matrix to 1e-12 (both are sums of a few exact products in double precision), for real and complex vectors
    # and batches, on real and on complex (odd-Y) Hamiltonians.
    H = _MODELS[name](n)
    chosen, free = PauliSum(H), PauliSum(H, representation="free")
    assert chosen.representation == "csr" and free.representation == "free"
    matrix = H.to_matrix(sparse=True)
    rng = np.random.default_rng(n)
    real = rng.standard_normal(2**n)
    for psi in (real, _random_state(2**n, n), _random_state(2**n, n + 1, batch=(3,)), real[:, None] * [1, -2]):
        expected = matrix @ psi
        atol = 1e-12 * max(1.0, np.abs(expected).max())
        got = chosen.apply(psi)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=atol)
        np.testing.assert_allclose(free.apply(psi), got, atol=atol)
        if chosen.is_real and not np.iscomplexobj(psi):
            assert not np.iscomplexobj(got)


def test_auto_representation_follows_memory_and_engine(monkeypatch):
    import qdyn.exact.pauli_sum as pauli_sum

    H = models.heisenberg(6)
    assert PauliSum(H).representation == "csr"
    assert PauliSum(H, engine="torch").representation == "free"  # torch stays matrix-free (GPU gathers)
    monkeypatch.setattr(pauli_sum, "csr_budget", lambda: 0.0)
    op = PauliSum(H)
    assert op.representation == "free" and op.matrix is None and op.nbytes >= 0
    with pytest.raises(ValueError, match="representation"):
        PauliSum(H, representation="dense")
    with pytest.raises(ValueError, match="representation='csr' needs engine='numpy'"):
        PauliSum(H, engine="torch", representation="csr")


def test_single_precision_csr():
    H = _molecule_like(5, seed=1)
    psi = _random_state(32, 2)
    got = PauliSum(H, precision="single", representation="csr").apply(psi)
    assert got.dtype == np.complex64
    # 1e-5: complex64 carries about 7 significant digits.
    np.testing.assert_allclose(got, H.to_matrix() @ psi, atol=1e-5 * np.abs(got).max())


def test_live_csr_matrices_share_one_budget(monkeypatch):
    # Many one-term operators (a Trotter product, a measurement list) must not each take a CSR matrix: once the
    # live ones fill CSR_MAX_BYTES the next is matrix-free, and a freed matrix gives its bytes back.
    import gc

    import qdyn.exact.pauli_sum as pauli_sum

    gc.collect()  # operators left by earlier tests must not be freed half-way through this one
    H = models.tfim(8)
    probe = PauliSum(H)
    monkeypatch.setattr(pauli_sum, "CSR_MAX_BYTES", pauli_sum._live_csr_bytes[0] + int(2.5 * probe.nbytes))
    first, second = PauliSum(H), PauliSum(H)
    assert (first.representation, second.representation) == ("csr", "csr")
    assert PauliSum(H).representation == "free"
    del first
    gc.collect()
    assert PauliSum(H).representation == "csr"


def test_real_csr_without_room_for_a_complex_copy(monkeypatch):
    # With no budget left for the complex copy, a real CSR matrix applies to complex vectors as (real, imag)
    # column pairs; the product must still equal the sparse reference to 1e-12, for a vector and a batch.
    import qdyn.exact.pauli_sum as pauli_sum

    H = ring_with_field(6)
    op = PauliSum(H)
    monkeypatch.setattr(pauli_sum, "csr_budget", lambda: 0.0)
    matrix = H.to_matrix(sparse=True)
    for psi in (_random_state(64, 0), _random_state(64, 1, batch=(2,))):
        np.testing.assert_allclose(op.apply(psi), matrix @ psi, atol=1e-12)
    assert op._complex is None
