"""Time-step rules and the Chebyshev convergence bound of real-time Krylov methods.

Rules (Klymko et al., PRX Quantum 3, 020323 (2022); Shen et al., Quantum 7, 1066 (2023)):

* ``"range"``: ``dt (E_max - E_min) = 1.5 pi``, so all phases ``E dt`` fit one ``2 pi`` window with a margin;
* ``"norm"``: ``dt = pi / ||H||`` with ``||H|| = max(|E_min|, |E_max|)`` bounded by the Pauli 1-norm (rigorous).

Unitary methods (UVQPE, ODMD, matrix pencil) read energies from phases ``exp(-i E dt)``: they alias unless
``(E_max - E_min) dt < 2 pi``; :func:`check_aliasing` enforces it.
"""

from __future__ import annotations

import numpy as np

from qdyn.errors import check_choice, check_int, check_positive
from qdyn.exact import spectral_bounds
from qdyn.operators import as_pauli_op

__all__ = ["bound", "check_aliasing", "choose_dt"]


def check_aliasing(bounds: tuple[float, float], dt: float, method: str = "uvqpe") -> None:
    """Raise ``ValueError`` when ``(E_max - E_min) dt >= 2 pi`` (energies ambiguous modulo ``2 pi/dt``)."""
    width = (bounds[1] - bounds[0]) * dt
    if width >= 2 * np.pi * (1 + 1e-12):
        raise ValueError(
            f"dt = {dt:.6g} aliases for the unitary method {method!r}: the spectrum spans "
            f"{bounds[1] - bounds[0]:.6g}, so (E_max - E_min)*dt = {width:.4g} >= 2*pi; use dt < "
            f"{2 * np.pi / (bounds[1] - bounds[0]):.6g} (choose_dt gives a safe value)")


def choose_dt(H, rule: str = "range", *, bounds: tuple[float, float] | None = None) -> float:
    """A Krylov time step for ``H`` by ``rule`` (``"range"`` or ``"norm"``, see the module docstring).

    ``bounds`` (an interval containing the spectrum) defaults to a Lanczos estimate. The result always passes the
    aliasing guard :func:`check_aliasing`.
    """
    check_choice("rule", rule, ("range", "norm"))
    op = as_pauli_op(H)
    lo, hi = bounds if bounds is not None else spectral_bounds(op, method="lanczos")
    if not hi > lo:
        raise ValueError(f"bounds must be (E_min, E_max) with E_max > E_min, got {(lo, hi)}")
    if rule == "range":
        dt = 1.5 * np.pi / (hi - lo)
    else:
        p_lo, p_hi = spectral_bounds(op, method="pauli")
        dt = np.pi / max(abs(p_lo), abs(p_hi))
    check_aliasing((lo, hi), dt, method=f"rule {rule!r}")
    return float(dt)


def bound(K, *, e0: float, e_max: float, gap: float, p0: float, dt: float) -> np.ndarray:
    """Chebyshev bound on the real-time Krylov ground-energy error at Krylov dimension ``K``:

        E_K - E_0 <= (E_max - E_0) (1 - p0)/p0 * T_d(1 + 2 tan^2(gap dt / 2))^(-2),   d = floor((K - 1)/2),

    with ``p0 = |<E_0|phi_0>|^2`` and ``T_d`` the Chebyshev polynomial of the first kind; valid for
    ``(E_max - E_0) dt <= pi`` (Epperly, Lin, Nakatsukasa, SIAM J. Matrix Anal. Appl. 43, 1263 (2022);
    Klymko et al. 2022). ``K`` may be an int or an array of ints >= 1.
    """
    dt = check_positive("dt", dt)
    gap = check_positive("gap", gap)
    p0 = check_positive("p0", p0)
    if p0 > 1:
        raise ValueError(f"p0 must be in (0, 1], got {p0}")
    if not e_max > e0:
        raise ValueError(f"e_max must exceed e0, got e0={e0}, e_max={e_max}")
    if (e_max - e0) * dt > np.pi * (1 + 1e-12):
        raise ValueError(f"the bound needs (e_max - e0)*dt <= pi, got {(e_max - e0) * dt:.4g}")
    ks = np.atleast_1d(np.asarray(K))
    for k in ks:
        check_int("K", k, minimum=1)
    d = (ks.astype(int) - 1) // 2
    x = 1 + 2 * np.tan(gap * dt / 2) ** 2
    cheb = np.cosh(d * np.arccosh(x))
    out = (e_max - e0) * (1 - p0) / p0 / cheb**2
    return out if np.ndim(K) else out[0]
