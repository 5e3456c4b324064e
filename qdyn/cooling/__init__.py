"""Dynamical cooling with a QSP shifted-sign Hamiltonian, and ground-state-preparation baselines.

* :mod:`qdyn.qsp.polynomials` -- erf-based shifted-sign polynomials (Chebyshev) and Fourier series;
* :mod:`qdyn.qsp.phases` -- QSP phase factors, conventions wx/qsvt/qetu (Newton on symmetric QSP;
  Levenberg-Marquardt check);
* :mod:`qdyn.qsp.gqsp` -- GQSP angles for the Fourier route (FFT complement, layer stripping);
* :mod:`qdyn.cooling.driver` -- :func:`cool`, with ``"exact"``, ``"poly"`` and ``"circuit"`` backends;
* :mod:`qdyn.cooling.baselines` -- adiabatic preparation, eigenstate filtering, imaginary-time evolution;
* :mod:`qdyn.cooling.problems` -- normalisation and test Hamiltonians.
"""

from qdyn.cooling.baselines import adiabatic, eigenstate_filter, imaginary_time, lin_tong_filter
from qdyn.cooling.driver import cool
from qdyn.cooling.problems import (
    default_perturbation,
    normalise_hamiltonian,
    ring_with_field,
)
from qdyn.cooling.result import CoolingResult
from qdyn.qsp import (
    ChebyshevSeries,
    FourierSeries,
    GQSPPhases,
    PhaseSolverError,
    QSPPhases,
    complementary_polynomial,
    erf_polynomial,
    fourier_sign_series,
    gqsp_response,
    qetu_sign_polynomial,
    qsp_response,
    sign_polynomial,
    solve_gqsp_phases,
    solve_phases,
    solve_phases_lm,
    solve_phases_newton,
)

__all__ = [
    "GQSPPhases",
    "complementary_polynomial",
    "gqsp_response",
    "solve_gqsp_phases",
    "adiabatic",
    "eigenstate_filter",
    "imaginary_time",
    "lin_tong_filter",
    "ChebyshevSeries",
    "CoolingResult",
    "FourierSeries",
    "PhaseSolverError",
    "QSPPhases",
    "cool",
    "default_perturbation",
    "erf_polynomial",
    "fourier_sign_series",
    "normalise_hamiltonian",
    "qetu_sign_polynomial",
    "qsp_response",
    "ring_with_field",
    "sign_polynomial",
    "solve_phases",
    "solve_phases_lm",
    "solve_phases_newton",
]
