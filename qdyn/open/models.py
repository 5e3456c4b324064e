"""Built-in open-system models (``sigma^- = |1><0|``, decay towards ``|1>``; see :mod:`qdyn.open.lindbladian`).

* :func:`dissipative_ising`: the chain of Luo, Chen, Carrasquilla & Clark, PRL 128, 090501 (2022),
  ``H = (V/4) sum_<ij> Z_i Z_j + (g/2) sum_i X_i``, jumps ``sigma^-_i`` at rate ``gamma``.
* :func:`dissipative_xyz`: ``H = sum_<ij> (Jx X_i X_j + Jy Y_i Y_j + Jz Z_i Z_j) + B sum_i Z_i`` on an ``L x L``
  periodic square lattice with ``sigma^-`` decay at rate ``gamma``; site ``(x, y)`` is qubit ``y L + x``; every
  nearest-neighbour pair is one bond, counted once (on 2 x 2 the two wrap-around bonds coincide with the direct
  ones, giving 4 bonds).
* :func:`amplitude_damping` / :func:`dephasing`: ``sigma^-_i`` / ``Z_i`` on every qubit of any Hamiltonian.
* :func:`driven_damped_qubit`: ``H = (g/2) X``, jump ``sigma^-`` at rate ``gamma``.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import check_int, check_positive
from qdyn.models import chain_bonds
from qdyn.open.lindbladian import Lindbladian, pauli_on, sigma_minus
from qdyn.operators import as_pauli_op

__all__ = [
    "amplitude_damping",
    "dephasing",
    "dissipative_ising",
    "dissipative_xyz",
    "driven_damped_qubit",
    "square_lattice_bonds",
]


def _hamiltonian(n: int, terms) -> SparsePauliOp:
    ops = [pauli_on(n, sites, c) for sites, c in terms if c != 0]
    if not ops:
        return SparsePauliOp(["I" * n], [0.0])
    return SparsePauliOp.sum(ops).simplify(atol=0)


def _decay(n: int, gamma: float) -> tuple[list[SparsePauliOp], list[float]]:
    return [sigma_minus(i, n) for i in range(n)], [gamma] * n


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def dissipative_ising(n: int, V: float = 2.0, g: float = 1.0, gamma: float = 1.0,
                      periodic: bool = True) -> Lindbladian:
    """Dissipative transverse-field Ising chain (PRL 128, 090501 convention).

    ``H = (V/4) sum_<ij> Z_i Z_j + (g/2) sum_i X_i``, ``G_i = sigma^-_i = |1><0|`` at rate ``gamma``.
    """
    n = check_int("n", n, minimum=1)
    V, g = _real("V", V), _real("g", g)
    gamma = check_positive("gamma", gamma, allow_zero=True)
    terms = [({i: "Z", j: "Z"}, V / 4) for i, j in chain_bonds(n, periodic)] if n > 1 else []
    terms += [({i: "X"}, g / 2) for i in range(n)]
    return Lindbladian(_hamiltonian(n, terms), *_decay(n, gamma))


def square_lattice_bonds(L: int, periodic: bool = True) -> list[tuple[int, int]]:
    """Nearest-neighbour bonds of an ``L x L`` lattice (site ``(x, y)`` = qubit ``y L + x``), each pair once."""
    L = check_int("L", L, minimum=2)
    bonds = set()
    for y in range(L):
        for x in range(L):
            for dx, dy in ((1, 0), (0, 1)):
                if not periodic and (x + dx >= L or y + dy >= L):
                    continue
                a, b = y * L + x, ((y + dy) % L) * L + (x + dx) % L
                bonds.add((min(a, b), max(a, b)))
    return sorted(bonds)


def dissipative_xyz(L: int, Jx: float = 0.9, Jy: float = 1.0, Jz: float = 1.0, B: float = 0.0,
                    gamma: float = 1.0, periodic: bool = True) -> Lindbladian:
    """Dissipative XYZ model on an ``L x L`` lattice (periodic by default) with ``sigma^-`` decay.

    ``H = sum_<ij> (Jx X_i X_j + Jy Y_i Y_j + Jz Z_i Z_j) + B sum_i Z_i``, bonds from
    :func:`square_lattice_bonds`, ``G_i = sigma^-_i`` at rate ``gamma``.
    """
    bonds = square_lattice_bonds(L, periodic)
    n = L * L
    Jx, Jy, Jz, B = (_real(k, v) for k, v in (("Jx", Jx), ("Jy", Jy), ("Jz", Jz), ("B", B)))
    gamma = check_positive("gamma", gamma, allow_zero=True)
    terms = []
    for i, j in bonds:
        terms += [({i: "X", j: "X"}, Jx), ({i: "Y", j: "Y"}, Jy), ({i: "Z", j: "Z"}, Jz)]
    terms += [({i: "Z"}, B) for i in range(n)]
    return Lindbladian(_hamiltonian(n, terms), *_decay(n, gamma))


def amplitude_damping(hamiltonian, gamma: float) -> Lindbladian:
    """``hamiltonian`` with ``G_i = sigma^-_i = |1><0|`` on every qubit at rate ``gamma``."""
    H = as_pauli_op(hamiltonian, name="hamiltonian")
    gamma = check_positive("gamma", gamma, allow_zero=True)
    return Lindbladian(H, *_decay(H.num_qubits, gamma))


def dephasing(hamiltonian, gamma: float) -> Lindbladian:
    """``hamiltonian`` with ``G_i = Z_i`` on every qubit at rate ``gamma`` (coherences decay as ``e^{-2 gamma t}``)."""
    H = as_pauli_op(hamiltonian, name="hamiltonian")
    gamma = check_positive("gamma", gamma, allow_zero=True)
    n = H.num_qubits
    return Lindbladian(H, [pauli_on(n, {i: "Z"}) for i in range(n)], [gamma] * n)


def driven_damped_qubit(g: float = 1.0, gamma: float = 1.0) -> Lindbladian:
    """``H = (g/2) X`` with ``G = sigma^- = |1><0|`` at rate ``gamma``.

    Steady state (Bloch equations, this convention): ``<Z> = -gamma^2/(gamma^2 + 2 g^2)``,
    ``<Y> = 2 g gamma/(gamma^2 + 2 g^2)``, ``<X> = 0``.
    """
    g = _real("g", g)
    gamma = check_positive("gamma", gamma, allow_zero=True)
    return Lindbladian(pauli_on(1, {0: "X"}, g / 2), [sigma_minus(0, 1)], [gamma])
