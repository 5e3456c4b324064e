"""Eigenvalue solvers on real-time Krylov data (data apart from solvers: see :mod:`qdyn.krylov.acquire`).

``solve(data, method)`` runs one of the four methods of :mod:`qdyn.krylov.pencils` (``"vqpe"``, ``"uvqpe"``,
``"odmd"``, ``"matrix_pencil"``) at Krylov dimension ``K`` with a truncation threshold, then:

* **guards** (:mod:`qdyn.krylov.guards`): the automatic threshold is raised until the energies respect the
  spectral floor (``data.bounds[0]``, or a known ``lower_bound`` when higher), or the roots below it are dropped
  (``n_dropped``); an energy below the floor by more than the guard's tolerance (an explicit threshold can give
  one) is flagged (``below_bound``) and warned (:class:`~qdyn.errors.PhysicsWarning`), and so are linearly
  dependent references;
* **damping** (:mod:`qdyn.krylov.damping`): on noisy data, VQPE and UVQPE first renormalise the lag-0 diagonal to
  1 and undo the uniform decay ``exp(-gamma t)`` that hardware noise puts on the overlaps, with ``gamma`` the
  weight-averaged decay rate of the UVQPE roots (``damping="auto"``; a float is a known rate; ``0`` turns it
  off). The rate undone is the result's ``damping`` (0 below a 5 % loss of signal by the last lag); when the
  correction moves the lowest energy by more than its statistical bar, ``damped`` is set and a
  :class:`~qdyn.errors.PhysicsWarning` says what to change (more mitigation, fewer lags, a shorter ``dt``);
* **resolved weight** (:func:`qdyn.krylov.guards.unresolved_weight`): on noisy data the lowest root must hold
  more of the references' weight than the noise resolves; if not, ``converged=False`` (a lower state may be
  hidden);
* **error bars** (:mod:`qdyn.krylov.errorbars`): a parametric bootstrap plus the spread over neighbouring
  thresholds and Krylov dimensions. ``error_kind`` is ``"statistical"`` (a 1-sigma bar; the true error lies within
  two bars in >= 90 % of trials) on noisy data and ``"estimate"`` (the truncation spread alone) on noiseless data;
* **convergence**: ``converged=False``, an infinite error bar and a :class:`~qdyn.errors.ConvergenceWarning` when
  the lags do not resolve the signal: a Hankel rank at the embedding's capacity (too few lags), or for VQPE/UVQPE
  an ``S`` of full rank whose lowest root still moved by more than ``max(tol, 2 sigma_boot)`` from ``K - 1`` to
  ``K``. An empty result (no root survives) warns too, and its ``.energy`` raises a ``ValueError`` saying why.

The threshold is absolute on the eigenvalues of ``S`` (whose diagonal is 1) for VQPE/UVQPE and relative to the
largest singular value for the Hankel methods. ``threshold="auto"`` starts at ten times the data's noise level
(RMS standard error of one overlap; Klymko et al., PRX Quantum 3, 020323 (2022)), within ``[1e-11, 0.1]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from qdyn.errors import ConvergenceWarning, PhysicsWarning, check_choice, check_finite, check_int, check_positive
from qdyn.krylov.damping import estimate_rate, normalise, undamp
from qdyn.krylov.data import KrylovData
from qdyn.krylov.errorbars import bootstrap_spread, stability_spread
from qdyn.krylov.guards import floor_tolerance, reference_rank, select_threshold, spectral_floor, unresolved_weight
from qdyn.krylov.pencils import GENERALISED, HANKEL, min_samples, solve_at
from qdyn.krylov.timestep import check_aliasing
from qdyn.results import Metadata, Resources, Result, make_metadata, value_rows
from qdyn.seeding import make_rng

__all__ = ["METHODS", "KrylovResult", "solve"]

METHODS = GENERALISED + HANKEL


@dataclass(frozen=True)
class KrylovResult(Result):
    """Energies from real-time Krylov data.

    ``energies`` ascending (units of ``H``), ``energies_err`` their error bars of kind ``error_kind``:
    ``"statistical"`` (1-sigma, bootstrap plus threshold/``K`` spread; noisy data) or ``"estimate"`` (threshold/``K``
    spread; noiseless data), infinite when ``converged`` is ``False`` (see :mod:`qdyn.krylov.errorbars`).
    ``cond_S`` is the condition number of ``S`` (of the Hankel / delay-embedding matrix for the Hankel methods).
    ``history[k-1]`` is the lowest energy at Krylov dimension ``k`` (per reference; for the Hankel methods, using
    the first ``k`` time samples), NaN where that dimension cannot give one. ``decay_rates`` (Hankel methods) are
    ``-Re(omega)`` of the returned modes. ``lower_bound`` is the spectral floor of the guard; ``below_bound`` flags
    an energy below it (beyond the guard's tolerance); ``n_dropped`` counts the roots the automatic threshold
    dropped for lying below it. ``damping`` is the decay rate ``gamma`` (per unit time) undone before solving (see
    :mod:`qdyn.krylov.damping`); ``damped`` flags a correction that mattered (see :func:`solve`). ``converged`` is
    ``False`` when the lags or the noise do not resolve the signal (see :func:`solve`).
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
    error_kind: str = "estimate"
    lower_bound: float = -np.inf
    below_bound: bool = False
    n_dropped: int = 0
    damping: float = 0.0
    damped: bool = False
    converged: bool = True
    resources: Resources = field(default_factory=Resources)
    metadata: Metadata = field(default_factory=Metadata)

    def _first(self, values, what: str) -> float:
        if self.energies.size == 0:
            dropped = (f"; {self.n_dropped} root(s) below the spectral floor {self.lower_bound:.6g} were dropped"
                       if self.n_dropped else "")
            raise ValueError(f"this {self.method} result has no {what}: no direction of S (or Hankel mode) at "
                             f"K={self.krylov_dim}, threshold {self.threshold:.3g} gave a root{dropped}; "
                             "acquire more lags or less noisy data")
        return float(values[0])

    @property
    def energy(self) -> float:
        """The lowest energy (``ValueError`` naming why when the result is empty)."""
        return self._first(self.energies, "energy")

    @property
    def energy_err(self) -> float | None:
        """The error bar of the lowest energy (of kind ``error_kind``)."""
        return None if self.energies_err is None else self._first(self.energies_err, "energy error")

    def rows(self) -> list[dict]:
        """One row per root: ``value`` the energy, ``error`` its error bar (of kind ``error_kind``),
        ``reference`` NaN (the data carry no reference; :mod:`qdyn.compare` adds one), and for the Hankel methods
        ``decay_rate`` ``-Re(omega)``."""
        rows = value_rows("energy", self.energies, errors=self.energies_err)
        if self.decay_rates is not None:
            for row, rate in zip(rows, self.decay_rates, strict=True):
                row["decay_rate"] = float(rate)
        return rows


def _history(data: KrylovData, method: str, dim: int, threshold: float):
    """Lowest energy and kept rank at every Krylov dimension ``1..dim`` (NaN / 0 below the method's minimum)."""
    history, ranks = np.full(dim, np.nan), np.zeros(dim, dtype=int)
    for k in range(min_samples(method), dim + 1):
        pencil = solve_at(data, method, k, threshold)
        ranks[k - 1] = pencil.rank
        if pencil.energies.size:
            history[k - 1] = pencil.energies[0]
    return history, ranks


def _check_dimension(data: KrylovData, method: str, K):
    k_max = data.n_times - 1 if method == "uvqpe" else data.n_times
    k_min = max(min_samples(method), 2 if K is not None else 1)
    K = k_max if K is None else check_int("K", K)
    if K < k_min:
        raise ValueError(f"K={K} is too small: method {method!r} needs K >= {k_min} "
                         f"({'time samples; one mode needs 3' if method in HANKEL else 'Krylov dimensions'}); "
                         f"acquire more lags or pass a larger K")
    if K > k_max:
        raise ValueError(f"K={K} needs more time samples: method {method!r} allows K <= {k_max} with this data")
    return K


def _convergence(method: str, pencil, history: np.ndarray, boot: np.ndarray, tol: float) -> str | None:
    """Why the lags do not resolve the signal (``None`` when they do); see :func:`solve`."""
    if method in HANKEL:
        if pencil.saturated:
            return (f"too few lags: the signal holds at least {pencil.rank} modes, as many as "
                    f"{history.size} samples can resolve; acquire more lags (the energies are not determined)")
        return None
    if not pencil.energies.size or not pencil.saturated:
        return None
    if history.size < 2 or not np.isfinite(history[-2]):
        return f"S has full rank {pencil.rank} at K={history.size}, which cannot show convergence; acquire more lags"
    change = abs(history[-1] - history[-2])
    limit = max(tol, 2 * (boot[0] if boot.size else 0.0))
    if not change <= limit:
        return (f"S has full rank {pencil.rank} and the lowest energy still moved by {change:.3g} > {limit:.3g} "
                f"from K={history.size - 1} to K={history.size}; acquire more lags")
    return None


def _damping_option(damping):
    if isinstance(damping, str):
        if damping != "auto":
            raise ValueError(f"damping must be 'auto' or a decay rate >= 0 (per unit time), got {damping!r}")
        return damping
    if isinstance(damping, bool) or not isinstance(damping, Real):
        raise TypeError(f"damping must be 'auto' or a real decay rate >= 0, got {type(damping).__name__}")
    if not (np.isfinite(damping) and damping >= 0):
        raise ValueError(f"damping must be 'auto' or a finite decay rate >= 0 (per unit time), got {damping}")
    return float(damping)


def _prepare(data: KrylovData, method: str, damping, floor: float) -> tuple[KrylovData, float]:
    """The data the pencils solve and the decay rate undone (see :mod:`qdyn.krylov.damping`): noisy data for
    VQPE/UVQPE under ``damping="auto"`` are renormalised and undamped by the estimated rate; a given rate is undone
    for every method; exact data under ``"auto"`` are left alone."""
    if damping == "auto":
        if not data.noisy or method in HANKEL:
            return data, 0.0
        data = normalise(data)
        damping = estimate_rate(data, floor, floor_tolerance(data))
    else:
        data = normalise(data)
    return undamp(data, damping), damping


def _damping_shift(raw: KrylovData, method: str, dim: int, energies: np.ndarray, floor: float,
                   threshold: float | None) -> float:
    """How far the damping correction moved the lowest energy: ``|E - E_raw|`` with ``E_raw`` solved from the
    uncorrected data (at ``threshold``, or the automatic one when ``None``); infinite if those give no root."""
    if threshold is None:
        other = select_threshold(raw, method, dim, floor, floor_tolerance(raw))[1]
    else:
        other = solve_at(raw, method, dim, threshold)
    if not (energies.size and other.energies.size):
        return float("inf") if energies.size else 0.0
    return float(abs(other.energies[0] - energies[0]))


def solve(data: KrylovData, method: str = "vqpe", *, threshold="auto", n_roots: int = 1, K: int | None = None,
          lower_bound: float | None = None, tol: float = 1e-6, bootstrap: int | None = None, damping="auto",
          seed=None) -> KrylovResult:
    """Extract the lowest ``n_roots`` energies from ``data`` with ``method`` (see the module docstring).

    Parameters
    ----------
    data : :class:`~qdyn.krylov.data.KrylovData` from :func:`qdyn.krylov.acquire`.
    method : ``"vqpe" | "uvqpe" | "odmd" | "matrix_pencil"``.
    threshold : ``"auto"`` or a positive truncation threshold (see the module docstring).
    n_roots : how many of the lowest roots to return.
    K : Krylov dimension per reference (VQPE: lags ``0..K-1``; UVQPE: ``0..K``) or number of time samples
        (Hankel methods, at least 3); by default the largest the data allows.
    lower_bound : a known lower bound of the spectrum, e.g. an exact ground energy (units of ``H``); the floor of
        the guard is ``max(lower_bound, data.bounds[0])``.
    tol : target accuracy of the lowest energy between Krylov dimensions ``K - 1`` and ``K`` (VQPE/UVQPE with
        ``S`` of full rank; default ``1e-6``, widened to two bootstrap standard errors on noisy data).
    bootstrap : parametric bootstrap replicas (default 100 on noisy data, none on noiseless data).
    damping : ``"auto"`` (estimate and undo the noise's decay of the overlaps, VQPE/UVQPE on noisy data) or a
        known decay rate ``gamma >= 0`` per unit time (``0``: none); see :mod:`qdyn.krylov.damping`.
    seed : int, Generator or None; drives the resampling.
    """
    if not isinstance(data, KrylovData):
        raise TypeError(f"data must be a KrylovData (from qdyn.krylov.acquire), got {type(data).__name__}")
    check_choice("method", method, METHODS)
    n_roots = check_int("n_roots", n_roots, minimum=1)
    tol = check_positive("tol", tol)
    damping = _damping_option(damping)
    if lower_bound is not None:
        if isinstance(lower_bound, bool) or not isinstance(lower_bound, Real):
            raise TypeError(f"lower_bound must be a real number or None, got {type(lower_bound).__name__}")
        lower_bound = float(check_finite("lower_bound", lower_bound))
    if method == "vqpe" and data.h is None:
        raise ValueError("method='vqpe' needs the Hamiltonian rows h(t): acquire with with_h=True, "
                         "or use a unitary method ('uvqpe', 'odmd', 'matrix_pencil')")
    if method != "vqpe":
        check_aliasing(data.bounds, data.dt, method)
    K = _check_dimension(data, method, K)
    n_boot = check_int("bootstrap", bootstrap if bootstrap is not None else (100 if data.noisy else 0), minimum=0)
    rng, recorded_seed = make_rng(seed)

    r_refs = reference_rank(data)
    if r_refs < data.n_refs:
        warnings.warn(f"the {data.n_refs} references span only {r_refs} dimensions (their Gram matrix "
                      "<phi_a|phi_b> is singular): the Krylov subspace collapses onto repeated blocks; pass "
                      "linearly independent references", PhysicsWarning, stacklevel=2)
    floor = spectral_floor(data, lower_bound)
    raw, (data, rate) = data, _prepare(data, method, damping, floor)
    floor_tol = floor_tolerance(data)
    auto = isinstance(threshold, str)
    if auto and threshold != "auto":
        raise ValueError(f"threshold must be 'auto' or a positive number, got {threshold!r}")
    if auto:
        thr, pencil, n_dropped = select_threshold(data, method, K, floor, floor_tol)
    else:
        thr, n_dropped = check_positive("threshold", threshold), 0
        pencil = solve_at(data, method, K, thr)
    energies = pencil.energies[:n_roots]
    decay = pencil.decay[:n_roots] if method in HANKEL else None
    history, ranks = _history(data, method, K, thr)

    def solve_replica(replica: KrylovData) -> np.ndarray:
        """The whole estimator on a bootstrap replica of the raw data (damping and floor guard replayed)."""
        prepared = _prepare(replica, method, damping, floor)[0]
        if auto:
            return select_threshold(prepared, method, K, floor, floor_tolerance(prepared), start=thr)[1].energies
        return solve_at(prepared, method, K, thr).energies

    boot = bootstrap_spread(raw, energies, n_boot, rng, solve_replica)
    stab = stability_spread(data, method, K, thr, energies, floor, floor_tol)
    energies_err = boot + stab  # linear: the truncation bias is systematic, not independent of the noise
    reason = _convergence(method, pencil, history, boot, tol) or unresolved_weight(data, pencil, K, thr)
    if reason:  # the lags or the noise do not resolve the signal: the data do not determine the roots
        energies_err = np.full(energies.size, np.inf)

    loss = 1.0 - np.exp(-rate * data.times[-1])
    shift = _damping_shift(raw, method, K, energies, floor, None if auto else thr) if rate else 0.0
    damped = bool(shift > (boot[0] if boot.size else 0.0))
    if damped:
        lag0 = np.diagonal(raw.s[:, :, 0]).real
        warnings.warn(f"the overlaps decay as exp(-gamma t) with gamma = {rate:.3g} (the roots' |mu| < 1; a "
                      f"unitary gives 1): {100 * loss:.0f} % of the signal is lost by t = {data.times[-1]:.3g} "
                      f"besides the lag-0 loss (<phi|phi> measured {lag0.min():.3g}, renormalised to 1), from "
                      "hardware noise (or a root these lags do not converge); correcting for a uniform decay "
                      f"moved the lowest energy by {shift:.3g}, more than its statistical bar, and what a "
                      "non-uniform decay leaves is in the error bar; to shrink it, "
                      "mitigate more (zero-noise extrapolation, twirling), use fewer lags, or a shorter dt / fewer "
                      "Trotter steps", PhysicsWarning, stacklevel=2)

    if n_dropped:
        warnings.warn(f"the automatic threshold dropped {n_dropped} root(s) below the spectral floor {floor:.6g} "
                      "that no threshold up to 1 removed: the data do not determine them", PhysicsWarning,
                      stacklevel=2)
    below = bool(np.any(energies < floor - floor_tol))
    if below:
        warnings.warn(f"{method} energy {energies[0]:.6g} lies below the spectral floor {floor:.6g} (beyond its "
                      f"tolerance {floor_tol:.3g}): threshold {thr:.3g} keeps directions that hold noise, "
                      "not signal; use threshold='auto' or a larger threshold", PhysicsWarning, stacklevel=2)
    if energies.size == 0:
        warnings.warn(f"no direction of S (or Hankel mode) at K={K}, threshold {thr:.3g} gave a root: the result "
                      "is empty", ConvergenceWarning, stacklevel=2)
    elif energies.size < n_roots:
        warnings.warn(f"only {energies.size} roots at rank {pencil.rank} (asked for {n_roots})", stacklevel=2)
    if reason:
        warnings.warn(f"{method}: {reason}", ConvergenceWarning, stacklevel=2)

    metadata = make_metadata(seed=recorded_seed, backend=data.backend, method=method, bootstrap=n_boot,
                             data_seed=data.metadata.seed, tol=tol, damping=damping)
    return KrylovResult(energies=np.asarray(energies, dtype=float), method=method, krylov_dim=K, rank=pencil.rank,
                        cond_S=pencil.cond, threshold=thr, history=history, rank_history=ranks,
                        energies_err=energies_err,
                        decay_rates=None if decay is None else np.asarray(decay, dtype=float),
                        error_kind="statistical" if data.noisy else "estimate", lower_bound=float(floor),
                        below_bound=below, n_dropped=n_dropped, damping=rate, damped=damped,
                        converged=reason is None and energies.size > 0,
                        resources=data.resources, metadata=metadata)
