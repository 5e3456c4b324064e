"""One solve of real-time Krylov data at a fixed dimension and threshold, for each of the four methods.

* ``"vqpe"`` (Klymko et al., PRX Quantum 3, 020323 (2022)): ``H c = E S c`` with the Toeplitz (block-Toeplitz for
  several references) matrices of :func:`qdyn.krylov.data.krylov_matrices`.
* ``"uvqpe"``: ``U c = mu S c`` with ``U_jk = s((k - j + 1) dt)``; ``E = c - arg(mu exp(i c dt))/dt`` with ``c`` the
  centre of the spectral interval (phase unwrapping; needs ``(E_max - E_min) dt < 2 pi``).
* ``"odmd"`` (observable dynamic mode decomposition; Shen et al., arXiv:2306.01858): the delay-embedded
  observables ``x_k = (o_k, ..., o_{k+d-1})`` with ``o_k`` the overlaps at lag ``k``; ``A = X' X^+`` by truncated
  SVD; the eigenvalues ``mu`` of ``A`` give ``omega = log(mu)/dt``.
* ``"matrix_pencil"`` (Hua & Sarkar, IEEE Trans. ASSP 38, 814 (1990)): the Hankel matrix ``Y_ij = s_{i+j}`` with
  pencil parameter ``L``; truncated right singular vectors ``V``; eigenvalues of ``pinv(V_1) V_2``.

``S`` is numerically rank-deficient, so every method works in a truncated basis: the generalised problems keep the
eigenvectors of ``S`` with eigenvalue above ``threshold`` (canonical orthogonalisation, Lowdin), the Hankel methods
the singular values above ``threshold * sigma_max``. Both Hankel methods then keep only modes whose amplitude in a
Vandermonde least-squares fit of the signal is above ``max(threshold, 1e-5)`` times the largest (numerical modes
of a truncated SVD carry no weight), and return the energy ``-Im(omega)`` and the decay rate ``-Re(omega)``.

Each solve also reports the *weight* of every root in the references: ``sum_a |<phi_a|psi_i>|^2`` for the
normalised Ritz vector ``psi_i`` of the generalised problems (``(S X y_i)`` on the lag-0 rows), the norm of the
mode's amplitudes over the reference pairs for the Hankel methods (``w_i`` itself for one reference,
``s(t) = sum_i w_i mu_i^(t/dt)``). A root that holds less weight than the noise resolves is not determined by the
data (see :mod:`qdyn.krylov.guards`).

Each solve also reports its *capacity*: the largest rank the dimension allows (``K R`` for ``S``; the number of
modes the delay embedding or the pencil can hold for the Hankel methods). A Hankel rank at capacity means the
signal holds at least as many modes as the lags can resolve: too few lags.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdyn.krylov.data import KrylovData, krylov_matrices

__all__ = ["GENERALISED", "HANKEL", "Pencil", "min_samples", "solve_at"]

GENERALISED = ("vqpe", "uvqpe")
HANKEL = ("odmd", "matrix_pencil")
_MODE_FLOOR = 1e-5  #: Hankel modes with a smaller relative amplitude are numerical, not in the signal


@dataclass(frozen=True)
class Pencil:
    """One solve: the complex rates ``omega`` of the kept roots in ascending energy ``E = -Im omega`` (decay rate
    ``-Re omega``; zero for VQPE), their ``weights`` in the references (see the module docstring), the kept
    ``rank`` out of ``capacity``, and the condition number ``cond`` of ``S`` (of the Hankel / embedding matrix)."""

    omega: np.ndarray
    weights: np.ndarray
    rank: int
    capacity: int
    cond: float

    @property
    def energies(self) -> np.ndarray:
        return -self.omega.imag

    @property
    def decay(self) -> np.ndarray:
        return -self.omega.real

    @property
    def saturated(self) -> bool:
        """The kept rank fills the capacity (the lags cannot resolve more modes than they were given)."""
        return self.rank >= self.capacity

    def keep(self, mask: np.ndarray) -> Pencil:
        """The same solve with only the roots where ``mask`` holds."""
        return Pencil(self.omega[mask], self.weights[mask], self.rank, self.capacity, self.cond)


def _sorted(omega: np.ndarray, weights: np.ndarray, rank: int, capacity: int, cond: float) -> Pencil:
    order = np.argsort(-omega.imag)
    return Pencil(omega[order], weights[order], rank, capacity, cond)


def min_samples(method: str) -> int:
    """The smallest Krylov dimension ``K`` a method can use: 1 for VQPE/UVQPE, 3 time samples for a Hankel
    method (a 1 x 1 delay embedding or pencil with one shift: one mode)."""
    return 1 if method in GENERALISED else 3


def _canonical_basis(S: np.ndarray, threshold: float):
    """``X = V lambda^{-1/2}`` over the eigenvectors of ``S`` with eigenvalue > threshold; also rank and cond."""
    S = (S + S.conj().T) / 2
    lam, vecs = np.linalg.eigh(S)
    keep = lam > threshold
    cond = float(lam[-1] / abs(lam[0])) if lam[0] != 0 else float("inf")
    return vecs[:, keep] / np.sqrt(lam[keep]), int(keep.sum()), cond


def unwrap(mu: np.ndarray, centre: float, dt: float) -> np.ndarray:
    """``omega = log(mu)/dt`` with the phase measured from the spectral centre: energy ``-Im omega`` near ``centre``."""
    shifted = mu * np.exp(1j * centre * dt)
    return np.log(np.abs(shifted)) / dt + 1j * (np.angle(shifted) / dt - centre)


def _generalised(data: KrylovData, method: str, dim: int, threshold: float) -> Pencil:
    mats = krylov_matrices(data, dim, which="SH" if method == "vqpe" else "SU")
    X, rank, cond = _canonical_basis(mats["S"], threshold)
    capacity = dim * data.n_refs
    if rank == 0:
        return Pencil(np.array([], dtype=complex), np.array([]), 0, capacity, cond)
    if method == "vqpe":
        Hp = X.conj().T @ mats["H"] @ X
        energies, y = np.linalg.eigh((Hp + Hp.conj().T) / 2)
        return Pencil(-1j * energies, _ritz_weights(mats["S"], X, y, data.n_refs), rank, capacity, cond)
    mu, y = np.linalg.eig(X.conj().T @ mats["U"] @ X)
    y = y / np.linalg.norm(y, axis=0)
    omega = unwrap(mu, sum(data.bounds) / 2, data.dt)
    return _sorted(omega, _ritz_weights(mats["S"], X, y, data.n_refs), rank, capacity, cond)


def _ritz_weights(S: np.ndarray, X: np.ndarray, y: np.ndarray, n_refs: int) -> np.ndarray:
    """``sum_a |<phi_a|psi_i>|^2`` for the Ritz vectors ``psi_i = sum_k (X y_i)_k |phi_k>`` (``||y_i|| = 1``, so
    ``||psi_i|| = 1`` since ``X^H S X = 1``): the lag-0 rows of ``S X y``."""
    return np.sum(np.abs(S[:n_refs] @ X @ y) ** 2, axis=0)


def _hankel(data: KrylovData, method: str, n_samples: int, threshold: float) -> Pencil:
    sig = data.s[:, :, :n_samples].reshape(-1, n_samples)  # channels = reference pairs
    n_channels = sig.shape[0]
    if method == "odmd":
        d = max(1, (n_samples - 1) // 2)  # delay-embedding depth
        cols = n_samples - d
        emb = np.concatenate([np.stack([sig[c, i:i + cols] for i in range(d)]) for c in range(n_channels)])
        X, Xp = emb[:, :-1], emb[:, 1:]
        capacity = min(X.shape)
        U, sv, Vh = np.linalg.svd(X, full_matrices=False)
        r = int(np.sum(sv > threshold * sv[0]))
        mu = np.linalg.eigvals(U[:, :r].conj().T @ Xp @ Vh[:r].conj().T / sv[:r])
    else:
        L = max(1, n_samples // 2)  # pencil parameter
        Y = np.concatenate([np.stack([sig[c, i:i + L + 1] for i in range(n_samples - L)])
                            for c in range(n_channels)])
        capacity = min(Y.shape[0], L)  # V_1 = V[:-1] has L rows: at most L modes
        _, sv, Vh = np.linalg.svd(Y, full_matrices=False)
        r = min(int(np.sum(sv > threshold * sv[0])), capacity)
        V = Vh[:r].T  # (L+1, r): rows of Vh span the (unconjugated) signal vectors (z_i^k)_k
        mu = np.linalg.eigvals(np.linalg.pinv(V[:-1]) @ V[1:])
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    mu = mu[np.abs(mu) > 1e-12]
    weight = np.zeros(mu.size)
    if mu.size:  # drop modes the signal does not contain (amplitudes from a Vandermonde least-squares fit)
        vander = mu[None, :] ** np.arange(n_samples)[:, None]
        amps = np.linalg.lstsq(vander, sig.T, rcond=None)[0]
        weight = np.linalg.norm(amps, axis=1)
        keep = weight > max(threshold, _MODE_FLOOR) * weight.max()
        mu, weight = mu[keep], weight[keep]
    return _sorted(unwrap(mu, sum(data.bounds) / 2, data.dt), weight, r, capacity, cond)


def solve_at(data: KrylovData, method: str, dim: int, threshold: float) -> Pencil:
    """Solve ``data`` by ``method`` at Krylov dimension ``dim`` (VQPE: lags ``0..dim-1``; UVQPE: ``0..dim``;
    Hankel methods: the first ``dim`` samples) with the truncation ``threshold``."""
    if method in GENERALISED:
        return _generalised(data, method, dim, threshold)
    return _hankel(data, method, dim, threshold)
