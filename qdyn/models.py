"""Built-in Hamiltonians, as ``SparsePauliOp`` in qdyn's qubit order (site ``i`` = qubit ``i``).

Spin models use Pauli matrices (not spin-1/2 operators). Fermion models use the Jordan-Wigner map with
``n_p = (1 - Z_p)/2`` (``|1>`` = occupied) and ``a_p = Z_0 ... Z_{p-1} (X_p + i Y_p)/2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import check_int

__all__ = ["tfim", "heisenberg", "hubbard", "annihilation", "number_operator", "Molecule", "molecule", "h2",
           "lih", "chain_bonds"]


def chain_bonds(n: int, periodic: bool) -> list[tuple[int, int]]:
    """Nearest-neighbour bonds ``(i, i+1)`` of an ``n``-site chain; ``(n-1, 0)`` too when periodic and n > 2."""
    bonds = [(i, i + 1) for i in range(n - 1)]
    if periodic and n > 2:
        bonds.append((n - 1, 0))
    return bonds


def _label(n: int, ops: dict[int, str]) -> str:
    chars = ["I"] * n
    for q, p in ops.items():
        chars[n - 1 - q] = p
    return "".join(chars)


def _sum(n: int, terms: list[tuple[dict[int, str], float]]) -> SparsePauliOp:
    terms = [(ops, c) for ops, c in terms if c != 0] or [({}, 0.0)]
    return SparsePauliOp([_label(n, ops) for ops, _ in terms], [c for _, c in terms]).simplify(atol=0)


def tfim(n: int, J: float = 1.0, g: float = 1.0, periodic: bool = True) -> SparsePauliOp:
    """Transverse-field Ising chain ``H = -J sum_<ij> Z_i Z_j - g sum_i X_i``."""
    n = check_int("n", n, minimum=2)
    terms = [({i: "Z", j: "Z"}, -J) for i, j in chain_bonds(n, periodic)]
    terms += [({i: "X"}, -g) for i in range(n)]
    return _sum(n, terms)


def heisenberg(n: int, J: float = 1.0, delta: float = 1.0, h: float = 0.0, periodic: bool = True) -> SparsePauliOp:
    """XXZ chain ``H = J sum_<ij> (X_i X_j + Y_i Y_j + delta Z_i Z_j) + h sum_i Z_i``."""
    n = check_int("n", n, minimum=2)
    terms = []
    for i, j in chain_bonds(n, periodic):
        terms += [({i: "X", j: "X"}, J), ({i: "Y", j: "Y"}, J), ({i: "Z", j: "Z"}, J * delta)]
    terms += [({i: "Z"}, h) for i in range(n)]
    return _sum(n, terms)


def annihilation(p: int, n_qubits: int) -> SparsePauliOp:
    """Jordan-Wigner ``a_p = Z_0 ... Z_{p-1} (X_p + i Y_p)/2`` (``|1>`` = occupied)."""
    string = {q: "Z" for q in range(p)}
    return SparsePauliOp([_label(n_qubits, {**string, p: "X"}), _label(n_qubits, {**string, p: "Y"})],
                         [0.5, 0.5j])


def number_operator(n_qubits: int, modes=None) -> SparsePauliOp:
    """``N = sum_p (1 - Z_p)/2`` over ``modes`` (all qubits by default)."""
    modes = range(n_qubits) if modes is None else modes
    terms = [({}, 0.5 * len(list(modes)))] + [({p: "Z"}, -0.5) for p in modes]
    return _sum(n_qubits, terms)


def hubbard(n_sites: int, t: float = 1.0, U: float = 4.0, periodic: bool = False) -> SparsePauliOp:
    """Spinful Fermi-Hubbard chain ``H = -t sum_<ij>,s (a+_is a_js + h.c.) + U sum_i n_i,up n_i,down``.

    Orbital order: qubit ``2 i`` is site ``i`` spin up, qubit ``2 i + 1`` is site ``i`` spin down
    (interleaved), Jordan-Wigner as in :func:`annihilation`. The particle number is the Hamming weight of a
    basis index, so a sector is chosen with ``ground_state(H, hamming_weight=N)``.
    """
    n_sites = check_int("n_sites", n_sites, minimum=2)
    n = 2 * n_sites
    a = [annihilation(p, n) for p in range(n)]
    H = SparsePauliOp(["I" * n], [0.0])
    for i, j in chain_bonds(n_sites, periodic):
        for s in (0, 1):
            p, q = 2 * i + s, 2 * j + s
            hop = a[p].adjoint() @ a[q]
            H = H - t * (hop + hop.adjoint())
    for i in range(n_sites):
        up = a[2 * i].adjoint() @ a[2 * i]
        down = a[2 * i + 1].adjoint() @ a[2 * i + 1]
        H = H + U * (up @ down)
    return H.simplify(atol=1e-14)


@dataclass(frozen=True)
class Molecule:
    """A molecular qubit Hamiltonian (Hartree units) with its Hartree-Fock reference."""

    hamiltonian: SparsePauliOp
    hf_state: np.ndarray  #: Hartree-Fock basis state vector in qdyn's qubit order
    n_electrons: int
    n_qubits: int
    symbols: tuple[str, ...]
    coordinates_angstrom: np.ndarray
    basis: str


def molecule(symbols, coordinates_angstrom, basis: str = "sto-3g", active_electrons: int | None = None,
             active_orbitals: int | None = None, charge: int = 0, mult: int = 1) -> Molecule:
    """Qubit Hamiltonian of a molecule, built offline with PennyLane's ``qchem`` (``method="dhf"``).

    Jordan-Wigner over spin orbitals in PennyLane's order (orbital ``2k`` spin up, ``2k+1`` spin down), spin
    orbital ``p`` on qubit ``p``; the Hartree-Fock state fills the lowest ``n_electrons`` spin orbitals.
    """
    from qdyn.errors import require
    from qdyn.operators import as_pauli_op

    qml = require("pennylane", purpose="molecular Hamiltonians")
    symbols = tuple(symbols)
    coords = np.asarray(coordinates_angstrom, dtype=float).reshape(len(symbols), 3)
    mol = qml.qchem.Molecule(list(symbols), coords, charge=charge, mult=mult, basis_name=basis, unit="angstrom")
    hamiltonian, n_qubits = qml.qchem.molecular_hamiltonian(
        mol, method="dhf", active_electrons=active_electrons, active_orbitals=active_orbitals)
    electrons = mol.n_electrons if active_electrons is None else active_electrons
    op = as_pauli_op(hamiltonian, n_qubits, name="molecular Hamiltonian", atol=1e-8)
    hf = np.zeros(2**n_qubits, dtype=complex)
    hf[(1 << electrons) - 1] = 1.0
    return Molecule(op, hf, int(electrons), int(n_qubits), symbols, coords, basis)


def h2(bond_length_angstrom: float = 0.74, basis: str = "sto-3g") -> Molecule:
    """H2 at the given bond length (4 qubits in STO-3G)."""
    return molecule(("H", "H"), [[0, 0, 0], [0, 0, bond_length_angstrom]], basis=basis)


def lih(bond_length_angstrom: float = 1.5949, active_electrons: int | None = 2,
        active_orbitals: int | None = 5) -> Molecule:
    """LiH in STO-3G; by default 2 active electrons in 5 active orbitals (10 qubits)."""
    return molecule(("Li", "H"), [[0, 0, 0], [0, 0, bond_length_angstrom]],
                    active_electrons=active_electrons, active_orbitals=active_orbitals)
