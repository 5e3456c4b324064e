"""Spectrum normalisation (any ``H`` onto the interval QSP needs) and the cooling test problems."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import check_int, check_positive
from qdyn.exact import spectral_bounds
from qdyn.models import tfim
from qdyn.operators import as_pauli_op

__all__ = [
    "MARGIN",
    "SpectralNormalisation",
    "default_perturbation",
    "normalise_hamiltonian",
    "random_field",
    "ring_with_field",
    "spectral_normalisation",
]

MARGIN = 1.05  #: the normalised spectrum fills [-1/MARGIN, 1/MARGIN]


@dataclass(frozen=True)
class SpectralNormalisation:
    """The affine map ``H_n = (H - shift) / scale`` onto the interval QSP needs (spectrum inside [-1, 1]).

    ``denormalise`` takes energies of ``H_n`` to the units of ``H`` (``E = shift + scale x``), ``normalise`` the
    other way; ``hamiltonian`` builds ``H_n``.
    """

    shift: float
    scale: float

    def __post_init__(self):
        if not (np.isfinite(self.shift) and np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"a spectral normalisation needs a finite shift and a positive scale, got shift="
                             f"{self.shift!r}, scale={self.scale!r}")

    def hamiltonian(self, H) -> SparsePauliOp:
        """``(H - shift) / scale`` as a SparsePauliOp."""
        op = as_pauli_op(H, name="H")
        shift = SparsePauliOp("I" * op.num_qubits, [-self.shift])
        return ((op + shift) / self.scale).simplify(atol=0)

    def normalise(self, energies):
        """Energies of ``H`` in the units of ``H_n``: ``(E - shift) / scale``."""
        return (np.asarray(energies, dtype=float) - self.shift) / self.scale

    def denormalise(self, values):
        """Energies of ``H_n`` in the units of ``H``: ``shift + scale x``."""
        return self.shift + self.scale * np.asarray(values, dtype=float)


def spectral_normalisation(H, *, margin: float = MARGIN, bounds: tuple[float, float] | None = None
                           ) -> SpectralNormalisation:
    """The map that centres the spectrum ``[E_min, E_max]`` of ``H`` and fills ``[-1/margin, 1/margin]``:
    ``shift = (E_min + E_max)/2``, ``scale = margin (E_max - E_min)/2``.

    ``bounds`` are ``(E_min, E_max)`` when the caller has them; otherwise they come from
    :func:`qdyn.exact.spectral_bounds` (``method="exact"``: Lanczos on ``H`` and ``-H``, dense for small
    registers). Applied to its own output it is the identity (``shift = 0``, ``scale = 1``) up to rounding.
    """
    margin = _check_margin(margin)
    lo, hi = spectral_bounds(as_pauli_op(H, name="H"), method="exact") if bounds is None else map(float, bounds)
    if not hi >= lo:
        raise ValueError(f"bounds must be (E_min, E_max) with E_min <= E_max, got ({lo}, {hi})")
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        raise ValueError(f"H has a single eigenvalue ({lo:.6g}): there is nothing to cool")
    return SpectralNormalisation(shift=(lo + hi) / 2, scale=margin * (hi - lo) / 2)


def normalise_hamiltonian(H, margin: float = MARGIN) -> tuple[SparsePauliOp, float]:
    """``(H / (margin * max|E|), margin * max|E|)``: the spectrum then lies in ``[-1/margin, 1/margin]``.

    A scale without a shift, for building test problems with a chosen spectrum; :func:`qdyn.cooling.cool` and the
    baselines take any ``H`` and apply :func:`spectral_normalisation` themselves.
    """
    margin = _check_margin(margin)
    lo, hi = spectral_bounds(as_pauli_op(H, name="H"), method="exact")
    scale = margin * max(abs(lo), abs(hi))
    if scale == 0:
        raise ValueError("H is zero; nothing to normalise")
    return SpectralNormalisation(0.0, float(scale)).hamiltonian(H), float(scale)


def _check_margin(margin) -> float:
    margin = check_positive("margin", margin)
    if margin < 1:
        raise ValueError(f"margin must be >= 1, got {margin}")
    return margin


def default_perturbation(n: int) -> SparsePauliOp:
    """``V = -sum_i X_i / n``, whose ground state is ``|+...+>``."""
    n = check_int("n", n, minimum=1)
    labels = ["I" * (n - 1 - i) + "X" + "I" * i for i in range(n)]
    return SparsePauliOp(labels, -np.ones(n) / n)


def random_field(n: int, rng) -> SparsePauliOp:
    """``V = sum_i (a_i X_i + b_i Y_i + c_i Z_i) / n`` with a uniformly random unit vector per site."""
    labels, coeffs = [], []
    for i in range(n):
        v = rng.standard_normal(3)
        v /= np.linalg.norm(v)
        for p, c in zip("XYZ", v, strict=True):
            labels.append("I" * (n - 1 - i) + p + "I" * i)
            coeffs.append(c / n)
    return SparsePauliOp(labels, np.array(coeffs))


def ring_with_field(n: int, field: float = 0.3) -> SparsePauliOp:
    """The regression model ``H = -sum Z_i Z_{i+1} - sum X_i + field sum Z_i``, periodic ring, unscaled."""
    n = check_int("n", n, minimum=2)
    z = SparsePauliOp(["I" * (n - 1 - i) + "Z" + "I" * i for i in range(n)], np.full(n, float(field)))
    return (tfim(n, 1.0, 1.0, periodic=True) + z).simplify(atol=0)
