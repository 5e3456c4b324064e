"""Bad input raises a clear error that names the argument."""

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp

from qdyn import devices, exact, models, operators, seeding, states


def test_non_hermitian_matrix():
    with pytest.raises(ValueError, match="H must be Hermitian"):
        operators.as_pauli_op(np.array([[0, 1], [0, 0]]))
    with pytest.raises(ValueError, match="Hermitian"):
        exact.ground_state(SparsePauliOp(["X"], [1j]))


def test_matrix_of_wrong_shape():
    with pytest.raises(ValueError, match="2\\*\\*n"):
        operators.as_pauli_op(np.eye(3))
    with pytest.raises(ValueError, match="square"):
        operators.as_matrix(np.ones((2, 4)))


def test_qubit_count_mismatch():
    with pytest.raises(ValueError, match="qubits"):
        operators.as_pauli_op(models.tfim(3), n_qubits=4)


def test_state_of_the_wrong_length():
    with pytest.raises(ValueError, match="psi has length 8"):
        exact.evolve(models.tfim(4), states.plus_state(3), 1.0)


def test_unnormalised_state():
    with pytest.raises(ValueError, match="psi must be normalised"):
        exact.evolve(models.tfim(3), 2 * states.plus_state(3), 1.0)


@pytest.mark.parametrize("t", [0.0, -1.0, np.nan])
def test_non_positive_time(t):
    with pytest.raises(ValueError, match="t must be"):
        exact.evolve(models.tfim(3), states.plus_state(3), t)


def test_non_increasing_time_grid():
    with pytest.raises(ValueError, match="strictly increasing"):
        exact.evolve(models.tfim(3), states.plus_state(3), [0.0, 1.0, 0.5])


@pytest.mark.parametrize(("kwargs", "name"), [({"t": 0.0, "steps": 4}, "t"), ({"t": 1.0, "steps": 0}, "steps")])
def test_non_positive_trotter_step(kwargs, name):
    with pytest.raises(ValueError, match=name):
        exact.trotter_evolve(models.tfim(3), states.plus_state(3), **kwargs)


def test_odd_trotter_order():
    with pytest.raises(ValueError, match="order"):
        exact.trotter_evolve(models.tfim(3), states.plus_state(3), 1.0, steps=2, order=3)


def test_unknown_device():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        devices.resolve_device("tpu")
    with pytest.raises(ValueError, match="unknown device"):
        exact.ground_state(models.tfim(3), device="gpu0")


@pytest.mark.skipif(devices.cuda_works(), reason="a GPU is present")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no working CUDA GPU"):
        devices.resolve_device("cuda")


def test_unknown_method_or_engine_names():
    with pytest.raises(ValueError, match="unknown method"):
        exact.ground_state(models.tfim(3), method="qr")
    with pytest.raises(ValueError, match="unknown method"):
        exact.spectral_bounds(models.tfim(3), method="guess")


def test_bad_seed_and_ground_state_arguments():
    with pytest.raises(TypeError, match="seed"):
        seeding.make_rng("42")
    with pytest.raises(ValueError, match="k must be"):
        exact.ground_state(models.tfim(3), k=0)
    with pytest.raises(ValueError, match="hamming_weight"):
        exact.ground_state(models.tfim(3), hamming_weight=5)


def test_bad_state_specifications():
    with pytest.raises(ValueError, match="states\\[1\\]"):
        states.product_state(["0", "up"])
    with pytest.raises(ValueError, match="bit string"):
        states.basis_state(3, "01")


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # qiskit multiplying by inf
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_a_hamiltonian_is_named(bad):
    from qiskit.quantum_info import SparsePauliOp

    matrix = np.diag([1.0, 2.0, 3.0, bad])
    with pytest.raises(ValueError, match="H contains NaN or infinite entries"):
        exact.ground_state(matrix)
    with pytest.raises(ValueError, match="NaN or infinite"):
        operators.as_pauli_op(SparsePauliOp(["ZZ", "XI"], [1.0, bad]))
    skew = np.array([[0.0, bad], [0.0, 0.0]])  # non-Hermitian and infinite: refused either way, never accepted
    with pytest.raises(ValueError, match="NaN or infinite"):
        operators.as_matrix(skew)


def test_a_one_by_one_matrix_is_not_a_register():
    with pytest.raises(ValueError, match=r"dimension 2\*\*n with n >= 1 qubits, got 1"):
        operators.as_pauli_op(np.ones((1, 1)))
