"""Lindblad generators: a Hamiltonian plus jump operators with rates, and their decomposition into local terms.

The master equation (hbar = 1, time in the inverse units of the Hamiltonian's coefficients) is

    d rho / dt = L(rho) = -i [H, rho] + sum_k gamma_k ( G_k rho G_k^dagger - 1/2 { G_k^dagger G_k, rho } ),

with ``gamma_k >= 0`` the rates and ``G_k`` the jump operators (any operator, not necessarily Hermitian).

**Convention for the lowering operator (one convention across ``qdyn.open``).** In qdyn's basis ``Z|0> = +|0>``
and ``Z|1> = -|1>``. The lowering operator is ``sigma^- = |1><0| = (X - iY)/2``: it takes ``sigma^z = +1`` to
``sigma^z = -1``, so amplitude damping relaxes every qubit towards ``|1>`` (``<sigma^z> -> -1``).

Qubit order is Qiskit's (qubit 0 = least significant bit = rightmost Pauli label character), as everywhere in
qdyn. Operators are stored as ``SparsePauliOp``; QuTiP input (``H``, ``c_ops`` with the rates folded into the
operators, as QuTiP does) is accepted through :meth:`Lindbladian.from_qutip`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.operators import as_pauli_op, num_qubits

__all__ = ["Lindbladian", "LocalTerm", "pauli_on", "sigma_minus"]


def pauli_on(n: int, ops: dict[int, str], coeff: complex = 1.0) -> SparsePauliOp:
    """The Pauli string with ``ops[q]`` in {"X","Y","Z"} on qubit ``q`` (identity elsewhere), times ``coeff``."""
    chars = ["I"] * n
    for q, p in ops.items():
        chars[n - 1 - q] = p
    return SparsePauliOp(["".join(chars)], [coeff])


def sigma_minus(site: int, n: int) -> SparsePauliOp:
    """``sigma^-_site = |1><0|`` on qubit ``site`` of ``n`` = ``(X - iY)/2`` (module convention, see above)."""
    return (pauli_on(n, {site: "X"}, 0.5) + pauli_on(n, {site: "Y"}, -0.5j)).simplify(atol=0)


def _support(op: SparsePauliOp) -> tuple[int, ...]:
    """Qubits on which some Pauli term of ``op`` acts non-trivially (ascending)."""
    mask = np.any(op.paulis.x | op.paulis.z, axis=0)
    return tuple(int(q) for q in np.nonzero(mask)[0])


def _restrict(op: SparsePauliOp, sites: tuple[int, ...]) -> np.ndarray:
    """Dense matrix of ``op`` restricted to ``sites`` (it must act as the identity elsewhere).

    Local qubit ``j`` is ``sites[j]`` (local qubit 0 least significant, as in the global order).
    """
    n, k = op.num_qubits, len(sites)
    terms = [("".join(label[n - 1 - q] for q in sites), list(range(k)), c)
             for label, c in zip(op.paulis.to_labels(), op.coeffs, strict=True)]
    return SparsePauliOp.from_sparse_list(terms, num_qubits=k).to_matrix()


@dataclass(frozen=True)
class LocalTerm:
    """The part of a Lindbladian acting on the qubits ``sites`` (ascending).

    ``hamiltonian`` is the ``2^k x 2^k`` matrix of the Hamiltonian terms whose support is exactly ``sites``;
    ``jumps`` are ``(matrix, rate)`` pairs whose support is exactly ``sites``. Local qubit ``j`` is
    ``sites[j]`` (local qubit 0 is the least significant bit of the local index).
    """

    sites: tuple[int, ...]
    hamiltonian: np.ndarray
    jumps: tuple[tuple[np.ndarray, float], ...]

    def superoperator(self):
        """``X -> -i[h, X] + sum_k gamma_k (G X G^dagger - 1/2 {G^dagger G, X})`` on ``2^k x 2^k`` matrices."""
        h = self.hamiltonian
        jumps = self.jumps

        def apply(x: np.ndarray) -> np.ndarray:
            out = -1j * (h @ x - x @ h)
            for g, rate in jumps:
                gd = g.conj().T
                gdg = gd @ g
                out = out + rate * (g @ x @ gd - 0.5 * (gdg @ x + x @ gdg))
            return out

        return apply


class Lindbladian:
    """A Lindblad generator ``(H, [G_k], [gamma_k])`` on ``n`` qubits (see the module docstring for the formula).

    Parameters
    ----------
    hamiltonian : SparsePauliOp, PennyLane operator, qutip.Qobj or matrix
        Hermitian; its qubit count fixes ``num_qubits``.
    jump_ops : sequence of operators (same accepted types), each on ``num_qubits`` qubits.
    rates : sequence of non-negative floats, one per jump operator (default: all 1).

    Raises ``ValueError`` for a non-Hermitian ``H``, a jump operator on the wrong number of qubits, a negative
    or non-finite rate, or a rate count that does not match the jump operators.
    """

    def __init__(self, hamiltonian, jump_ops=(), rates=None):
        self.hamiltonian: SparsePauliOp = as_pauli_op(hamiltonian, name="hamiltonian", hermitian=True)
        n = self.hamiltonian.num_qubits
        jump_ops = list(jump_ops)
        jumps = []
        for k, op in enumerate(jump_ops):
            nq = num_qubits(op)
            if nq != n:
                raise ValueError(f"jump_ops[{k}] acts on {nq} qubits but the Hamiltonian acts on {n}")
            jumps.append(as_pauli_op(op, n, name=f"jump_ops[{k}]", hermitian=False))
        if rates is None:
            rates = np.ones(len(jumps))
        rates = np.asarray(rates, dtype=float).reshape(-1) if np.ndim(rates) else np.full(len(jumps), rates)
        if rates.shape[0] != len(jumps):
            raise ValueError(f"rates has {rates.shape[0]} entries but there are {len(jumps)} jump operators")
        if not np.all(np.isfinite(rates)) or np.any(rates < 0):
            raise ValueError(f"rates must be finite and >= 0, got {rates.tolist()}")
        self.num_qubits = n
        self.jump_ops: tuple[SparsePauliOp, ...] = tuple(jumps)
        self.rates = rates
        self.rates.setflags(write=False)

    @classmethod
    def from_qutip(cls, H, c_ops=()) -> Lindbladian:
        """From QuTiP's ``H`` and ``c_ops`` (rates folded into the operators, so every rate here is 1).

        QuTiP's subsystem 0 becomes qdyn qubit 0 (see :mod:`qdyn.operators`).
        """
        return cls(H, list(c_ops), np.ones(len(c_ops)))

    def __repr__(self) -> str:
        return (f"Lindbladian(num_qubits={self.num_qubits}, hamiltonian_terms={len(self.hamiltonian)}, "
                f"jumps={len(self.jump_ops)})")

    # decompositions ------------------------------------------------------------------------------------
    def effective_hamiltonian(self) -> SparsePauliOp:
        """``H_eff = H - (i/2) sum_k gamma_k G_k^dagger G_k`` (non-Hermitian)."""
        out = self.hamiltonian
        for g, rate in zip(self.jump_ops, self.rates, strict=True):
            out = out + (-0.5j * rate) * (g.adjoint() @ g)
        return out.simplify(atol=1e-15)

    def local_terms(self, max_sites: int = 6) -> list[LocalTerm]:
        """Split the generator into terms by support: ``L = sum_S L_S (x) id``.

        Hamiltonian Pauli terms are grouped by their exact support; each jump operator goes to the term of its
        support (its Pauli terms' union). Identity-only Hamiltonian terms drop out of the commutator and are
        left out. Raises ``ValueError`` if a term touches more than ``max_sites`` qubits (its POVM tensor would
        have ``16^k`` entries).
        """
        groups: dict[tuple[int, ...], dict] = {}
        ham = self.hamiltonian.simplify(atol=0)
        for label, coeff in zip(ham.paulis.to_labels(), ham.coeffs, strict=True):
            sites = tuple(q for q in range(self.num_qubits) if label[self.num_qubits - 1 - q] != "I")
            if not sites or coeff == 0:
                continue
            groups.setdefault(sites, {"h": [], "j": []})["h"].append((label, coeff))
        for g, rate in zip(self.jump_ops, self.rates, strict=True):
            if rate == 0:
                continue
            sites = _support(g)
            if not sites:  # an identity jump operator contributes nothing to the dissipator
                continue
            groups.setdefault(sites, {"h": [], "j": []})["j"].append((g, float(rate)))
        terms = []
        for sites in sorted(groups, key=lambda s: (len(s), s)):
            if len(sites) > max_sites:
                raise ValueError(f"a term acts on {len(sites)} qubits {sites}; at most max_sites={max_sites} "
                                 "are supported by the local decomposition")
            k = len(sites)
            h = np.zeros((2**k, 2**k), dtype=complex)
            if groups[sites]["h"]:
                labels, coeffs = zip(*groups[sites]["h"], strict=True)
                h = _restrict(SparsePauliOp(list(labels), np.asarray(coeffs)), sites)
            jumps = tuple((_restrict(g, sites), rate) for g, rate in groups[sites]["j"])
            terms.append(LocalTerm(sites, h, jumps))
        return terms

    def to_qutip(self):
        """``(H, c_ops)`` as ``qutip.Qobj``s with ``sqrt(gamma_k)`` folded into each jump operator."""
        from qdyn.operators import to_qutip

        H = to_qutip(self.hamiltonian)
        c_ops = [np.sqrt(rate) * to_qutip(g) for g, rate in zip(self.jump_ops, self.rates, strict=True)
                 if rate > 0]
        return H, c_ops
