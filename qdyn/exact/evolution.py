"""Exact time evolution ``psi(t) = exp(-i H t) psi`` (hbar = 1) with a matrix-free Chebyshev propagator.

With the spectrum of ``H`` inside ``[c - r, c + r]`` and ``H' = (H - c)/r``,

    exp(-i H t) = exp(-i c t) [ J_0(r t) + 2 sum_{k>=1} (-i)^k J_k(r t) T_k(H') ],

(Tal-Ezer & Kosloff, J. Chem. Phys. 81, 3967 (1984)); ``T_k(H') psi`` follows the three-term recurrence, so one
step costs one ``H psi`` per retained term (about ``r t`` plus a few dozen). The Bessel coefficients decay
super-exponentially once ``k > r t``; the series is cut where they fall below ``tol``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import jv

from qdyn.errors import check_positive, check_state
from qdyn.exact.pauli_sum import PauliSum, as_pauli_sum, engine_for_device

__all__ = ["evolve", "chebyshev_coefficients"]


def chebyshev_coefficients(tau: float, tol: float = 1e-14) -> np.ndarray:
    """``a_k = (2 - delta_k0) (-i)^k J_k(tau)``, truncated once ``|J_k(tau)| < tol`` for ``k > tau``."""
    kmax = int(1.5 * tau + 30 + 3 * np.log10(1.0 / tol))
    k = np.arange(kmax + 1)
    bessel = jv(k, tau)
    above = np.nonzero((np.abs(bessel) >= tol) | (k <= tau))[0]
    cut = int(above[-1]) + 1 if above.size else 1
    coeffs = 2.0 * (-1j) ** k[:cut] * bessel[:cut]
    coeffs[0] /= 2.0
    return coeffs


def _chebyshev_step(op: PauliSum, psi, center: float, radius: float, coeffs: np.ndarray, dt: float):
    def scaled(v):
        return (op.apply(v) - center * v) / radius

    acc = coeffs[0] * psi
    if coeffs.size > 1:
        prev, cur = psi, scaled(psi)
        acc = acc + coeffs[1] * cur
    for a in coeffs[2:]:
        prev, cur = cur, 2 * scaled(cur) - prev
        acc = acc + a * cur
    return acc * np.exp(-1j * center * dt)


def evolve(H, psi, t, *, device: str = "cpu", tol: float = 1e-13, bounds: tuple[float, float] | None = None,
           precision: str = "double"):
    """``exp(-i H t) psi`` for a scalar ``t > 0``, or the states at every time of a 1-D array ``t``.

    ``t`` as an array must be non-negative and strictly increasing; the result then has shape ``(len(t), 2**n)``.
    ``bounds`` is an interval containing the spectrum (by default a Lanczos estimate widened to be safe, see
    :func:`qdyn.exact.spectral_bounds`). Returns numpy arrays for ``device="cpu"`` and torch tensors otherwise.
    """
    engine, dev = engine_for_device(device)
    op = as_pauli_sum(H, engine=engine, device=dev, precision=precision)
    psi = check_state(psi, op.num_qubits)
    times = np.asarray(t, dtype=float)
    if times.ndim == 0:
        check_positive("t", float(times))
    elif times.ndim == 1:
        if times.size == 0 or np.any(times < 0) or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise ValueError("t must be a positive number or a 1-D array of non-negative, strictly increasing times")
    else:
        raise ValueError(f"t must be a number or a 1-D array, got shape {times.shape}")
    check_positive("tol", tol)
    if bounds is None:
        from qdyn.exact.spectrum import spectral_bounds

        bounds = spectral_bounds(op.op, method="lanczos")
    lo, hi = float(bounds[0]), float(bounds[1])
    if not hi >= lo:
        raise ValueError(f"bounds must be (lowest, highest), got {bounds}")
    center, radius = (lo + hi) / 2, max((hi - lo) / 2, 1e-300)

    cache: dict[float, np.ndarray] = {}

    def step(state, dt):
        if dt == 0:
            return state
        if dt not in cache:
            cache[dt] = chebyshev_coefficients(radius * dt, tol)
        return _chebyshev_step(op, state, center, radius, cache[dt], dt)

    state = op.asarray(psi)
    if times.ndim == 0:
        return step(state, float(times))
    out = []
    previous = 0.0
    for time in times:
        state = step(state, float(time) - previous)
        previous = float(time)
        out.append(state)
    if engine == "numpy":
        return np.stack(out)
    import torch

    return torch.stack(out)
