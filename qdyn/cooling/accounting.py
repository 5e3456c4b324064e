"""Query accounting shared by the cooling driver, its circuits and the baselines.

* :func:`propagator_degree` -- ``e^{-i G t}`` with ``||G|| <= r`` costs ``m = len(chebyshev_coefficients(r t)) - 1``
  applications of ``G / r`` (the Chebyshev propagator of :mod:`qdyn.exact.evolution`; ``T_0`` is free), i.e.
  ``m`` queries to a block encoding of ``G``; the circuit's Jacobi-Anger polynomials have the same degree.
* :func:`expected_queries` -- a post-selected piece that spends ``q`` queries per attempt and succeeds with
  probability ``p`` costs ``q / p`` queries on average when it is repeated until it succeeds.
"""

from __future__ import annotations

import numpy as np

from qdyn.exact.evolution import chebyshev_coefficients

__all__ = ["expected_queries", "propagator_degree"]


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
