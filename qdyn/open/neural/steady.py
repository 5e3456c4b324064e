"""The steady state of a Lindbladian with a POVM transformer state: minimise ``|| L P_theta ||``.

The loss is ``|| L P_theta ||_1`` (:class:`qdyn.open.neural.losses.StationaryProblem`), sampled or summed over
all ``4^N`` strings (``n_samples=None``), minimised by Adam or Levenberg-Marquardt
(:mod:`qdyn.open.neural.strategies`); the run keeps the parameters with the smallest loss measured by a more
accurate estimate (more samples, or exactly) every ``eval_every`` iterations. A run is checkpointed before
every such estimate and resumes with the numbers of an uninterrupted one.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from qdyn.deprecation import renamed_arguments
from qdyn.errors import ConvergenceWarning, check_int, check_positive
from qdyn.open.named_observables import expectation_rows
from qdyn.open.neural.deprecated_fields import DeprecatedNeuralFields
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = ["SAMPLED_TOL_PER_SITE", "NeuralSteadyState", "steady_state_transformer"]

#: Default ``tol`` of a sampled steady state, per site: ``||L P||_1 <= 0.02 N`` (``steady_state_transformer``).
SAMPLED_TOL_PER_SITE = 0.02


@dataclass(frozen=True)
class NeuralSteadyState(DeprecatedNeuralFields, Result):
    """A steady-state search: the observables of the kept (best) model and the loss ``|| L P ||_1`` history.

    ``expect`` / ``errors``: the observables and their Monte-Carlo standard errors (0 with exact enumeration).
    ``best_loss`` (error ``best_loss_error``) is the accurate estimate that selected the kept parameters after
    ``best_iteration`` iterations; ``loss_history`` holds the optimiser's per-iteration losses and
    ``eval_iterations`` / ``eval_losses`` the accurate checks. ``converged``: ``best_loss <= tol`` (a
    :class:`qdyn.errors.ConvergenceWarning` says what to change when not).
    """

    expect: dict
    errors: dict
    best_loss: float
    best_loss_error: float
    best_iteration: int
    loss_history: np.ndarray
    eval_iterations: np.ndarray
    eval_losses: np.ndarray
    resources: Resources
    metadata: Metadata = field(default_factory=Metadata)
    tol: float = 0.0
    converged: bool = True

    def rows(self) -> list[dict]:
        """One row per observable, with its error bar."""
        return expectation_rows(self.expect, self.errors)


def _resume(path, fingerprint: dict) -> dict | None:
    """The payload of this problem's checkpoint ``path`` (None when there is none yet)."""
    from qdyn.nets.training import CheckpointError, load_checkpoint

    payload = load_checkpoint(path, fingerprint=fingerprint)
    if payload is not None and not {"state_dict", "strategy", "loop"} <= set(payload):
        raise CheckpointError(f"the checkpoint {path} is not one of steady_state_transformer; pass resume=False "
                              "to start afresh")
    return payload


def _remedies(exact: bool, optimizer: str) -> str:
    """What to change after a run that missed ``tol``, for its enumeration and optimiser: more iterations (and
    samples), Levenberg-Marquardt after Adam (exact up to N = 8, or sampled from the trained state), a wider
    network once LM stalls, or a larger ``tol``."""
    more = "raise iterations" if exact else "raise iterations or n_samples"
    if optimizer == "adam":
        lm = ("run optimizer='lm'" if exact else
              "continue from this state with optimizer='lm' (a few hundred samples per batch)")
        return f"{more}, {lm}, or a larger network; or pass a larger tol"
    return f"{more}, or a larger network (d_model) if the loss has stalled; or pass a larger tol"


@renamed_arguments(observables_ops="e_ops")
def steady_state_transformer(state, lindbladian, *, povm=None, e_ops: dict | None = None,
                             n_samples: int | None = 10_000, n_eval_samples: int | None = None,
                             iterations: int = 1000, eval_every: int | None = None, lr: float = 1e-2,
                             lr_final: float | None = None, chunk_size: int = 8192, optimizer: str = "auto",
                             batch_steps: int = 3, tol: float | None = None, prefix_sharing: bool | None = None,
                             seed=None, checkpoint: str | os.PathLike | None = None, resume: bool = False,
                             progress: bool = False, mode: str | None = None) -> NeuralSteadyState:
    """Train ``state`` (in place) towards ``L P = 0`` by minimising ``|| L P_theta ||_1``.

    With sampling the loss ``E_{a~P}[|(L P)(a)| / P(a)]`` (denominator detached) is estimated on ``n_samples``
    exact samples per iteration; every ``eval_every`` iterations (default 25 for Adam, 1 for LM) and at the end
    it is re-estimated on ``n_eval_samples`` fresh samples (default ``4 n_samples``) and the best parameters so
    far are kept; the state ends with those. ``n_samples=None`` sums over all ``4^N`` strings (N <= 8) and
    scores exactly (with ``optimizer="lm"`` the loss minimised is ``|| L P ||_2^2``, whose minimiser
    ``L P = 0`` is the same). ``e_ops`` are measured on the kept state (exactly with exact enumeration, on
    ``n_eval_samples`` samples otherwise).

    ``optimizer="lm"`` with sampling: each iteration draws ``n_samples`` fresh samples and takes up to
    ``batch_steps`` Levenberg-Marquardt steps on the least-squares form of their fixed-batch loss

        F(theta) = sum_i w_i rho_i(theta)^2,   rho_i = (L P_theta)(a_i) / P_0(a_i),   w_i = P_0(a_i) / sum_j P_0(a_j)

    (``P_0`` the model when the batch was drawn). ``E_{a ~ P_0}[P_0(a) rho(a)^2] = sum_a (L P_theta)(a)^2``, so
    ``F`` is the self-normalised importance estimate of ``|| L P_theta ||_2^2`` (up to a constant), minimised by
    ``L P = 0`` like the L1 loss; the weights favour the probable strings. Each step costs a per-string gradient
    of every distinct string connected to the batch (about ``n_samples`` times the terms of ``L``), so a few
    hundred samples per batch suit it. The L1 loss is an ill-conditioned target for Adam: on the dissipative
    Ising chain (V = 2, gamma = 1, periodic, N = 8) Adam's plateau (200 iterations of 1000 samples) leaves
    single-site errors up to 2.8e-2 at g = 1 and 2.3e-2 at g = 2, which 60 of these iterations of 300 samples
    bring to 8.4e-3 and 6.9e-3 (``python benchmarks/povm_transformer.py``). The models are still kept by the
    sampled L1 estimate; ``loss_history`` holds each batch's ``sum_i sqrt(w_i) |rho_i|`` after its steps. The
    per-string Jacobian limits it to small registers (it was measured up to N = 8).

    ``tol``: the target of the scored ``||L P||_1`` (in the units of the rates of ``L``): training stops once a
    score reaches it, and the result's ``converged`` says whether one did (a ``ConvergenceWarning`` names what to
    change when not). ``tol=None`` (default): ``1e-12`` with exact enumeration (where LM reaches ``L P = 0`` when
    the network can represent it); with sampling, every iteration is run and ``converged`` means a score at most
    ``SAMPLED_TOL_PER_SITE * N = 0.02 N``. A sampled score cannot go below the floor of the network and of the
    optimiser: on the dissipative Ising chain (V = 2, gamma = 1) converged runs end at 0.003 .. 0.017 per site
    (N = 8, width 16, 150 Adam iterations: 0.024, 0.064, 0.10 at g = 0.3, 1, 2; width 32, g = 2: 0.10 at
    N = 6 after 200 Adam iterations, 0.068 at N = 4 after Adam then sampled LM), single-site errors 1e-2 .. 3e-2;
    so ``0.02 N`` is met by them, and a run above it has not converged (scale it with the rates of the model).
    The default does not stop training early, so that a run warm-started from a converged one still trains.

    ``checkpoint``, ``resume``: the run is written to ``checkpoint`` (atomically) after every ``eval_every``-th
    iteration and the last, with the parameters, the best ones so far, the optimiser's state, the random stream
    and the run's fingerprint (:mod:`qdyn.open.neural.fingerprint`: generator, POVM, observables, network
    layout, sampling, optimiser options, ``iterations``, ``eval_every``, ``tol``, ``seed``); ``resume=True``
    continues from it and gives the numbers of an uninterrupted run. Another problem's checkpoint or an
    unreadable file is a :class:`qdyn.nets.training.CheckpointError` (a ``ValueError``) saying what differs.
    Other parameters as in :func:`qdyn.open.neural.evolution.evolve_transformer`.
    """
    from qdyn.nets.optimisers import minimise
    from qdyn.nets.training import progress_bar, save_checkpoint
    from qdyn.open.neural.connections import local_action, use_prefix
    from qdyn.open.neural.losses import ExactOperator, StationaryProblem
    from qdyn.open.neural.states import check_state, derived_seed, observables, povm_and_e_ops, step_generator
    from qdyn.open.neural.strategies import resolve_optimizer, samples_from_mode, strategy_class, training_options

    state = check_state(state)
    n_samples = samples_from_mode(mode, n_samples)
    options = training_options(n_samples=n_samples, n_eval_samples=n_eval_samples, iterations=iterations, lr=lr,
                               lr_final=lr_final, chunk_size=chunk_size, batch_steps=batch_steps)
    exact = options.n_samples is None
    action = local_action(lindbladian)
    povm, ops = povm_and_e_ops(lindbladian, povm, e_ops, state.n_sites)
    optimizer = resolve_optimizer(optimizer, exact, state, sampled_lm=True)
    eval_every = check_int("eval_every", (1 if optimizer == "lm" else 25) if eval_every is None else eval_every,
                           minimum=1)
    judge_only = tol is None and not exact  # the sampled default judges convergence but does not stop training
    if tol is None:
        tol = 1e-12 if exact else SAMPLED_TOL_PER_SITE * state.n_sites
    tol = check_positive("tol", tol, allow_zero=True)
    stop = 0.0 if judge_only else tol
    prefix = use_prefix(state, prefix_sharing)
    _, seed = make_rng(seed)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs the checkpoint= file to resume from")
    fingerprint = None
    if checkpoint is not None:
        from qdyn.open.neural.fingerprint import run_fingerprint

        fingerprint = run_fingerprint("steady_state_transformer", state, lindbladian, povm, ops,
                                      n_samples=options.n_samples, n_eval_samples=options.n_eval_samples,
                                      iterations=options.iterations, eval_every=eval_every, lr=options.lr,
                                      lr_final=options.lr_final, optimizer=optimizer,
                                      batch_steps=options.batch_steps, tol=tol, seed=int(seed))
    saved = _resume(checkpoint, fingerprint) if resume else None
    if saved is not None:
        state.load_state_dict(saved["state_dict"])
    problem = StationaryProblem(state, action, prefix=prefix,
                                operator=ExactOperator(action, state) if exact else None)
    strategy = strategy_class(exact, optimizer)(state, problem, options, step_generator(seed, state.device, 0))
    if saved is not None:
        strategy.load_state_dict(saved["strategy"])

    def save(loop):
        save_checkpoint(checkpoint, {"state_dict": state.state_dict(), "strategy": strategy.state_dict(),
                                     "loop": loop}, fingerprint=fingerprint)

    bar = progress_bar(options.iterations, progress, desc="POVM steady state")
    with Stopwatch() as watch:
        try:
            run = minimise(state, strategy.step, strategy.evaluate, iterations=options.iterations,
                           eval_every=eval_every, tol=stop, converged=strategy.converged, bar=bar,
                           save=save if checkpoint is not None else None,
                           resume=None if saved is None else saved["loop"])
        finally:
            bar.close()
    converged = run.best_loss <= tol
    if not converged:
        warnings.warn(f"the steady-state loss ||L P||_1 = {run.best_loss:.3g} (+- {run.best_error:.2g}) did not reach "
                      f"tol={tol:g} in {options.iterations} iterations of optimizer={optimizer!r}: "
                      f"{_remedies(exact, optimizer)}", ConvergenceWarning, stacklevel=3)
    values, errors = {}, {}
    if ops:
        est = observables(state, povm, ops, n_samples=options.n_eval_samples, seed=derived_seed(seed, 1),
                          chunk_size=chunk_size)
        values, errors = est.values, est.errors
    return NeuralSteadyState(
        expect=values, errors=errors, best_loss=run.best_loss, best_loss_error=run.best_error,
        best_iteration=run.best_iteration, loss_history=np.array(run.losses),
        eval_iterations=np.array(run.eval_iterations), eval_losses=np.array(run.eval_losses),
        tol=tol, converged=converged,
        resources=Resources(epochs=len(run.losses), samples=strategy.samples, wall_time=watch.elapsed),
        metadata=make_metadata(seed=seed, backend="povm-transformer", device=str(state.device),
                               n_samples=options.n_samples, iterations=options.iterations, lr=lr, lr_final=lr_final,
                               optimizer=optimizer, prefix_sharing=prefix,
                               batch_steps=options.batch_steps if optimizer == "lm" and not exact else None))
