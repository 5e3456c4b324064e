"""QSP mathematics: the polynomials and the phase factors that circuits and cooling both build on.

An engine below :mod:`qdyn.cooling` and :mod:`qdyn.circuits` (numpy and scipy only):

* :mod:`qdyn.qsp.polynomials` -- erf-based shifted-sign polynomials (Chebyshev series) and Fourier sign series;
* :mod:`qdyn.qsp.nlft` -- symmetric QSP phases by the nonlinear Fourier transform (Weiss's outer function by
  FFT, layer stripping), ``O(d^2)`` without iterations;
* :mod:`qdyn.qsp.phases` -- QSP phase factors in the wx/qsvt/qetu conventions (NLFT, polished by Newton where
  needed; Newton from the Chebyshev guess and Levenberg-Marquardt as checks), with verification of the
  rebuilt polynomial;
* :mod:`qdyn.qsp.gqsp` -- GQSP angles for the Fourier route (FFT complementary polynomial, layer stripping);
* :mod:`qdyn.qsp.evolution` -- time evolution by QSVT: Jacobi-Anger polynomials of cos and sin, their phases.
"""

from qdyn.qsp.evolution import evolution_phases, jacobi_anger_polynomials
from qdyn.qsp.gqsp import GQSPPhases, complementary_polynomial, gqsp_response, solve_gqsp_phases
from qdyn.qsp.phases import (
    PhaseSolverError,
    QSPPhases,
    qsp_response,
    solve_phases,
    solve_phases_lm,
    solve_phases_newton,
)
from qdyn.qsp.polynomials import (
    ChebyshevSeries,
    FourierSeries,
    erf_polynomial,
    fourier_sign_series,
    of_degree,
    qetu_sign_polynomial,
    sign_polynomial,
)

__all__ = [
    "ChebyshevSeries", "FourierSeries", "GQSPPhases", "PhaseSolverError", "QSPPhases", "complementary_polynomial",
    "erf_polynomial", "evolution_phases", "fourier_sign_series", "gqsp_response", "jacobi_anger_polynomials",
    "of_degree", "qetu_sign_polynomial", "qsp_response", "sign_polynomial", "solve_gqsp_phases", "solve_phases",
    "solve_phases_lm", "solve_phases_newton",
]
