"""Damping of real-time Krylov overlaps by hardware noise: estimated from the data and undone before solving.

On a noisy device a measured overlap loses signal. For noise that acts like a global depolarising channel (a
common model of twirled circuits that spread their Pauli errors over the register) of fidelity ``f`` per time step
``dt`` (one block of Trotter layers),

    s_obs[a, b, m] = sqrt(A_a A_b) exp(-gamma t_m) s[a, b, m],        gamma = -log(f) / dt,

(``h`` alike), with ``A_a`` the signal kept by the untimed part of the circuit (state preparation, measurement).
A unitary evolution gives ``A = 1`` and ``gamma = 0``. A common scale does not move the roots of the generalised
problems, but the decay does: it multiplies ``S`` and ``H`` elementwise by ``exp(-gamma |k - j| dt)``, which is
not a similarity, and biases VQPE and UVQPE (spurious roots below ``E0`` when ``gamma t_max`` reaches a few
percent). The Hankel methods fit each mode's decay and are not biased by a uniform one (``decay_rates`` shows it).

What the data tell (no extra circuits):

* ``A_a``: the lag-0 diagonal ``s[a, a, 0] = <phi_a|phi_a>``, which is 1 for a normalised reference;
* ``gamma``: the decay rates ``-log|mu_i| / dt`` of the UVQPE roots, averaged with their weights in the
  references (the weight of a root that the lags resolve dominates; a single root's rate scatters with the noise).
  For a unitary the compressed one-step propagator of a converged root has ``|mu_i| = 1`` (``|mu_i| < 1`` also
  when the roots have not converged with ``K``: then the estimate includes that truncation, which the correction
  treats alike, and the solver's convergence check says so; it is never applied to exact data). A decay that
  removes less than :data:`MIN_LOSS` of the signal by the last lag is within what truncation and shot noise give a
  unitary signal, and is left alone.

:func:`normalise` divides by ``sqrt(A_a A_b)``, :func:`undamp` multiplies by ``exp(gamma t_m)`` (standard errors
alike): a rescaling under the global-depolarising model, written by hand because no library we depend on does it
on Krylov data. A non-uniform decay (amplitude damping towards one state, crosstalk) is only partly undone: what
remains shows in the solver's error bar through the bootstrap (which re-estimates ``gamma`` on every replica) and
the stability spread, and a correction that matters is warned about (:func:`qdyn.krylov.solve`).
"""

from __future__ import annotations

import numpy as np

from qdyn.krylov.data import KrylovData
from qdyn.krylov.guards import select_threshold

__all__ = ["MIN_LOSS", "estimate_rate", "normalise", "undamp"]

MIN_LOSS = 0.05
"""A decay removing less than this fraction of the signal by the last lag is left alone: truncation and shot noise
give unitary shot data an apparent 3-4 % (TFIM n = 8, 16 lags, 1e6 shots), and undoing it only adds a bias."""


def normalise(data: KrylovData) -> KrylovData:
    """Divide ``s[a, b]`` and ``h[a, b]`` (and their errors) by ``sqrt(A_a A_b)``, ``A_a = Re s[a, a, 0]``, so that
    the lag-0 diagonal is 1 again (see the module docstring); ``data`` unchanged when it already is."""
    amp = data.s[np.arange(data.n_refs), np.arange(data.n_refs), 0].real
    if np.allclose(amp, 1.0, rtol=0, atol=1e-14):
        return data
    if np.any(amp <= 0):
        raise ValueError(f"the measured <phi_a|phi_a> = {np.round(amp, 3).tolist()} has a non-positive element: "
                         "the data hold no signal at lag 0; mitigate (readout, ZNE) or use shallower circuits")
    scale = 1.0 / np.sqrt(np.outer(amp, amp))[:, :, None]
    return _scaled(data, scale)


def undamp(data: KrylovData, rate: float) -> KrylovData:
    """Multiply the rows (and their errors) at ``t_m`` by ``exp(rate t_m)`` (``rate`` per unit time)."""
    if rate == 0:
        return data
    return _scaled(data, np.exp(rate * data.times)[None, None, :])


def _scaled(data: KrylovData, scale: np.ndarray) -> KrylovData:
    h = None if data.h is None else data.h * scale
    h_err = None if data.h_err is None else data.h_err * scale
    return data.replace(s=data.s * scale, s_err=data.s_err * scale, h=h, h_err=h_err)


def estimate_rate(data: KrylovData, floor: float, tol: float) -> float:
    """``gamma >= 0`` per unit time: the decay rates ``-log|mu_i| / dt`` of the UVQPE roots (all lags, the automatic
    threshold with the spectral-floor guard ``floor - tol`` of :func:`qdyn.krylov.guards.select_threshold`)
    averaged with the roots' weights in the references; 0 when no root survives, or when the decay removes less
    than :data:`MIN_LOSS` of the signal by the last lag (see the module docstring)."""
    pencil = select_threshold(data, "uvqpe", data.n_times - 1, floor, tol)[1]
    if not pencil.weights.size or pencil.weights.sum() <= 0:
        return 0.0
    rate = float(np.average(pencil.decay, weights=pencil.weights))
    return rate if 1.0 - np.exp(-rate * data.times[-1]) > MIN_LOSS else 0.0
