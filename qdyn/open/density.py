"""Density matrices: validation, conversion from kets and QuTiP, expectation values and purity.

Density matrices are ``2^n x 2^n`` arrays in qdyn's qubit order (qubit 0 = least significant bit).
"""

from __future__ import annotations

import numpy as np

from qdyn.errors import check_state

__all__ = ["as_density_matrix", "expectation", "purity"]

#: Largest register whose density matrix is checked for positivity (a dense ``eigvalsh``).
MAX_PSD_CHECK_QUBITS = 11


def as_density_matrix(rho, n_qubits: int | None = None, *, name: str = "rho0", atol: float = 1e-8) -> np.ndarray:
    """``rho`` as a validated complex ``2^n x 2^n`` density matrix.

    Accepts a normalised state vector (returns ``|psi><psi|``), a matrix, or a ``qutip.Qobj`` ket / operator
    (converted to qdyn's qubit order). A matrix must be Hermitian, have unit trace and (for at most
    ``MAX_PSD_CHECK_QUBITS`` qubits) no eigenvalue below ``-atol``; otherwise ``ValueError`` names ``name``.
    """
    if type(rho).__module__.startswith("qutip"):
        from qdyn.operators import reverse_qubit_order

        rho = reverse_qubit_order(rho.full().reshape(-1) if rho.isket else rho.full())
    arr = np.asarray(rho)
    if arr.ndim == 1:
        psi = check_state(arr, n_qubits, name=name, atol=atol)
        return np.outer(psi, psi.conj())
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a state vector or a square density matrix, got shape {arr.shape}")
    dim = arr.shape[0]
    if dim == 0 or dim & (dim - 1):
        raise ValueError(f"{name} must have dimension 2**n, got {dim}")
    if n_qubits is not None and dim != 2**n_qubits:
        raise ValueError(f"{name} has dimension {dim} but the Lindbladian acts on {n_qubits} qubits "
                         f"(expected {2**n_qubits})")
    arr = arr.astype(np.complex128)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    if np.max(np.abs(arr - arr.conj().T)) > atol:
        raise ValueError(f"{name} must be Hermitian")
    trace = np.trace(arr).real
    if abs(trace - 1) > atol:
        raise ValueError(f"{name} must have unit trace, got {trace:.12g}")
    if dim <= 2**MAX_PSD_CHECK_QUBITS:
        lowest = float(np.linalg.eigvalsh(arr)[0])
        if lowest < -atol:
            raise ValueError(f"{name} must be positive semidefinite, has eigenvalue {lowest:.3g}")
    return arr


def purity(rho) -> float:
    """``Tr[rho^2]`` of a Hermitian ``rho`` (``sum_ij |rho_ij|^2``)."""
    arr = np.asarray(rho)
    return float(np.sum(np.abs(arr) ** 2))


def expectation(op, rho) -> float | complex:
    """``Tr[op rho]`` (real when ``op`` is Hermitian); ``op`` in any form :mod:`qdyn.operators` accepts."""
    from qdyn.operators import as_matrix, is_hermitian

    matrix = as_matrix(op, sparse=True, name="op", hermitian=False)
    rho = np.asarray(rho)
    if matrix.shape != rho.shape:
        raise ValueError(f"op has shape {matrix.shape} but rho has shape {rho.shape}")
    value = complex(matrix.multiply(rho.T).sum())
    return value.real if is_hermitian(op) else value
