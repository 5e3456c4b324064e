"""Matrix-free Pauli-sum application against Qiskit's sparse matrix, on numpy and torch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiskit.quantum_info import SparsePauliOp

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
@given(op=pauli_sums(), seed=st.integers(0, 2**32 - 1), local_limit=st.sampled_from([0, 2, 10]))
def test_numpy_apply_equals_sparse_product(op, seed, local_limit):
    psi = _random_state(2**op.num_qubits, seed)
    expected = op.to_matrix(sparse=True) @ psi
    got = PauliSum(op, local_limit=local_limit).apply(psi)
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
    engine = PauliSum(H)
    assert engine.is_real and engine.gather_groups
    psi = np.random.default_rng(0).standard_normal(2**n)
    out = engine.apply(psi)
    assert not np.iscomplexobj(out)
    np.testing.assert_allclose(out, (H.to_matrix(sparse=True) @ psi).real, atol=1e-12)
