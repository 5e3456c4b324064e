"""Neural POVM dynamics (qdyn.open.neural) against exact POVM-space and density-matrix references.

References are independent of the driver: the dense POVM-space Lindbladian built in
``povm_driver_reference.py`` from the dual frame and the vectorised Liouvillian, its Crank-Nicolson steps and null
vector (numpy), the exact density-matrix steady state, and analytic formulas.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from qdyn.errors import ConvergenceWarning
from qdyn.nets.povm_transformer import all_outcome_strings
from qdyn.nets.training import load_checkpoint
from qdyn.open import (
    dissipative_ising,
    evolve_transformer,
    expectation,
    observables,
    povm_transformer_state,
    site_average_paulis,
    steady_state_density,
    steady_state_transformer,
)
from qdyn.open.neural.connections import local_action
from qdyn.open.neural.losses import StationaryProblem, TrapezoidProblem, sampled_l1
from qdyn.open.povm import POVM
from qdyn.open.povm_lindbladian import POVMLindbladian
from qdyn.seeding import torch_generator

sys.path.insert(0, str(Path(__file__).parent))
from test_povm_driver_reference import DenseAction, dense_povm_lindbladian, null_vector, trapezoid_reference  # noqa: E402

TETRA = POVM("tetra")


def _dense_problem(n, V, g=1.0):
    lb = dissipative_ising(n, V=V, g=g, gamma=1.0)
    L = dense_povm_lindbladian(lb, TETRA)
    return L, DenseAction(L, n)


def _exact_values(P, ops, n):
    strings = all_outcome_strings(n).numpy()
    return {k: float(P @ TETRA.pauli_values(op, strings)) for k, op in ops.items()}


def _max_error(result_expect, reference_P, ops, n):
    strings = all_outcome_strings(n).numpy()
    return max(np.max(np.abs(result_expect[k] - reference_P @ TETRA.pauli_values(op, strings)))
               for k, op in ops.items())


# -- exact enumeration (n_samples=None) ---------------------------------------------------------------------------
def test_exact_mode_follows_the_exact_trapezoid_steps_of_the_interacting_chain():
    # Dissipative Ising chain with interactions (V = 2, g = 1, gamma = 1) at N = 4, to t = 1. The driver steps with
    # the library's local generator; the reference is the dense POVM-space matrix built independently, stepped by
    # Crank-Nicolson with the same tau. The default exact-mode optimiser (Levenberg-Marquardt on the residual
    # vector, at most 30 Jacobians per step) makes the residual vanish, so what is left is its tolerance.
    n, tau = 4, 0.1
    L, _ = _dense_problem(n, V=2.0)
    generator = POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), TETRA)
    state = povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=16, d_ff=32)
    P0 = state.probabilities().numpy()
    sites = site_average_paulis(n)
    bonds = {k: v for k, v in site_average_paulis(n, [(i, (i + 1) % n) for i in range(n)]).items() if len(k) == 2}
    result = evolve_transformer(state, generator, 1.0, tau, e_ops={**sites, **bonds}, n_samples=None, iterations=30,
                    seed=0)
    reference = trapezoid_reference(L, P0, tau, 10)
    np.testing.assert_allclose(result.times, tau * np.arange(11))
    assert result.metadata.options["optimizer"] == "lm"
    # Measured to t = 1: 7.8e-5 on <X>, <Y>, <Z> and 6.7e-5 on the nearest-neighbour correlators (residuals
    # 3e-4 .. 1e-15); 1e-3 is the bound.
    assert _max_error(result.expect, reference, sites, n) < 1e-3
    assert _max_error(result.expect, reference, bonds, n) < 1e-3
    assert np.all(result.residuals < 1e-3) and np.all(result.residual_errors == 0)
    assert result.loss_history.shape == (10, 30)


def test_exact_mode_with_adam_on_the_l1_loss():
    # The paper's optimiser in exact mode (an ablation). Without interactions (V = 0) the trapezoid states are
    # product states, which the network represents exactly, so what is left is Adam's tolerance on the L1 loss
    # (not smooth at its minimum, ~1e-3).
    n, tau = 4, 0.1
    L, action = _dense_problem(n, V=0.0)
    state = povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=16, d_ff=32)
    P0 = state.probabilities().numpy()
    sites = site_average_paulis(n)
    result = evolve_transformer(state, action, 1.0, tau, povm=TETRA, e_ops=sites, n_samples=None, optimizer="adam",
                    iterations=80, lr=1e-2, lr_final=3e-4, seed=0)
    reference = trapezoid_reference(L, P0, tau, 10)
    # Measured to t = 1: 2.8e-4 on <X>, <Y>, <Z>.
    assert _max_error(result.expect, reference, sites, n) < 1e-3
    assert np.all(result.residuals < 3e-3)
    assert result.loss_history.shape == (10, 80) and result.resources.epochs == 800


def test_exact_mode_steady_state_matches_the_null_vector_and_the_bloch_solution():
    n = 4
    L, action = _dense_problem(n, V=0.0, g=1.0)
    state = povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=16, d_ff=32)
    ops = site_average_paulis(n, [(i, (i + 1) % n) for i in range(n)])
    result = steady_state_transformer(state, action, povm=TETRA, e_ops=ops, n_samples=None, iterations=300, seed=0)
    reference = _exact_values(null_vector(L), ops, n)
    for k in ops:
        # Measured 3e-10; 1e-3 is the bound.
        assert abs(result.expect[k] - reference[k]) < 1e-3
    # Bloch equations of H = (g/2) X, sigma^- = |1><0| at rate gamma (g = gamma = 1): <Z> = -1/3, <Y> = 2/3.
    assert abs(result.expect["Z"] + 1 / 3) < 1e-3
    assert abs(result.expect["Y"] - 2 / 3) < 1e-3
    assert abs(result.expect["X"]) < 1e-3
    assert result.best_loss == pytest.approx(min(result.eval_losses))


# -- the sampled estimator ----------------------------------------------------------------------------------------
def _random_state(n, seed=3):
    state = povm_transformer_state(TETRA, ["0"] * n, seed=seed, d_model=16, n_layers=2)
    with torch.no_grad():
        torch.nn.init.normal_(state.head.weight, std=1.0, generator=torch_generator(seed))
    return state


def test_sampled_residual_ratio_equals_the_dense_residual():
    n, dt = 3, 0.05
    L, _ = _dense_problem(n, V=2.0)
    generator = POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), TETRA)
    new, old = _random_state(n, 3), _random_state(n, 4)
    P_new, P_old = new.probabilities().numpy(), old.probabilities().numpy()
    eye = np.eye(4**n)
    r = (eye - dt * L) @ P_new - (eye + dt * L) @ P_old
    a = new.sample(300, generator=torch_generator(0))
    index = (a * 4 ** torch.arange(n)).sum(1).numpy()
    ratio = TrapezoidProblem(new, old, lambda s: (generator.connections(s).connected,
                                                  generator.connections(s).values), dt).ratio(a)
    # The driver forms r(a)/P(a) from log-probability differences and the local action: float64 rounding.
    np.testing.assert_allclose(ratio.detach().numpy(), r[index] / P_new[index], atol=1e-11, rtol=1e-9)


@pytest.mark.parametrize("threads", [1, 2])
def test_gradient_accumulated_in_chunks_equals_one_batch(threads):
    # Chunks of 7 samples against one batch of 200, in turn (one torch thread) or side by side (two: each chunk on
    # its own single-threaded worker, qdyn.devices.map_chunks), float64: summation order only. Side by side, a
    # rerun gives the same bits (each chunk on one thread, the gradients added in chunk order).
    n = 3
    _, action = _dense_problem(n, V=2.0)
    state, frozen = _random_state(n, 5), _random_state(n, 6)

    ratio = TrapezoidProblem(state, frozen, action, 0.05).ratio
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        grads, means = [], []
        for chunk in (7, 7, 1000):
            state.zero_grad()
            mean, err = sampled_l1(ratio, state, 200, torch_generator(1), chunk, backward=True)
            grads.append(torch.cat([p.grad.reshape(-1) for p in state.parameters()]))
            means.append(mean)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(grads[0], grads[1]) and means[0] == means[1]
    torch.testing.assert_close(grads[0], grads[2], atol=1e-13, rtol=1e-10)  # float64 summation order only
    assert means[0] == pytest.approx(means[2], rel=1e-12)


def test_sampled_lm_problem_is_the_weighted_dense_residual():
    # (M P)_i = sqrt(w_i) (L P)(a_i) / P_0(a_i), w_i = P_0(a_i) / sum_j P_0(a_j), with P_0 the model when the
    # batch was drawn and P after a parameter change, against the dense L and the enumerated P.
    n = 3
    L, _ = _dense_problem(n, V=2.0)
    generator = POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), TETRA)
    state = _random_state(n, 8)
    a = state.sample(50, generator=torch_generator(4))
    index = (a * 4 ** torch.arange(n)).sum(1).numpy()
    P0 = state.probabilities().numpy()
    unique, matrix = StationaryProblem(state, local_action(generator)).least_squares_batch(a)
    with torch.no_grad():
        for p in state.parameters():
            p.add_(0.01)
        got = (matrix @ torch.exp(state.log_prob(unique))[:, None])[:, 0].numpy()
    P = state.probabilities().numpy()
    expected = np.sqrt(P0[index] / P0[index].sum()) * (L @ P)[index] / P0[index]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)  # float64 rounding


def _chain_steady_state_problem(n):
    """The dissipative Ising chain (V = 2, g = 1, gamma = 1), its exact steady state, the site averages and a
    small network in the product state."""
    lb = dissipative_ising(n, V=2.0, g=1.0, gamma=1.0)
    state = povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=16, d_ff=32)
    return lb, steady_state_density(lb), site_average_paulis(n), state


def test_sampled_levenberg_marquardt_steady_state_of_the_interacting_chain():
    n = 4
    lb, rho, ops, state = _chain_steady_state_problem(n)
    result = steady_state_transformer(state, POVMLindbladian(lb, TETRA), e_ops=ops, optimizer="lm", n_samples=600,
                          iterations=8, n_eval_samples=4000, seed=0)
    assert result.metadata.options["batch_steps"] == 3 and list(result.eval_iterations) == list(range(9))
    # the sampled default tol, 0.02 N, judges convergence without stopping the run (all 8 batches were taken)
    assert result.tol == pytest.approx(0.02 * n) and result.converged == (result.best_loss <= 0.02 * n)
    exact = observables(state, TETRA, ops, n_samples=None).values
    for k, op in ops.items():
        # Summed exactly over the kept model: measured <= 1e-2 (seeds 0-2: 9.8e-3, 4.4e-3, 3.6e-3 worst
        # components) from the product state in 8 batches; 2e-2 is the sampled-mode bound.
        assert abs(exact[k] - expectation(op, rho)) < 2e-2


@pytest.mark.slow
def test_exact_krylov_levenberg_marquardt_steady_state_six_sites():
    # Exact enumeration of the 4^6 strings, LM in Golub-Kahan subspaces from the first step (the solver
    # "auto" picks from 4096 strings on), the published width-32 network, 10 iterations: the recipe of
    # benchmarks/open_systems.py --transformer, measured there at g = 2 (worst error 7.4e-3); here at g = 1.
    n = 6
    lb = dissipative_ising(n, V=2.0, g=1.0, gamma=1.0)
    ops = site_average_paulis(n)
    state = povm_transformer_state(TETRA, ["0"] * n, seed=1)
    with pytest.warns(ConvergenceWarning):  # the exact default tol (1e-12) is below the network's floor
        result = steady_state_transformer(state, POVMLindbladian(lb, TETRA), e_ops=ops, n_samples=None,
                                          optimizer="lm", iterations=10, seed=0)
    rho = steady_state_density(lb)
    assert result.best_loss < result.loss_history[0] / 10
    for k, op in ops.items():
        assert abs(result.expect[k] - expectation(op, rho)) < 1e-2  # the goal at N = 6


@pytest.mark.parametrize("use_strings", [False, True])
def test_prefix_shared_local_loss_equals_the_full_evaluation(use_strings):
    # The local loss (L P)(a) / P(a) and its gradient, with connected strings evaluated from their first
    # difference on (cached keys/values of the sample) against every distinct string evaluated in full.
    from qdyn.nets.string_states import StringState, chain_strings

    n = 5
    generator = POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), TETRA)
    state = _random_state(n, 7)
    if use_strings:
        state = StringState(state, chain_strings(n))
    a = state.sample(64, generator=torch_generator(2))
    values, grads = [], []
    for prefix in (True, False):
        state.zero_grad()
        ratio = StationaryProblem(state, local_action(generator), prefix=prefix, precision="double").ratio(a)
        ratio.abs().sum().backward()
        values.append(ratio.detach())
        grads.append(torch.cat([p.grad.reshape(-1) for p in state.parameters()]))
    # float64: only the summation order differs.
    torch.testing.assert_close(values[0], values[1], atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-10, rtol=1e-12)


def test_observable_error_bars_cover_the_exact_value():
    n = 4
    state = _random_state(n, 2)
    ops = site_average_paulis(n, [(0, 1), (1, 2), (2, 3)])
    exact = observables(state, TETRA, ops, n_samples=None)
    est = observables(state, TETRA, ops, n_samples=20_000, seed=3)
    assert exact.n_samples == 0 and est.n_samples == 20_000
    for k in ops:
        # A seeded draw: the estimate lies within 4 standard errors (fails with probability 6e-5 per value).
        assert abs(est.values[k] - exact.values[k]) < 4 * est.errors[k]
        assert 0 < est.errors[k] < 0.05


# -- sampling -----------------------------------------------------------------------------------------------------
def _amplitude_damping_run(n, **options):
    generator = POVMLindbladian(dissipative_ising(n, V=2.0, g=0.0, gamma=1.0), TETRA)
    state = povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=16, d_ff=32)
    z = site_average_paulis(n)["Z"]
    errors = []

    def record(step, t, st):  # the exact <Z> of the network state (an exact sum over 4^n strings)
        errors.append(abs(observables(st, TETRA, {"Z": z}, n_samples=None).values["Z"] - (2 * np.exp(-t) - 1)))

    result = evolve_transformer(state, generator, 1.0, 0.25, callback=record, seed=0, **options)
    return result, errors


def test_sampled_amplitude_damping_tracks_the_analytic_decay():
    # g = 0 from |0...0>: <Z>(t) = 2 e^{-gamma t} - 1 on every site for any V. The trapezoid rule at tau = 0.25
    # itself differs from it by 4e-3 at t = 1; sampling noise and the optimiser add the rest.
    result, errors = _amplitude_damping_run(4, n_samples=4000, iterations=40, lr_final=1e-3)
    assert max(errors) < 2e-2
    assert np.all(result.residual_errors > 0) and np.all(result.residuals < 0.1)
    assert result.metadata.seed == 0 and result.resources.samples == 4 * (40 * 4000 + 16_000)


@pytest.mark.slow
def test_sampled_amplitude_damping_six_sites():
    _, errors = _amplitude_damping_run(6, n_samples=1000, iterations=30)
    assert max(errors) < 2e-2  # measured 1.4e-2


@pytest.mark.slow
def test_sampled_steady_state_dissipative_ising_six_sites():
    n = 6
    lb, rho, ops, state = _chain_steady_state_problem(n)
    result = steady_state_transformer(state, POVMLindbladian(lb, TETRA), e_ops=ops, n_samples=2000,
                          n_eval_samples=40_000, iterations=600, lr=2e-2, lr_final=1e-3, seed=0)
    for k, op in ops.items():
        # The bound; measured errors 5.0e-3 (X), 2.2e-3 (Y), 1.1e-2 (Z), standard errors <= 4e-3.
        assert abs(result.expect[k] - expectation(op, rho)) < 2e-2


# -- checkpoints --------------------------------------------------------------------------------------------------
def test_interrupted_and_resumed_run_equals_an_uninterrupted_run(tmp_path):
    n = 3
    generator = POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), TETRA)
    ops = site_average_paulis(n)
    options = dict(e_ops=ops, n_samples=200, iterations=5, seed=7)

    def fresh():
        return povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=8, d_ff=16)

    full = evolve_transformer(fresh(), generator, 0.4, 0.1, **options)

    def stop_after_two_steps(step, t, st):
        if step == 1:
            raise KeyboardInterrupt

    path = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        evolve_transformer(fresh(), generator, 0.4, 0.1, checkpoint=path, callback=stop_after_two_steps, **options)
    # The checkpoint holds tensors and plain Python numbers only: the shared weights_only loader reads it.
    payload = load_checkpoint(path)
    assert payload["step"] == 1 and len(payload["history"]["residuals"]) == 2
    assert all(type(v) is float for v in payload["history"]["residuals"])
    state = fresh()
    resumed = evolve_transformer(state, generator, 0.4, 0.1, checkpoint=path, resume=True, **options)
    assert resumed.resumed_from == 2
    for k in ops:
        # Same seed, per-step streams, restored parameters: bitwise the same numbers.
        np.testing.assert_array_equal(resumed.expect[k], full.expect[k])
    np.testing.assert_array_equal(resumed.residuals, full.residuals)
    with pytest.raises(ValueError, match="tau"):
        evolve_transformer(fresh(), generator, 0.4, 0.2, checkpoint=path, resume=True, **options)


# -- bad input ----------------------------------------------------------------------------------------------------
def test_bad_input():
    n = 3
    generator = POVMLindbladian(dissipative_ising(n), TETRA)
    state = povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=8)
    with pytest.raises(ValueError, match="multiple of tau"):
        evolve_transformer(state, generator, 1.0, 0.3)
    with pytest.raises(ValueError, match="tau must be finite and > 0"):
        evolve_transformer(state, generator, 1.0, 0.0)
    with pytest.raises(ValueError, match="unknown mode"):
        evolve_transformer(state, generator, 1.0, 0.5, mode="dense")
    with pytest.raises(ValueError, match="iterations must be >= 1"):
        steady_state_transformer(state, generator, iterations=0)
    with pytest.raises(TypeError, match="POVMLindbladian"):
        evolve_transformer(state, "L", 1.0, 0.5)
    with pytest.raises(TypeError, match="POVMTransformer or a StringState"):
        steady_state_transformer("state", generator)
    with pytest.raises(ValueError, match="n_samples must be >= 2"):
        steady_state_transformer(state, generator, n_samples=1)
    with pytest.raises(ValueError, match="need the POVM"):
        evolve_transformer(state, lambda a: None, 1.0, 0.5, e_ops=site_average_paulis(n))
    big = povm_transformer_state(TETRA, ["0"] * 9, seed=1, d_model=8)
    with pytest.raises(ValueError, match="N <= 8"):
        steady_state_transformer(big, POVMLindbladian(dissipative_ising(9), TETRA), n_samples=None)
    with pytest.raises(TypeError, match="dict"):
        observables(state, TETRA, ["Z"])
    with pytest.raises(ValueError, match="unknown optimizer"):
        evolve_transformer(state, generator, 1.0, 0.5, optimizer="sgd")
    with pytest.raises(ValueError, match="optimizer='lm'.*n_samples=None"):
        evolve_transformer(state, generator, 1.0, 0.5, optimizer="lm")
    with pytest.raises(ValueError, match="batch_steps must be >= 1"):
        steady_state_transformer(state, generator, optimizer="lm", batch_steps=0)
    with pytest.raises(TypeError, match="prefix_sharing must be True, False or None"):
        steady_state_transformer(state, generator, prefix_sharing="yes")
    with pytest.raises(ValueError, match="tol must be"):
        evolve_transformer(state, generator, 1.0, 0.5, n_samples=None, tol=-1.0)


def test_single_precision_and_string_states_run_through_the_driver():
    from qdyn.nets.string_states import chain_strings

    n = 3
    generator = POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), TETRA)
    single = povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=8, precision="single")
    result = steady_state_transformer(single, generator, n_samples=100, iterations=3, eval_every=1, seed=0)
    assert single.dtype == torch.float32 and np.isfinite(result.best_loss)
    strings = povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=8, strings=chain_strings(n))
    run = evolve_transformer(strings, generator, 0.2, 0.1, e_ops=site_average_paulis(n), n_samples=100, iterations=2,
                 seed=0)
    # At t = 0 the string state is the product state |000>: <Z> = 1 within the Monte-Carlo error.
    assert abs(run.expect["Z"][0] - 1.0) < 5 * run.errors["Z"][0] + 1e-12
    # Exact mode's Levenberg-Marquardt also differentiates a string state (per-string gradients through
    # torch.func): its steady state is the dense null vector (measured 2e-13 in L1).
    L, _ = _dense_problem(n, V=2.0)
    mixture = povm_transformer_state(TETRA, ["0"] * n, seed=1, d_model=8, d_ff=16, strings=chain_strings(n))
    steady = steady_state_transformer(mixture, generator, n_samples=None, iterations=200, seed=0)
    assert steady.metadata.options["optimizer"] == "lm" and steady.best_loss < 1e-9
    assert np.abs(mixture.probabilities().numpy() - null_vector(L)).sum() < 1e-9


@pytest.mark.parametrize("n_samples,optimizer,advice,not_advised", [
    (None, "adam", "run optimizer='lm'", "n_samples"),
    (None, "lm", "larger network", "run optimizer"),
    (64, "adam", "continue from this state with optimizer='lm'", "run optimizer"),
    (64, "lm", "raise iterations or n_samples", "continue from"),
])
def test_convergence_warning_advises_what_this_run_lacks(n_samples, optimizer, advice, not_advised):
    # Two iterations miss tol = 1e-9 on two sites; the warning names the optimiser used and only remedies that
    # change the run (no LM advice to an LM run, no sample count to exact enumeration).
    lb = dissipative_ising(2, V=1.0, g=0.5, gamma=0.5)
    state = povm_transformer_state(TETRA, ["0"] * 2, seed=1, d_model=8)
    with pytest.warns(ConvergenceWarning) as caught:
        steady_state_transformer(state, POVMLindbladian(lb, TETRA), n_samples=n_samples, optimizer=optimizer,
                                 iterations=2, tol=1e-9, seed=0)
    message = str(caught[0].message)
    assert f"iterations of optimizer={optimizer!r}" in message and advice in message and not_advised not in message
    assert message.count("optimizer='lm'") == 1  # the remedy, or the optimiser that ran
