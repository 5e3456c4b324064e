"""Checkpoints of the POVM transformer drivers that cannot be mixed up: each records the fingerprint of its problem
and refuses another's with an error saying what differs; an unreadable file is a clear error naming it and
resume=False; steady_state_transformer checkpoints and resumes like evolve_transformer, to the same numbers."""

import numpy as np
import pytest
import torch

import qdyn.nets.training as training
import qdyn.open as O
from qdyn.nets.training import CheckpointError, digest, load_checkpoint

N = 2
OPTIONS = {"method": "transformer", "tau": 0.1, "n_samples": 60, "iterations": 2, "seed": 0,
           "network": {"d_model": 8, "d_ff": 16}}
TIMES = 0.1 * np.arange(5)


def _evolve(lindbladian=None, times=TIMES, **changes):
    return O.evolve(lindbladian or O.dissipative_ising(N, g=1.0), "0", times, **{**OPTIONS, **changes})


@pytest.fixture()
def written(tmp_path):
    """A finished 4-step run of the chain at g = 1 and its checkpoint."""
    path = tmp_path / "run.pt"
    return _evolve(checkpoint=path), path


@pytest.mark.parametrize("change, differs", [
    ({"lindbladian": O.dissipative_ising(N, g=2.0)}, "lindbladian"),  # the g = 1 -> g = 2
    ({"lindbladian": O.dissipative_ising(N, g=1.0, gamma=0.5)}, "lindbladian"),
    ({"povm": "pauli4"}, "lindbladian.*povm"),
    ({"network": {"d_model": 16, "d_ff": 16}}, "network"),
    ({"n_samples": 80}, "n_eval_samples.*n_samples"),
    ({"iterations": 3}, "iterations"),  # iterations shape the run: refused at the start, never a crash at the end
    ({"lr": 0.02}, "lr"),
    ({"seed": 1}, "seed"),
    ({"tau": 0.05, "times": 0.05 * np.arange(9)}, "tau"),
    ({"e_ops": {"Z": "IZ"}}, "e_ops"),
])
def test_another_problem_is_refused_saying_what_differs(written, change, differs):
    _, path = written
    change = dict(change)
    with pytest.raises(CheckpointError, match=f"belongs to another problem: {differs}.*resume=False"):
        _evolve(checkpoint=path, resume=True, **change)


def test_same_problem_resumes_and_a_later_t_final_extends_it(written):
    full, path = written
    again = _evolve(checkpoint=path, resume=True)
    assert again.details.resumed_from == 4 and again.resources.epochs == full.resources.epochs
    for k in full.expect:
        np.testing.assert_array_equal(again.expect[k], full.expect[k])
    longer_times = 0.1 * np.arange(7)
    extended = _evolve(checkpoint=path, resume=True, times=longer_times)
    uninterrupted = _evolve(times=longer_times)
    assert extended.details.resumed_from == 4 and extended.times.size == 7
    for k in full.expect:  # same seed, per-step streams: bitwise the numbers of one uninterrupted run
        np.testing.assert_array_equal(extended.expect[k], uninterrupted.expect[k])
        np.testing.assert_array_equal(extended.errors[k], uninterrupted.errors[k])


def test_a_checkpoint_past_t_final_is_refused(written):
    # The issue: an 8-step checkpoint resumed with a shorter t_final returned 3 times and 9 values. The network holds
    # the later time, so it cannot answer for the earlier one: refused, saying how to proceed.
    _, path = written
    with pytest.raises(CheckpointError, match=r"already holds 4 steps \(t = 0.4\), past t_final = 0.2.*"
                                              r"t_final >= 0.4.*resume=False"):
        _evolve(checkpoint=path, resume=True, times=TIMES[:3])


@pytest.mark.parametrize("content", [b"", "truncated", b"\x93NUMPY random bytes \x00\xff" * 20])
def test_unreadable_checkpoints_are_clear_errors(written, tmp_path, content):
    _, path = written
    bad = tmp_path / "bad.pt"
    bad.write_bytes(path.read_bytes()[:200] if content == "truncated" else content)
    with pytest.raises(CheckpointError) as info:
        _evolve(checkpoint=bad, resume=True)
    message = str(info.value)
    assert str(bad) in message and "resume=False" in message and "weights_only" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no torch traceback suggestion


def test_checkpoints_load_with_weights_only(written, monkeypatch):
    _, path = written
    calls = []
    real = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    _evolve(checkpoint=path, resume=True)
    payload = load_checkpoint(path)
    assert calls == [True, True] and set(payload) == {"step", "state_dict", "history", "fingerprint"}
    assert payload["fingerprint"]["kind"] == "evolve_transformer" and payload["fingerprint"]["tau"] == 0.1


def test_a_checkpoint_without_fingerprint_is_refused(tmp_path):
    # A file of an earlier release (no fingerprint): it cannot be matched to a problem.
    path = tmp_path / "old.pt"
    training.save_checkpoint(path, {"step": 0, "state_dict": {}, "history": {}, "config": {"tau": 0.1}})
    with pytest.raises(CheckpointError, match="records no problem fingerprint.*resume=False"):
        _evolve(checkpoint=path, resume=True)
    with pytest.raises(ValueError, match="resume=True needs the checkpoint"):
        _evolve(resume=True)


def test_digest_is_stable_and_sensitive():
    a = {"x": np.array([1.0, 2.0]), "t": torch.arange(3), "y": [0.1, "s", None]}
    assert digest(a) == digest({"y": [0.1, "s", None], "t": torch.arange(3), "x": np.array([1.0, 2.0])})
    assert digest(a) != digest({**a, "x": np.array([1.0, 2.5])})
    # computed data that differ in the last bits (another machine's BLAS) digest alike
    assert digest(np.array([0.1 + 0.2, 1.0])) == digest(np.array([0.3, 1.0]))
    with pytest.raises(TypeError, match="cannot digest"):
        digest(object())


# -- steady_state_transformer: checkpoint and resume ---------------------------------------------------------------
STEADY = [
    {"n_samples": 100, "optimizer": "adam", "iterations": 9, "eval_every": 3},
    {"n_samples": None, "optimizer": "lm", "iterations": 5},
    {"n_samples": None, "optimizer": "adam", "iterations": 6, "eval_every": 2},
    {"n_samples": 80, "optimizer": "lm", "iterations": 4, "eval_every": 2, "batch_steps": 2},
]


@pytest.mark.filterwarnings("ignore::qdyn.errors.ConvergenceWarning")  # a few iterations: not converged
@pytest.mark.parametrize("options", STEADY, ids=lambda o: f"{o['optimizer']}-{o['n_samples']}")
def test_steady_state_resumes_to_the_uninterrupted_numbers(tmp_path, monkeypatch, options):
    n = 3
    generator = O.POVMLindbladian(O.dissipative_ising(n, V=1.3, g=0.7, gamma=0.9), "tetra")
    ops = O.site_average_paulis(n)

    def fresh():
        return O.povm_transformer_state(O.POVM("tetra"), ["0"] * n, seed=2, d_model=8, d_ff=16)

    full = O.steady_state_transformer(fresh(), generator, e_ops=ops, seed=4, **options)
    path = tmp_path / "steady.pt"
    real, saves = training.save_checkpoint, []

    def interrupt_after_the_second_save(*args, **kwargs):
        real(*args, **kwargs)
        saves.append(1)
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "save_checkpoint", interrupt_after_the_second_save)
    with pytest.raises(KeyboardInterrupt):
        O.steady_state_transformer(fresh(), generator, e_ops=ops, seed=4, checkpoint=path, **options)
    monkeypatch.setattr(training, "save_checkpoint", real)
    resumed = O.steady_state_transformer(fresh(), generator, e_ops=ops, seed=4, checkpoint=path, resume=True,
                                         **options)
    # restored parameters, best parameters, optimiser moments / damping and random stream: bitwise the same run
    assert resumed.expect == full.expect and resumed.errors == full.errors
    np.testing.assert_array_equal(resumed.loss_history, full.loss_history)
    np.testing.assert_array_equal(resumed.eval_losses, full.eval_losses)
    assert resumed.best_iteration == full.best_iteration and resumed.resources.samples == full.resources.samples
    with pytest.raises(CheckpointError, match="iterations"):
        O.steady_state_transformer(fresh(), generator, e_ops=ops, seed=4, checkpoint=path, resume=True,
                                   **{**options, "iterations": options["iterations"] + 1})


@pytest.mark.filterwarnings("ignore::qdyn.errors.ConvergenceWarning")
def test_front_door_steady_state_checkpoints(tmp_path):
    path = tmp_path / "front.pt"
    options = {"method": "transformer", "n_samples": 50, "iterations": 4, "eval_every": 2, "seed": 3,
               "network": {"d_model": 8}}
    first = O.steady_state(O.dissipative_ising(N), checkpoint=path, **options)
    again = O.steady_state(O.dissipative_ising(N), checkpoint=path, resume=True, **options)
    assert again.expect == first.expect and path.exists()
    with pytest.raises(CheckpointError, match="lindbladian"):
        O.steady_state(O.dissipative_ising(N, g=2.0), checkpoint=path, resume=True, **options)
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty, truncated"):
        O.steady_state(O.dissipative_ising(N), checkpoint=path, resume=True, **options)
