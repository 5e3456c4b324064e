"""1D eigenproblems ``H psi = E psi``, ``H = -c d^2/dx^2 + V(x)`` with ``c = hbar^2/2m`` from the units.

A :class:`Problem` is a potential, a domain ``(a, b)``, boundary conditions and units:

* ``boundary="dirichlet"``: hard walls at ``a`` and ``b`` (``psi(a) = psi(b) = 0``) - a box;
* ``boundary="decaying"``: the infinite line, with ``(a, b)`` the window outside which the states are
  negligible. Solvers put ``psi = 0`` there: the classical ones estimate what that costs and widen the window
  when the states have not decayed (:mod:`qdyn.schrodinger.refine`), the PINN cuts it to where they live
  (:mod:`qdyn.schrodinger.pinn_grid`).

The named constructors below attach the analytic levels from :mod:`qdyn.schrodinger.exact`
(``problem.exact``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qdyn.errors import check_choice, check_positive
from qdyn.schrodinger import exact as _exact
from qdyn.schrodinger import potentials as _pot
from qdyn.schrodinger.potentials import Potential
from qdyn.schrodinger.units import ATOMIC, NATURAL, Units, as_units

__all__ = [
    "Problem",
    "infinite_well",
    "finite_well",
    "barrier",
    "harmonic_oscillator",
    "quartic_oscillator",
    "double_well",
    "poschl_teller",
    "morse",
]

BOUNDARIES = ("dirichlet", "decaying")


@dataclass(frozen=True)
class Problem:
    """``-c psi'' + V psi = E psi`` on ``domain`` with ``boundary`` conditions; ``exact(k)`` gives the
    analytic
    lowest ``k`` levels when known (else ``None``)."""

    potential: Potential
    domain: tuple[float, float]
    boundary: str = "dirichlet"
    units: Units = NATURAL
    name: str = "custom"
    exact: Callable[[int], np.ndarray] | None = None

    def __post_init__(self):
        if not isinstance(self.potential, Potential):
            if callable(self.potential):
                name = getattr(self.potential, "__name__", "custom")
                object.__setattr__(self, "potential", _pot.custom(self.potential, name=name))
            else:
                raise TypeError(
                    f"potential must be a Potential or a callable, got {type(self.potential).__name__}"
                )
        try:
            a, b = (float(v) for v in self.domain)
        except (TypeError, ValueError):
            raise TypeError(f"domain must be a pair of numbers (a, b), got {self.domain!r}") from None
        if not (np.isfinite(a) and np.isfinite(b)) or a >= b:
            raise ValueError(f"domain must be finite with a < b, got ({a}, {b})")
        object.__setattr__(self, "domain", (a, b))
        check_choice("boundary", self.boundary, BOUNDARIES)
        object.__setattr__(self, "units", as_units(self.units))
        # Sample every smooth piece away from its ends: a NaN/inf potential fails here, naming the potential.
        for lo, hi in zip(self.breakpoints[:-1], self.breakpoints[1:], strict=True):
            self.potential(lo + (hi - lo) * np.linspace(0.01, 0.99, 33))

    @property
    def c(self) -> float:
        """The kinetic prefactor ``hbar^2 / 2m``."""
        return self.units.hbar2_over_2m

    @property
    def length(self) -> float:
        return self.domain[1] - self.domain[0]

    @property
    def breakpoints(self) -> np.ndarray:
        """``[a, jumps inside (a, b)..., b]``: the ends of the smooth pieces."""
        a, b = self.domain
        inside = [d for d in self.potential.discontinuities if a < d < b]
        return np.array([a, *inside, b])

    @property
    def parity_center(self) -> float | None:
        """The mirror point when both the potential and the domain are symmetric about it, else ``None``."""
        c = self.potential.symmetry_center
        a, b = self.domain
        if c is None or abs((a + b) / 2 - c) > 1e-12 * max(1.0, abs(a), abs(b)):
            return None
        return float(c)

    def V(self, x) -> np.ndarray:
        """The potential at ``x``."""
        return self.potential(x)


def infinite_well(length: float = 1.0, units="natural") -> Problem:
    """Infinite square well on ``[0, length]``: ``E_n = c (n pi / length)^2`` (``n^2 pi^2`` for the
    defaults)."""
    length = check_positive("length", length)
    units = as_units(units)
    return Problem(
        _pot.constant(0.0),
        (0.0, length),
        "dirichlet",
        units,
        "infinite_well",
        exact=lambda k: _exact.infinite_well_levels(k, length, units),
    )


def finite_well(depth: float = 20.0, half_width: float = 1.7, wall: float = 6.0, units=ATOMIC) -> Problem:
    """Square well (``V = 0`` for ``|x| < half_width``, ``depth`` outside) inside hard walls at ``+-wall``.

    The defaults are the reference problem of the tests: ``-psi''/2 + V psi``, ``V = 20`` outside ``|x| <
    1.7``,
    walls at ``+-6``.
    """
    depth, half_width, wall = _well_args(depth, half_width, wall)
    units = as_units(units)
    return Problem(
        _pot.square_well(depth, half_width),
        (-wall, wall),
        "dirichlet",
        units,
        "finite_well",
        exact=lambda k: _exact.symmetric_box_levels(k, 0.0, depth, half_width, wall, units),
    )


def barrier(height: float = 20.0, half_width: float = 0.2, wall: float = 1.0, units="natural") -> Problem:
    """Central square barrier (``V = height`` for ``|x| < half_width``, ``0`` outside) between walls at
    ``+-wall``."""
    height, half_width, wall = _well_args(height, half_width, wall, name="height")
    units = as_units(units)
    return Problem(
        _pot.square_barrier(height, half_width),
        (-wall, wall),
        "dirichlet",
        units,
        "barrier",
        exact=lambda k: _exact.symmetric_box_levels(k, height, 0.0, half_width, wall, units),
    )


def harmonic_oscillator(strength: float = 1.0, window: float = 10.0, units="natural") -> Problem:
    """``V = strength x^2`` on the line, solved in ``[-window, window]``: ``E_n = 2 sqrt(c strength)(n +
    1/2)``
    (``2n + 1`` for the defaults)."""
    strength = check_positive("strength", strength)
    window = check_positive("window", window)
    units = as_units(units)
    return Problem(
        _pot.harmonic(strength),
        (-window, window),
        "decaying",
        units,
        "harmonic_oscillator",
        exact=lambda k: _exact.harmonic_levels(k, strength, units),
    )


def quartic_oscillator(strength: float = 1.0, window: float = 6.0, units="natural") -> Problem:
    """The anharmonic oscillator ``V = strength x^4`` on ``[-window, window]`` (no closed form; for the defaults
    ``E_0 = 1.0603620905``, Hioe & Montroll, J. Math. Phys. 16, 1945 (1975))."""
    window = check_positive("window", window)
    return Problem(_pot.quartic(strength), (-window, window), "decaying", as_units(units), "quartic_oscillator")


def double_well(height: float = 5.0, minimum: float = 1.0, window: float = 4.0, units="natural") -> Problem:
    """Quartic double well ``height (x^2/minimum^2 - 1)^2`` on ``[-window, window]`` (no closed form)."""
    window = check_positive("window", window)
    return Problem(
        _pot.double_well(height, minimum), (-window, window), "decaying", as_units(units), "double_well"
    )


def poschl_teller(depth: float = 20.0, alpha: float = 1.0, window: float = 20.0, units="natural") -> Problem:
    """``V = -depth sech^2(alpha x)`` on ``[-window, window]``: ``E_n = -c alpha^2 (lambda - n)^2`` with
    ``lambda (lambda + 1) = depth / (c alpha^2)``."""
    window = check_positive("window", window)
    units = as_units(units)
    pot = _pot.poschl_teller(depth, alpha)
    return Problem(
        pot,
        (-window, window),
        "decaying",
        units,
        "poschl_teller",
        exact=lambda k: _exact.poschl_teller_levels(k, pot.params["depth"], pot.params["alpha"], units),
    )


def morse(
    depth: float = 20.0, a: float = 1.0, window: tuple[float, float] = (-2.0, 25.0), units="natural"
) -> Problem:
    """``V = depth (1 - exp(-a x))^2`` on ``window``: ``E_n = depth - c a^2 (lambda - n - 1/2)^2``,
    ``lambda = sqrt(depth / c) / a``."""
    units = as_units(units)
    pot = _pot.morse(depth, a)
    return Problem(
        pot,
        tuple(window),
        "decaying",
        units,
        "morse",
        exact=lambda k: _exact.morse_levels(k, pot.params["depth"], pot.params["a"], units),
    )


def _well_args(v, half_width, wall, name="depth"):
    v = check_positive(name, v)
    half_width = check_positive("half_width", half_width)
    wall = check_positive("wall", wall)
    if half_width >= wall:
        raise ValueError(f"half_width must be smaller than wall, got half_width={half_width}, wall={wall}")
    return v, half_width, wall
