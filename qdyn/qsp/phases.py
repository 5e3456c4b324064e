"""QSP phase factors for a real polynomial of definite parity, solved without monomial coefficients.

Convention ``"wx"`` (symmetric QSP; Dong, Meng, Whaley, Lin, PRA 103, 042419 (2021)):

    U(x, Phi) = e^{i phi_0 Z} prod_{k=1}^{d} [ W(x) e^{i phi_k Z} ],   W(x) = e^{i arccos(x) X},

with symmetric phases ``phi_k = phi_{d-k}``; the solvers find ``Phi`` with ``Im <0|U(x, Phi)|0> = p(x)`` on
[-1, 1]. The ``ceil((d+1)/2)`` reduced phases are fixed by matching ``p`` on as many positive Chebyshev nodes.

* :func:`solve_phases_newton` -- from the phases of the nonlinear Fourier transform (:mod:`qdyn.qsp.nlft`:
  Weiss's outer function by FFT, then layer stripping; ``O(d^2)`` without iterations, the default start), which
  are returned as they are when they already rebuild ``p`` to ``tol`` (erf and sign polynomials up to degree
  10^4 at ``1 - max|p| = 2.5e-11``), else polished by Newton's method on the square system (Dong, Lin, Ni, Wang,
  "Robust iterative method for symmetric quantum signal processing in all parameter regimes", SIAM J. Sci.
  Comput. (2024)); ``start="chebyshev"`` starts Newton from their guess ``phi_j = c_{d-2j} / 2`` (Chebyshev
  coefficients ``c``; the first Newton step from 0). Each Newton
  iteration propagates the first row of the prefix products ``L_m = F_0 ... F_m``, one step for all nodes of
  a block at once (``O(d)`` per node); the palindrome symmetry gives the suffixes as
  ``R_m = W L_{d-m-1}^T``, and then ``dIm P/dphi_m = Re(e^{-i phi_m} a_m a_{d-m} - e^{i phi_m} b_m b_{d-m})``
  from the rows ``(a_k, b_k)`` alone, equal for ``m`` and ``d - m``: ``O(d)`` per node and one dense LU solve
  (``O(d^3)``, negligible below d ~ 2000), ``O(d^2)`` memory in blocks of nodes (about 128 MB each).
  From the Chebyshev guess the iteration count grows with ``log(1/(1 - max|p|))``: about 30 iterations at
  ``1 - max|p| = 5e-11`` on erf polynomials, 6 at ``1e-1``. Near ``|p| = 1`` at a sharp maximum Newton
  converges linearly (the residual falls ~4x per iteration) until it is below ``1 - max|p|``, then
  quadratically: ~10-15 iterations from the NLFT start at ``1 - max|p| = 1e-10`` (random and Jacobi-Anger
  polynomials), ~20 from the Chebyshev guess.
* :func:`solve_phases_lm` -- an independent check: Levenberg-Marquardt least squares on twice as many nodes
  (MINPACK through :func:`scipy.optimize.least_squares`), the optimisation-based method of Dong et al. (2021).

Every phase set returned is verified by :func:`qsp_response`, a separate plain product of the 2x2 matrices, on
at least ``2d + 2`` points of [-1, 1], against ``p`` evaluated by a DCT. A mismatch above ``tol`` gives
``converged=False`` and a :class:`~qdyn.errors.ConvergenceWarning` saying what to change; the reachable accuracy
is set by ``1 - max|p|`` and ``d`` (rounding of the product ~``sqrt(d) 1e-16``; rebuilds of 1e-13..3e-13 at
``1 - max|p| = 2.5e-11`` for erf polynomials of degree 1001..10001; ~1e-12 for Jacobi-Anger polynomials of
degree 560 at ``1 - max|p| = 2e-10``, where Newton stalls at the rounding floor and the solver warns).

Convention ``"qsvt"`` (reflection block encoding ``R(a) = [[a, s], [s, -a]]``, ``s = sqrt(1-a^2)``, as in a
QSVT circuit with a Hermitian block encoding): ``U_R(a, Psi) = e^{i psi_0 Z} prod_k [R(a) e^{i psi_k Z}]`` and
``Re <0|U_R(a, Psi)|0> = p(a)``, realised by averaging the circuits with ``Psi`` and ``-Psi`` (one extra
ancilla). From ``W = i e^{i 3pi/4 Z} R e^{i 3pi/4 Z}`` one gets ``psi_k = phi_k - pi/2`` inside and
``psi_{0,d} = phi_{0,d} + 3pi/4 + gamma/2`` with ``gamma = pi (d + 3)/2`` at the ends.

Convention ``"qetu"`` (Dong, Lin, Tong, PRX Quantum 3, 040305 (2022)): ``U(theta, Psi) = e^{i psi_0 X}
prod_k [e^{-i theta Z} e^{i psi_k X}]`` with ``theta = tau E / 2`` from the control-free ``e^{-i tau H}``, and
``Re <0|U|0> = p(cos theta)`` (in a circuit: the average of ``theta`` and ``-theta``). Hadamard
conjugation turns it into ``Z U_wx Z`` read in ``|->``, and ``Re <-|U_wx|-> = Re P`` for symmetric phases, so
``psi_k = phi_k`` inside and ``psi_{0,d} = phi_{0,d} - pi/4`` (``Re(-i P) = Im P``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.fft import dct

from qdyn.errors import ConvergenceWarning, check_choice, check_int, check_positive
from qdyn.qsp.nlft import nlft_reduced_phases

__all__ = [
    "CONVENTIONS",
    "PhaseSolverError",
    "QSPPhases",
    "qsp_response",
    "solve_phases",
    "solve_phases_lm",
    "solve_phases_newton",
]

CONVENTIONS = ("wx", "qsvt", "qetu")
_WIDE = np.finfo(np.longdouble).eps < np.finfo(float).eps  #: numpy's longdouble is wider than double
_STALL = 8  #: Newton iterations without a new smallest residual after which it stops
_CHUNK_ENTRIES = 1 << 22  #: (rows x nodes) per block of the Jacobian: 2^22 x 32 bytes = 128 MB


class PhaseSolverError(ValueError):
    """The phase solver did not reach the requested accuracy, or its phases do not rebuild the polynomial."""


@dataclass(frozen=True)
class QSPPhases:
    """Phase factors ``phases[0..d]`` in ``convention``, with the verified rebuild error."""

    phases: np.ndarray
    convention: str
    degree: int
    max_error: float  #: max |response - p| on the verification points
    n_check_points: int
    solver: str
    iterations: int  #: Newton (or Levenberg-Marquardt evaluation) count; 0 for the NLFT phases alone
    converged: bool = True  #: ``max_error <= tol``


# -- polynomial input --------------------------------------------------------------------------------------
def _coefficients(poly) -> np.ndarray:
    coeffs = np.asarray(getattr(poly, "coeffs", poly), dtype=float)
    if coeffs.ndim != 1 or coeffs.size < 1:
        raise ValueError("poly must be a ChebyshevSeries or a 1-D array of Chebyshev coefficients")
    if not np.all(np.isfinite(coeffs)):
        raise ValueError("poly has non-finite Chebyshev coefficients")
    coeffs = np.trim_zeros(coeffs, "b")
    if coeffs.size == 0:
        raise ValueError("poly is identically zero; QSP phases are trivial (all zero)")
    d = coeffs.size - 1
    wrong = coeffs[(d + 1) % 2::2]
    if np.any(np.abs(wrong) > 1e-14 * np.max(np.abs(coeffs))):
        raise ValueError(f"poly must have definite parity (degree {d} -> only {'odd' if d % 2 else 'even'} "
                         "Chebyshev coefficients)")
    out = np.zeros_like(coeffs)
    out[d % 2::2] = coeffs[d % 2::2]
    return out


def _chebyshev_values(coeffs: np.ndarray, n_points: int, kind: int) -> np.ndarray:
    """``p`` on Chebyshev points by one DCT (``O(n log n)``, no Clenshaw loop): ``kind=1``: the extrema
    ``cos(pi j / (n - 1))`` (DCT-I); ``kind=2``: the nodes ``cos(pi (j + 1/2) / n)`` (DCT-III). ``p(x_j) = (y_j +
    c_0) / 2`` with ``y`` the unnormalised transform of the coefficients padded to ``n``."""
    padded = np.zeros(n_points)
    padded[:coeffs.size] = coeffs
    return (dct(padded, type=1 if kind == 1 else 3) + coeffs[0]) / 2


def _check_norm(coeffs: np.ndarray) -> float:
    """``1 - max|p|`` on ``8 (d + 1) + 1`` Chebyshev extrema; raises if ``max|p| >= 1``."""
    peak = float(np.max(np.abs(_chebyshev_values(coeffs, 8 * coeffs.size + 1, kind=1))))
    if peak >= 1:
        raise ValueError(f"poly must satisfy |p(x)| < 1 on [-1, 1] for QSP; its maximum is about {peak:.6g}")
    return 1 - peak


# -- forward map -------------------------------------------------------------------------------------------
def _full_phases(reduced: np.ndarray, d: int) -> np.ndarray:
    full = np.empty(d + 1)
    h = reduced.size
    full[:h] = reduced
    full[d - np.arange(h)] = reduced
    return full


def _node_chunk(d: int) -> int:
    """Nodes per block: the prefix rows of one block, ``(d + 2) x 2 x chunk`` complex numbers, stay ~128 MB."""
    return max(16, _CHUNK_ENTRIES // (d + 2))


def _turns(full: np.ndarray) -> np.ndarray:
    """``(e^{i phi_m}, e^{-i phi_m})``: the diagonal of ``e^{i phi_m Z}`` acting on a row, shape (d+1, 2, 1)."""
    e = np.exp(1j * full)
    return np.stack([e, 1 / e], axis=1)[:, :, None]


def _prefix_rows(full: np.ndarray, x: np.ndarray, out: np.ndarray | None = None,
                 unturned: np.ndarray | None = None) -> np.ndarray:
    """First rows of ``L_m = F_0 ... F_m`` for m = -1..d (``L_{-1} = I``): ``rows[m + 1] = (a_m, b_m)``.

    Shape ``(d + 2, 2, N)`` (written into ``out`` when given). One step, batched over the nodes:
    ``(a, b) <- (e^{i phi} (x a + i s b), e^{-i phi} (i s a + x b))``, four numpy calls without allocation.
    ``unturned`` (shape ``(k, 2, N)``), when given, receives ``(e^{-i phi_m} a_m, e^{i phi_m} b_m)`` for m < k,
    the row before its phase factor, which the step computes anyway.
    """
    d = full.size - 1
    is_ = 1j * np.sqrt(1 - x * x)
    rows = np.empty((d + 2, 2, x.size), dtype=complex) if out is None else out
    rows[0, 0], rows[0, 1] = 1.0, 0.0
    turn = _turns(full)
    rows[1, 0], rows[1, 1] = turn[0, 0, 0], 0.0
    kept = 0 if unturned is None else unturned.shape[0]
    if kept:
        unturned[0] = rows[0]
    scratch = np.empty((2, x.size), dtype=complex)
    for m in range(1, d + 1):
        row = rows[m]
        mixed = unturned[m] if m < kept else scratch
        np.multiply(row, x, out=mixed)
        np.multiply(row[::-1], is_, out=rows[m + 1])
        mixed += rows[m + 1]
        np.multiply(mixed, turn[m], out=rows[m + 1])
    return rows


class _Workspace:
    """Buffers reused across Newton iterations (no fresh pages each time): the prefix rows of one node block,
    the rows before their phase factors, the real products, and the transposed Jacobian ``(h, N)`` (C order,
    i.e. the Jacobian in Fortran order, as LAPACK takes it without a copy)."""

    def __init__(self, d: int, h: int, n_nodes: int):
        chunk = min(n_nodes, _node_chunk(d))
        self.rows = np.empty((d + 2, 2, chunk), dtype=complex)
        self.unturned = np.empty((h, 2, chunk), dtype=complex)
        self.products = np.empty((h, 2, 2 * chunk))
        self.jac_t = np.empty((h, n_nodes))


def _response_and_jacobian(reduced: np.ndarray, d: int, x: np.ndarray, work: _Workspace | None = None):
    """``Im P(x)`` and its derivative with respect to the reduced phases, node block by node block.

    Returns ``(values, jac)`` with ``jac`` of shape ``(N, h)``; with ``work``, ``jac`` is a view of its buffer,
    overwritten by the next call.
    """
    h = reduced.size
    full = _full_phases(reduced, d)
    work = _Workspace(d, h, x.size) if work is None else work
    chunk = work.rows.shape[2]
    values = np.empty(x.size)
    weight = np.where(d - np.arange(h) != np.arange(h), 2.0, 1.0)[:, None]  # phi_j and phi_{d-j} are one
    for start in range(0, x.size, chunk):
        xs = x[start:start + chunk]
        n = xs.size
        unturned = work.unturned[:, :, :n]
        rows = _prefix_rows(full, xs, work.rows[:, :, :n], unturned)
        values[start:start + n] = rows[d + 1, 0].imag
        # dP/dphi_m = i (L_m Z R_m)_00 with R_m = W F_{m+1} ... F_d, and (row 0 of L_{d-m}) e^{-i phi_m Z} =
        # row 0 of L_{d-m-1} W; the palindrome gives column 0 of R_m = that row, transposed. Hence
        # d Im P/dphi_m = Re(e^{-i phi_m} a_m a_{d-m} - e^{i phi_m} b_m b_{d-m}) with (a_k, b_k) = row 0 of
        # L_k, the same for m and d - m (each pair counted twice; m = 0: 2 Re P). Re(u v) = u_r v_r - u_i v_i
        # from one real product of the interleaved (re, im) views.
        products = np.multiply(unturned.view(float), rows[d + 1:d - h + 1:-1].view(float),
                               out=work.products[:, :, :2 * n])
        block = work.jac_t[:, start:start + n]
        np.subtract(products[:, 0, 0::2], products[:, 0, 1::2], out=block)
        block -= products[:, 1, 0::2]
        block += products[:, 1, 1::2]
        block *= weight
    return values, work.jac_t.T


def qsp_response(phases, x, convention: str = "wx") -> np.ndarray:
    """``<0|U(x, Phi)|0>``: the first row ``<0|`` multiplied through the 2x2 factors, left to right.

    ``"wx"``: signal ``W(x) = [[x, i s], [i s, x]]``; ``"qsvt"``: ``R(x) = [[x, s], [s, -x]]``; phases
    ``e^{i phi Z}``; ``s = sqrt(1 - x^2)``. ``"qetu"``: signal ``e^{-i theta Z}`` with ``x = cos(theta)``,
    phases ``e^{i phi X}``.

    In floating point ``r^2 = x^2 + s^2`` misses 1 by ~1e-16 and each signal matrix is exactly ``r`` times a
    unitary one (a rotation by ``atan2(s, x)``): the product carries ``r^d``, a systematic ``d * 1e-16``
    (1e-12 at ``d = 10^4``), which is divided out (``r^d`` in numpy's extended precision; left in where
    ``longdouble`` is plain double, e.g. on Windows). What remains is the random-walk rounding of the products,
    ~``sqrt(d) * 1e-16``.
    """
    check_choice("convention", convention, CONVENTIONS)
    phases = np.asarray(phases, dtype=float)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    s = np.sqrt(np.clip(1 - x * x, 0, None))
    unscale = 1.0
    if _WIDE:  # 1 / r^d, with r^2 - 1 resolved in extended precision (where numpy has it)
        wide = x.astype(np.longdouble)
        drift = (wide * wide + s.astype(np.longdouble) ** 2) ** (np.longdouble(phases.size - 1) / 2)
        unscale = (1 / drift).astype(float)
    if convention == "qetu":
        signal = x - 1j * s  # e^{-i theta}
        a = np.full(x.size, np.cos(phases[0]), dtype=complex)
        b = np.full(x.size, 1j * np.sin(phases[0]))
        for phi in phases[1:]:
            a, b = a * signal, b * np.conj(signal)
            a, b = a * np.cos(phi) + 1j * np.sin(phi) * b, 1j * np.sin(phi) * a + np.cos(phi) * b
        return a * unscale
    # (a, b) <- ((x a + off b) e^{i phi}, (off a + sign x b) e^{-i phi}), both entries in one call each
    off = 1j * s if convention == "wx" else s.astype(complex)
    diagonal = np.stack([x, x if convention == "wx" else -x])
    turns = np.exp(1j * phases)
    turns = np.stack([turns, 1 / turns], axis=1)[:, :, None]
    row = np.zeros((2, x.size), dtype=complex)
    row[0] = turns[0, 0]
    mixed, swapped = np.empty_like(row), np.empty_like(row)
    for turn in turns[1:]:
        np.multiply(row, diagonal, out=mixed)
        np.multiply(row[::-1], off, out=swapped)
        mixed += swapped
        np.multiply(mixed, turn, out=row)
    return row[0] * unscale


def _response_part(phases, x, convention):
    value = qsp_response(phases, x, convention)
    return value.imag if convention == "wx" else value.real  # "qsvt", "qetu": the real part


def _to_convention(full_wx: np.ndarray, convention: str) -> np.ndarray:
    if convention == "wx":
        return full_wx.copy()
    d = full_wx.size - 1
    if convention == "qetu":
        out = full_wx.copy()
        out[0] -= np.pi / 4
        out[d] -= np.pi / 4
        return out
    out = full_wx - np.pi / 2
    end_shift = 3 * np.pi / 4 + np.pi * (d + 3) / 4
    out[0] = full_wx[0] + end_shift
    out[d] = full_wx[d] + end_shift
    return out


def _rebuild(phases_wx: np.ndarray, coeffs: np.ndarray, convention: str):
    """``(phases, max_error, n_check)``: the phases in ``convention`` and the largest deviation of their plain
    product :func:`qsp_response` from ``p`` (by a DCT) on ``max(2d + 2, 64)`` Chebyshev nodes."""
    d = coeffs.size - 1
    n_check = max(2 * d + 2, 64)
    x = np.cos(np.pi * (np.arange(n_check) + 0.5) / n_check)
    phases = _to_convention(phases_wx, convention)
    target = _chebyshev_values(coeffs, n_check, kind=2)
    return phases, float(np.max(np.abs(_response_part(phases, x, convention) - target))), n_check


def _verify(phases_wx: np.ndarray, coeffs: np.ndarray, convention: str, tol: float, solver: str,
            iterations: int, gap: float) -> QSPPhases:
    """The result, with ``converged = max_error <= tol``; a :class:`ConvergenceWarning` when not."""
    phases, error, n_check = _rebuild(phases_wx, coeffs, convention)
    converged = error <= tol
    if not converged:
        d = coeffs.size - 1
        warnings.warn(f"{solver}: the phases rebuild the degree-{d} polynomial only to {error:.3g} on {n_check} "
                      f"points (tolerance {tol:.3g}; 1 - max|p| = {gap:.2g}). Phases this close to |p| = 1 are "
                      "ill-conditioned: pass a larger tol, keep max|p| further below 1 (a larger clipping margin "
                      "or eta), or raise max_iter", ConvergenceWarning, stacklevel=3)
    return QSPPhases(phases, convention, coeffs.size - 1, error, n_check, solver, iterations, converged)


def _setup(poly, tol, max_degree):
    coeffs = _coefficients(poly)
    tol = check_positive("tol", tol)
    max_degree = check_int("max_degree", max_degree, minimum=1)
    d = coeffs.size - 1
    if d < 1:
        raise ValueError("poly must have degree >= 1 (a constant needs no QSP)")
    if d > max_degree:
        raise ValueError(f"degree {d} is above max_degree={max_degree} for this solver")
    return coeffs, d, (d + 2) // 2, _check_norm(coeffs)


def _newton(reduced: np.ndarray, coeffs: np.ndarray, d: int, h: int, tol: float, max_iter: int):
    """Newton's method on the ``h`` positive Chebyshev nodes from ``reduced``: ``(reduced, iterations)``."""
    nodes = np.cos((2 * np.arange(1, h + 1) - 1) * np.pi / (4 * h))
    target = np.polynomial.chebyshev.chebval(nodes, coeffs)
    work = _Workspace(d, h, h)
    previous = best = np.inf
    best_reduced, since_best = reduced, 0
    for it in range(1, max_iter + 1):
        values, jac = _response_and_jacobian(reduced, d, nodes, work)
        residual = values - target
        residual_norm = float(np.max(np.abs(residual)))
        # converged, or stalled at the rounding floor (no further decrease) below the tolerance
        if residual_norm <= 1e-3 * tol or (residual_norm <= tol and residual_norm >= 0.5 * previous):
            return reduced, it
        # stalled above it: no new best for _STALL iterations (near |p| = 1 Newton gains a factor ~4 per
        # iteration while it converges linearly, so this only stops at the rounding floor); the caller warns
        if residual_norm < best:
            best, best_reduced, since_best = residual_norm, reduced, 0
        else:
            since_best += 1
            if since_best >= _STALL:
                return best_reduced, it
        previous = residual_norm
        # LU in place on the Fortran-ordered buffer (no copy, no condition estimate: near |p| = 1 the Jacobian
        # is ill-conditioned by nature, the verification is the check)
        step = scipy.linalg.lu_solve(scipy.linalg.lu_factor(jac, overwrite_a=True, check_finite=False), residual,
                                     check_finite=False)
        reduced = reduced - step
        if not np.all(np.isfinite(reduced)):
            raise PhaseSolverError(f"Newton diverged at degree {d} (iteration {it})")
        if np.max(np.abs(step)) <= 1e-15:
            return reduced, it
    return reduced, max_iter


def solve_phases_newton(poly, *, convention: str = "wx", tol: float = 1e-12, max_iter: int = 100,
                        max_degree: int = 20_000, start: str = "nlft") -> QSPPhases:
    """Symmetric QSP phases, verified by rebuilding ``poly``; Newton's method where the start misses ``tol``.

    ``start="nlft"`` (default): the phases of the nonlinear Fourier transform (:mod:`qdyn.qsp.nlft`, ``O(d^2)``
    without iterations); when they already rebuild ``poly`` to ``tol`` they are returned as they are
    (``iterations = 0``, ``solver = "nlft"``), otherwise Newton polishes them (``solver = "nlft+newton"``).
    ``start="chebyshev"``: Newton from the guess of Dong, Lin, Ni, Wang, ``phi_j = c_{d-2j} / 2`` (``solver =
    "newton"``; the previous default, kept as an independent check). If the rebuild error stays above ``tol``
    (``max|p|`` too close to 1 for double precision, or ``max_iter`` too small) the result has
    ``converged=False`` and a :class:`~qdyn.errors.ConvergenceWarning` says what to change.
    """
    check_choice("convention", convention, CONVENTIONS)
    check_choice("start", start, ("nlft", "chebyshev"))
    coeffs, d, h, gap = _setup(poly, tol, max_degree)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    if start == "nlft":
        reduced = nlft_reduced_phases(coeffs).reduced
        phases, error, n_check = _rebuild(_full_phases(reduced, d), coeffs, convention)
        if error <= tol:
            return QSPPhases(phases, convention, d, error, n_check, "nlft", 0)
        solver = "nlft+newton"
    else:
        # the first Newton step from Phi = 0, where d Im P/dphi_j = 2 T_{d-2j} (T_0 alone for a middle phase):
        # phi_j = c_{d-2j} / 2, the initial guess of Dong, Lin, Ni, Wang
        reduced = coeffs[d - 2 * np.arange(h)] / np.where(d - np.arange(h) != np.arange(h), 2.0, 1.0)
        solver = "newton"
    reduced, iterations = _newton(reduced, coeffs, d, h, tol, max_iter)
    return _verify(_full_phases(reduced, d), coeffs, convention, tol, solver, iterations, gap)


def solve_phases_lm(poly, *, convention: str = "wx", tol: float = 1e-12,
                    max_degree: int = 2_000) -> QSPPhases:
    """Symmetric QSP phases by Levenberg-Marquardt on ``2 ceil((d+1)/2)`` nodes (the independent check)."""
    from scipy.optimize import least_squares

    check_choice("convention", convention, CONVENTIONS)
    coeffs, d, h, gap = _setup(poly, tol, max_degree)
    m = 2 * h
    nodes = np.cos((2 * np.arange(1, m + 1) - 1) * np.pi / (4 * m))
    target = np.polynomial.chebyshev.chebval(nodes, coeffs)

    def fun(r):
        return _response_and_jacobian(r, d, nodes)[0] - target

    def jac(r):
        return _response_and_jacobian(r, d, nodes)[1]

    sol = least_squares(fun, np.zeros(h), jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                        max_nfev=200 * (h + 1))
    return _verify(_full_phases(sol.x, d), coeffs, convention, tol, "levenberg-marquardt", int(sol.nfev),
                   gap)


def solve_phases(poly, *, convention: str = "wx", method: str = "nlft", tol: float = 1e-12) -> QSPPhases:
    """Phases for ``poly``: a :class:`~qdyn.qsp.polynomials.ChebyshevSeries` or Chebyshev coefficients.

    ``method``: ``"nlft"`` (nonlinear Fourier transform, Newton polish where needed), ``"newton"`` (Newton from
    the Chebyshev-coefficient guess), ``"lm"`` (Levenberg-Marquardt); see :func:`solve_phases_newton`.
    """
    check_choice("method", method, ("nlft", "newton", "lm"))
    if method == "lm":
        return solve_phases_lm(poly, convention=convention, tol=tol)
    return solve_phases_newton(poly, convention=convention, tol=tol,
                               start="nlft" if method == "nlft" else "chebyshev")
