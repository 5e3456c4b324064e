"""PINN eigen-solvers against the analytic levels: accuracy, residual bounds, seeds, checkpoints, bad input.

Training sizes are the smallest that meet the issue's bars with margin on the CPU; longer runs live in
``benchmarks/pinn.py``.
"""

import numpy as np
import pytest

import qdyn.schrodinger as S

torch = pytest.importorskip("torch")

# Default mode: Ritz values are upper bounds (exact quadrature), so errors are one-sided and shrink with
# training.
FAST = dict(adam_epochs=300, lbfgs_iters=20)


@pytest.fixture(scope="module")
def finite_well_three():
    return S.solve_eigen(S.finite_well(), 3, method="pinn", seed=0, **FAST)


def test_default_mode_infinite_well_ground_state():
    result = S.solve_eigen(S.infinite_well(), 1, method="pinn", seed=0, adam_epochs=150, lbfgs_iters=10)
    # The bar: 1e-6 relative (observed ~1e-12).
    assert result.relative_errors[0] < 1e-6
    assert result.method == "pinn" and result.resources.epochs >= 150


def test_default_mode_harmonic_oscillator_ground_state():
    result = S.solve_eigen(S.harmonic_oscillator(), 1, method="pinn", seed=0, **FAST)
    assert result.relative_errors[0] < 1e-6  # the bar


def test_default_mode_finite_well_first_three_states(finite_well_three):
    errors = finite_well_three.relative_errors
    assert errors[0] < 1e-6  # ground state: the 1e-6 bar
    assert np.all(errors < 1e-5)  # first three states: the 1e-5 bar


def test_residual_bound_contains_the_true_error(finite_well_three):
    # Krylov-Weinstein: an exact eigenvalue lies within r = ||H psi - E psi|| of E; the nearest one is the
    # reference.
    assert np.all(finite_well_three.errors <= finite_well_three.residuals)
    assert np.all(finite_well_three.residuals < 0.1)


def test_default_mode_states_match_the_chebyshev_states(finite_well_three):
    cheb = S.solve_eigen(S.finite_well(), 3, method="cheb", n=64)
    for n in range(3):
        psi_ref = np.interp(finite_well_three.x, cheb.x, cheb.states[n])
        # Energy error ~ (state error)^2: 1e-6 relative energy allows ~1e-3 in the state; linear interpolation
        # of the Chebyshev state on the 801-point grid adds ~1e-4.
        assert np.max(np.abs(finite_well_three.states[n] - psi_ref)) < 1e-2


def test_same_seed_same_energies_and_different_seed_differs():
    problem = S.infinite_well()
    runs = [
        S.solve_eigen(problem, 2, method="pinn", seed=s, adam_epochs=30, lbfgs_iters=0) for s in (4, 4, 5)
    ]
    assert np.array_equal(runs[0].energies, runs[1].energies)
    assert not np.array_equal(runs[0].energies, runs[2].energies)
    assert runs[0].metadata.seed == 4


def test_checkpoint_resume_after_interruption_gives_the_same_energies(tmp_path):
    problem = S.infinite_well()
    options = dict(seed=1, adam_epochs=40, lbfgs_iters=0, checkpoint_every=10)
    straight = S.solve_eigen(problem, 2, method="pinn", **options)

    def interrupt(epoch, loss, energies):
        if epoch == 25:
            raise KeyboardInterrupt

    path = tmp_path / "pinn.pt"
    with pytest.raises(KeyboardInterrupt):
        S.solve_eigen(problem, 2, method="pinn", checkpoint=path, callback=interrupt, **options)
    assert path.exists()
    resumed = S.solve_eigen(problem, 2, method="pinn", checkpoint=path, **options)
    assert np.array_equal(resumed.energies, straight.energies)
    assert len(resumed.history[0]["loss"]) == 40


def test_progress_bar_runs(capsys):
    S.solve_eigen(S.infinite_well(), 1, method="pinn", seed=0, adam_epochs=3, lbfgs_iters=0, progress=True)


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


# Paper mode (the paper's trial function, residual + normalisation loss and Adam, with the choices it leaves
# open made in qdyn.schrodinger.pinn). The energy is the trained psi's Rayleigh quotient by exact (split
# Gauss-Legendre) quadrature, so it is an upper bound of the ground level; the bar is 1e-3 relative.
# Observed (seeds 0 and 1): infinite well 1.6e-7 / 3.6e-7 (fixed E), 6.7e-8 / 1.6e-7 (trainable E); barrier
# 3.8e-5 / 3.8e-5.


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed-E", "trainable-E"])
def test_paper_mode_infinite_well_ground_state(fixed):
    options = dict(energy=np.pi**2) if fixed else {}
    result = S.solve_eigen(S.infinite_well(), 1, method="pinn-paper", seed=0, adam_epochs=800, **options)
    assert result.relative_errors[0] < 1e-3
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
    result = S.solve_eigen(S.barrier(), 1, method="pinn-paper", seed=0, adam_epochs=1500)
    assert result.relative_errors[0] < 1e-3
    assert result.energies[0] >= result.reference[0] * (1 - 1e-12)  # variational: a Rayleigh quotient
    assert result.errors[0] <= result.residuals[0]  # Krylov-Weinstein bound


def test_paper_mode_atomic_unit_well_finds_the_ground_level():
    # The well (-psi''/2 + V psi, V = 20 outside |x| < 1.7, walls at +-6, E0 = 0.357144008083) used to
    # end at 0.62 relative error (a higher level). A short run already lands on the ground level (E1 = 1.43,
    # the next even level 3.20) in float32: observed 6.4e-3 (seed 0; seed 1: 3.1e-2) after 3000 epochs. The 1e-3
    # bar needs float64 and longer training (slow test below; the figures are in benchmarks/pinn.py).
    result = S.solve_eigen(S.finite_well(), 1, method="pinn-paper", seed=0, adam_epochs=3000)
    assert result.relative_errors[0] < 1e-2
    assert result.energies[0] < S.finite_well().exact(2)[1]


@pytest.mark.slow
def test_paper_mode_atomic_unit_well_ground_state():
    # float64 (the paper uses float32, which floors this stiff well near 2e-3), 10000 epochs (~60 s): observed
    # 6.1e-5 for this seed; seed 0 gives 9.5e-4 - paper mode meets the bar here, but without much margin.
    result = S.solve_eigen(S.finite_well(), 1, method="pinn-paper", seed=1, precision="double",
                           adam_epochs=10000)
    assert result.relative_errors[0] < 1e-3


def test_lbfgs_stage_lowers_the_energies():
    # Ritz values are upper bounds under exact quadrature, so a lower value is a better one. After 300 Adam
    # epochs L-BFGS must improve them (observed relative errors 4.8e-7, 4.7e-9, 2.2e-7 -> 2.0e-7, 4.7e-9,
    # 7.7e-8); it used to stop after one iteration because the objective's value was a constant.
    problem = S.finite_well()
    adam = S.solve_eigen(problem, 3, method="pinn", seed=0, adam_epochs=300, lbfgs_iters=0)
    both = S.solve_eigen(problem, 3, method="pinn", seed=0, adam_epochs=300, lbfgs_iters=60)
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
    ritz = S.solve_eigen(problem, 2, method="pinn", **short)
    paper = S.solve_eigen(problem, 1, method="pinn-paper", **short)
    with pytest.warns(DeprecationWarning, match="method='pinn'"):
        old_ritz = solve_pinn(problem, 2, mode="default", **short)
    with pytest.warns(DeprecationWarning, match="method='pinn-paper'"):
        old_paper = S.solve_eigen(problem, 1, method="pinn", mode="paper", **short)
    assert np.array_equal(old_ritz.energies, ritz.energies) and old_ritz.method == "pinn"
    assert np.array_equal(old_paper.energies, paper.energies) and old_paper.method == "pinn-paper"
    with pytest.warns(DeprecationWarning, match="method"):
        assert (ritz.mode, paper.mode) == ("default", "paper")
    with pytest.raises(ValueError, match="mode"):
        solve_pinn(problem, 1, mode="fancy")


def test_to_pandas_holds_the_levels_their_residual_bounds_and_references():
    result = S.solve_eigen(S.infinite_well(), 2, method="pinn", seed=0, adam_epochs=20, lbfgs_iters=0)
    table = result.to_pandas()
    assert list(table["level"]) == [0, 1] and set(table["quantity"]) == {"energy"}
    # the table copies the result's arrays: exact equality
    assert np.array_equal(table["value"], result.energies)
    assert np.array_equal(table["error"], result.residuals)
    # infinite well: E_n = (n pi)^2, to rounding
    np.testing.assert_allclose(table["reference"], np.pi**2 * np.array([1.0, 4.0]), rtol=1e-14)
