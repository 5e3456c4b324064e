"""Analytic eigenvalues of 1D problems, ``H = -c d^2/dx^2 + V`` (``c = hbar^2/2m`` from the units).

* Infinite well of width ``L``: ``E_n = c (n pi / L)^2``, ``n = 1, 2, ...``.
* Symmetric two-region box (walls at ``+-b``, ``V = v_in`` for ``|x| < a``, ``V = v_out`` for ``a < |x| <
b``):
  the finite well (``v_in = 0``) and the central barrier (``v_out = 0``). Matching the log-derivative at
  ``x = a``
  gives, for the well below the step (``k^2 = E/c``, ``kappa^2 = (v_out - E)/c``),

      even:  k tan(k a) =  kappa coth(kappa (b - a)),      odd:  k cot(k a) = -kappa coth(kappa (b - a)).

  They are solved in the pole-free Wronskian form ``W(E) = psi_in'(a) psi_out(a) - psi_in(a) psi_out'(a) =
  0`` with
  ``psi_in = C(mu_in, x)`` (even) or ``S(mu_in, x)`` (odd), ``psi_out = S(mu_out, b - x)``, ``mu = (V -
  E)/c`` and
  ``C = cosh(sqrt(mu) x)``, ``S = sinh(sqrt(mu) x)/sqrt(mu)`` (``cos``/``sin`` for ``mu < 0``) - entire in
  ``E``,
  so one formula covers ``E`` below and above the step. Roots are bracketed on a scan finer than the level
  spacing and refined with Brent's method (``brentq``) to full float64 precision.
* Harmonic oscillator ``V = s x^2``: ``E_n = 2 sqrt(c s) (n + 1/2)``.
* Poschl-Teller ``V = -D sech^2(alpha x)``: ``E_n = -c alpha^2 (lambda - n)^2``, ``lambda(lambda+1) = D/(c
alpha^2)``,
  ``n < lambda`` (Landau & Lifshitz, Quantum Mechanics, Sec. 23, problem 4).
* Morse ``V = D (1 - exp(-a x))^2``: ``E_n = D - c a^2 (lambda - n - 1/2)^2``, ``lambda = sqrt(D/c)/a``,
  ``n < lambda - 1/2`` (Morse, Phys. Rev. 34, 57 (1929)).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from qdyn.errors import check_int, check_positive
from qdyn.schrodinger.units import as_units

__all__ = [
    "infinite_well_levels",
    "symmetric_box_levels",
    "harmonic_levels",
    "poschl_teller_levels",
    "morse_levels",
]


def infinite_well_levels(k: int, length: float = 1.0, units="natural") -> np.ndarray:
    """``c (n pi / length)^2`` for ``n = 1..k``."""
    k = check_int("k", k, minimum=1)
    length = check_positive("length", length)
    c = as_units(units).hbar2_over_2m
    n = np.arange(1, k + 1)
    return c * (n * np.pi / length) ** 2


def harmonic_levels(k: int, strength: float = 1.0, units="natural") -> np.ndarray:
    """``2 sqrt(c strength) (n + 1/2)`` for ``n = 0..k-1`` (``2n + 1`` for ``-psi'' + x^2 psi``)."""
    k = check_int("k", k, minimum=1)
    strength = check_positive("strength", strength)
    c = as_units(units).hbar2_over_2m
    return 2.0 * np.sqrt(c * strength) * (np.arange(k) + 0.5)


def poschl_teller_levels(k: int, depth: float, alpha: float = 1.0, units="natural") -> np.ndarray:
    """The ``k`` lowest bound levels of ``-depth sech^2(alpha x)``; ``ValueError`` if it has fewer."""
    k = check_int("k", k, minimum=1)
    depth, alpha = check_positive("depth", depth), check_positive("alpha", alpha)
    c = as_units(units).hbar2_over_2m
    lam = 0.5 * (-1.0 + np.sqrt(1.0 + 4.0 * depth / (c * alpha**2)))
    n = np.arange(k)
    if n[-1] >= lam:
        raise ValueError(
            f"this Poschl-Teller well has only {int(np.ceil(lam))} bound states, asked for k={k}"
        )
    return -c * alpha**2 * (lam - n) ** 2


def morse_levels(k: int, depth: float, a: float = 1.0, units="natural") -> np.ndarray:
    """The ``k`` lowest bound levels of ``depth (1 - exp(-a x))^2``; ``ValueError`` if it has fewer."""
    k = check_int("k", k, minimum=1)
    depth, a = check_positive("depth", depth), check_positive("a", a)
    c = as_units(units).hbar2_over_2m
    lam = np.sqrt(depth / c) / a
    n = np.arange(k)
    if n[-1] >= lam - 0.5:
        raise ValueError(
            f"this Morse potential has only {int(np.ceil(lam - 0.5))} bound states, asked for k={k}"
        )
    return depth - c * a**2 * (lam - n - 0.5) ** 2


def _cs(mu: float, x: float) -> tuple[float, float]:
    """``(C, S)(mu, x)`` divided by ``cosh(sqrt(mu) x)`` when ``mu > 0`` (a positive factor, no overflow)."""
    if abs(mu) * x * x < 1e-10:
        return 1.0 + mu * x * x / 2.0, x * (1.0 + mu * x * x / 6.0)
    r = np.sqrt(abs(mu))
    if mu > 0:
        return 1.0, np.tanh(r * x) / r
    return np.cos(r * x), np.sin(r * x) / r


def _wronskian(energy: float, parity: int, v_in: float, v_out: float, a: float, b: float, c: float) -> float:
    mu_in, mu_out = (v_in - energy) / c, (v_out - energy) / c
    c_in, s_in = _cs(mu_in, a)
    psi, dpsi = (c_in, mu_in * s_in) if parity == 0 else (s_in, c_in)
    c_out, s_out = _cs(mu_out, b - a)
    return dpsi * s_out + psi * c_out


def symmetric_box_levels(
    k: int, v_in: float, v_out: float, half_width: float, wall: float, units="natural"
) -> np.ndarray:
    """The ``k`` lowest levels of the box ``[-wall, wall]`` with ``V = v_in`` for ``|x| < half_width`` and
    ``V = v_out`` elsewhere (finite well: ``v_in = 0``; central barrier: ``v_out = 0``)."""
    k = check_int("k", k, minimum=1)
    a, b = check_positive("half_width", half_width), check_positive("wall", wall)
    if a >= b:
        raise ValueError(f"half_width must be smaller than wall, got {a} >= {b}")
    c = as_units(units).hbar2_over_2m
    v_lo, v_hi = min(v_in, v_out), max(v_in, v_out)
    # Min-max: the k-th level lies below that of the box filled with v_hi, c (k pi / 2b)^2 + v_hi.
    e_max = v_hi + c * (k * np.pi / (2.0 * b)) ** 2 * 1.01 + 1e-12
    # Same-parity levels differ by a phase pi in int k(x) dx over (0, b); scanning the wavenumber
    # q = sqrt((E - v_lo)/c) in steps of pi/(64 b) resolves them (k(x) <= q, dk/dq >= 1 where allowed).
    q_max = np.sqrt((e_max - v_lo) / c)
    q = np.linspace(0.0, q_max, int(np.ceil(64 * b * q_max / np.pi)) + 2)[1:]
    energies = v_lo + c * q**2
    roots = []
    for parity in (0, 1):
        w = np.array([_wronskian(e, parity, v_in, v_out, a, b, c) for e in energies])
        for i in np.nonzero(np.sign(w[:-1]) * np.sign(w[1:]) <= 0)[0]:
            if w[i] == 0.0:
                roots.append(energies[i])
                continue
            if w[i + 1] == 0.0:
                continue
            roots.append(
                brentq(
                    _wronskian,
                    energies[i],
                    energies[i + 1],
                    args=(parity, v_in, v_out, a, b, c),
                    xtol=1e-15,
                    rtol=4 * np.finfo(float).eps,
                    maxiter=200,
                )
            )
    roots = np.sort(np.array(roots))
    if roots.size < k:  # cannot happen by the min-max bound; guard against a scan that is too coarse
        raise RuntimeError(f"bracketing found {roots.size} levels below {e_max:.6g}, expected at least {k}")
    return roots[:k]
