"""Statistics of sampled bits: Pauli-term parities, their means and covariances, TREX readout factors, and the
mitigated (randomization-averaged, readout-corrected, zero-noise-extrapolated) values with their variances.

Used by :func:`qdyn.circuits.backends.estimate`; the formulas are in each function's docstring. The propagation is
written here (NumPy) because it needs the covariances between terms, randomizations, noise factors and the
calibration together, which no installed library exposes (qiskit-mitigation's post-processing consumes runtime
executor results).
"""

from __future__ import annotations

import numpy as np

from qdyn.circuits.mitigation import Mitigation

__all__ = ["outcomes", "parities", "moments", "readout_factors", "combine_draws"]


def outcomes(counts: dict, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct outcomes of ``counts`` as bits ``(outcomes, n_bits)`` (column k = classical bit k) and their
    counts."""
    keys = list(counts)
    bits = np.array([[b[len(b) - 1 - k] == "1" for k in range(n_bits)] for b in keys], dtype=bool)
    return bits.reshape(len(keys), n_bits), np.array([counts[b] for b in keys], dtype=float)


def parities(bits: np.ndarray, columns: list[list[int]]) -> np.ndarray:
    """``(-1)^(sum of the bits in columns[t])`` per outcome and term: ``(outcomes, terms)``."""
    return np.stack([1.0 - 2.0 * (bits[:, cols].sum(axis=1) % 2) for cols in columns], axis=1)


def moments(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean ``(terms,)`` of per-outcome ``values`` ``(outcomes, terms)`` and the covariance of that mean
    ``(terms, terms)`` (sample covariance over the shots, divided by their number)."""
    n = weights.sum()
    mean = weights @ values / n
    dev = values - mean
    return mean, (dev.T * weights) @ dev / max(n - 1, 1) / n


def readout_factors(cal_bits, cal_weights, qubits, union, columns):
    """TREX factors ``f_t = <prod_{q in t} (1 - 2 b_q)>`` on the flipped-back ``|0...0>`` calibration bits and
    their covariance (the factor of qiskit_mitigation's ``TREX.calculate_trex_factor`` is ``1 / f_t``).

    ``qubits[c]``: the physical qubit of classical bit ``c`` of the measurement circuit; ``union``: the calibration's
    measured qubits in its bit order; ``columns[t]``: the measurement circuit's classical bits of term ``t``.
    """
    cal_columns = [[union.index(qubits[c]) for c in cols] for cols in columns]
    return moments(parities(cal_bits, cal_columns), cal_weights)


def combine_draws(draws, coeffs, factors, cal_cov, mitigation: Mitigation):
    """Values and variances of the observables of one measurement circuit, at zero noise and per noise factor.

    ``draws[f][r] = (mean, cov)`` of the term parities at noise factor ``f``, randomization ``r``; ``factors``: the
    TREX factors ``c_t`` (ones without readout mitigation), ``cal_cov`` their covariance; ``coeffs`` ``a_{j,t}``.

    Per term, ``u_{f,t} = mbar_{f,t} / c_t`` with ``mbar`` the mean over the randomizations. Zero-noise term value:
    ``z_t = sum_f w_f u_{f,t}`` for the polynomial extrapolators (:meth:`Mitigation.zne_weights`); for
    ``"exponential"``, ``z_t = s_t exp(sum_f w_f ln|u_{f,t}|)`` (the straight line through ``ln|u|``) when every
    ``u_{f,t}`` has the sign ``s_t`` and exceeds twice its shot error, else the linear value. Observable ``j``:
    ``sum_t a_{j,t} z_t``. Variance by the delta method with ``J_{f,t} = dz_t / dmbar_{f,t}`` (``w_f / c_t``, or
    ``w_f z_t / mbar_{f,t}`` for an exponential term): per noise factor, the larger of the shot variance
    ``sum_r b^T C_r b / R^2`` (``b = a J_f``) and the spread of ``b . m_r`` over independent randomization units
    (complementary flip pairs with readout mitigation) ``s^2 / n_units``; plus the calibration term
    ``g^T C_cal g`` with ``g_t = -a_t z_t / c_t``.
    """
    weights = mitigation.zne_weights()
    means = [np.array([m for m, _ in per_draw]) for per_draw in draws]  # per factor: (R, terms)
    covs = [np.array([c for _, c in per_draw]) for per_draw in draws]  # per factor: (R, terms, terms)
    mbar = np.array([m.mean(axis=0) for m in means])  # (factors, terms)
    term_var = np.array([np.diagonal(c, axis1=1, axis2=2).sum(axis=0) / len(c) ** 2 for c in covs])
    u = mbar / factors
    z = weights @ u
    jac = np.outer(weights, 1.0 / factors)
    if mitigation.extrapolator == "exponential":
        same_sign = np.all(u > 0, axis=0) | np.all(u < 0, axis=0)
        ok = same_sign & np.all(np.abs(mbar) > 2 * np.sqrt(term_var), axis=0)
        z_exp = np.sign(u[0]) * np.exp(weights @ np.log(np.abs(np.where(ok, u, 1.0))))
        z = np.where(ok, z_exp, z)
        jac = np.where(ok, np.outer(weights, z_exp) / np.where(ok, mbar, 1.0), jac)

    def variance(b_rows, m_draws, c_draws):
        shot = np.einsum("jt,rts,js->j", b_rows, c_draws, b_rows) / len(m_draws) ** 2
        y = m_draws @ b_rows.T  # (R, observables)
        units = y.reshape(len(y) // 2, 2, -1).mean(axis=1) if mitigation.readout else y
        spread = units.var(axis=0, ddof=1) / len(units) if len(units) > 1 else np.zeros(len(b_rows))
        return np.maximum(shot, spread)

    var = sum(variance(coeffs * jac[f], means[f], covs[f]) for f in range(len(draws)))
    grad = -coeffs * z / factors
    var = var + np.einsum("jt,ts,js->j", grad, cal_cov, grad)
    per_factor = (u @ coeffs.T).T  # (observables, factors)
    per_factor_var = np.stack([variance(coeffs / factors, means[f], covs[f])
                               + np.einsum("jt,ts,js->j", coeffs * u[f], cal_cov / np.outer(factors, factors),
                                           coeffs * u[f])
                               for f in range(len(draws))], axis=1)
    return coeffs @ z, var, per_factor, per_factor_var
