"""Query accounting shared by the cooling driver, its circuits and the baselines.

* :func:`propagator_degree` -- ``e^{-i G t}`` with ``||G|| <= r`` costs ``m = len(chebyshev_coefficients(r t)) - 1``
  applications of ``G / r`` (the Chebyshev propagator of :mod:`qdyn.exact.evolution`; ``T_0`` is free), i.e.
  ``m`` queries to a block encoding of ``G``; the circuit's Jacobi-Anger polynomials have the same degree.
* :func:`expected_queries` -- a post-selected piece that spends ``q`` queries per attempt and succeeds with
  probability ``p`` costs ``q / p`` queries on average when it is repeated until it succeeds.
* :func:`check_success_probabilities` -- a piece whose post-selection succeeds with probability below
  ``MIN_SUCCESS_PROBABILITY`` (1e-12) warns :class:`qdyn.errors.PhysicsWarning` and the result is flagged
  (``CoolingResult.low_success_probability``): ``1/p > 1e12`` repetitions are beyond any run, and the state
  renormalised by ``1/sqrt(p) > 1e6`` amplifies the simulation's rounding as much.
"""

from __future__ import annotations

import warnings

import numpy as np

from qdyn.errors import PhysicsWarning
from qdyn.exact.evolution import chebyshev_coefficients

__all__ = ["MIN_SUCCESS_PROBABILITY", "check_success_probabilities", "expected_queries", "propagator_degree"]

#: Smallest post-selection probability of a piece accepted without a warning (module docstring).
MIN_SUCCESS_PROBABILITY = 1e-12


def propagator_degree(tau: float, tol: float = 1e-13) -> int:
    """Degree ``m`` of the Chebyshev propagator of ``e^{-i tau x}`` on [-1, 1] truncated at ``tol``."""
    return int(chebyshev_coefficients(tau, tol=tol).size) - 1


def expected_queries(queries, probabilities) -> int:
    """``sum_k q_k / p_k`` rounded: the queries of pieces repeated until they succeed (``p_k = 1`` when nothing is
    post-selected). A piece with ``p_k = 0`` and ``q_k > 0`` never succeeds: ``ValueError``."""
    q = np.asarray(queries, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if q.shape != p.shape:
        raise ValueError(f"queries and probabilities must have the same shape, got {q.shape} and {p.shape}")
    spent = q > 0
    if np.any(p[spent] <= 0):
        raise ValueError("a piece that spends queries has success probability 0: it never succeeds")
    return int(round(float(np.sum(q[spent] / p[spent]))))


def check_success_probabilities(probabilities, what: str) -> bool:
    """True (and a :class:`qdyn.errors.PhysicsWarning` naming ``what`` and the first such piece) when a
    post-selection probability is below ``MIN_SUCCESS_PROBABILITY``; the caller flags its result."""
    p = np.asarray(probabilities, dtype=float)
    low = np.flatnonzero(~(p >= MIN_SUCCESS_PROBABILITY))  # NaN counts as low
    if low.size == 0:
        return False
    first = int(low[0])
    warnings.warn(f"{what}: the post-selection probability of step {first} is {p[first]:.3g} (smallest "
                  f"{np.nanmin(p):.3g}, {low.size} step(s) below {MIN_SUCCESS_PROBABILITY:g}): the filter leaves "
                  "almost nothing of the state, so it would be repeated ~1/p times and the renormalised state is "
                  "dominated by rounding; start closer to the target (a larger overlap), use a milder filter, or, "
                  "for cooling circuits, a smaller eta or amplify=True; the result is flagged "
                  "low_success_probability=True", PhysicsWarning, stacklevel=3)
    return True
