"""Initial states of the open-system front doors: site labels, state vectors, density matrices, product factors.

A product state ``rho = rho_{n-1} (x) ... (x) rho_0`` (qubit 0 rightmost, qdyn's order) is what the POVM
transformer represents exactly at ``t = 0``; :func:`product_factors` recovers its single-qubit factors
``rho_i = Tr_{not i} rho`` and checks that their product is ``rho``.
"""

from __future__ import annotations

import numpy as np

from qdyn.open.density import as_density_matrix

__all__ = ["initial_density", "product_factors"]

#: Largest ``|rho - (x)_i rho_i|`` entry for which ``rho`` counts as a product state.
PRODUCT_ATOL = 1e-10


def _labels(rho0, n_qubits: int) -> list[str] | None:
    """Per-site labels if ``rho0`` is one label (every site) or a list of labels, else ``None``."""
    if isinstance(rho0, str):
        return [rho0] * n_qubits
    if isinstance(rho0, list | tuple) and rho0 and all(isinstance(s, str) for s in rho0):
        if len(rho0) != n_qubits:
            raise ValueError(f"rho0 has {len(rho0)} site labels but the Lindbladian acts on {n_qubits} qubits")
        return list(rho0)
    return None


def initial_density(rho0, n_qubits: int) -> np.ndarray:
    """``rho0`` as a validated ``2^n x 2^n`` density matrix.

    ``rho0``: one site label for every qubit (``"0"``, ``"1"``, ``"+"``, ``"-"``, ``"+i"``, ``"-i"``), a list of
    labels (entry ``i`` = qubit ``i``), a state vector, a density matrix or a ``qutip.Qobj``.
    """
    from qdyn.states import product_state

    labels = _labels(rho0, n_qubits)
    if labels is not None:
        psi = product_state(labels)
        return np.outer(psi, psi.conj())
    return as_density_matrix(rho0, n_qubits, name="rho0")


def _reduced(rho: np.ndarray, n: int, qubit: int) -> np.ndarray:
    """``Tr_{not qubit} rho`` (qubit 0 the least significant bit, so its row axis is the last of the ``n``)."""
    axis = n - 1 - qubit
    tensor = np.moveaxis(rho.reshape([2] * (2 * n)), [axis, axis + n], [0, 1])
    return np.trace(tensor.reshape(2, 2, 2 ** (n - 1), 2 ** (n - 1)), axis1=2, axis2=3)


def product_factors(rho0, n_qubits: int) -> list:
    """The single-qubit factors of a product initial state: the labels themselves when ``rho0`` is given by site
    labels, else the reduced density matrices ``rho_i`` (entry ``i`` = qubit ``i``) of ``rho0``.

    ``ValueError`` when ``rho0`` is not the product of its reduced states (to ``PRODUCT_ATOL``): an entangled or
    classically correlated initial state has no exact product representation.
    """
    labels = _labels(rho0, n_qubits)
    if labels is not None:
        return labels
    rho = as_density_matrix(rho0, n_qubits, name="rho0")
    factors = [_reduced(rho, n_qubits, i) for i in range(n_qubits)]
    product = np.ones((1, 1), dtype=complex)
    for factor in factors:  # qubit i is more significant than the qubits before it
        product = np.kron(factor, product)
    worst = float(np.max(np.abs(product - rho)))
    if worst > PRODUCT_ATOL:
        raise ValueError("rho0 must be a product state for this method (it is not the tensor product of its "
                         f"single-qubit reduced states: max deviation {worst:.2e}); pass site labels such as "
                         "['0', '+', ...] or a product state")
    return factors
