"""How the neural drivers minimise a loss: one small step strategy per (sampling, optimiser) combination.

The drivers (:mod:`qdyn.open.neural.evolution`, :mod:`qdyn.open.neural.steady`) pick the strategy class once,
before their loop (:func:`strategy_class`), and hand its ``step`` / ``evaluate`` / ``converged`` to the generic
loop :func:`qdyn.nets.optimisers.minimise`, which keeps the best-scored parameters:

==========================  =====================================================  ==============================
strategy                     ``step()``                                              ``evaluate()``
==========================  =====================================================  ==============================
:class:`ExactLM`             one Levenberg-Marquardt iteration on ``r`` (all         ``||r||_1`` of the iterate
                             ``4^N`` strings; :mod:`qdyn.nets.levenberg_marquardt`,
                             Golub-Kahan (Krylov) steps from 4096 strings on)
:class:`ExactAdam`           one Adam step on ``||r||_1`` (all ``4^N`` strings)      ``||r||_1``, exactly
:class:`SampledAdam`         one Adam step on the sampled ``||r||_1``                ``||r||_1`` on
                             (``n_samples`` fresh exact samples)                     ``n_eval_samples`` samples
:class:`SampledLM`           a fresh batch of ``n_samples`` samples and up to       as :class:`SampledAdam`
                             ``batch_steps`` LM iterations on its fixed-batch
                             ``||L P||_2^2`` (steady states only)
==========================  =====================================================  ==============================

``||r||_2`` and ``||r||_1`` share the minimiser ``r = 0`` when the network can represent it, and LM reaches it
(residual 1e-4 .. 1e-15 at N = 4 with interactions) where Adam on the kinked L1 loss stalls near 1e-3.
"""

from __future__ import annotations

from dataclasses import dataclass

from qdyn.deprecation import warn_deprecated
from qdyn.errors import check_choice, check_int, check_positive
from qdyn.open.neural.connections import slots
from qdyn.open.neural.states import MAX_EXACT_SITES, sample

__all__ = ["ExactAdam", "ExactLM", "SampledAdam", "SampledLM", "TrainingOptions", "resolve_optimizer",
           "strategy_class", "training_options"]

#: Largest Jacobian (strings x parameters) for which ``optimizer="auto"`` picks LM with exact enumeration: N = 6
#: with the published 13k-parameter network (5.4e7 entries, 0.2 GB in the Krylov solver's single precision).
_LM_MAX_ENTRIES = 10**8


@dataclass(frozen=True)
class TrainingOptions:
    """Checked settings shared by the strategies. ``n_samples=None``: exact enumeration of all ``4^N`` strings."""

    n_samples: int | None
    n_eval_samples: int | None
    iterations: int
    lr: float
    lr_final: float | None
    chunk_size: int
    batch_steps: int = 1


def samples_from_mode(mode, n_samples):
    """The deprecated ``mode`` argument: ``"exact"`` means ``n_samples=None``, ``"sampled"`` keeps ``n_samples``."""
    if mode is None:
        return n_samples
    check_choice("mode", mode, ("sampled", "exact"))
    warn_deprecated("mode='sampled'|'exact' is deprecated; pass n_samples=None for exact enumeration of all 4^N "
                    "strings (mode='exact'), or an integer number of samples", stacklevel=5)
    return None if mode == "exact" else n_samples


def training_options(*, n_samples, n_eval_samples, iterations, lr, lr_final, chunk_size,
                     batch_steps: int = 1) -> TrainingOptions:
    """Check the drivers' settings; ``n_eval_samples`` defaults to ``4 n_samples`` (None when exact)."""
    if n_samples is not None:
        n_samples = check_int("n_samples", n_samples, minimum=2)
        n_eval_samples = 4 * n_samples if n_eval_samples is None else check_int("n_eval_samples", n_eval_samples,
                                                                               minimum=2)
    else:
        n_eval_samples = None
    lr = check_positive("lr", lr)
    return TrainingOptions(
        n_samples=n_samples, n_eval_samples=n_eval_samples, iterations=check_int("iterations", iterations, minimum=1),
        lr=lr, lr_final=None if lr_final is None else check_positive("lr_final", lr_final),
        chunk_size=check_int("chunk_size", chunk_size, minimum=1),
        batch_steps=check_int("batch_steps", batch_steps, minimum=1))


def resolve_optimizer(optimizer: str, exact: bool, state, *, sampled_lm: bool) -> str:
    """``"adam"`` or ``"lm"``. ``"auto"``: LM with exact enumeration when the Jacobian (``4^N`` x parameters)
    has at most 1e8 entries, else Adam. Sampled LM exists only where ``sampled_lm`` (steady states)."""
    check_choice("optimizer", optimizer, ("auto", "adam", "lm"))
    if optimizer == "lm" and not exact and not sampled_lm:
        raise ValueError("optimizer='lm' (Levenberg-Marquardt) needs exact enumeration (n_samples=None)")
    if optimizer == "auto":
        parameters = sum(p.numel() for p in state.parameters() if p.requires_grad)
        small = exact and state.n_sites <= MAX_EXACT_SITES and 4**state.n_sites * parameters <= _LM_MAX_ENTRIES
        return "lm" if small else "adam"
    return optimizer


class _Strategy:
    """Common state: the trained model, the problem (:mod:`qdyn.open.neural.losses`), the options, the random
    stream, and the samples drawn so far."""

    def __init__(self, state, problem, options: TrainingOptions, generator):
        self.state, self.problem, self.options, self.generator = state, problem, options, generator
        self.samples = 0
        self._optimiser = None  # the object whose state_dict a checkpoint keeps (Adam or LevenbergMarquardt)

    def converged(self) -> bool:
        return False

    def state_dict(self) -> dict:
        """What a checkpoint needs to continue with the same numbers: the random stream, the samples drawn and
        the optimiser's own state (tensors and plain numbers)."""
        return {"generator": self.generator.get_state(), "samples": self.samples,
                "optimiser": None if self._optimiser is None else self._optimiser.state_dict()}

    def load_state_dict(self, saved: dict) -> None:
        """Restore :meth:`state_dict` on a strategy built over the restored parameters."""
        self.generator.set_state(saved["generator"])
        self.samples = int(saved["samples"])
        if self._optimiser is not None:
            self._optimiser.load_state_dict(saved["optimiser"])


class ExactLM(_Strategy):
    """Levenberg-Marquardt on the exact residual vector."""

    def __init__(self, state, problem, options, generator):
        from qdyn.nets.levenberg_marquardt import LevenbergMarquardt

        super().__init__(state, problem, options, generator)
        residual = problem.exact()
        self._lm = self._optimiser = LevenbergMarquardt(state, residual.strings, residual.matrix, residual.target,
                                                        call_kwargs={"validate": False})

    def step(self) -> float:
        return self._lm.step()

    def evaluate(self) -> tuple[float, float]:
        return self._lm.loss, 0.0

    def converged(self) -> bool:
        return self._lm.converged


class ExactAdam(_Strategy):
    """Adam on the exact ``||r||_1``; a score is the same exact loss, so the step right after it reuses its graph."""

    def __init__(self, state, problem, options, generator):
        from qdyn.nets.optimisers import Adam

        super().__init__(state, problem, options, generator)
        self._residual = problem.exact()
        self._adam = self._optimiser = Adam(state, lr=options.lr, iterations=options.iterations,
                                            lr_final=options.lr_final)
        self._scored = None  # the loss of the current parameters, with its graph, when just evaluated

    def _backward(self) -> float:
        loss = self._scored if self._scored is not None else self._residual(self.state).abs().sum()
        self._scored = None
        loss.backward()
        return float(loss.detach())

    def step(self) -> float:
        return self._adam.step(self._backward)

    def evaluate(self) -> tuple[float, float]:
        self._scored = self._residual(self.state).abs().sum()
        return float(self._scored.detach()), 0.0


class _Sampled(_Strategy):
    """The sampled ``||r||_1`` (:func:`qdyn.open.neural.losses.sampled_l1`) as the score."""

    def __init__(self, state, problem, options, generator):
        super().__init__(state, problem, options, generator)
        self._slots = slots(problem.action, state)

    def _l1(self, n_samples: int, backward: bool) -> tuple[float, float]:
        from qdyn.open.neural.losses import sampled_l1

        self.samples += n_samples
        return sampled_l1(self.problem.ratio, self.state, n_samples, self.generator, self.options.chunk_size,
                          backward=backward, slots=self._slots)

    def evaluate(self) -> tuple[float, float]:
        return self._l1(self.options.n_eval_samples, backward=False)


class SampledAdam(_Sampled):
    """Adam on the sampled ``||r||_1``, fresh samples every step."""

    def __init__(self, state, problem, options, generator):
        from qdyn.nets.optimisers import Adam

        super().__init__(state, problem, options, generator)
        self._adam = self._optimiser = Adam(state, lr=options.lr, iterations=options.iterations,
                                            lr_final=options.lr_final)

    def step(self) -> float:
        return self._adam.step(lambda: self._l1(self.options.n_samples, backward=True)[0])


class SampledLM(_Sampled):
    """Levenberg-Marquardt on the fixed-batch ``||L P||_2^2`` of fresh samples
    (:meth:`qdyn.open.neural.losses.StationaryProblem.least_squares_batch`); returns the batch's
    ``sum_i sqrt(w_i) |rho_i|`` after its steps."""

    def step(self) -> float:
        from qdyn.nets.levenberg_marquardt import LevenbergMarquardt

        a = sample(self.state, self.options.n_samples, self.generator)
        self.samples += self.options.n_samples
        strings, matrix = self.problem.least_squares_batch(a)
        lm = LevenbergMarquardt(self.state, strings, matrix, 0.0, call_kwargs={"validate": False})
        return lm.run(self.options.batch_steps)[-1]


_STRATEGIES = {(True, "lm"): ExactLM, (True, "adam"): ExactAdam, (False, "adam"): SampledAdam,
               (False, "lm"): SampledLM}


def strategy_class(exact: bool, optimizer: str):
    """The strategy of exact enumeration (``exact``) or sampling with ``optimizer`` (``"adam"`` or ``"lm"``)."""
    return _STRATEGIES[(bool(exact), optimizer)]
