"""Exact POVM-space dynamics and steady states against QuTiP, analytic results and the trapezoid order."""

import numpy as np
import pytest

from qdyn.errors import ConvergenceWarning
from qdyn.open.lindbladian import pauli_on
from qdyn.open.models import dissipative_ising, driven_damped_qubit
from qdyn.open.povm import POVM
from qdyn.open.povm_dynamics import evolve_povm, physicality, povm_steady_state
from qdyn.open.povm_lindbladian import POVMLindbladian
from qdyn.open.reference import qutip_mesolve, qutip_steadystate
from qdyn.states import product_state

KINDS = ["tetra", "pauli4"]


def observables(n):
    return ([pauli_on(n, {i: p}) for i in range(n) for p in "XYZ"]
            + [pauli_on(n, {0: "Z", 1: "Z"}), pauli_on(n, {1: "X", 2: "Y"})])


@pytest.mark.parametrize("kind", KINDS)
def test_povm_evolution_equals_qutip(kind):
    # Issue requirement: POVM-space evolution equals density-matrix evolution (QuTiP) to 1e-8 at N = 4.
    n = 4
    lb = dissipative_ising(n, V=2.0, g=1.0, gamma=1.0)
    gen = POVMLindbladian(lb, kind)
    psi0 = product_state(["0", "+", "1", "0"])
    t = np.linspace(0, 1.5, 7)
    ops = observables(n)
    ref = qutip_mesolve(lb, psi0, t, ops, atol=1e-11, rtol=1e-11)
    # DOP853 at rtol 1e-12 / atol 1e-13 and QuTiP at 1e-11: both well below the 1e-8 bar
    ode = evolve_povm(gen, gen.povm.probabilities(psi0), t, ops, method="ode", rtol=1e-12, atol=1e-13)
    assert np.max(np.abs(ode.expect - ref.expect)) < 1e-8
    assert np.max(np.abs(ode.total - 1)) < 1e-11  # sum_a P conserved (columns of L sum to zero)


@pytest.mark.parametrize("kind", KINDS)
def test_trapezoid_is_second_order_and_conserves_total(kind):
    n = 3
    lb = dissipative_ising(n, V=2.0, g=1.0, gamma=1.0)
    gen = POVMLindbladian(lb, kind)
    P0 = gen.povm.probabilities(product_state(["0", "+", "0"]))
    ops = observables(n)
    exact = evolve_povm(gen, P0, [1.0], ops, method="ode", rtol=1e-13, atol=1e-14).expect[:, -1]
    errors = []
    for tau in (0.1, 0.05, 0.025):
        res = evolve_povm(gen, P0, [0.5, 1.0], ops, method="trapezoid", tau=tau)
        assert np.max(np.abs(res.total - 1)) < 1e-13  # each step preserves sum_a P exactly (up to round-off)
        errors.append(np.max(np.abs(res.expect[:, -1] - exact)))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # Crank-Nicolson: the error ratio for halved tau tends to 4 (order 2)
    assert np.all(np.abs(orders - 2) < 0.1), orders


def test_amplitude_damping_in_povm_space():
    # g = 0: <Z_i>(t) = 2 e^{-gamma t} - 1 on every site, for any V
    n, gamma = 4, 0.8
    gen = POVMLindbladian(dissipative_ising(n, V=3.0, g=0.0, gamma=gamma), "tetra")
    t = np.linspace(0, 2, 5)
    res = evolve_povm(gen, gen.povm.probabilities(product_state(["0"] * n)), t,
                      [pauli_on(n, {i: "Z"}) for i in range(n)], method="ode", rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(res.expect - (2 * np.exp(-gamma * t) - 1))) < 1e-9


@pytest.mark.parametrize("kind", KINDS)
def test_steady_state_is_null_vector_and_matches_qutip(kind):
    n = 4
    lb = dissipative_ising(n, V=2.0, g=1.0, gamma=1.0)
    gen = POVMLindbladian(lb, kind)
    P = povm_steady_state(gen)
    assert abs(P.sum() - 1) < 1e-12
    assert gen.residual_norm(P) < 1e-12  # ||L P_ss||_1
    P_ref = gen.povm.probabilities(qutip_steadystate(lb))
    assert np.max(np.abs(P - P_ref)) < 1e-10
    diag = physicality(gen.povm, P)
    assert abs(diag.trace - 1) < 1e-12 and diag.min_eigenvalue > -1e-12 and diag.hermiticity_error < 1e-12


@pytest.mark.parametrize("method", ["gmres", "sparse-lu"])
def test_iterative_and_direct_steady_states_match_qutip(method):
    # N = 5 (1024 outcomes): GMRES in real arithmetic (forced; the default from 4096 on) and the previous sparse
    # LU give QuTiP's steadystate (an independent solver on the density matrix) to 1e-10: both solve to ~1e-14,
    # the POVM map of QuTiP's rho adds its own rounding.
    n = 5
    lb = dissipative_ising(n, V=2.0, g=1.0, gamma=1.0)
    gen = POVMLindbladian(lb, "tetra")
    P = povm_steady_state(gen, method=method)
    assert P.dtype == np.float64 and abs(P.sum() - 1) < 1e-12
    assert np.linalg.norm(gen.apply(P)) < 1e-11  # the residual ||L P||_2, in units of the rates
    assert np.max(np.abs(P - gen.povm.probabilities(qutip_steadystate(lb)))) < 1e-10


def test_steady_state_method_and_tol_are_checked():
    gen = POVMLindbladian(dissipative_ising(2), "tetra")
    with pytest.raises(ValueError, match="method"):
        povm_steady_state(gen, method="bicgstab")
    with pytest.raises(ValueError, match="tol"):
        povm_steady_state(gen, tol=-1.0)
    with pytest.warns(ConvergenceWarning, match="residual"):  # a distance estimate of ~1e-15 is above 1e-30
        povm_steady_state(gen, tol=1e-30)


def test_driven_damped_qubit_in_povm_space():
    g, gamma = 1.3, 0.6
    gen = POVMLindbladian(driven_damped_qubit(g, gamma), "pauli4")
    P = povm_steady_state(gen)
    den = gamma**2 + 2 * g**2
    expected = {"X": 0.0, "Y": 2 * g * gamma / den, "Z": -(gamma**2) / den}
    for p, value in expected.items():
        assert abs(gen.povm.expectation(pauli_on(1, {0: p}), P) - value) < 1e-12


def test_physicality_flags_unphysical_distribution():
    povm = POVM("tetra")
    delta = np.zeros(16)
    delta[5] = 1.0  # rho = N^{1} (x) N^{1}: the dual frame element is not positive
    assert physicality(povm, delta).min_eigenvalue < -0.1
    assert abs(physicality(povm, delta).trace - 1) < 1e-13


def test_bad_input():
    gen = POVMLindbladian(dissipative_ising(2), "tetra")
    P0 = gen.povm.probabilities(product_state(["0", "0"]))
    with pytest.raises(ValueError, match="normalised distribution"):
        evolve_povm(gen, 2 * P0, [1.0], tau=0.1)
    with pytest.raises(ValueError, match="needs the time step tau"):
        evolve_povm(gen, P0, [1.0])
    with pytest.raises(ValueError, match="multiple of tau"):
        evolve_povm(gen, P0, [0.25], tau=0.1)
    with pytest.raises(ValueError, match="tau must be finite and > 0"):
        evolve_povm(gen, P0, [1.0], tau=-0.1)
    with pytest.raises(ValueError, match="unknown method"):
        evolve_povm(gen, P0, [1.0], method="euler")
    with pytest.raises(ValueError, match="has length 16 but 64"):
        evolve_povm(POVMLindbladian(dissipative_ising(3), "tetra"), P0, [1.0], tau=0.1)
    with pytest.raises(TypeError, match="POVMLindbladian"):
        povm_steady_state(dissipative_ising(2))
