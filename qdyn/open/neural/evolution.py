"""Lindblad dynamics with a POVM transformer state: the forward-backward trapezoid rule, step by step.

The state is a normalised distribution ``P_theta(a)`` over POVM outcome strings and the master equation is
``dP/dt = L P`` with the POVM-space Lindbladian ``L_ab = Tr[M^a L(N^b)]`` (Luo, Chen, Carrasquilla, Clark,
PRL 128, 090501 (2022)). A step of size ``tau = 2 dt`` takes ``theta -> theta'`` minimising

    C(theta') = || (1 - dt L) P_theta' - (1 + dt L) P_theta ||_1,

warm-started from ``theta`` with a frozen copy holding ``P_theta``; its minimiser solves the Crank-Nicolson step
``(1 - tau/2 L) P(t + tau) = (1 + tau/2 L) P(t)`` (:class:`qdyn.open.neural.losses.TrapezoidProblem`). The loss
is sampled (``n_samples`` exact samples per iteration) or summed over all ``4^N`` strings (``n_samples=None``,
``N <= 8``); the optimiser is Adam or Levenberg-Marquardt (:mod:`qdyn.open.neural.strategies`).

Every step is checkpointed (atomically, :mod:`qdyn.nets.training`) and a run resumes after its last completed
step; step ``k`` draws from a stream derived from ``(seed, k)``, so a resumed run gives the numbers of an
uninterrupted one.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from qdyn.deprecation import renamed_arguments
from qdyn.errors import check_positive
from qdyn.open.neural.deprecated_fields import DeprecatedNeuralFields
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata, series_rows
from qdyn.seeding import make_rng

__all__ = ["NeuralEvolution", "evolve_transformer"]


@dataclass(frozen=True)
class NeuralEvolution(DeprecatedNeuralFields, Result):
    """A trapezoid-rule evolution with a POVM neural state.

    ``times`` has ``n_steps + 1`` entries (from 0); ``expect[name]`` and ``errors[name]`` hold the observables
    and their Monte-Carlo standard errors (0 with exact enumeration) at each time; ``residuals[k]`` is the
    trapezoid loss ``C`` after step ``k`` (estimated on fresh samples, with standard error
    ``residual_errors[k]``; exact with exact enumeration); ``loss_history[k]`` the optimiser's loss at each
    iteration of step ``k`` (NaN after an early stop). ``resumed_from`` is the step a resumed run started from.
    """

    times: np.ndarray
    expect: dict
    errors: dict
    residuals: np.ndarray
    residual_errors: np.ndarray
    loss_history: np.ndarray
    tau: float
    resumed_from: int
    resources: Resources
    metadata: Metadata

    def rows(self) -> list[dict]:
        """One row per time and observable, with its error bar."""
        return series_rows(self.times, self.expect, errors=self.errors)


def _resume(path, fingerprint: dict, n_steps: int, tau: float):
    """The payload of the checkpoint ``path`` of this problem (:mod:`qdyn.open.neural.fingerprint`), read by the
    ``weights_only`` loader of :mod:`qdyn.nets.training` (the history holds only plain numbers, lists and dicts);
    a checkpoint past ``t_final`` is refused (the network holds a later time)."""
    from qdyn.nets.training import CheckpointError, load_checkpoint

    payload = load_checkpoint(path, fingerprint=fingerprint)
    if not isinstance(payload.get("step"), int) or not isinstance(payload.get("history"), dict):
        raise CheckpointError(f"the checkpoint {path} is not one of evolve_transformer; pass resume=False to "
                              "start afresh")
    done = payload["step"] + 1
    if done > n_steps:
        raise CheckpointError(f"the checkpoint {path} already holds {done} steps (t = {done * tau:g}), past "
                              f"t_final = {n_steps * tau:g}, and its network holds the later time: resume with "
                              f"t_final >= {done * tau:g}, or pass resume=False to start afresh")
    return payload


@renamed_arguments(observables_ops="e_ops")
def evolve_transformer(state, lindbladian, t_final: float, tau: float, *, povm=None, e_ops: dict | None = None,
                       n_samples: int | None = 1000, n_eval_samples: int | None = None, iterations: int = 120,
                       lr: float = 1e-2, lr_final: float | None = None, chunk_size: int = 8192,
                       optimizer: str = "auto", tol: float = 1e-12, prefix_sharing: bool | None = None, seed=None,
                       checkpoint: str | os.PathLike | None = None, resume: bool = False, callback=None,
                       progress: bool = False, mode: str | None = None) -> NeuralEvolution:
    """Evolve ``state`` (trained in place) under ``dP/dt = L P`` from 0 to ``t_final`` in trapezoid steps ``tau``.

    Parameters
    ----------
    state : POVMTransformer or StringState holding ``P(0)`` (e.g. from
        :func:`~qdyn.open.neural.states.povm_transformer_state`).
    lindbladian : a :class:`~qdyn.open.povm_lindbladian.POVMLindbladian` (or a callable local action).
    t_final, tau : final time and step (``tau = 2 dt``; ``t_final`` a whole number of steps).
    povm : the POVM of ``lindbladian`` (default its ``.povm``), needed for observables.
    e_ops : observables recorded at every time: ``{name: operator}`` or a list (named 0, 1, ...) of Pauli sums,
        Pauli labels or matrices (e.g. :func:`~qdyn.open.site_average_paulis`); none by default.
    n_samples : samples per optimiser iteration; ``None`` sums exactly over all ``4^N`` strings (N <= 8).
    n_eval_samples : samples of the per-step residual and of the observables (default ``4 n_samples``).
    iterations : optimiser iterations per time step (Adam steps, or at most that many Levenberg-Marquardt
        Jacobians); ``lr`` the Adam learning rate, decayed geometrically to ``lr_final`` over each step when given.
    chunk_size : the most strings (samples times their connected strings) per network call; bounds memory,
        the gradient being accumulated over chunks.
    optimizer : ``"adam"`` (Adam on the L1 loss, the method of the paper), ``"lm"`` (exact enumeration only:
        Levenberg-Marquardt on the same residual vector), or ``"auto"``: ``"lm"`` with exact enumeration when the
        Jacobian (``4^N`` x parameters) has at most 1e8 entries, else Adam.
    tol : a step's optimisation stops once its exactly scored loss is at most ``tol``.
    prefix_sharing : evaluate connected strings from their first difference with the sample on, reusing the
        sample's keys/values (True), or each distinct string of a chunk once, in full (False); ``None`` picks,
        chunk by chunk, the one with fewer position evaluations. Both give the same numbers.
    seed : int, Generator or None; recorded. Step k draws from a stream derived from ``(seed, k)``.
    checkpoint, resume : a file written after every step (atomically), with the run's fingerprint
        (:mod:`qdyn.open.neural.fingerprint`: the generator, POVM, observables, network layout, ``tau``, sampling,
        optimiser options, ``iterations``, ``tol`` and ``seed``); with ``resume=True`` and an existing file, the
        run continues after its last completed step (parameters and histories restored) and gives the numbers of
        an uninterrupted run. A later ``t_final`` extends a run; a checkpoint of another problem or settings, one
        already past ``t_final``, or an unreadable file is a :class:`qdyn.nets.training.CheckpointError`
        (a ``ValueError``) saying what differs.
    callback : ``callback(step, time, state)`` after each step (and its checkpoint).
    progress : tqdm bar over time steps.
    mode : deprecated: ``"exact"`` is ``n_samples=None``, ``"sampled"`` keeps ``n_samples``.

    With exact enumeration every iteration's loss is exact and each step keeps the parameters with the
    smallest loss; with sampling the loss of the final parameters is estimated on ``n_eval_samples`` samples.
    """
    from qdyn.nets.optimisers import minimise
    from qdyn.nets.training import progress_bar, save_checkpoint
    from qdyn.open.neural.connections import local_action, use_prefix
    from qdyn.open.neural.losses import ExactOperator, TrapezoidProblem
    from qdyn.open.neural.states import check_state, derived_seed, freeze, observables, povm_and_e_ops, step_generator
    from qdyn.open.neural.strategies import resolve_optimizer, samples_from_mode, strategy_class, training_options

    state = check_state(state)
    t_final = check_positive("t_final", t_final)
    tau = check_positive("tau", tau)
    n_steps = int(round(t_final / tau))
    if n_steps < 1 or abs(n_steps * tau - t_final) > 1e-9 * max(1.0, t_final):
        raise ValueError(f"t_final={t_final} must be a positive integer multiple of tau={tau}")
    n_samples = samples_from_mode(mode, n_samples)
    options = training_options(n_samples=n_samples, n_eval_samples=n_eval_samples, iterations=iterations, lr=lr,
                               lr_final=lr_final, chunk_size=chunk_size)
    exact = options.n_samples is None
    action = local_action(lindbladian)
    povm, ops = povm_and_e_ops(lindbladian, povm, e_ops, state.n_sites)
    optimizer = resolve_optimizer(optimizer, exact, state, sampled_lm=False)
    tol = check_positive("tol", tol, allow_zero=True)
    prefix = use_prefix(state, prefix_sharing)
    _, seed = make_rng(seed)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs the checkpoint= file to resume from")
    dt = tau / 2
    operator = ExactOperator(action, state) if exact else None
    Strategy = strategy_class(exact, optimizer)
    eval_every = 1 if exact else None  # exact scores are cheap: keep the best iterate; sampled: score the last

    def measure(step):
        if not ops:
            return {}, {}
        est = observables(state, povm, ops, n_samples=options.n_eval_samples, seed=derived_seed(seed, step, 1),
                          chunk_size=chunk_size)
        return est.values, est.errors

    history = {"expect": [], "errors": [], "residuals": [], "residual_errors": [], "losses": [],
               "epochs": 0, "samples": 0}
    start_step = 0
    fingerprint = None
    if checkpoint is not None:
        from qdyn.open.neural.fingerprint import run_fingerprint

        fingerprint = run_fingerprint("evolve_transformer", state, lindbladian, povm, ops, tau=float(tau),
                                      n_samples=options.n_samples, n_eval_samples=options.n_eval_samples,
                                      iterations=options.iterations, lr=options.lr, lr_final=options.lr_final,
                                      optimizer=optimizer, tol=tol, seed=int(seed))
    if checkpoint is not None and resume and os.path.exists(checkpoint):
        payload = _resume(checkpoint, fingerprint, n_steps, tau)
        state.load_state_dict(payload["state_dict"])
        history = payload["history"]
        start_step = payload["step"] + 1
    if start_step == 0:
        values, errors = measure(0)
        history["expect"] = [{k: float(v) for k, v in values.items()}]
        history["errors"] = [{k: float(v) for k, v in errors.items()}]

    bar = progress_bar(n_steps, progress, desc="POVM trapezoid evolution", initial=start_step)
    with Stopwatch() as watch:
        try:
            for step in range(start_step, n_steps):
                problem = TrapezoidProblem(state, freeze(state), action, dt, prefix=prefix, operator=operator)
                strategy = Strategy(state, problem, options, step_generator(seed, state.device, step))
                run = minimise(state, strategy.step, strategy.evaluate, iterations=options.iterations,
                               eval_every=eval_every, tol=tol, converged=strategy.converged)
                values, errors = measure(step + 1)
                # plain Python floats only, so that the checkpoint loads with torch.load(weights_only=True)
                history["expect"].append({k: float(v) for k, v in values.items()})
                history["errors"].append({k: float(v) for k, v in errors.items()})
                history["residuals"].append(float(run.best_loss))
                history["residual_errors"].append(float(run.best_error))
                history["losses"].append(run.losses + [math.nan] * (options.iterations - len(run.losses)))
                history["epochs"] += len(run.losses)
                history["samples"] += strategy.samples
                if checkpoint is not None:
                    save_checkpoint(checkpoint, {"step": step, "state_dict": state.state_dict(), "history": history},
                                    fingerprint=fingerprint)
                bar.update(1)
                bar.set_postfix(residual=f"{run.best_loss:.2e}")
                if callback is not None:
                    callback(step, (step + 1) * tau, state)
        finally:
            bar.close()

    names = list(ops)
    return NeuralEvolution(
        times=tau * np.arange(n_steps + 1),
        expect={k: np.array([v[k] for v in history["expect"]]) for k in names},
        errors={k: np.array([v[k] for v in history["errors"]]) for k in names},
        residuals=np.array(history["residuals"]), residual_errors=np.array(history["residual_errors"]),
        loss_history=np.array(history["losses"]), tau=tau, resumed_from=start_step,
        resources=Resources(epochs=history["epochs"], samples=history["samples"], wall_time=watch.elapsed),
        metadata=make_metadata(seed=seed, backend="povm-transformer", device=str(state.device), tau=tau,
                               n_samples=options.n_samples, iterations=options.iterations, lr=lr,
                               lr_final=lr_final, optimizer=optimizer, prefix_sharing=prefix))
