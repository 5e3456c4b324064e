"""The losses of the POVM neural solvers: the trapezoid step and the stationarity condition, exact or sampled.

Both ask a residual ``r = A P_theta - b`` to vanish (Luo, Chen, Carrasquilla, Clark, PRL 128, 090501 (2022)):

* **trapezoid step** of size ``tau = 2 dt`` from the frozen model ``P`` (:class:`TrapezoidProblem`):
  ``r = (1 - dt L) P_theta - (1 + dt L) P``, whose zero is the Crank-Nicolson step
  ``(1 - tau/2 L) P(t + tau) = (1 + tau/2 L) P(t)``;
* **stationarity** (:class:`StationaryProblem`): ``r = L P_theta``.

Each problem gives the residual in two forms:

* exact (:meth:`exact`, all ``4^N`` strings, ``N <= 8``): an :class:`ExactResidual`, the vector ``r`` with its
  sparse ``A`` and ``b`` for Levenberg-Marquardt, and ``||r||_1``;
* sampled (:meth:`ratio`): ``r(a) / P_theta(a)`` on samples ``a ~ P_theta`` (denominator detached), so that
  ``||r||_1 = E_{a ~ P_theta}[|r(a)| / P_theta(a)]`` and the gradient of the sample mean,
  ``E[sign r(a) grad r(a) / P_theta(a)]``, is an unbiased estimate of ``grad ||r||_1`` (:func:`sampled_l1`).
  Ratios ``P(b) / P(a)`` are formed from log-probability differences so that exponentially small
  probabilities at large ``N`` never underflow. The connected strings reuse their sample's cached keys and
  values where that is cheaper (:mod:`qdyn.open.neural.connections`).

Precision of the sampled forms (``precision=``): the network's arithmetic may run in float32 while its
parameters, the sums of log-conditionals and the residual stay in the network's dtype (float64 by default).
The stationarity residual ``sum_b L_ab P(b) / P(a)`` defaults to float32 (:data:`STATIONARY_PRECISION`): on the
dissipative Ising chain, N = 16-128, its ratios differ from float64 by at most 5e-6 of the largest, the loss by
at most 5e-6 relative and the gradient by at most 4e-6 of its largest entry
(``python benchmarks/povm_transformer.py``), far below the sampling error. The trapezoid residual
``(1 - dt L) P_theta - (1 + dt L) P`` cancels O(1) terms
(``P_theta(a) / P_theta(a) - P(a) / P_theta(a)``): float32 leaves an absolute error of about 1e-6 per sample
at N = 16 (5e-6 of a residual ``||r||_1 = 0.3``), i.e. 1e-3 of a well-converged step's ``||r||_1 ~ 1e-3`` and
growing with N, so it stays float64 by default (:data:`TRAPEZOID_PRECISION`); pass ``precision="single"`` where
that error is acceptable.
"""

from __future__ import annotations

import math

from qdyn.devices import balanced_chunks, map_chunks
from qdyn.errors import check_choice
from qdyn.open.neural.connections import (
    apply_action,
    deduplicate,
    evaluation_plan,
    log_probs_with_connected,
)
from qdyn.open.neural.states import all_strings, sample

__all__ = ["STATIONARY_PRECISION", "TRAPEZOID_PRECISION", "ExactOperator", "ExactResidual", "StationaryProblem",
           "TrapezoidProblem", "sampled_l1"]

#: Arithmetic of the network in the sampled stationarity loss (parameters and sums stay in the network's dtype).
STATIONARY_PRECISION = "single"
#: Arithmetic of the network in the sampled trapezoid loss.
TRAPEZOID_PRECISION = "double"


def _check_precision(precision):
    return None if precision is None else check_choice("precision", precision, ("single", "double"))


class ExactOperator:
    """``L`` on all ``4^N`` strings as index/value arrays: ``(L P)[i] = sum_m values[i, m] P[index[i, m]]``."""

    def __init__(self, action, state):
        import torch

        strings = all_strings(state)
        connected, values = apply_action(action, strings)
        powers = 4 ** torch.arange(state.n_sites, device=state.device, dtype=torch.int64)
        self.strings = strings
        self.index = (connected * powers).sum(-1)
        self.values = values.to(state.dtype)
        self._matrix = None

    def apply(self, P):
        """``L P`` for a full distribution ``P`` (differentiable)."""
        return (self.values * P[self.index]).sum(-1)

    def matrix(self):
        """``L`` as a torch sparse ``(4^N, 4^N)`` matrix (built once)."""
        if self._matrix is None:
            import torch

            m, width = self.index.shape
            rows = torch.arange(m, device=self.index.device).repeat_interleave(width)
            self._matrix = torch.sparse_coo_tensor(torch.stack([rows, self.index.reshape(-1)]),
                                                   self.values.reshape(-1), (m, m), check_invariants=True).coalesce()
        return self._matrix

    def shifted(self, c0: float, c1: float):
        """``c0 + c1 L`` as a torch sparse matrix."""
        import torch

        if c0 == 0:
            return (c1 * self.matrix()).coalesce()
        m = self.strings.shape[0]
        diagonal = torch.arange(m, device=self.index.device)
        identity = torch.sparse_coo_tensor(torch.stack([diagonal, diagonal]),
                                           torch.full((m,), c0, dtype=self.values.dtype, device=self.index.device),
                                           (m, m), check_invariants=True)
        return (identity + c1 * self.matrix()).coalesce()


class ExactResidual:
    """``r(theta) = (c0 + c1 L) P_theta - b`` over all ``4^N`` strings (``strings``, ``matrix`` ``= c0 + c1 L``,
    ``target`` ``= b``)."""

    def __init__(self, operator: ExactOperator, c0: float, c1: float, target):
        self.operator, self.c0, self.c1, self.target = operator, c0, c1, target
        self.strings = operator.strings

    @property
    def matrix(self):
        return self.operator.shifted(self.c0, self.c1)

    def __call__(self, state):
        """The residual vector of ``state``, with the gradient through ``P_theta``."""
        import torch

        P = torch.exp(state.log_prob(self.strings))
        return self.c0 * P + self.c1 * self.operator.apply(P) - self.target

    def l1(self, state) -> float:
        """``||r||_1`` of ``state`` (no gradient)."""
        import torch

        with torch.no_grad():
            return float(self(state).abs().sum())


class TrapezoidProblem:
    """One trapezoid step of size ``2 dt`` from the frozen model ``frozen`` for the trained ``state``.

    ``prefix``: the evaluation plan of the connected strings (True: cached keys/values, False: every distinct
    string in full, None: the cheaper; :func:`~qdyn.open.neural.connections.evaluation_plan`); ``precision``:
    the network's arithmetic in :meth:`ratio` (``"single"``, ``"double"``, or None for the network's own;
    module docstring)."""

    def __init__(self, state, frozen, action, dt: float, *, prefix: bool | None = False,
                 operator: ExactOperator | None = None, precision: str | None = TRAPEZOID_PRECISION):
        self.state, self.frozen, self.action, self.dt, self.prefix = state, frozen, action, dt, prefix
        self.operator, self.precision = operator, _check_precision(precision)

    def exact(self) -> ExactResidual:
        """``r = (1 - dt L) P_theta - (1 + dt L) P``, ``P`` the frozen model (needs the :class:`ExactOperator`)."""
        import torch

        with torch.no_grad():
            P = torch.exp(self.frozen.log_prob(self.operator.strings))
            target = P + self.dt * self.operator.apply(P)
        return ExactResidual(self.operator, 1.0, -self.dt, target)

    def ratio(self, a):
        """``r(a) / P_theta(a)`` for samples ``a`` (denominator detached), from log-probability differences."""
        import torch

        connected, values = apply_action(self.action, a)
        plan = evaluation_plan(a, connected, self.prefix, values)
        logp_new = log_probs_with_connected(self.state, a, connected, plan, self.precision)
        with torch.no_grad():
            logp_old = log_probs_with_connected(self.frozen, a, connected, plan, self.precision)
            ref = logp_new[:, 0].detach()
        values = values.to(logp_new.dtype)
        new = torch.exp(logp_new - ref[:, None])
        old = torch.exp(logp_old - ref[:, None])
        dt = self.dt
        return (new[:, 0] - dt * (values * new[:, 1:]).sum(1)) - (old[:, 0] + dt * (values * old[:, 1:]).sum(1))


class StationaryProblem:
    """The stationarity condition ``L P_theta = 0`` for the trained ``state``; ``prefix`` and ``precision`` as in
    :class:`TrapezoidProblem` (float32 arithmetic by default)."""

    def __init__(self, state, action, *, prefix: bool | None = False, operator: ExactOperator | None = None,
                 precision: str | None = STATIONARY_PRECISION):
        self.state, self.action, self.prefix, self.operator = state, action, prefix, operator
        self.precision = _check_precision(precision)

    def exact(self) -> ExactResidual:
        """``r = L P_theta`` (needs the :class:`ExactOperator`)."""
        return ExactResidual(self.operator, 0.0, 1.0, 0.0)

    def ratio(self, a):
        """``(L P_theta)(a) / P_theta(a)`` for samples ``a`` (denominator detached)."""
        import torch

        connected, values = apply_action(self.action, a)
        plan = evaluation_plan(a, connected, self.prefix, values)
        logp = log_probs_with_connected(self.state, a, connected, plan, self.precision)
        ref = logp[:, 0].detach()
        return (values.to(logp.dtype) * torch.exp(logp[:, 1:] - ref[:, None])).sum(1)

    def least_squares_batch(self, a):
        """The fixed-batch least-squares form of the loss on samples ``a`` of ``P_0`` (the model now),

            F(theta) = sum_i w_i ((L P_theta)(a_i) / P_0(a_i))^2,   w_i = P_0(a_i) / sum_j P_0(a_j),

        the self-normalised importance estimate of ``||L P_theta||_2^2`` (up to a constant), as ``(strings, M)``
        for :class:`qdyn.nets.levenberg_marquardt.LevenbergMarquardt`: the distinct strings of ``[a, connected]``
        and the sparse ``M`` with ``(M P)_i = sqrt(w_i) (L P)(a_i) / P_0(a_i)``, so that
        ``||M P_theta||_2^2 = F(theta)``."""
        import torch

        connected, values = apply_action(self.action, a)
        unique, inverse = deduplicate(torch.cat([a.unsqueeze(1), connected], dim=1))
        with torch.no_grad():
            log_p0 = self.state.log_prob(unique)[inverse.reshape(a.shape[0], -1)[:, 0]]
        scale = torch.exp(0.5 * (log_p0 - torch.logsumexp(log_p0, 0)) - log_p0)  # sqrt(w_i) / P_0(a_i)
        rows = torch.arange(a.shape[0], device=a.device).repeat_interleave(connected.shape[1])
        cols = inverse.reshape(a.shape[0], -1)[:, 1:].reshape(-1)
        entries = (values.to(log_p0.dtype) * scale[:, None]).reshape(-1)
        matrix = torch.sparse_coo_tensor(torch.stack([rows, cols]), entries, (a.shape[0], unique.shape[0]),
                                         check_invariants=True).coalesce()
        return unique, matrix


def sampled_l1(ratio_fn, state, n_samples: int, generator, chunk_size: int, *, backward: bool,
               slots: int = 1) -> tuple[float, float]:
    """Mean and standard error of ``|ratio(a)|`` over ``n_samples`` fresh samples; accumulates the gradient of the
    mean into the parameters' ``.grad`` when ``backward``, chunk by chunk (each chunk's graph is freed after its
    backward pass; the chunks' gradients are added in chunk order). A chunk holds at most ``chunk_size`` network
    evaluations: near-equal chunks of at most ``chunk_size // slots`` samples with ``slots`` strings each, as
    many as the torch threads run side by side (:func:`qdyn.devices.balanced_chunks`,
    :func:`qdyn.devices.map_chunks`), or every sample in one chunk when there are no more than ``chunk_size``
    distinct strings at all (``4^N``, duplicates being evaluated once)."""
    import torch

    a = sample(state, n_samples, generator)
    distinct = 4**state.n_sites if state.n_sites <= 15 else math.inf
    chunks = [a] if distinct <= chunk_size else balanced_chunks(a, max(1, chunk_size // max(1, slots)), state.device)
    parameters = [p for p in state.parameters() if p.requires_grad] if backward else []

    def chunk_l1(chunk):
        """``|ratio|`` of a chunk and the gradient of its share of the mean (none without ``backward``)."""
        with torch.set_grad_enabled(backward):
            ratio = ratio_fn(chunk)
        if not backward:
            return ratio.abs(), ()
        return ratio.detach().abs(), torch.autograd.grad(ratio.abs().sum() / n_samples, parameters,
                                                         allow_unused=True)

    values = []
    for value, grads in map_chunks(chunk_l1, chunks, state.device):
        values.append(value)
        for parameter, grad in zip(parameters, grads, strict=True):
            if grad is not None:
                parameter.grad = grad if parameter.grad is None else parameter.grad.add_(grad)
    values = torch.cat(values)
    return float(values.mean()), float(values.std() / math.sqrt(n_samples))
