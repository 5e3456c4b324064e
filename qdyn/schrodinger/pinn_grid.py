"""Where the Rayleigh-Ritz PINN works: its window, its quadrature pieces and its envelope centre.

A network on a window much wider than the states spends its input range and its quadrature nodes where
``psi ~ 0`` (a user's window of ``+-20`` around a ``sech^2`` well whose ground state is 0.5 wide left the
default mode at 6e-2 relative error). So, from rough levels ``E_n`` (second-order finite differences on 2000
points, ~1e-4 relative - enough for turning points):

* **window** (line problems): from the turning points of the highest wanted level ``E_top``, outwards until
  the WKB decay ``int kappa dx``, ``kappa = sqrt((V - E_top)/c)``, reaches ``A = ln(1/tol)/2 + 4``, i.e. the
  state has fallen to ``sqrt(tol) e^-4`` of its size at the turning point: cutting there with a hard wall moves
  the levels by ``~ e^(-2A) = tol e^-8`` relative (Hadamard's formula, see :mod:`qdyn.schrodinger.refine`),
  far below ``tol``; clipped to the problem's window, and made symmetric about a mirror-symmetric potential's
  centre. A box (``boundary="dirichlet"``) keeps its walls.
* **pieces**: every smooth piece in the window (the potential's jumps stay piece ends) is cut into equal
  pieces holding at most 6 radians of the local phase ``int sqrt(|E_top - V| / c) dx`` (wavenumber where
  allowed, decay rate where forbidden), so ``n_quad`` Gauss-Legendre nodes per piece resolve the states.
* **envelope centre**: for a potential without mirror symmetry, the minimum of ``V`` in the window (where the
  low states sit); the window's centre otherwise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from qdyn.schrodinger.fd import fd_eigen
from qdyn.schrodinger.problems import Problem

__all__ = ["PINNGrid", "pinn_grid"]

_SAMPLES = 20001  #: samples of V across the window for the turning points and phases
_RADIANS = 6.0  #: largest phase of one quadrature piece


@dataclass(frozen=True)
class PINNGrid:
    """The window the PINN solves on (``problem`` restricted to it, with hard walls), the edges of its quadrature
    pieces, and the centre of the networks' envelope."""

    problem: Problem  #: the problem on the window, ``boundary="dirichlet"``
    edges: np.ndarray  #: increasing piece edges, the window's ends and the jumps inside included
    envelope_center: float


def _margin(tol: float) -> float:
    return 0.5 * np.log(1.0 / tol) + 4.0


def _window(problem: Problem, top: float, tol: float) -> tuple[float, float]:
    a, b = problem.domain
    x = np.linspace(a, b, _SAMPLES)
    v = problem.V(x)
    allowed = np.nonzero(v < top)[0]
    if allowed.size == 0:
        return a, b
    kappa = np.sqrt(np.maximum(v - top, 0.0) / problem.c)
    action = np.concatenate([[0.0], np.cumsum(0.5 * (kappa[1:] + kappa[:-1]) * np.diff(x))])
    margin = _margin(tol)
    right = np.nonzero(action - action[allowed[-1]] >= margin)[0]
    left = np.nonzero(action[allowed[0]] - action >= margin)[0]
    lo, hi = (x[left[-1]] if left.size else a), (x[right[0]] if right.size else b)
    centre = problem.parity_center
    if centre is not None:
        half = max(centre - lo, hi - centre)
        lo, hi = max(centre - half, a), min(centre + half, b)
    return float(lo), float(hi)


def _edges(problem: Problem, top: float, min_pieces: int) -> np.ndarray:
    ends = problem.breakpoints
    counts = []
    for lo, hi in zip(ends[:-1], ends[1:], strict=True):
        x = np.linspace(lo, hi, 2001)
        wave = np.sqrt(np.abs(top - problem.V(x)) / problem.c)
        phase = float(np.sum(0.5 * (wave[1:] + wave[:-1]) * np.diff(x)))
        counts.append(max(1, int(np.ceil(phase / _RADIANS))))
    factor = int(np.ceil(min_pieces / sum(counts)))
    edges = [ends[:1]] + [np.linspace(lo, hi, factor * m + 1)[1:]
                          for lo, hi, m in zip(ends[:-1], ends[1:], counts, strict=True)]
    return np.concatenate(edges)


def pinn_grid(problem: Problem, k: int, tol: float, min_pieces: int = 1) -> PINNGrid:
    """The window, quadrature pieces (at least ``min_pieces``, so that the nodes outnumber the networks' basis
    functions) and envelope centre of a PINN run for the ``k`` lowest levels to ``tol`` (module docstring)."""
    top = float(fd_eigen(problem, k, n=max(2000, 4 * k))[0][-1])
    lo, hi = _window(problem, top, tol) if problem.boundary == "decaying" else problem.domain
    boxed = dataclasses.replace(problem, domain=(lo, hi), boundary="dirichlet")
    centre = 0.5 * (lo + hi)
    if problem.boundary == "decaying" and problem.parity_center is None:
        x = np.linspace(lo, hi, _SAMPLES)
        centre = float(x[np.argmin(boxed.V(x))])
    return PINNGrid(boxed, _edges(boxed, top, min_pieces), centre)
