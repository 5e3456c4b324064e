"""Exact time evolution ``psi(t) = exp(-i H t) psi`` (hbar = 1) with a matrix-free Chebyshev propagator.

With the spectrum of ``H`` inside ``[c - r, c + r]`` and ``H' = (H - c)/r``,

    exp(-i H t) = exp(-i c t) [ J_0(r t) + 2 sum_{k>=1} (-i)^k J_k(r t) T_k(H') ],

(Tal-Ezer & Kosloff, J. Chem. Phys. 81, 3967 (1984)); ``T_k(H') psi`` follows the three-term recurrence, so one
step costs one ``H psi`` per retained term (about ``r t`` plus a few dozen). The Bessel coefficients decay
super-exponentially once ``k > r t``; the series is cut where they fall below ``tol``.

Since ``|T_k(H')| <= 1`` on the spectrum, the dropped terms bound the error of one step by
``sum_{k > cut} |a_k|`` (times ``||psi|| = 1``); :func:`evolve` with ``full_output=True`` reports the sum of these
bounds over its steps. Steps longer than ``r dt = 500`` are split into equal sub-steps, so the coefficient array
stays small however long ``t`` is (the cost in products with ``H`` is unchanged).

Speed: the recurrence runs on ``S = 2 (H - c)/r`` built once per operator (``T_1 = S psi / 2``,
``T_{k+1} = S T_k - T_{k-1}``), so a term costs one product with ``S`` (a CSR matrix where it fits, see
:class:`~qdyn.exact.PauliSum`) and two in-place vector updates. The spectral bounds and ``S`` depend only on ``H``
and are cached across calls (keyed on the operator's Pauli strings and coefficients). Default bounds: the
rigorous Pauli interval ``c_I -/+ sum |c_t|`` for short evolutions (``r_P t <= 1000``), where the one to two
hundred products of a Lanczos estimate would cost more than its tighter radius saves (``1.5 (r_P - r) t``
products); the Lanczos estimate above that, or whenever one is already cached for the operator.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from qiskit.quantum_info import SparsePauliOp
from scipy.special import jv

from qdyn.errors import ConvergenceWarning, check_int, check_positive, check_state
from qdyn.exact.pauli_sum import PauliSum, as_pauli_sum, engine_for_device
from qdyn.operators import as_pauli_op

__all__ = ["evolve", "chebyshev_coefficients", "PropagatorReport"]

_MAX_SUBSTEP = 500.0  #: largest r * dt propagated by one Chebyshev series (longer steps are split)
MAX_MATVECS = 10**7  #: default guard on the products with H one call of evolve may take
_LANCZOS_WORTH = 1000.0  #: Pauli radius * t above which Lanczos bounds pay for themselves
_CACHE_SIZE = 8  #: operators whose bounds and scaled propagator matrix are kept between calls
_CACHE_MAX_BYTES = 256 * 2**20  #: scaled operators larger than this are rebuilt each call rather than kept
_bounds_cache: OrderedDict = OrderedDict()
_scaled_cache: OrderedDict = OrderedDict()


@dataclass(frozen=True)
class PropagatorReport:
    """What :func:`evolve` spent and how accurate it is.

    ``error_bound`` is a rigorous bound on ``||psi_numerical(t) - exp(-iHt) psi||`` at the last time (the sum over
    steps of the dropped Chebyshev coefficients, valid when ``bounds`` contain the spectrum), ``matvecs`` the
    products with ``H``, ``converged`` whether ``error_bound <= 10 * tol * series`` (each series is cut where its
    Bessel coefficients fall below ``tol``; their super-exponentially decaying tail sums to a few ``tol``).
    """

    error_bound: float
    matvecs: int
    series: int
    converged: bool


def _coefficient_count(tau: float, tol: float) -> int:
    return int(1.5 * tau + 30 + 3 * np.log10(1.0 / tol))


def chebyshev_coefficients(tau: float, tol: float = 1e-14) -> np.ndarray:
    """``a_k = (2 - delta_k0) (-i)^k J_k(tau)``, truncated once ``|J_k(tau)| < tol`` for ``k > tau``."""
    kmax = _coefficient_count(tau, tol)
    k = np.arange(kmax + 1)
    bessel = jv(k, tau)
    above = np.nonzero((np.abs(bessel) >= tol) | (k <= tau))[0]
    cut = int(above[-1]) + 1 if above.size else 1
    coeffs = 2.0 * (-1j) ** k[:cut] * bessel[:cut]
    coeffs[0] /= 2.0
    return coeffs


def _fingerprint(op: SparsePauliOp) -> bytes:
    """A digest of the operator's Pauli strings and coefficients (the cache key of its bounds)."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (op.paulis.x, op.paulis.z, op.paulis.phase, op.coeffs):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(str(op.num_qubits).encode())
    return digest.digest()


def _remember(cache: OrderedDict, key, value):
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return value


def _spectral_bounds(pauli: SparsePauliOp, key: bytes, t_max: float) -> tuple[float, float]:
    """Bounds for the propagator: cached Lanczos bounds, else the Pauli interval for short ``t_max``, else Lanczos
    (:func:`qdyn.exact.spectral_bounds`), computed once per operator and cached."""
    if key in _bounds_cache:
        _bounds_cache.move_to_end(key)
        return _bounds_cache[key]
    from qdyn.exact.spectrum import spectral_bounds

    lo, hi = spectral_bounds(pauli, method="pauli")
    if (hi - lo) / 2 * t_max <= _LANCZOS_WORTH:
        return lo, hi
    return _remember(_bounds_cache, key, spectral_bounds(pauli, method="lanczos"))


def _scaled_operator(pauli: SparsePauliOp, key: bytes, center: float, radius: float, options: dict) -> PauliSum:
    """``S = 2 (H - center) / radius`` as a :class:`PauliSum` with ``options``, cached while it is small."""
    cache_key = (key, center, radius, tuple(sorted(options.items())))
    if cache_key in _scaled_cache:
        _scaled_cache.move_to_end(cache_key)
        return _scaled_cache[cache_key]
    shifted = (pauli - SparsePauliOp("I" * pauli.num_qubits, center)) * (2.0 / radius)
    scaled = PauliSum(shifted, **options)
    if scaled.nbytes <= _CACHE_MAX_BYTES:
        _remember(_scaled_cache, cache_key, scaled)
    return scaled


def _chebyshev_step(scaled: PauliSum, psi, coeffs: np.ndarray, phase: complex):
    """``phase * sum_k coeffs[k] T_k(S/2) psi`` by the three-term recurrence on ``S = 2 H'``, updated in place."""
    acc = complex(coeffs[0]) * psi
    if coeffs.size > 1:
        prev, cur = psi, scaled.apply(psi)
        cur *= 0.5
        acc += complex(coeffs[1]) * cur
    for a in coeffs[2:]:
        nxt = scaled.apply(cur)
        nxt -= prev
        acc += complex(a) * nxt
        prev, cur = cur, nxt
    acc *= phase
    return acc


def _tail_bound(tau: float, cut: int, tol: float) -> float:
    """``sum_{k >= cut} 2 |J_k(tau)|``: the error bound of a series truncated at ``cut`` terms."""
    k = np.arange(cut, max(_coefficient_count(tau, tol), cut) + 40)
    return float(2.0 * np.sum(np.abs(jv(k, tau))))


def evolve(H, psi, t, *, device: str = "cpu", tol: float = 1e-13, bounds: tuple[float, float] | None = None,
           precision: str = "double", max_matvecs: int = MAX_MATVECS, progress: bool = False,
           full_output: bool = False):
    """``exp(-i H t) psi`` for a scalar ``t > 0``, or the states at every time of a 1-D array ``t``.

    ``t`` as an array must be non-negative and strictly increasing; the result then has shape ``(len(t), 2**n)``.
    ``bounds`` is an interval containing the spectrum (by default the Pauli interval for short times, else a
    Lanczos estimate widened to be safe, see :func:`qdyn.exact.spectral_bounds` and the module notes; cached per
    operator). Returns numpy arrays for ``device="cpu"`` and torch tensors otherwise;
    with ``full_output=True``, ``(states, PropagatorReport)`` with the error bound of the result.

    ``max_matvecs`` guards against a call that would take far longer than meant (``t = 1e9``): the number of
    products with ``H`` is known before starting (about ``r t``), and a call needing more raises ``ValueError``
    with the count; raise ``max_matvecs`` to go ahead. ``progress`` shows a tqdm bar over the series.
    """
    engine, dev = engine_for_device(device)
    if isinstance(H, PauliSum):
        op = as_pauli_sum(H, engine=engine, device=dev, precision=precision)  # checks the engine and device
        pauli = op.op
        options = {"engine": op.engine, "device": op.device, "precision": op.precision,
                   "representation": op.representation}
    else:
        pauli = as_pauli_op(H)
        options = {"engine": engine, "device": dev, "precision": precision, "representation": "auto"}
    psi = check_state(psi, pauli.num_qubits)
    times = np.asarray(t, dtype=float)
    if times.ndim == 0:
        check_positive("t", float(times))
    elif times.ndim == 1:
        if times.size == 0 or np.any(times < 0) or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise ValueError("t must be a positive number or a 1-D array of non-negative, strictly increasing times")
    else:
        raise ValueError(f"t must be a number or a 1-D array, got shape {times.shape}")
    check_positive("tol", tol)
    key = _fingerprint(pauli)
    if bounds is None:
        bounds = _spectral_bounds(pauli, key, float(np.max(times)))
    lo, hi = float(bounds[0]), float(bounds[1])
    if not hi >= lo:
        raise ValueError(f"bounds must be (lowest, highest), got {bounds}")
    center, radius = (lo + hi) / 2, max((hi - lo) / 2, 1e-300)

    max_matvecs = check_int("max_matvecs", max_matvecs, minimum=1)
    steps = np.diff(np.concatenate([[0.0], np.atleast_1d(times)]))
    plan = []  # (dt of one series, how many series) per interval between recorded times
    for dt in steps:
        pieces = max(1, int(np.ceil(radius * dt / _MAX_SUBSTEP))) if dt > 0 else 0
        plan.append((dt / max(pieces, 1), pieces))
    cache: dict[float, np.ndarray] = {}

    def coefficients(dt):
        if dt not in cache:
            cache[dt] = chebyshev_coefficients(radius * dt, tol)
        return cache[dt]

    needed = sum(pieces * (_coefficient_count(radius * dt, tol) if pieces else 0) for dt, pieces in plan)
    if needed > max_matvecs:
        raise ValueError(f"evolving to t = {float(np.max(times)):.6g} with spectral radius {radius:.6g} needs about "
                         f"{needed:.3g} products with H, more than max_matvecs={max_matvecs}; shorten t or raise "
                         "max_matvecs")
    error = 0.0
    matvecs = 0
    series = sum(pieces for _, pieces in plan)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=series, desc="Chebyshev propagation")
    scaled = _scaled_operator(pauli, key, center, radius, options)
    state = scaled.asarray(psi)
    out = []
    for dt, pieces in plan:
        for _ in range(pieces):
            coeffs = coefficients(dt)
            state = _chebyshev_step(scaled, state, coeffs, complex(np.exp(-1j * center * dt)))
            error += _tail_bound(radius * dt, coeffs.size, tol)
            matvecs += coeffs.size - 1
            if bar is not None:
                bar.update()
        out.append(state)
    if bar is not None:
        bar.close()
    if times.ndim == 0:
        result = out[0]
    elif engine == "numpy":
        result = np.stack(out)
    else:
        import torch

        result = torch.stack(out)
    report = PropagatorReport(error_bound=error, matvecs=matvecs, series=series,
                              converged=error <= 10 * tol * max(series, 1))
    if not report.converged:
        warnings.warn(f"evolve: the Chebyshev truncation error bound {error:.3g} exceeds 10 * tol per series "
                      f"(tol={tol:g}); lower tol", ConvergenceWarning, stacklevel=2)
    return (result, report) if full_output else result
