"""QSP phase factors for a real polynomial of definite parity, solved without monomial coefficients.

Convention ``"wx"`` (symmetric QSP; Dong, Meng, Whaley, Lin, PRA 103, 042419 (2021)):

    U(x, Phi) = e^{i phi_0 Z} prod_{k=1}^{d} [ W(x) e^{i phi_k Z} ],   W(x) = e^{i arccos(x) X},

with symmetric phases ``phi_k = phi_{d-k}``; the solvers find ``Phi`` with ``Im <0|U(x, Phi)|0> = p(x)`` on
[-1, 1]. The ``ceil((d+1)/2)`` reduced phases are fixed by matching ``p`` on as many positive Chebyshev nodes.

* :func:`solve_phases_newton` -- Newton's method on that square system (Dong, Lin, Ni, Wang, "Robust iterative
  method for symmetric quantum signal processing in all parameter regimes", SIAM J. Sci. Comput. (2024)), from
  ``Phi = 0``. Each iteration propagates the first row of the prefix products ``L_m = F_0 ... F_m`` over the
  nodes (``O(d)`` per node); the palindrome symmetry gives the suffixes as ``R_m = W L_{d-m-1}^T``, so the
  Jacobian ``dP/dphi_m = i (L_m Z R_m)_{00}`` costs ``O(d)`` per node as well, then one dense solve.
* :func:`solve_phases_lm` -- an independent check: Levenberg-Marquardt least squares on twice as many nodes
  (MINPACK through :func:`scipy.optimize.least_squares`), the optimisation-based method of Dong et al. (2021).

Every phase set returned is verified by :func:`qsp_response`, a separate plain product of the 2x2 matrices, on
at least ``2d + 2`` points of [-1, 1]; a mismatch above ``tol`` raises :class:`PhaseSolverError`.

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

from dataclasses import dataclass

import numpy as np

from qdyn.errors import check_choice, check_int, check_positive

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
_NODE_CHUNK = 512


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
    iterations: int


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


def _check_norm(coeffs: np.ndarray) -> None:
    x = np.cos(np.linspace(0, np.pi, 4 * coeffs.size + 64))
    peak = float(np.max(np.abs(np.polynomial.chebyshev.chebval(x, coeffs))))
    if peak >= 1:
        raise ValueError(f"poly must satisfy |p(x)| < 1 on [-1, 1] for QSP; its maximum is about {peak:.6g}")


# -- forward map -------------------------------------------------------------------------------------------
def _full_phases(reduced: np.ndarray, d: int) -> np.ndarray:
    full = np.empty(d + 1)
    h = reduced.size
    full[:h] = reduced
    full[d - np.arange(h)] = reduced
    return full


def _prefix_rows(full: np.ndarray, x: np.ndarray):
    """First rows ``(a_m, b_m)`` of ``L_m = F_0 ... F_m`` for m = -1..d (``L_{-1} = I``), shape (d+2, N)."""
    d = full.size - 1
    s = np.sqrt(1 - x * x)
    a = np.empty((d + 2, x.size), dtype=complex)
    b = np.empty((d + 2, x.size), dtype=complex)
    a[0], b[0] = 1.0, 0.0
    e = np.exp(1j * full)
    a[1], b[1] = e[0], 0.0
    for m in range(1, d + 1):
        am, bm = a[m], b[m]
        a[m + 1] = (am * x + 1j * s * bm) * e[m]
        b[m + 1] = (1j * s * am + bm * x) / e[m]
    return a, b


def _response_and_jacobian(reduced: np.ndarray, d: int, x: np.ndarray):
    """``Im P(x)`` and its derivative with respect to the reduced phases, node chunk by chunk."""
    h = reduced.size
    full = _full_phases(reduced, d)
    values = np.empty(x.size)
    jac = np.empty((x.size, h))
    for start in range(0, x.size, _NODE_CHUNK):
        xs = x[start:start + _NODE_CHUNK]
        s = np.sqrt(1 - xs * xs)
        a, b = _prefix_rows(full, xs)
        values[start:start + xs.size] = a[d + 1].imag
        # dP/dphi_m = i (L_m Z R_m)_00 with column 0 of R_m = W (row 0 of L_{d-m-1})^T (R_d = I), so
        # d Im P/dphi_m = x Re(La ra - Lb rb) - s Im(La rb - Lb ra), La/Lb = row of L_m, ra/rb = row of
        # L_{d-m-1}
        la, lb = a[1:], b[1:]
        ra, rb = a[d::-1], b[d::-1]
        dpos = xs * (la * ra - lb * rb).real - s * (la * rb - lb * ra).imag
        dpos[d] = a[d + 1].real  # R_d = I: d Im P/dphi_d = Re(La_d)
        djac = dpos[:h].copy()
        mirror = dpos[d:d - h:-1] if d - h >= 0 else dpos[d::-1][:h]
        paired = (d - np.arange(h)) != np.arange(h)
        djac[paired] += mirror[paired]
        jac[start:start + xs.size] = djac.T
    return values, jac


def qsp_response(phases, x, convention: str = "wx") -> np.ndarray:
    """``<0|U(x, Phi)|0>``: the first row ``<0|`` multiplied through the 2x2 factors, left to right.

    ``"wx"``: signal ``W(x) = [[x, i s], [i s, x]]``; ``"qsvt"``: ``R(x) = [[x, s], [s, -x]]``; phases
    ``e^{i phi Z}``; ``s = sqrt(1 - x^2)``. ``"qetu"``: signal ``e^{-i theta Z}`` with ``x = cos(theta)``,
    phases ``e^{i phi X}``.
    """
    check_choice("convention", convention, CONVENTIONS)
    phases = np.asarray(phases, dtype=float)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    s = np.sqrt(np.clip(1 - x * x, 0, None))
    if convention == "qetu":
        signal = x - 1j * s  # e^{-i theta}
        a = np.full(x.size, np.cos(phases[0]), dtype=complex)
        b = np.full(x.size, 1j * np.sin(phases[0]))
        for phi in phases[1:]:
            a, b = a * signal, b * np.conj(signal)
            a, b = a * np.cos(phi) + 1j * np.sin(phi) * b, 1j * np.sin(phi) * a + np.cos(phi) * b
        return a
    off, sign = (1j * s, 1.0) if convention == "wx" else (s.astype(complex), -1.0)
    a = np.full(x.size, np.exp(1j * phases[0]))
    b = np.zeros(x.size, dtype=complex)
    for phi in phases[1:]:
        a, b = (a * x + b * off) * np.exp(1j * phi), (a * off + sign * b * x) * np.exp(-1j * phi)
    return a


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


def _verify(phases_wx: np.ndarray, coeffs: np.ndarray, convention: str, tol: float, solver: str,
            iterations: int) -> QSPPhases:
    d = coeffs.size - 1
    n_check = max(2 * d + 2, 64)
    x = np.cos(np.pi * (np.arange(n_check) + 0.5) / n_check)
    phases = _to_convention(phases_wx, convention)
    target = np.polynomial.chebyshev.chebval(x, coeffs)
    error = float(np.max(np.abs(_response_part(phases, x, convention) - target)))
    if not error <= tol:
        raise PhaseSolverError(f"{solver}: the phases rebuild the degree-{d} polynomial only to {error:.3g} "
                               f"on {n_check} points (tolerance {tol:.3g})")
    return QSPPhases(phases, convention, d, error, n_check, solver, iterations)


def _setup(poly, tol, max_degree):
    coeffs = _coefficients(poly)
    tol = check_positive("tol", tol)
    max_degree = check_int("max_degree", max_degree, minimum=1)
    d = coeffs.size - 1
    if d < 1:
        raise ValueError("poly must have degree >= 1 (a constant needs no QSP)")
    if d > max_degree:
        raise ValueError(f"degree {d} is above max_degree={max_degree} for this solver")
    _check_norm(coeffs)
    return coeffs, d, (d + 2) // 2


def solve_phases_newton(poly, *, convention: str = "wx", tol: float = 1e-12, max_iter: int = 100,
                        max_degree: int = 20_000) -> QSPPhases:
    """Symmetric QSP phases by Newton's method (see module docstring); raises on non-convergence."""
    check_choice("convention", convention, CONVENTIONS)
    coeffs, d, h = _setup(poly, tol, max_degree)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    nodes = np.cos((2 * np.arange(1, h + 1) - 1) * np.pi / (4 * h))
    target = np.polynomial.chebyshev.chebval(nodes, coeffs)
    reduced = np.zeros(h)
    residual_norm = previous = np.inf
    for it in range(1, max_iter + 1):
        values, jac = _response_and_jacobian(reduced, d, nodes)
        residual = values - target
        residual_norm = float(np.max(np.abs(residual)))
        # converged, or stalled at the rounding floor (no further decrease) below the tolerance
        if residual_norm <= 1e-3 * tol or (residual_norm <= tol and residual_norm >= 0.5 * previous):
            break
        previous = residual_norm
        step = np.linalg.solve(jac, residual)
        reduced = reduced - step
        if not np.all(np.isfinite(reduced)):
            raise PhaseSolverError(f"Newton diverged at degree {d} (iteration {it})")
        if np.max(np.abs(step)) <= 1e-15:
            break
    else:
        if residual_norm > tol:
            raise PhaseSolverError(f"Newton did not converge at degree {d} in {max_iter} iterations "
                                   f"(residual {residual_norm:.3g}); is max|p| too close to 1?")
    return _verify(_full_phases(reduced, d), coeffs, convention, tol, "newton", it)


def solve_phases_lm(poly, *, convention: str = "wx", tol: float = 1e-12,
                    max_degree: int = 2_000) -> QSPPhases:
    """Symmetric QSP phases by Levenberg-Marquardt on ``2 ceil((d+1)/2)`` nodes (the independent check)."""
    from scipy.optimize import least_squares

    check_choice("convention", convention, CONVENTIONS)
    coeffs, d, h = _setup(poly, tol, max_degree)
    m = 2 * h
    nodes = np.cos((2 * np.arange(1, m + 1) - 1) * np.pi / (4 * m))
    target = np.polynomial.chebyshev.chebval(nodes, coeffs)

    def fun(r):
        return _response_and_jacobian(r, d, nodes)[0] - target

    def jac(r):
        return _response_and_jacobian(r, d, nodes)[1]

    sol = least_squares(fun, np.zeros(h), jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                        max_nfev=200 * (h + 1))
    if not sol.success and float(np.max(np.abs(sol.fun))) > tol:
        raise PhaseSolverError(f"Levenberg-Marquardt failed at degree {d}: {sol.message}")
    return _verify(_full_phases(sol.x, d), coeffs, convention, tol, "levenberg-marquardt", int(sol.nfev))


def solve_phases(poly, *, convention: str = "wx", method: str = "newton", tol: float = 1e-12) -> QSPPhases:
    """Phases for ``poly``: a :class:`~qdyn.qsp.polynomials.ChebyshevSeries` or Chebyshev coefficients."""
    check_choice("method", method, ("newton", "lm"))
    if method == "newton":
        return solve_phases_newton(poly, convention=convention, tol=tol)
    return solve_phases_lm(poly, convention=convention, tol=tol)
