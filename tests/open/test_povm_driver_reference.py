"""Test helpers (no tests of their own): the dense POVM-space Lindbladian built from small dense operators, its exact
trapezoid evolution and null vector, and a local action that connects every string to every string."""

import numpy as np
import torch

from qdyn.open import liouvillian_matrix


def dense_povm_lindbladian(lindbladian, povm) -> np.ndarray:
    """``L_ab = Tr[M^a L(N^b)]`` column by column: ``N^b`` from the dual frame, ``L`` the row-major
    vectorised Liouvillian (an independent construction from the local tensors the solver may use)."""
    n = lindbladian.num_qubits
    d = 2**n
    sup = liouvillian_matrix(lindbladian)
    out = np.zeros((4**n, 4**n))
    for b in range(4**n):
        e = np.zeros(4**n)
        e[b] = 1.0
        dual = povm.operator_from_coefficients(e)
        image = (sup @ dual.reshape(-1)).reshape(d, d)
        col = povm.frame_coefficients(image)
        assert np.max(np.abs(col.imag)) < 1e-12
        out[:, b] = col.real
    return out


def trapezoid_reference(L: np.ndarray, P0: np.ndarray, tau: float, n_steps: int) -> np.ndarray:
    """Crank-Nicolson ``(1 - tau/2 L) P(t + tau) = (1 + tau/2 L) P(t)``: the states at each step."""
    eye = np.eye(L.shape[0])
    out = [P0]
    for _ in range(n_steps):
        out.append(np.linalg.solve(eye - tau / 2 * L, (eye + tau / 2 * L) @ out[-1]))
    return np.array(out)


def null_vector(L: np.ndarray) -> np.ndarray:
    """The normalised steady state ``L P = 0`` (smallest singular vector)."""
    _, _, vh = np.linalg.svd(L)
    p = vh[-1]
    return p / p.sum()


class DenseAction:
    """Local-action interface over a dense ``L``: every string is connected to all ``4^N`` strings."""

    def __init__(self, L: np.ndarray, n: int, povm=None):
        from qdyn.nets.povm_transformer import all_outcome_strings

        self.L = torch.as_tensor(L)
        self.all = all_outcome_strings(n)
        self.powers = 4 ** torch.arange(n)
        self.povm = povm

    def __call__(self, strings):
        idx = (strings * self.powers).sum(1)
        return self.all.expand(len(strings), *self.all.shape), self.L[idx]
