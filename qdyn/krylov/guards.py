"""Physics guards of real-time Krylov solves: the spectral floor, collapsed references, and the automatic threshold.

* **Spectral floor.** No eigenvalue of ``H`` lies below ``data.bounds[0]`` (the lowest Ritz value of the exact
  backends' Lanczos run widened by 2 % of the width, or a Lanczos estimate of the whole spectrum), nor below a
  ``lower_bound`` the user knows (e.g. an exact ground energy). An energy below
  ``floor - tolerance`` comes from directions of ``S`` (or Hankel modes) that hold rounding or shot noise, not
  signal: a spurious root (Klymko et al., PRX Quantum 3, 020323 (2022), Sec. IV; Epperly, Lin, Nakatsukasa,
  SIAM J. Matrix Anal. Appl. 43, 1263 (2022)). The tolerance is ``1e-8 (E_max - E_min)`` for rounding plus
  ``2 eta (E_max - E_min)`` for the data's noise level ``eta`` (RMS standard error of one overlap).
* **Collapsed references.** The Gram matrix ``G_ab = s[a, b, 0] = <phi_a|phi_b>`` must have full rank; with
  dependent references every Krylov block repeats and ``S`` has exact null directions.
* **Resolved weight.** A root of noisy data is determined only if its weight ``w`` in the references (see
  :mod:`qdyn.krylov.pencils`) stands clear of the noise: one eigenstate contributes ``w exp(-i E t_m)`` to every
  overlap, and ``K`` overlaps of noise level ``eta`` fix an amplitude to about ``eta / sqrt(K)``, with ``eta``
  the larger of the data's noise level and a tenth of the threshold (the automatic threshold starts at ``10 eta``;
  one the floor guard had to raise says the data behave noisier than their standard errors). Below
  ``10 eta / sqrt(K)`` the lowest root is a blend of states the noise does not separate, and a lower state (the
  ground state of a reference that barely overlaps it, e.g. a random state on many qubits) may be hidden: the
  solve is not converged (Krylov error analysis: Epperly, Lin, Nakatsukasa, SIAM J. Matrix Anal. Appl. 43, 1263
  (2022) bound the error through the ground-state overlap and the noise).
* **Automatic threshold.** Start from ten times the noise level (Klymko et al.), at least ``1e-11`` and at most
  ``0.1``; raise it by ``sqrt(10)`` until the lowest energy respects the floor (at most ``1``: one kept direction
  or mode); where no threshold does, keep the starting one and drop the roots below the floor.
"""

from __future__ import annotations

import numpy as np

from qdyn.krylov.data import KrylovData
from qdyn.krylov.pencils import Pencil, solve_at

__all__ = ["auto_threshold", "floor_tolerance", "reference_rank", "select_threshold", "spectral_floor",
           "unresolved_weight"]

_EXACT_FLOOR = 1e-11
_AUTO_CAP = 0.1  #: the starting threshold never exceeds this (1 would discard every Hankel mode)
_AUTO_MAX = 1.0
_STEP = np.sqrt(10.0)
_RESOLVED = 10.0  #: a root's weight must exceed this many noise amplitudes eta / sqrt(K)


def auto_threshold(data: KrylovData) -> float:
    """The starting automatic threshold: ten times the noise level of one overlap element, in ``[1e-11, 0.1]``."""
    return float(np.clip(10.0 * data.noise_level, _EXACT_FLOOR, _AUTO_CAP))


def spectral_floor(data: KrylovData, lower_bound: float | None) -> float:
    """The highest known lower bound of the spectrum: ``data.bounds[0]``, or ``lower_bound`` when higher."""
    return data.bounds[0] if lower_bound is None else max(data.bounds[0], lower_bound)


def floor_tolerance(data: KrylovData) -> float:
    """How far below the floor an energy may lie from rounding and noise alone (see the module docstring)."""
    width = data.bounds[1] - data.bounds[0]
    return (1e-8 + 2.0 * data.noise_level) * width


def reference_rank(data: KrylovData) -> int:
    """Numerical rank of the references' Gram matrix ``G_ab = <phi_a|phi_b>``: eigenvalues above
    ``max(1e-10, 10 eta)`` times the largest count (``eta`` the noise level)."""
    gram = data.s[:, :, 0]
    lam = np.linalg.eigvalsh((gram + gram.conj().T) / 2)
    return int(np.sum(lam > max(1e-10, 10.0 * data.noise_level) * lam[-1]))


def select_threshold(data: KrylovData, method: str, dim: int, floor: float, tol: float,
                     start: float | None = None) -> tuple[float, Pencil, int]:
    """The automatic threshold (from ``start``, default :func:`auto_threshold`), its solve, and the number of
    roots dropped below ``floor - tol`` (see the module docstring)."""
    start = auto_threshold(data) if start is None else start
    first = solve_at(data, method, dim, start)
    threshold, pencil = start, first
    while pencil.energies.size:
        if pencil.energies[0] >= floor - tol:
            return threshold, pencil, 0
        threshold *= _STEP
        if threshold > _AUTO_MAX * (1 + 1e-12):
            break
        pencil = solve_at(data, method, dim, threshold)
    keep = first.energies >= floor - tol
    return start, first.keep(keep), int(np.sum(~keep))


def unresolved_weight(data: KrylovData, pencil: Pencil, n_lags: int, threshold: float) -> str | None:
    """Why the lowest root of ``pencil`` (solved from ``n_lags`` lags of noisy ``data`` at ``threshold``) is not
    resolved above the noise (see the module docstring), or ``None`` when it is or the data are exact."""
    if not (data.noisy and pencil.weights.size):
        return None
    resolution = max(data.noise_level, threshold / 10) / np.sqrt(n_lags)
    weight = float(pencil.weights[0])
    if weight >= _RESOLVED * resolution:
        return None
    return (f"the lowest root holds only {weight:.2g} of the references' weight, less than "
            f"{_RESOLVED * resolution:.2g} ({_RESOLVED:g} noise amplitudes eta/sqrt(K) = {resolution:.2g}): the "
            "noise does not resolve it, and a lower state may be hidden; use a reference with more ground-state "
            "weight, or lower the noise (more shots, mitigation)")
