"""Decomposed evolution circuits against the exact engine; Trotter error visible and shrinking at the order's rate."""

import numpy as np
import pytest
from qiskit.quantum_info import Operator, Statevector

from qdyn import models, states
from qdyn.circuits.evolution import controlled_evolution_circuit, evolution_circuit
from qdyn.circuits.state_prep import state_circuit
from qdyn.exact import evolve, trotter_evolve


@pytest.fixture(scope="module")
def problem():
    H = (models.heisenberg(4, delta=0.5, h=0.3, periodic=False) + models.tfim(4, J=0.3, g=0.7)).simplify()
    return H, states.haar_random_state(4, seed=2)


def _run(qc, psi):
    return Statevector(state_circuit(psi).compose(qc)).data


@pytest.mark.parametrize("order", [1, 2, 4])
@pytest.mark.parametrize("steps", [1, 3])
def test_evolution_circuit_equals_exact_trotter(problem, order, steps):
    H, psi = problem
    qc = evolution_circuit(H, 0.7, steps=steps, order=order)
    assert "PauliEvolution" not in qc.count_ops()  # decomposed: the simulator cannot apply the exact exponential
    # same product formula, same term order, phases included: equal to rounding
    np.testing.assert_allclose(_run(qc, psi), trotter_evolve(H, psi, 0.7, steps=steps, order=order), atol=1e-12)


@pytest.mark.parametrize("order", [1, 2])
def test_controlled_evolution_blocks(problem, order):
    H, psi = problem
    U = Operator(controlled_evolution_circuit(H, 0.7, steps=2, order=order)).data
    dim = 16  # ancilla = qubit 4 = most significant: control |0> block first, then |1>
    np.testing.assert_allclose(U[:dim, :dim], np.eye(dim), atol=1e-12)
    np.testing.assert_allclose(U[:dim, dim:], 0, atol=1e-12)
    np.testing.assert_allclose(U[dim:, dim:] @ psi, trotter_evolve(H, psi, 0.7, steps=2, order=order), atol=1e-12)


def test_exact_unitary_and_identity_term():
    m = models.h2()  # has a large identity coefficient: its phase must survive
    psi = m.hf_state
    qc = evolution_circuit(m.hamiltonian, 1.3, steps=None)
    np.testing.assert_allclose(_run(qc, psi), evolve(m.hamiltonian, psi, 1.3), atol=1e-12)
    qc = evolution_circuit(m.hamiltonian, 1.3, steps=2, order=2)
    np.testing.assert_allclose(_run(qc, psi), trotter_evolve(m.hamiltonian, psi, 1.3, steps=2, order=2),
                               atol=1e-12)
    assert evolution_circuit(m.hamiltonian, 0.0).size() == 0


@pytest.mark.parametrize("order", [1, 2, 4])
def test_trotter_error_shrinks_at_the_order_rate(problem, order):
    H, psi = problem
    t = 1.0
    exact = evolve(H, psi, t)
    errors = [np.linalg.norm(_run(evolution_circuit(H, t, steps=r, order=order), psi) - exact) for r in (4, 8)]
    assert errors[0] > 1e-7  # the Trotter error is there in the decomposed circuit
    # global error ~ r^-order: halving the step divides it by 2^order (within 30% at these step sizes)
    rate = np.log2(errors[0] / errors[1])
    assert abs(rate - order) < 0.3, rate


def test_bad_input(problem):
    H, _ = problem
    with pytest.raises(ValueError, match="order"):
        evolution_circuit(H, 0.5, steps=1, order=3)
    with pytest.raises(ValueError, match="t must be"):
        evolution_circuit(H, -0.5)
    with pytest.raises(ValueError, match="steps"):
        controlled_evolution_circuit(H, 0.5, steps=0)
    with pytest.raises(ValueError, match="10 qubits"):
        evolution_circuit(models.tfim(11), 0.5, steps=None)
