"""Eigenvalue solvers on real-time Krylov data (data apart from solvers: see :mod:`qdyn.krylov.acquire`).

* ``"vqpe"`` (Klymko et al., PRX Quantum 3, 020323 (2022)): ``H c = E S c`` with the Toeplitz (block-Toeplitz for
  several references) matrices of :func:`qdyn.krylov.data.krylov_matrices`.
* ``"uvqpe"``: ``U c = mu S c`` with ``U_jk = s((k - j + 1) dt)``; ``E = c - arg(mu exp(i c dt))/dt`` with ``c`` the
  centre of the spectral interval (phase unwrapping; needs ``(E_max - E_min) dt < 2 pi``).
* ``"odmd"`` (observable dynamic mode decomposition; Shen et al., arXiv:2306.01858): the delay-embedded
  observables ``x_k = (o_k, ..., o_{k+d-1})`` with ``o_k`` the overlaps at lag ``k``; ``A = X' X^+`` by truncated
  SVD; the eigenvalues ``mu`` of ``A`` give ``omega = log(mu)/dt``.
* ``"matrix_pencil"`` (Hua & Sarkar, IEEE Trans. ASSP 38, 814 (1990)): the Hankel matrix ``Y_ij = s_{i+j}`` with
  pencil parameter ``L``; truncated right singular vectors ``V``; eigenvalues of ``pinv(V_1) V_2``.

Both Hankel methods keep only modes whose amplitude in a Vandermonde least-squares fit of the signal is above
``max(threshold, 1e-5)`` times the largest (numerical modes of a truncated SVD carry no weight).

Both Hankel methods return the energy ``-Im(omega)`` and the decay rate ``-Re(omega)`` of every mode.

``S`` is numerically rank-deficient, so every solver works in a truncated basis: the generalised problems keep the
eigenvectors of ``S`` with eigenvalue above ``threshold`` (canonical orthogonalisation), the Hankel methods the
singular values above ``threshold * sigma_max``. ``threshold="auto"`` is ten times the data's noise level (RMS
standard error of one overlap; Klymko et al.), floored at ``1e-11`` for noiseless data. On noisy data a parametric
bootstrap (resampling every element from its standard error) gives the error bars, as half the central 68% range
of the replicas' energies (robust to the rare replica whose kept rank changes).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from qdyn.errors import check_choice, check_int, check_positive
from qdyn.krylov.data import KrylovData, krylov_matrices
from qdyn.krylov.timestep import check_aliasing
from qdyn.results import Metadata, Resources, Result, make_metadata, value_rows
from qdyn.seeding import make_rng

__all__ = ["METHODS", "KrylovResult", "auto_threshold", "solve"]

METHODS = ("vqpe", "uvqpe", "odmd", "matrix_pencil")
_EXACT_FLOOR = 1e-11
_MODE_FLOOR = 1e-5  #: Hankel modes with a smaller relative amplitude are numerical, not in the signal


@dataclass(frozen=True)
class KrylovResult(Result):
    """Energies from real-time Krylov data.

    ``cond_S`` is the condition number of ``S`` (of the Hankel / delay-embedding matrix for the Hankel methods).
    ``history[k-1]`` is the lowest energy at Krylov dimension ``k`` (per reference; for the Hankel methods, using
    the first ``k`` time samples), NaN where that dimension cannot give one. ``energies_err`` are bootstrap standard
    errors (``None`` for noiseless data). ``decay_rates`` (Hankel methods) are ``-Re(omega)`` of the returned modes.
    """

    energies: np.ndarray
    method: str
    krylov_dim: int
    rank: int
    cond_S: float
    threshold: float
    history: np.ndarray
    rank_history: np.ndarray
    energies_err: np.ndarray | None = None
    decay_rates: np.ndarray | None = None
    resources: Resources = field(default_factory=Resources)
    metadata: Metadata = field(default_factory=Metadata)

    @property
    def energy(self) -> float:
        """The lowest energy."""
        return float(self.energies[0])

    @property
    def energy_err(self) -> float | None:
        return None if self.energies_err is None else float(self.energies_err[0])

    def rows(self) -> list[dict]:
        """One row per root: ``value`` the energy, ``error`` its bootstrap standard error (NaN for noiseless data),
        ``reference`` NaN (the data carry no reference; :mod:`qdyn.compare` adds one), and for the Hankel methods
        ``decay_rate`` ``-Re(omega)``."""
        rows = value_rows("energy", self.energies, errors=self.energies_err)
        if self.decay_rates is not None:
            for row, rate in zip(rows, self.decay_rates, strict=True):
                row["decay_rate"] = float(rate)
        return rows


def auto_threshold(data: KrylovData) -> float:
    """Ten times the noise level of one overlap element, at least ``1e-11``."""
    return max(10.0 * data.noise_level, _EXACT_FLOOR)


def _canonical_basis(S: np.ndarray, threshold: float):
    """``X = V lambda^{-1/2}`` over the eigenvectors of ``S`` with eigenvalue > threshold; also rank and cond."""
    S = (S + S.conj().T) / 2
    lam, vecs = np.linalg.eigh(S)
    keep = lam > threshold
    kept = lam[keep]
    cond = float(lam[-1] / abs(lam[0])) if lam[0] != 0 else float("inf")
    return vecs[:, keep] / np.sqrt(kept), int(keep.sum()), cond


def _unwrap(mu: np.ndarray, centre: float, dt: float) -> np.ndarray:
    """``omega = log(mu)/dt`` with the phase measured from the spectral centre: energy ``-Im omega`` near ``centre``."""
    shifted = mu * np.exp(1j * centre * dt)
    return np.log(np.abs(shifted)) / dt + 1j * (np.angle(shifted) / dt - centre)


def _generalised(data: KrylovData, method: str, dim: int, threshold: float):
    """Ascending energies of the thresholded ``H c = E S c`` (VQPE) or ``U c = mu S c`` (UVQPE); rank; cond(S)."""
    mats = krylov_matrices(data, dim, which="SH" if method == "vqpe" else "SU")
    X, rank, cond = _canonical_basis(mats["S"], threshold)
    if rank == 0:
        return np.array([]), rank, cond
    if method == "vqpe":
        Hp = X.conj().T @ mats["H"] @ X
        return np.linalg.eigvalsh((Hp + Hp.conj().T) / 2), rank, cond
    omega = _unwrap(np.linalg.eigvals(X.conj().T @ mats["U"] @ X), sum(data.bounds) / 2, data.dt)
    return np.sort(-omega.imag), rank, cond


def _channels(data: KrylovData, n_samples: int) -> np.ndarray:
    """Signals ``o[c, k]`` (channels = reference pairs) over the first ``n_samples`` lags."""
    return data.s[:, :, :n_samples].reshape(-1, n_samples)


def _hankel_modes(data: KrylovData, method: str, n_samples: int, threshold: float):
    """``omega`` of the retained modes from the first ``n_samples`` lags; also the rank and condition number."""
    sig = _channels(data, n_samples)
    if n_samples < 3:
        return np.array([], dtype=complex), 0, float("nan")
    if method == "odmd":
        d = max(1, (n_samples - 1) // 2)  # delay-embedding depth
        cols = n_samples - d
        emb = np.concatenate([np.stack([sig[c, i:i + cols] for i in range(d)]) for c in range(sig.shape[0])])
        X, Xp = emb[:, :-1], emb[:, 1:]
        U, sv, Vh = np.linalg.svd(X, full_matrices=False)
        r = int(np.sum(sv > threshold * sv[0]))
        A = U[:, :r].conj().T @ Xp @ Vh[:r].conj().T / sv[:r]
        mu = np.linalg.eigvals(A)
    else:
        L = max(1, n_samples // 2)  # pencil parameter
        Y = np.concatenate([np.stack([sig[c, i:i + L + 1] for i in range(n_samples - L)])
                            for c in range(sig.shape[0])])
        _, sv, Vh = np.linalg.svd(Y, full_matrices=False)
        r = int(np.sum(sv > threshold * sv[0]))
        V = Vh[:r].T  # (L+1, r): rows of Vh span the (unconjugated) signal vectors (z_i^k)_k
        mu = np.linalg.eigvals(np.linalg.pinv(V[:-1]) @ V[1:])
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
    mu = mu[np.abs(mu) > 1e-12]
    if mu.size:  # drop modes the signal does not contain (amplitudes from a Vandermonde least-squares fit)
        vander = mu[None, :] ** np.arange(n_samples)[:, None]
        amps = np.linalg.lstsq(vander, sig.T, rcond=None)[0]
        weight = np.linalg.norm(amps, axis=1)
        mu = mu[weight > max(threshold, _MODE_FLOOR) * weight.max()]
    return _unwrap(mu, sum(data.bounds) / 2, data.dt), r, cond


def _solve_once(data: KrylovData, method: str, dim: int, threshold: float, n_roots: int, with_history: bool):
    history = np.full(dim, np.nan)
    ranks = np.zeros(dim, dtype=int)
    if method in ("vqpe", "uvqpe"):
        for k in range(1, dim + 1) if with_history else [dim]:
            energies, rank, cond = _generalised(data, method, k, threshold)
            ranks[k - 1] = rank
            if energies.size:
                history[k - 1] = energies[0]
        return energies[:n_roots], None, rank, cond, history, ranks
    for k in (range(3, dim + 1) if with_history and dim >= 3 else [dim]):
        omega, rank, cond = _hankel_modes(data, method, k, threshold)
        ranks[k - 1] = rank
        if omega.size:
            history[k - 1] = (-omega.imag).min()
    omega = omega[np.argsort(-omega.imag)][:n_roots]
    return -omega.imag, -omega.real, rank, cond, history, ranks


def solve(data: KrylovData, method: str = "vqpe", *, threshold="auto", n_roots: int = 1, K: int | None = None,
          bootstrap: int | None = None, seed=None) -> KrylovResult:
    """Extract the lowest ``n_roots`` energies from ``data`` with ``method`` (see the module docstring).

    ``K`` is the Krylov dimension per reference (VQPE: lags ``0..K-1``; UVQPE: ``0..K``) or the number of time
    samples (Hankel methods); by default the largest the data allows. ``bootstrap`` resamples on noisy data
    (default 100 resamples when the data has standard errors, none otherwise); ``seed`` drives the resampling.
    """
    if not isinstance(data, KrylovData):
        raise TypeError(f"data must be a KrylovData (from qdyn.krylov.acquire), got {type(data).__name__}")
    check_choice("method", method, METHODS)
    n_roots = check_int("n_roots", n_roots, minimum=1)
    if method == "vqpe" and data.h is None:
        raise ValueError("method='vqpe' needs the Hamiltonian rows h(t): acquire with with_h=True, "
                         "or use a unitary method ('uvqpe', 'odmd', 'matrix_pencil')")
    if method != "vqpe":
        check_aliasing(data.bounds, data.dt, method)
    k_max = data.n_times - 1 if method == "uvqpe" else data.n_times
    K = k_max if K is None else check_int("K", K, minimum=2)
    if K > k_max:
        raise ValueError(f"K={K} needs more time samples: method {method!r} allows K <= {k_max} with this data")
    if threshold == "auto":
        thr = auto_threshold(data)
    else:
        thr = check_positive("threshold", threshold)
    rng, recorded_seed = make_rng(seed)
    energies, decay, rank, cond, history, ranks = _solve_once(data, method, K, thr, n_roots, True)
    if energies.size == 0:
        warnings.warn(f"no direction of S (or Hankel mode) survives the threshold {thr:.3g}; the result is empty",
                      stacklevel=2)
    elif energies.size < n_roots:
        warnings.warn(f"only {energies.size} roots at rank {rank} (asked for {n_roots})", stacklevel=2)

    n_boot = bootstrap if bootstrap is not None else (100 if data.noisy else 0)
    n_boot = check_int("bootstrap", n_boot, minimum=0)
    energies_err = None
    if n_boot and data.noisy:
        samples = []
        for _ in range(n_boot):
            e, *_ = _solve_once(_resample(data, rng), method, K, thr, n_roots, False)
            samples.append(np.pad(e, (0, n_roots - e.size), constant_values=np.nan)[:energies.size])
        # robust standard error: half the central 68% range (a replica that changes rank can be an outlier)
        lo, hi = np.nanpercentile(np.array(samples), [15.87, 84.13], axis=0)
        energies_err = (hi - lo) / 2

    resources = data.resources
    metadata = make_metadata(seed=recorded_seed, backend=data.backend, method=method, bootstrap=n_boot,
                             data_seed=data.metadata.seed)
    return KrylovResult(energies=np.asarray(energies, dtype=float), method=method, krylov_dim=K, rank=rank,
                        cond_S=cond, threshold=thr, history=history, rank_history=ranks,
                        energies_err=energies_err,
                        decay_rates=None if decay is None else np.asarray(decay, dtype=float),
                        resources=resources, metadata=metadata)


def _resample(data: KrylovData, rng) -> KrylovData:
    """Parametric bootstrap replica: every element redrawn from a Gaussian with its standard error."""
    def draw(x, err):
        return x + err.real * rng.standard_normal(x.shape) + 1j * err.imag * rng.standard_normal(x.shape)

    s = draw(data.s, data.s_err)
    s[:, :, 0] = (s[:, :, 0] + s[:, :, 0].conj().T) / 2
    h = None
    if data.h is not None:
        h = draw(data.h, data.h_err)
        h[:, :, 0] = (h[:, :, 0] + h[:, :, 0].conj().T) / 2
    return data.replace(s=s, h=h)
