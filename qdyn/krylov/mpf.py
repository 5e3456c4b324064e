"""Multi-product formulas (MPF) for Krylov overlaps: Trotter error cancelled at fixed circuit depth.

A product formula ``S_k(t)`` of order ``p`` with ``k`` steps has an error that expands in powers of ``1/k``:
``S_k(t) = e^{-iHt} + sum_i E_i(t) k^{-(p + s i)}`` (``s = 2`` for symmetric formulas, i.e. even ``p``; ``s = 1``
for Lie-Trotter). The static MPF ``sum_j c_j S_{k_j}(t)`` with

    sum_j c_j = 1,        sum_j c_j k_j^{-(p + s i)} = 0   (i = 0 .. J-2)

cancels the first ``J - 1`` error terms (Chin, PRE 81, 016705 (2010); Low, Kliuchnikov & Wiebe, arXiv:1907.11679;
Carrera Vazquez et al., Quantum 7, 1067 (2023)). The coefficients come from qiskit-addon-mpf's
``setup_static_lse`` (``pip install qdyn[mpf]``). They depend only on the ratios of the ``k_j``, so the same
coefficients hold at every lag ``t_m = m dt`` with ``m k_j`` steps.

Overlaps are linear in the evolution operator, so ``s_MPF(t_m) = sum_j c_j s_{k_j}(t_m)`` (and ``h`` alike), each
``s_{k_j}`` measured with its own circuits. Independent estimates add their variances with weights ``c_j^2``
(real and imaginary parts apart): the noise grows by up to ``sum_j |c_j|`` (5/3 for ``k = (1, 2)``), the price
of the cancelled Trotter error; the deepest circuit is that of the largest ``k_j``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from qdyn.errors import check_int, require
from qdyn.krylov.data import KrylovData
from qdyn.results import Resources

__all__ = ["mpf_coefficients", "check_mpf_steps", "combine_data", "combine_resources"]


def check_mpf_steps(steps) -> tuple[int, ...]:
    """``trotter["mpf"]``: at least two distinct positive step counts per ``dt``, as a sorted tuple."""
    if isinstance(steps, str | bytes) or not hasattr(steps, "__iter__"):
        raise TypeError(f"trotter['mpf'] must be a sequence of steps per dt, e.g. (1, 2), got {steps!r}")
    ks = tuple(sorted(check_int("trotter['mpf'] entries", k, minimum=1) for k in steps))
    if len(ks) < 2 or len(set(ks)) != len(ks):
        raise ValueError(f"trotter['mpf'] needs at least two distinct steps per dt, got {tuple(steps)!r}")
    return ks


def mpf_coefficients(steps, order: int) -> np.ndarray:
    """Static MPF coefficients ``c_j`` for product formulas of ``order`` with ``steps[j]`` steps (module
    docstring), from qiskit-addon-mpf's linear system."""
    static = require("qiskit_addon_mpf.static", "qdyn[mpf]", "multi-product formulas")
    ks = check_mpf_steps(steps)
    lse = static.setup_static_lse(list(ks), order=int(order), symmetric=order % 2 == 0)
    return np.asarray(lse.solve(), dtype=float)


def _weighted_errors(errors, coefficients) -> np.ndarray:
    """Standard errors of ``sum_j c_j x_j`` for independent ``x_j``: real and imaginary parts apart."""
    real = np.sqrt(sum((c * e.real) ** 2 for c, e in zip(coefficients, errors, strict=True)))
    imag = np.sqrt(sum((c * e.imag) ** 2 for c, e in zip(coefficients, errors, strict=True)))
    return real + 1j * imag


def combine_resources(parts) -> Resources:
    """Totals over independent runs; depth and two-qubit gates of the largest circuit."""
    return Resources(evolutions=sum(r.evolutions for r in parts), matvecs=sum(r.matvecs for r in parts),
                     circuits=sum(r.circuits for r in parts), shots=sum(r.shots for r in parts),
                     depth=max(r.depth for r in parts), two_qubit_gates=max(r.two_qubit_gates for r in parts),
                     wall_time=sum(r.wall_time for r in parts))


def combine_data(parts: list[KrylovData], coefficients: np.ndarray, steps: tuple[int, ...]) -> KrylovData:
    """The MPF data ``sum_j c_j parts[j]`` (module docstring); metadata of the first part with the seed of the
    whole run set by the caller, plus ``mpf = {"steps_per_dt": steps, "coefficients": c}``."""
    s = sum(c * d.s for c, d in zip(coefficients, parts, strict=True))
    s_err = _weighted_errors([d.s_err for d in parts], coefficients)
    with_h = parts[0].h is not None
    h = sum(c * d.h for c, d in zip(coefficients, parts, strict=True)) if with_h else None
    h_err = _weighted_errors([d.h_err for d in parts], coefficients) if with_h else None
    first = parts[0]
    options = dict(first.metadata.options)
    options["trotter"] = {"mpf": steps, "order": options["trotter"]["order"]}
    options["mpf"] = {"steps_per_dt": list(steps), "coefficients": [float(c) for c in coefficients],
                      "noise_amplification": float(np.abs(coefficients).sum())}
    if "job_ids" in options:
        options["job_ids"] = [j for d in parts for j in d.metadata.options["job_ids"]]
    return replace(first, s=s, h=h, s_err=s_err, h_err=h_err,
                   resources=combine_resources([d.resources for d in parts]),
                   metadata=replace(first.metadata, options=options))
