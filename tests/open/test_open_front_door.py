"""The front doors qdyn.open.evolve / qdyn.open.steady_state: every method on the dissipative Ising chain (N = 4,
V = 2, g = 1, gamma = 1, periodic) from |0000>, against the exact Liouvillian propagator and QuTiP, with the
tolerance of each method stated where it is checked."""

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp

import qdyn.open as O
from qdyn.operators import state_to_qutip, to_qutip
from qdyn.states import product_state

N = 4
TIMES = 0.1 * np.arange(6)  # t = 0 .. 0.5
NETWORK = {"d_model": 16, "d_ff": 32}
#: Exact enumeration with Levenberg-Marquardt: each trapezoid step solved to its residual (1e-4 .. 1e-15).
TRANSFORMER = {"tau": 0.1, "n_samples": None, "iterations": 20, "network": NETWORK}
#: Site averages of X, Y, Z and nearest-neighbour averages of XX, YY, ZZ on the ring.
CORRELATORS = O.site_average_paulis(N, [(i, (i + 1) % N) for i in range(N)])


def _max_diff(a, b):
    return max(float(np.max(np.abs(np.asarray(a.expect[k]) - np.asarray(b.expect[k])))) for k in a.expect)


@pytest.fixture(scope="module")
def chain():
    return O.dissipative_ising(N, V=2.0, g=1.0, gamma=1.0)


@pytest.fixture(scope="module")
def dynamics(chain):
    runs = {method: O.evolve(chain, "0", TIMES, method=method, seed=0, **options)
            for method, options in [("liouvillian", {}), ("qutip", {}), ("povm", {"tau": 0.01}),
                                    ("transformer", TRANSFORMER)]}
    runs["povm_coarse"] = O.evolve(chain, "0", TIMES, method="povm", tau=0.02)
    runs["povm_tau"] = O.evolve(chain, "0", TIMES, method="povm", tau=TRANSFORMER["tau"])
    return runs


def test_evolve_methods_agree_on_the_dissipative_ising_chain(dynamics):
    exact = dynamics["liouvillian"]
    for method in ("liouvillian", "qutip", "povm", "transformer"):
        run = dynamics[method]
        assert isinstance(run, O.OpenEvolution) and run.metadata.options["method"] == method
        np.testing.assert_allclose(run.times, TIMES)
        assert list(run.expect) == ["X", "Y", "Z"]
    assert exact.expect["Z"][0] == pytest.approx(1.0) and exact.expect["Z"][-1] < 0.9  # |0000> decays
    # QuTiP integrates to atol = rtol = 1e-10 and the propagator to 1e-12 per step: measured 3.7e-10.
    assert _max_diff(dynamics["qutip"], exact) < 1e-8
    # The POVM trapezoid rule is second order: the error falls 4x when tau halves (measured 4.6e-5 at tau = 0.02,
    # 1.15e-5 at tau = 0.01).
    fine, coarse = _max_diff(dynamics["povm"], exact), _max_diff(dynamics["povm_coarse"], exact)
    assert fine < 2e-5 and 3.5 < coarse / fine < 4.5
    # The transformer solves the same trapezoid steps (tau = 0.1) by LM on all 4^4 strings: it follows the exact
    # POVM trapezoid evolution to its residuals (measured 2.6e-5), and the Liouvillian to the trapezoid error at
    # tau = 0.1 (25x the tau = 0.02 error above: 1.2e-3; measured 1.2e-3).
    transformer = dynamics["transformer"]
    assert _max_diff(transformer, dynamics["povm_tau"]) < 2e-4
    assert _max_diff(transformer, exact) < 2e-3
    assert transformer.metadata.options["optimizer"] == "lm" and transformer.metadata.options["n_samples"] is None
    assert transformer.resources.epochs > 0 and transformer.details.residuals.shape == (5,)


def test_error_kinds_and_the_propagator_estimate(dynamics):
    for method in ("qutip", "povm", "transformer"):  # no estimate; exact enumeration: no Monte-Carlo error
        assert all(np.all(e == 0) for e in dynamics[method].errors.values())
    assert dynamics["transformer"].error_kind == "statistical" and dynamics["qutip"].error_kind is None
    # The propagator's truncation-and-rounding estimate: zero at t = 0, growing with t, small at tol = 1e-12
    # (that it covers the true error is checked against tighter references in test_open_liouvillian.py).
    exact = dynamics["liouvillian"]
    assert exact.error_kind == "estimate" and exact.converged
    for e in exact.errors.values():
        assert e[0] == 0 and np.all(np.diff(e) >= 0) and 0 < e[-1] < 1e-11


def test_evolution_results_as_tables(dynamics):
    frame = dynamics["transformer"].to_pandas()
    assert list(frame.columns) == ["time", "observable", "value", "error", "reference"]
    assert len(frame) == 3 * len(TIMES)
    z = frame[frame.observable == "Z"]
    np.testing.assert_allclose(z.time, TIMES)
    np.testing.assert_allclose(z.value, dynamics["transformer"].expect["Z"])
    # the neural driver's own result has the same table, over every trapezoid step
    neural = dynamics["transformer"].details.to_pandas()
    assert len(neural) == 3 * 6 and set(neural.observable) == {"X", "Y", "Z"}
    liouvillian = dynamics["liouvillian"].to_pandas()
    np.testing.assert_allclose(liouvillian[liouvillian.observable == "Z"].value, dynamics["liouvillian"].expect["Z"])


def test_sampled_transformer_evolution_carries_monte_carlo_error_bars():
    run = O.evolve(O.dissipative_ising(2, V=2.0, g=1.0, gamma=1.0), "0", [0.0, 0.1, 0.2], method="transformer",
                   tau=0.1, n_samples=50, iterations=2, seed=3, e_ops={"Z0": "IZ"}, network={"d_model": 8})
    frame = run.to_pandas()
    # Monte-Carlo standard errors of the POVM estimator (its values Tr[Z N^a] differ between outcomes, so they
    # spread even in the product state |00> at t = 0, where <Z0> = 1 lies within 4 of them: probability 6e-5).
    assert np.all(frame.error > 0) and abs(frame.value.iloc[0] - 1.0) < 4 * frame.error.iloc[0]
    assert run.metadata.seed == 3 and run.resources.samples > 0
    # seed=None draws one integer for the network and the samples and records it: it repeats the run
    options = {"method": "transformer", "tau": 0.1, "n_samples": 20, "iterations": 1, "network": {"d_model": 8}}
    first = O.evolve(O.dissipative_ising(2), "0", [0.0, 0.1], **options)
    again = O.evolve(O.dissipative_ising(2), "0", [0.0, 0.1], seed=first.metadata.seed, **options)
    np.testing.assert_array_equal(again.expect["Z"], first.expect["Z"])


@pytest.fixture(scope="module")
def stationary(chain):
    runs = {method: O.steady_state(chain, method=method, seed=0, e_ops=CORRELATORS, **options)
            for method, options in [("liouvillian", {}), ("qutip", {}), ("povm", {}),
                                    ("transformer", {"n_samples": None, "iterations": 400, "network": NETWORK})]}
    return runs


def test_steady_state_methods_agree(stationary):
    exact = stationary["liouvillian"]
    # the same linear system three ways (sparse LU of the Liouvillian, QuTiP's direct solver, the POVM null
    # vector): float64 rounding, measured 1e-15.
    assert _max_diff(stationary["qutip"], exact) < 1e-8
    assert _max_diff(stationary["povm"], exact) < 1e-8
    # exact-enumeration LM drives ||L P||_1 to 1e-14 (measured 1.4e-14, observables to 1e-15).
    transformer = stationary["transformer"]
    assert transformer.details.best_loss < 1e-8
    assert _max_diff(transformer, exact) < 1e-6
    for method, run in stationary.items():
        assert isinstance(run, O.OpenSteadyState) and run.metadata.options["method"] == method
        np.testing.assert_allclose(run.state, exact.state, atol=1e-6)  # a density matrix from every method
    assert exact.expect["Z"] == pytest.approx(O.expectation(O.site_average_paulis(N)["Z"], exact.state))


def test_steady_state_table(stationary):
    frame = stationary["transformer"].to_pandas()
    assert list(frame.observable) == list(CORRELATORS)
    assert {"value", "error", "reference"} <= set(frame.columns)
    np.testing.assert_allclose(frame.value, [stationary["transformer"].expect[k] for k in CORRELATORS])
    assert len(stationary["transformer"].details.to_pandas()) == 6


def test_initial_states_and_observables_in_every_form(chain):
    ops = O.site_average_paulis(N)
    psi = product_state(["+", "0", "1", "-i"])
    by_labels = O.evolve(chain, ["+", "0", "1", "-i"], [0.0, 0.3], e_ops=ops)
    by_vector = O.evolve(chain, psi, [0.0, 0.3], e_ops=[ops["X"], ops["Z"].to_matrix(), "IIZI", "ZIII"])
    by_density = O.evolve(chain, np.outer(psi, psi.conj()), [0.0, 0.3], e_ops={"Z": ops["Z"]})
    np.testing.assert_allclose(by_vector.expect[0], by_labels.expect["X"], atol=1e-12)
    np.testing.assert_allclose(by_vector.expect[1], by_labels.expect["Z"], atol=1e-12)
    np.testing.assert_allclose(by_density.expect["Z"], by_labels.expect["Z"], atol=1e-12)
    by_qobj = O.evolve(chain, state_to_qutip(psi), [0.0, 0.3], e_ops={"Z": to_qutip(ops["Z"])})
    np.testing.assert_allclose(by_qobj.expect["Z"], by_labels.expect["Z"], atol=1e-12)
    # Pauli labels: rightmost character = qubit 0; qubit 1 starts in |0>, qubit 3 in |-i>.
    assert by_vector.expect[2][0] == pytest.approx(1.0) and by_vector.expect[3][0] == pytest.approx(0.0, abs=1e-14)
    # one label for every site
    np.testing.assert_allclose(O.evolve(chain, "0", [0.5]).expect["Z"], O.evolve(chain, ["0"] * N, [0.5]).expect["Z"])


def test_stored_states_are_density_matrices_from_every_method(chain):
    exact = O.evolve(chain, "+", [0.0, 0.2], store_states=True)
    assert exact.states.shape == (2, 16, 16)
    assert O.evolve(chain, "+", [0.0, 0.2]).states is None
    qutip = O.evolve(chain, "+", [0.0, 0.2], method="qutip", store_states=True)
    np.testing.assert_allclose(qutip.states, exact.states, atol=1e-8)  # QuTiP's tolerance
    povm = O.evolve(chain, "+", [0.0, 0.2], method="povm", integrator="ode", store_states=True)
    np.testing.assert_allclose(povm.states, exact.states, atol=1e-8)  # the ODE tolerances (1e-10, 1e-12)
    assert povm.metadata.options["integrator"] == "ode"
    small = O.dissipative_ising(2, V=2.0, g=1.0, gamma=1.0)
    neural = O.evolve(small, "+", [0.0, 0.1, 0.2], method="transformer", store_states=True, **TRANSFORMER)
    reference = O.evolve(small, "+", [0.0, 0.1, 0.2], method="povm", tau=0.1, store_states=True)
    # the network's distribution, reconstructed: the trapezoid states to the LM residuals
    np.testing.assert_allclose(neural.states, reference.states, atol=1e-4)


def test_transformer_starts_from_product_states_only():
    small = O.dissipative_ising(2, V=2.0, g=1.0, gamma=1.0)
    rho = np.outer(product_state(["+", "1"]), product_state(["+", "1"]).conj())
    # the same seed: the same network and run (with seed=None each call drew its own and LM's residuals differed)
    by_matrix = O.evolve(small, rho, [0.0, 0.1], method="transformer", seed=0, **TRANSFORMER)
    by_labels = O.evolve(small, ["+", "1"], [0.0, 0.1], method="transformer", seed=0, **TRANSFORMER)
    for k in "XYZ":  # the reduced states of a product density matrix are its factors
        np.testing.assert_allclose(by_matrix.expect[k], by_labels.expect[k], atol=1e-12)
    bell = np.array([1, 0, 0, 1]) / np.sqrt(2)
    with pytest.raises(ValueError, match="product state"):
        O.evolve(small, bell, [0.0, 0.1], method="transformer", **TRANSFORMER)


def test_bad_input(chain):
    with pytest.raises(ValueError, match="unknown method"):
        O.evolve(chain, "0", TIMES, method="euler")
    with pytest.raises(ValueError, match="unknown method"):
        O.steady_state(chain, method="euler")
    with pytest.raises(TypeError, match="Lindbladian"):
        O.evolve("L", "0", TIMES)
    with pytest.raises(TypeError, match="Lindbladian"):
        O.steady_state("L")
    with pytest.raises(ValueError, match="needs the time step tau"):
        O.evolve(chain, "0", TIMES, method="transformer")
    with pytest.raises(ValueError, match="multiples of tau"):
        O.evolve(chain, "0", [0.0, 0.15], method="transformer", tau=0.1)
    with pytest.raises(ValueError, match="times must be"):
        O.evolve(chain, "0", [0.2, 0.1])
    with pytest.raises(ValueError, match="e_ops.*Pauli label"):
        O.evolve(chain, "0", TIMES, e_ops={"bad": "ZZ"})
    with pytest.raises(ValueError, match="acts on 2 qubits"):
        O.evolve(chain, "0", TIMES, e_ops=[SparsePauliOp("ZZ")])
    with pytest.raises(TypeError, match="e_ops must be"):
        O.evolve(chain, "0", TIMES, e_ops="Z")
    with pytest.raises(ValueError, match="rho0 has 3 site labels"):
        O.evolve(chain, ["0", "0", "0"], TIMES)
    with pytest.raises(TypeError, match="unexpected keyword argument 'tau'"):
        O.evolve(chain, "0", TIMES, tau=0.1)  # an option the Liouvillian does not have
    with pytest.raises(TypeError, match="seed or device"):
        O.steady_state(chain, method="transformer", network={"seed": 1})


# -- deprecated names ---------------------------------------------------------------------------------------------
def test_old_neural_calls_warn_and_work(chain):
    generator = O.POVMLindbladian(O.dissipative_ising(2, V=2.0, g=1.0, gamma=1.0), "tetra")

    def state():
        return O.povm_transformer_state(generator.povm, ["0", "0"], seed=1, d_model=8)

    new = O.evolve_transformer(state(), generator, 0.2, 0.1, e_ops=O.site_average_paulis(2), n_samples=None,
                               iterations=5, seed=0)
    with pytest.warns(DeprecationWarning) as warned:
        old = O.evolve(state(), generator, 0.2, 0.1, observables_ops=O.site_average_paulis(2), mode="exact",
                       iterations=5, seed=0)
    messages = " ".join(str(w.message) for w in warned)
    assert "qdyn.open.evolve_transformer" in messages and "use e_ops=" in messages and "n_samples=None" in messages
    np.testing.assert_array_equal(old.expect["Z"], new.expect["Z"])
    with pytest.warns(DeprecationWarning, match="use .errors"):
        np.testing.assert_array_equal(old.expect_errors["Z"], old.errors["Z"])
    with pytest.warns(DeprecationWarning, match="n_samples"):
        assert old.mode == "exact"
    with pytest.warns(DeprecationWarning, match="steady_state_transformer"):
        old = O.steady_state(state(), generator, n_samples=None, iterations=3, seed=0)
    assert isinstance(old, O.NeuralSteadyState)
    with pytest.warns(DeprecationWarning, match="n_samples=None"):
        O.steady_state_transformer(state(), generator, mode="exact", iterations=2, seed=0)
    with pytest.warns(DeprecationWarning, match="e_ops"):
        O.steady_state_transformer(state(), generator, observables_ops={"Z": "IZ"}, n_samples=None, iterations=2)


def test_moved_module_and_renamed_store_warn_and_work(chain):
    import qdyn.open.povm_evolution as old_module

    with pytest.warns(DeprecationWarning, match="qdyn.open.neural.evolution.evolve_transformer"):
        assert old_module.evolve is O.evolve_transformer
    with pytest.warns(DeprecationWarning, match="qdyn.open.named_observables"):
        assert old_module.site_average_paulis is O.site_average_paulis
    generator = O.POVMLindbladian(chain, "tetra")
    P0 = generator.povm.probabilities(product_state(["0"] * N))
    with pytest.warns(DeprecationWarning, match="store_states"):
        run = O.evolve_povm(generator, P0, [0.1], tau=0.1, store=True)
    assert run.probabilities.shape == (1, 4**N)
