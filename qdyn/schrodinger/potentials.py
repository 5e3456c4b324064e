"""Potentials ``V(x)`` for 1D Schrodinger problems, each declaring where it jumps.

A :class:`Potential` wraps a vectorised numpy callable. Solvers split their grids and quadratures at the
declared
``discontinuities`` (finite jumps of ``V``), which is what lets the classical solvers reach machine
precision on
square wells. ``symmetry_center`` (when not ``None``) declares ``V(c + u) = V(c - u)``, so solvers may use
parity.
Evaluating a potential checks that it returned finite numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from qdyn.errors import check_positive

__all__ = [
    "Potential",
    "constant",
    "square_well",
    "square_barrier",
    "harmonic",
    "quartic",
    "double_well",
    "poschl_teller",
    "morse",
    "custom",
]


@dataclass(frozen=True)
class Potential:
    """A potential ``V(x)`` (energy units) with its jumps and optional mirror symmetry.

    ``params`` records the constructor's arguments (the exact references read them).
    """

    func: Callable[[np.ndarray], np.ndarray]
    discontinuities: tuple[float, ...] = ()
    symmetry_center: float | None = None
    name: str = "custom"
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if not callable(self.func):
            raise TypeError(f"potential func must be callable, got {type(self.func).__name__}")
        jumps = tuple(sorted(float(d) for d in self.discontinuities))
        if not all(np.isfinite(jumps)):
            raise ValueError(f"discontinuities must be finite numbers, got {self.discontinuities}")
        object.__setattr__(self, "discontinuities", jumps)

    def __call__(self, x) -> np.ndarray:
        """``V(x)`` as a float64 array of the shape of ``x`` (a scalar is broadcast: a constant potential).
        ``TypeError`` when the callable returns something that is not real numbers, ``ValueError`` when it
        returns another shape or a non-finite value - each naming the potential."""
        x = np.asarray(x, dtype=np.float64)
        raw = self.func(x)
        if raw is None:
            raise TypeError(f"potential {self.name!r} returned None; it must return V at the points x")
        try:
            v = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"potential {self.name!r} must return real numbers, got {type(raw).__name__} "
                            f"({raw!r:.60})") from None
        if v.shape != x.shape:
            if v.ndim != 0:
                raise ValueError(f"potential {self.name!r} returned an array of shape {v.shape} for x of shape "
                                 f"{x.shape}; it must be vectorised, returning V at every point of x (or one "
                                 "number)")
            v = np.full(x.shape, float(v))
        if not np.all(np.isfinite(v)):
            bad = x[~np.isfinite(v)].ravel()[0]
            raise ValueError(
                f"potential {self.name!r} returned a non-finite value (NaN or inf) at x = {bad:.6g}"
            )
        return v


def constant(value: float = 0.0) -> Potential:
    """``V(x) = value`` (``0`` inside an infinite square well)."""
    value = float(value)
    return Potential(
        lambda x: np.full_like(x, value), name="constant", params={"value": value}, symmetry_center=0.0
    )


def square_well(depth: float, half_width: float, center: float = 0.0) -> Potential:
    """``V = 0`` for ``|x - center| < half_width`` and ``V = depth`` outside (jumps at ``center +-
    half_width``)."""
    depth = check_positive("depth", depth)
    half_width = check_positive("half_width", half_width)
    return Potential(
        lambda x: np.where(np.abs(x - center) < half_width, 0.0, depth),
        discontinuities=(center - half_width, center + half_width),
        symmetry_center=float(center),
        name="square_well",
        params={"depth": depth, "half_width": half_width, "center": center},
    )


def square_barrier(height: float, half_width: float, center: float = 0.0) -> Potential:
    """``V = height`` for ``|x - center| < half_width`` and ``V = 0`` outside."""
    height = check_positive("height", height)
    half_width = check_positive("half_width", half_width)
    return Potential(
        lambda x: np.where(np.abs(x - center) < half_width, height, 0.0),
        discontinuities=(center - half_width, center + half_width),
        symmetry_center=float(center),
        name="square_barrier",
        params={"height": height, "half_width": half_width, "center": center},
    )


def _power_well(power: int, strength: float, center: float, name: str) -> Potential:
    """``V = strength (x - center)^power`` (even ``power``), symmetric about ``center``."""
    strength = check_positive("strength", strength)
    return Potential(
        lambda x: strength * (x - center) ** power,
        symmetry_center=float(center),
        name=name,
        params={"strength": strength, "center": center},
    )


def harmonic(strength: float = 1.0, center: float = 0.0) -> Potential:
    """``V = strength (x - center)^2``; with ``hbar^2/2m = c`` the levels are ``2 sqrt(c strength) (n +
    1/2)``."""
    return _power_well(2, strength, center, "harmonic")


def quartic(strength: float = 1.0, center: float = 0.0) -> Potential:
    """``V = strength (x - center)^4``, the anharmonic oscillator (no closed form; ``-psi'' + x^4 psi`` has
    ``E_0 = 1.0603620905``, Hioe & Montroll, J. Math. Phys. 16, 1945 (1975))."""
    return _power_well(4, strength, center, "quartic")


def double_well(height: float = 5.0, minimum: float = 1.0, center: float = 0.0) -> Potential:
    """Quartic double well ``V = height ((x - center)^2 / minimum^2 - 1)^2``: minima ``V = 0`` at
    ``center +- minimum``, barrier ``height`` at ``center``. Its two lowest states form the tunnelling
    pair."""
    height = check_positive("height", height)
    minimum = check_positive("minimum", minimum)
    return Potential(
        lambda x: height * (((x - center) / minimum) ** 2 - 1.0) ** 2,
        symmetry_center=float(center),
        name="double_well",
        params={"height": height, "minimum": minimum, "center": center},
    )


def poschl_teller(depth: float, alpha: float = 1.0, center: float = 0.0) -> Potential:
    """Poschl-Teller well ``V = -depth / cosh^2(alpha (x - center))``."""
    depth = check_positive("depth", depth)
    alpha = check_positive("alpha", alpha)
    return Potential(
        lambda x: -depth / np.cosh(alpha * (x - center)) ** 2,
        symmetry_center=float(center),
        name="poschl_teller",
        params={"depth": depth, "alpha": alpha, "center": center},
    )


def morse(depth: float, a: float = 1.0, x0: float = 0.0) -> Potential:
    """Morse potential ``V = depth (1 - exp(-a (x - x0)))^2`` (minimum 0 at ``x0``, ``V -> depth`` as ``x
    -> inf``)."""
    depth = check_positive("depth", depth)
    a = check_positive("a", a)
    return Potential(
        lambda x: depth * (1.0 - np.exp(-a * (x - x0))) ** 2,
        name="morse",
        params={"depth": depth, "a": a, "x0": x0},
    )


def custom(
    func: Callable, discontinuities=(), symmetry_center: float | None = None, name: str = "custom"
) -> Potential:
    """Any vectorised callable ``V(x)``; declare its jumps so that solvers split there."""
    return Potential(func, discontinuities=tuple(discontinuities), symmetry_center=symmetry_center, name=name)
