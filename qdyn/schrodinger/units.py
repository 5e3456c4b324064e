"""Units of a 1D Schrodinger problem: the kinetic prefactor ``c = hbar^2 / 2m`` in ``H = -c d^2/dx^2 + V(x)``.

* ``NATURAL`` (``hbar2_over_2m = 1``): ``H = -psi'' + V psi``; the infinite well on ``[0, 1]`` has ``E_n =
n^2 pi^2``.
* ``ATOMIC`` (``hbar = m = 1``): ``H = -psi''/2 + V psi``; the harmonic oscillator ``V = x^2/2`` has ``E_n
= n + 1/2``.

Energies and lengths are in the units the potential and the domain are written in.
"""

from __future__ import annotations

from dataclasses import dataclass

from qdyn.errors import check_positive

__all__ = ["Units", "NATURAL", "ATOMIC", "as_units"]


@dataclass(frozen=True)
class Units:
    """``hbar2_over_2m`` is the kinetic prefactor ``c`` of ``H = -c d^2/dx^2 + V``."""

    hbar2_over_2m: float
    name: str

    def __post_init__(self):
        check_positive("hbar2_over_2m", self.hbar2_over_2m)


NATURAL = Units(1.0, "hbar2_over_2m=1")
ATOMIC = Units(0.5, "atomic")

_NAMED = {"natural": NATURAL, "hbar2_over_2m=1": NATURAL, "atomic": ATOMIC}


def as_units(units) -> Units:
    """A :class:`Units` from a ``Units`` or one of the names ``"natural"`` / ``"hbar2_over_2m=1"`` /
    ``"atomic"``."""
    if isinstance(units, Units):
        return units
    if isinstance(units, str):
        if units not in _NAMED:
            raise ValueError(f"unknown units {units!r}; expected one of {sorted(_NAMED)} or a Units object")
        return _NAMED[units]
    raise TypeError(f"units must be a Units object or a name, got {type(units).__name__}")
