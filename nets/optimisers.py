"""Generic optimisation loops for torch modules: decayed Adam steps, and a loop that keeps the best parameters.

* :class:`Adam` - ``torch.optim.Adam`` with the learning rate decayed geometrically from ``lr`` to ``lr_final``
  over a planned number of steps, ``lr_k = lr (lr_final / lr)^(k / iterations)``; one call of :meth:`Adam.step`
  is one iteration on a closure that back-propagates its own loss (so a loss can accumulate its gradient in
  chunks).
* :func:`minimise` - takes optimiser steps, scores the parameters every few steps with a separate, more accurate
  loss, and leaves the module with the best-scored parameters (the step may be Adam, a Levenberg-Marquardt
  iteration of :mod:`qdyn.nets.levenberg_marquardt`, or anything else returning a loss). Its loop state can be
  saved before every score and resumed, so a checkpointed run continues with the numbers of an uninterrupted one.

Nothing here knows what the loss means: callers pass closures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from qdyn.errors import check_int, check_positive

__all__ = ["Adam", "Minimisation", "minimise"]


class Adam:
    """Adam on ``module``'s parameters with a geometric learning-rate decay.

    Parameters
    ----------
    module : the ``torch.nn.Module`` whose parameters are optimised.
    lr : the initial learning rate (> 0).
    iterations : the number of steps over which the rate decays to ``lr_final``.
    lr_final : the rate after ``iterations`` steps; ``None`` keeps ``lr`` constant.
    """

    def __init__(self, module, *, lr: float, iterations: int, lr_final: float | None = None):
        lr = check_positive("lr", lr)
        iterations = check_int("iterations", iterations, minimum=1)
        gamma = 1.0 if lr_final is None else (check_positive("lr_final", lr_final) / lr) ** (1.0 / iterations)
        self._optimiser = torch.optim.Adam(module.parameters(), lr=lr)
        self._scheduler = torch.optim.lr_scheduler.ExponentialLR(self._optimiser, gamma)

    def step(self, closure: Callable[[], float]) -> float:
        """Zero the gradients, call ``closure()`` (which computes the loss, back-propagates it and returns its
        value), take one Adam step and decay the rate; returns the loss of the parameters before the step."""
        self._optimiser.zero_grad()
        value = float(closure())
        self._optimiser.step()
        self._scheduler.step()
        return value

    def state_dict(self) -> dict:
        """The moments and the learning-rate schedule (tensors and plain numbers, for a checkpoint)."""
        return {"optimiser": self._optimiser.state_dict(), "scheduler": self._scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self._optimiser.load_state_dict(state["optimiser"])
        self._scheduler.load_state_dict(state["scheduler"])


@dataclass(frozen=True)
class Minimisation:
    """What :func:`minimise` did: ``losses[k]`` the value returned by step ``k``; ``eval_iterations`` /
    ``eval_losses`` / ``eval_errors`` the scores and the step counts at which they were taken; the module was
    left with the parameters of ``best_loss`` (error ``best_error``), scored after ``best_iteration`` steps."""

    losses: list
    eval_iterations: list
    eval_losses: list
    eval_errors: list
    best_loss: float
    best_error: float
    best_iteration: int


_LOOP_KEYS = ("losses", "eval_iterations", "eval_losses", "eval_errors", "best_loss", "best_error", "best_iteration",
              "best_parameters", "taken")


def minimise(module, step: Callable[[], float], evaluate: Callable[[], tuple[float, float]], *, iterations: int,
             eval_every: int | None = 1, tol: float = 0.0, converged: Callable[[], bool] | None = None,
             bar=None, save: Callable[[dict], None] | None = None, resume: dict | None = None) -> Minimisation:
    """Optimise ``module`` by calling ``step()`` up to ``iterations`` times and keep its best-scored parameters.

    ``evaluate()`` returns ``(value, error)``, the accurate loss of the current parameters with its standard
    error (0 when exact); it is called before every ``eval_every``-th step (``eval_every=None``: never) and once
    after the last step taken, and the module ends with the parameters of the smallest value. The loop stops
    early once a score is at most ``tol``, or when ``converged()`` turns true (then the parameters are scored
    once more). ``bar`` (e.g. :func:`qdyn.nets.training.progress_bar`) is advanced once per step and shows the
    best score.

    Checkpoints: ``save(loop)`` is called after every step that the next score follows (every ``eval_every``-th
    step, and the last), with the loop's state ``loop`` (plain numbers, lists and tensors); the caller stores it
    with the module's parameters and its own state (optimiser moments, random streams). ``resume=loop``
    continues from such a state, with the module and the caller's state already restored: the run then gives
    the numbers of an uninterrupted one.
    """
    iterations = check_int("iterations", iterations, minimum=0)
    if eval_every is not None:
        eval_every = check_int("eval_every", eval_every, minimum=1)
    if resume is None:
        losses, eval_iterations, eval_losses, eval_errors = [], [], [], []
        best_loss, best_error, best_iteration, best_parameters = math.inf, math.nan, -1, None
        taken = 0
    else:
        missing = [k for k in _LOOP_KEYS if k not in resume]
        if missing:
            raise ValueError(f"resume lacks the loop state {missing}")
        losses, eval_iterations, eval_losses, eval_errors = (list(resume[k]) for k in _LOOP_KEYS[:4])
        best_loss, best_error, best_iteration = resume["best_loss"], resume["best_error"], resume["best_iteration"]
        best_parameters, taken = resume["best_parameters"], check_int("taken", resume["taken"], minimum=0)
        if taken > iterations:
            raise ValueError(f"the loop state has taken {taken} steps, more than iterations={iterations}")
        if bar is not None:
            bar.update(taken)
    while True:
        last = taken == iterations or (converged is not None and converged())
        if last or (eval_every is not None and taken % eval_every == 0):
            value, error = evaluate()
            eval_iterations.append(taken)
            eval_losses.append(float(value))
            eval_errors.append(float(error))
            if value < best_loss or best_parameters is None:
                best_loss, best_error, best_iteration = float(value), float(error), taken
                best_parameters = {k: v.detach().clone() for k, v in module.state_dict().items()}
            if bar is not None:
                bar.set_postfix(best=f"{best_loss:.2e}")
            if value <= tol:
                break
        if last:
            break
        losses.append(float(step()))
        taken += 1
        if bar is not None:
            bar.update(1)
        if save is not None and (taken == iterations or (eval_every is not None and taken % eval_every == 0)):
            save({"losses": losses, "eval_iterations": eval_iterations, "eval_losses": eval_losses,
                  "eval_errors": eval_errors, "best_loss": best_loss, "best_error": best_error,
                  "best_iteration": best_iteration, "best_parameters": best_parameters, "taken": taken})
    module.load_state_dict(best_parameters)
    return Minimisation(losses=losses, eval_iterations=eval_iterations, eval_losses=eval_losses,
                        eval_errors=eval_errors, best_loss=best_loss, best_error=best_error,
                        best_iteration=best_iteration)
