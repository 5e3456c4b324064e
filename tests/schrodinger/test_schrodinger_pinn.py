"""PINN eigen-solvers against the analytic levels: accuracy, error bounds that hold, convergence or a warning,
seeds, checkpoints that cannot be mixed up, bad input.

Training sizes in CI are the smallest that meet the stated bars with margin on the CPU (a few seconds each); the
default settings on the full family of potentials run under ``-m slow`` and in ``benchmarks/pinn.py``.
"""

import time
import warnings

import numpy as np
import pytest

import qdyn.schrodinger as S
from qdyn.errors import ConvergenceWarning

torch = pytest.importorskip("torch")

from qdyn.nets.training import CheckpointError  # noqa: E402  (after the torch skip)

# One short round: Ritz values are upper bounds (exact quadrature), so errors are one-sided and shrink with
# training; tol=1e-5 is what this much training bounds on the finite well (observed errors ~1e-8).
FAST = dict(adam_epochs=300, lbfgs_iters=20, rounds=1)


def _quiet(problem, k, **options):
    """A run whose convergence is not what the test checks (short training may miss tol and warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return S.solve_eigen(problem, k, method="pinn", **options)


@pytest.fixture(scope="module")
def finite_well_three():
    return S.solve_eigen(S.finite_well(), 3, method="pinn", seed=0, tol=1e-5, **FAST)


def test_default_mode_infinite_well_ground_state():
    result = S.solve_eigen(S.infinite_well(), 1, method="pinn", seed=0, adam_epochs=150, lbfgs_iters=10,
                           rounds=1)
    # The issue's bar: 1e-6 relative (observed ~1e-10), and the bound says so.
    assert result.relative_errors[0] < 1e-6 and result.converged
    assert result.method == "pinn" and result.resources.epochs >= 150 and result.error_kind == "bound"


def test_default_mode_finite_well_first_three_states(finite_well_three):
    assert np.all(finite_well_three.relative_errors < 1e-6)  # the issue's bar (observed ~1e-8)
    assert finite_well_three.converged


def test_residual_and_kato_temple_bounds_contain_the_true_error(finite_well_three):
    # Krylov-Weinstein: an exact eigenvalue lies within r of E; Kato-Temple: the n-th level within r^2/gap.
    assert np.all(finite_well_three.errors <= finite_well_three.residuals)
    assert np.all(finite_well_three.errors <= finite_well_three.error_estimates)
    assert np.all(finite_well_three.error_estimates < finite_well_three.residuals)  # second order: tighter


def test_default_mode_states_match_the_chebyshev_states(finite_well_three):
    cheb = S.solve_eigen(S.finite_well(), 3, method="cheb")
    for n in range(3):
        psi_ref = np.interp(finite_well_three.x, cheb.x, cheb.states[n])
        # Energy error ~ (state error)^2: 1e-6 relative energy allows ~1e-3 in the state; linear interpolation
        # of the Chebyshev state on the 801-point grid adds ~1e-4.
        assert np.max(np.abs(finite_well_three.states[n] - psi_ref)) < 1e-2


@pytest.mark.parametrize("family", ["quartic", "morse"])
def test_smooth_confining_potentials_on_the_line(family):
    # Two representative families of the issue's item 4 at CI sizes (the full family at the defaults is the slow
    # test below): a user's quartic oscillator on a wide window (Hioe & Montroll's levels) and the Morse well
    # (closed form), each to the issue's 1e-6 with a bound that says so (observed ~1e-10 / ~1e-9).
    if family == "quartic":
        problem = S.Problem(S.potentials.custom(lambda x: x**4, symmetry_center=0.0, name="quartic"), (-6, 6),
                            "decaying")
        reference, options = np.array([1.0603620905, 3.7996730298]), dict(adam_epochs=300, lbfgs_iters=20)
    else:
        problem = S.morse()
        reference, options = problem.exact(2), dict(adam_epochs=600, lbfgs_iters=50)
    result = S.solve_eigen(problem, 2, method="pinn", seed=0, rounds=1, **options)
    errors = np.abs(result.energies - reference)
    assert result.converged and np.all(errors / reference < 1e-6)
    assert np.all(errors <= result.error_estimates + 5e-11 * reference)  # published to 10 decimals
    lo, hi = result.discretisation["window"]
    assert hi - lo < problem.length  # it worked where the states live


# Error bars that hold (the issue's item 2 for the PINN): problems with closed forms at parameters no other test
# uses, short training so that the bounds are loose or the runs unconverged - the bound holds either way.
BOUND_FAMILY = {
    "harmonic": (S.harmonic_oscillator(strength=0.7, window=7.0, units="atomic"), 2),
    "poschl_teller": (S.poschl_teller(depth=12.0, alpha=1.3, window=15.0, units="atomic"), 2),
    "morse": (S.morse(depth=15.0, a=0.8, window=(-1.5, 30.0), units="atomic"), 2),
    "finite_well": (S.finite_well(depth=8.0, half_width=0.9, wall=4.0), 2),
    "infinite_well": (S.infinite_well(length=2.3, units="atomic"), 2),
}


@pytest.mark.parametrize("name", list(BOUND_FAMILY))
def test_the_error_bound_holds_converged_or_not(name):
    problem, k = BOUND_FAMILY[name]
    for adam_epochs in (60, 300):
        result = _quiet(problem, k, seed=3, adam_epochs=adam_epochs, lbfgs_iters=10, rounds=1)
        assert np.all(result.errors <= result.error_estimates), (adam_epochs, result.errors, result.error_estimates)


def test_a_problem_beyond_the_training_says_so():
    # Twenty Adam steps of a four-unit network cannot reach 1e-6 on the finite well: a warning that says what to
    # change, converged=False, and a bound that still holds.
    with pytest.warns(ConvergenceWarning, match="adam_epochs"):
        result = S.solve_eigen(S.finite_well(), 2, method="pinn", seed=0, width=4, adam_epochs=20, lbfgs_iters=0,
                               rounds=1)
    assert not result.converged
    assert np.all(result.errors <= result.error_estimates)


def test_rounds_stop_once_converged():
    # A round whose bounds meet tol ends training: the infinite well converges in the first.
    result = S.solve_eigen(S.infinite_well(), 1, method="pinn", seed=0, adam_epochs=150, lbfgs_iters=10, rounds=3)
    assert result.converged and result.discretisation["rounds"] == 1


def test_same_seed_same_energies_and_different_seed_differs():
    problem = S.infinite_well()
    runs = [_quiet(problem, 2, seed=s, adam_epochs=30, lbfgs_iters=0, rounds=1) for s in (4, 4, 5)]
    assert np.array_equal(runs[0].energies, runs[1].energies)
    assert not np.array_equal(runs[0].energies, runs[2].energies)
    assert runs[0].metadata.seed == 4


SHORT = dict(seed=1, adam_epochs=40, lbfgs_iters=0, rounds=1, checkpoint_every=10)


def test_checkpoint_resume_after_interruption_gives_the_same_energies(tmp_path):
    problem = S.infinite_well()
    straight = _quiet(problem, 2, **SHORT)

    def interrupt(epoch, loss, energies):
        if epoch == 25:
            raise KeyboardInterrupt

    path = tmp_path / "pinn.pt"
    with pytest.raises(KeyboardInterrupt):
        _quiet(problem, 2, checkpoint=path, callback=interrupt, **SHORT)
    assert path.exists()
    resumed = _quiet(problem, 2, checkpoint=path, **SHORT)
    assert np.array_equal(resumed.energies, straight.energies)
    assert len(resumed.history[0]["loss"]) == 40


def test_another_problems_checkpoint_is_refused(tmp_path):
    # resume=True is the default: a checkpoint of another problem used to skip training silently.
    path = tmp_path / "pinn.pt"
    _quiet(S.infinite_well(), 2, checkpoint=path, **SHORT)
    with pytest.raises(CheckpointError, match=r"another problem: .*potential.*resume=False"):
        _quiet(S.finite_well(), 2, checkpoint=path, **SHORT)
    with pytest.raises(CheckpointError, match=r"another problem: .*k \(2 in the file, 1 now\)"):
        _quiet(S.infinite_well(), 1, checkpoint=path, **SHORT)
    with pytest.raises(CheckpointError, match="adam_epochs"):
        _quiet(S.infinite_well(), 2, checkpoint=path, **{**SHORT, "adam_epochs": 50})
    with pytest.raises(CheckpointError, match="seed"):
        _quiet(S.infinite_well(), 2, checkpoint=path, **{**SHORT, "seed": 2})
    # a user's callable is identified by its values, not its name
    with pytest.raises(CheckpointError, match="potential"):
        _quiet(S.Problem(lambda x: 0.0 * x + 1e-3 * x, (0.0, 1.0)), 2, checkpoint=path, **SHORT)
    # resume=False starts afresh and overwrites it
    fresh = _quiet(S.finite_well(), 2, checkpoint=path, resume=False, **SHORT)
    assert fresh.resources.epochs == 40


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", bytes(range(256)) * 4],
                         ids=["empty", "truncated", "random"])
def test_an_unreadable_checkpoint_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"bad\.pt.*resume=False") as info:
        _quiet(S.infinite_well(), 1, checkpoint=path, **SHORT)
    assert "weights_only" not in str(info.value)
    assert _quiet(S.infinite_well(), 1, checkpoint=path, resume=False, **SHORT).resources.epochs == 40


def test_progress_bar_runs():
    _quiet(S.infinite_well(), 1, seed=0, adam_epochs=3, lbfgs_iters=0, rounds=1, progress=True)


def test_cuda_without_gpu_is_a_clear_error():
    from qdyn.devices import cuda_works

    if cuda_works():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="cuda"):
        S.solve_eigen(S.infinite_well(), 1, method="pinn", device="cuda", adam_epochs=1)


def test_bad_pinn_input():
    problem = S.infinite_well()
    with pytest.raises(ValueError, match="method"):
        S.solve_eigen(problem, 1, method="pinn-fancy")
    with pytest.raises(ValueError, match="k=1"):
        S.solve_eigen(problem, 2, method="pinn-paper")
    with pytest.raises(TypeError, match="feature_scale"):  # a paper option is not a Ritz option
        S.solve_eigen(problem, 1, method="pinn", feature_scale=2.0)
    from qdyn.schrodinger.pinn_ritz import solve_pinn_ritz

    with pytest.raises(TypeError, match="problem"):
        solve_pinn_ritz("infinite well", 1)
    with pytest.raises(ValueError, match="adam_epochs"):
        S.solve_eigen(problem, 1, method="pinn", adam_epochs=-1)
    with pytest.raises(ValueError, match="lr"):
        S.solve_eigen(problem, 1, method="pinn", lr=0.0)
    with pytest.raises(ValueError, match="tol"):
        S.solve_eigen(problem, 1, method="pinn", tol=-1e-6)
    with pytest.raises(ValueError, match="rounds"):
        S.solve_eigen(problem, 1, method="pinn", rounds=0)


# The issue's item 4: name -> (problem, k), the double well deep enough for a tunnelling pair (splitting 4 % of E0)
FAMILIES = {
    "harmonic": (S.harmonic_oscillator(), 3),
    "quartic": (S.quartic_oscillator(), 3),
    "double_well": (S.double_well(height=8.0, minimum=1.5, window=5.0), 2),
    "morse": (S.morse(), 3),
    "sech2": (S.poschl_teller(), 3),
    "finite_well": (S.finite_well(), 4),
    "barrier": (S.barrier(), 4),
    "infinite_well": (S.infinite_well(), 4),
}


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_default_mode_on_the_issues_families(family):
    # At the defaults: the first levels within 1e-6 relative (the tunnelling splitting within 1e-3), converged by
    # their Kato-Temple bound, in under 60 s on 2 CPU cores (one torch thread: the networks' matrices are too
    # small for two to pay). References: closed forms, else the converged Chebyshev levels (1e-10).
    problem, k = FAMILIES[family]
    reference = S.reference_levels(problem, k)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        result = S.solve_eigen(problem, k, method="pinn", seed=0)
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    errors = np.abs(result.energies - reference)
    assert result.converged and np.all(errors / np.abs(reference) < 1e-6)
    assert np.all(errors <= result.error_estimates + 1e-10 * np.abs(reference))
    if family == "double_well":
        splitting = reference[1] - reference[0]
        assert abs(np.diff(result.energies)[0] - splitting) / splitting < 1e-3
    assert seconds < 60


# Paper mode (the paper's trial function, residual + normalisation loss and Adam, with the choices it leaves
# open made in qdyn.schrodinger.pinn). The energy is the trained psi's Rayleigh quotient by exact (split
# Gauss-Legendre) quadrature, so it is an upper bound of the ground level; the issue's bar is 1e-3 relative.
# Observed (seeds 0 and 1): infinite well 1.6e-7 / 3.6e-7 (fixed E), 6.7e-8 / 1.6e-7 (trainable E); barrier
# 3.8e-5 / 3.8e-5.


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed-E", "trainable-E"])
def test_paper_mode_infinite_well_ground_state(fixed):
    options = dict(energy=np.pi**2) if fixed else {}
    result = S.solve_eigen(S.infinite_well(), 1, method="pinn-paper", seed=0, adam_epochs=800, **options)
    assert result.relative_errors[0] < 1e-3 and result.converged  # its default tol is the paper's 1e-3
    assert result.errors[0] <= result.error_estimates[0]
    assert result.metadata.options["precision"] == "single"  # the paper's float32
    trained = result.history[0]["energy"][:, 0]
    if fixed:
        assert np.all(trained == np.float32(np.pi**2))
    else:
        # the paper's trainable E itself converges too (observed 3.9e-5); a looser bar than the Rayleigh quotient
        assert abs(trained[-1] - np.pi**2) / np.pi**2 < 1e-3
    assert 1 <= result.history[0]["best_epoch"] <= 800


def test_paper_mode_central_barrier_ground_state():
    # S.barrier(): V = 20 for |x| < 0.2 inside hard walls at +-1, -psi'' + V psi (natural units); levels from
    # the matching conditions in a box (E0 = 7.7187, E1 = 10.676: the tunnelling pair lies close, so a network
    # of no definite parity used to slide to E1 on some seeds).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # its bound (6e-3) is above 1e-3 - it says so
        result = S.solve_eigen(S.barrier(), 1, method="pinn-paper", seed=0, adam_epochs=1500)
    assert result.relative_errors[0] < 1e-3
    assert result.energies[0] >= result.reference[0] * (1 - 1e-12)  # variational: a Rayleigh quotient
    assert result.errors[0] <= result.residuals[0]  # Krylov-Weinstein bound
    assert result.errors[0] <= result.error_estimates[0] <= result.residuals[0]  # Kato-Temple, tighter


def test_paper_mode_atomic_unit_well_finds_the_ground_level():
    # The issue's well (-psi''/2 + V psi, V = 20 outside |x| < 1.7, walls at +-6, E0 = 0.357144008083) used to
    # end at 0.62 relative error (a higher level). A short run already lands on the ground level (E1 = 1.43,
    # the next even level 3.20) in float32: observed 6.4e-3 (seed 0; seed 1: 3.1e-2) after 3000 epochs. The 1e-3
    # bar needs float64 and longer training (slow test below; the figures are in benchmarks/pinn.py).
    with pytest.warns(ConvergenceWarning, match="pinn-paper"):  # 6e-3 is above its 1e-3, and it says so
        result = S.solve_eigen(S.finite_well(), 1, method="pinn-paper", seed=0, adam_epochs=3000)
    assert result.relative_errors[0] < 1e-2 and not result.converged
    assert result.energies[0] < S.finite_well().exact(2)[1]
    assert result.errors[0] <= result.error_estimates[0]


@pytest.mark.slow
def test_paper_mode_atomic_unit_well_ground_state():
    # float64 (the paper uses float32, which floors this stiff well near 2e-3), 10000 epochs (~60 s): observed
    # 6.1e-5 for this seed; seed 0 gives 9.5e-4 - paper mode meets the bar here, but without much margin.
    result = S.solve_eigen(S.finite_well(), 1, method="pinn-paper", seed=1, precision="double",
                           adam_epochs=10000)
    assert result.relative_errors[0] < 1e-3


def test_lbfgs_stage_lowers_the_energies():
    # Ritz values are upper bounds under exact quadrature, so a lower value is a better one. After 300 Adam
    # epochs L-BFGS must improve them; it used to stop after one iteration because the objective's value was a
    # constant.
    problem = S.finite_well()
    adam = _quiet(problem, 3, seed=0, adam_epochs=300, lbfgs_iters=0, rounds=1)
    both = _quiet(problem, 3, seed=0, adam_epochs=300, lbfgs_iters=60, rounds=1)
    assert both.resources.epochs > 300 + 20  # more than one L-BFGS chunk ran
    assert np.all(both.energies <= adam.energies) and both.energies[0] < adam.energies[0]


def test_bad_paper_mode_input():
    with pytest.raises(ValueError, match="feature_scale"):
        S.solve_eigen(S.infinite_well(), 1, method="pinn-paper", feature_scale=0.0, adam_epochs=1)
    with pytest.raises(ValueError, match="norm_weight"):
        S.solve_eigen(S.infinite_well(), 1, method="pinn-paper", norm_weight=-1.0, adam_epochs=1)


# One vocabulary: solve_pinn(mode=...), solve_eigen(method="pinn", mode=...) and EigenResult.mode are deprecated
# aliases for one release; they must warn and give bit-identical results to the new names (same seeded runs).


def test_deprecated_mode_aliases_warn_and_match_the_new_methods():
    from qdyn.schrodinger.pinn import solve_pinn

    problem, short = S.infinite_well(), dict(seed=2, adam_epochs=20, lbfgs_iters=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ritz = S.solve_eigen(problem, 2, method="pinn", rounds=1, **short)
        paper = S.solve_eigen(problem, 1, method="pinn-paper", **short)
        with pytest.warns(DeprecationWarning, match="method='pinn'"):
            old_ritz = solve_pinn(problem, 2, mode="default", rounds=1, **short)
        with pytest.warns(DeprecationWarning, match="method='pinn-paper'"):
            old_paper = S.solve_eigen(problem, 1, method="pinn", mode="paper", **short)
    assert np.array_equal(old_ritz.energies, ritz.energies) and old_ritz.method == "pinn"
    assert np.array_equal(old_paper.energies, paper.energies) and old_paper.method == "pinn-paper"
    with pytest.warns(DeprecationWarning, match="method"):
        assert (ritz.mode, paper.mode) == ("default", "paper")
    with pytest.raises(ValueError, match="mode"):
        solve_pinn(problem, 1, mode="fancy")


def test_to_pandas_holds_the_levels_their_error_bounds_and_references():
    result = _quiet(S.infinite_well(), 2, seed=0, adam_epochs=20, lbfgs_iters=0, rounds=1)
    table = result.to_pandas()
    assert list(table["level"]) == [0, 1] and set(table["quantity"]) == {"energy"}
    # the table copies the result's arrays: exact equality
    assert np.array_equal(table["value"], result.energies)
    assert np.array_equal(table["error"], result.error_estimates)
    # infinite well: E_n = (n pi)^2, to rounding
    np.testing.assert_allclose(table["reference"], np.pi**2 * np.array([1.0, 4.0]), rtol=1e-14)
