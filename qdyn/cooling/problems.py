"""Spectrum normalisation and the cooling test problems."""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import check_int, check_positive
from qdyn.exact import spectral_bounds
from qdyn.models import tfim
from qdyn.operators import as_pauli_op

__all__ = [
    "check_normalised",
    "default_perturbation",
    "normalise_hamiltonian",
    "ring_with_field",
]


def normalise_hamiltonian(H, margin: float = 1.05) -> tuple[SparsePauliOp, float]:
    """``(H / (margin * max|E|), margin * max|E|)``: the spectrum then lies in ``[-1/margin, 1/margin]``."""
    margin = check_positive("margin", margin)
    if margin < 1:
        raise ValueError(f"margin must be >= 1, got {margin}")
    op = as_pauli_op(H)
    lo, hi = spectral_bounds(op, method="exact")
    scale = margin * max(abs(lo), abs(hi))
    if scale == 0:
        raise ValueError("H is zero; nothing to normalise")
    return (op / scale).simplify(atol=0), float(scale)


def check_normalised(op: SparsePauliOp, name: str = "H", atol: float = 1e-9) -> tuple[float, float]:
    """The spectral interval of ``op``; raises ``ValueError`` unless it lies inside ``[-1, 1]``."""
    lo, hi = spectral_bounds(op, method="exact")
    if lo < -1 - atol or hi > 1 + atol:
        raise ValueError(f"{name} must have its spectrum inside [-1, 1] (the QSP normalisation), got "
                         f"[{lo:.6g}, {hi:.6g}]; divide it first, e.g. "
                         "with qdyn.cooling.normalise_hamiltonian")
    return lo, hi


def default_perturbation(n: int) -> SparsePauliOp:
    """``V = -sum_i X_i / n``, whose ground state is ``|+...+>``."""
    n = check_int("n", n, minimum=1)
    labels = ["I" * (n - 1 - i) + "X" + "I" * i for i in range(n)]
    return SparsePauliOp(labels, -np.ones(n) / n)


def ring_with_field(n: int, field: float = 0.3) -> SparsePauliOp:
    """The regression model ``H = -sum Z_i Z_{i+1} - sum X_i + field sum Z_i``, periodic ring, unscaled."""
    n = check_int("n", n, minimum=2)
    z = SparsePauliOp(["I" * (n - 1 - i) + "Z" + "I" * i for i in range(n)], np.full(n, float(field)))
    return (tfim(n, 1.0, 1.0, periodic=True) + z).simplify(atol=0)
