"""Dynamical cooling with a QSP shifted-sign Hamiltonian, and ground-state-preparation baselines.

* :mod:`qdyn.cooling.driver` -- :func:`cool` (``method="exact"``, ``"poly"`` or ``"circuit"``) on any Hermitian
  ``H``, normalised by :mod:`qdyn.cooling.problems` and reported in its own units;
* :mod:`qdyn.cooling.classical_steps` -- the exact and polynomial steps (in the eigenbasis of ``H``, or by
  Clenshaw's recurrence on its CSR matrix, :mod:`qdyn.cooling.recurrence`); :mod:`qdyn.cooling.accounting` -- the
  query accounting shared by all;
* the circuit side, loaded with :mod:`qdyn.circuits` on first use: :mod:`qdyn.cooling.step_circuit` (the step
  circuit, dense and gate level), :mod:`qdyn.cooling.coherent_step` (:class:`CoherentCoolingStep`, the simulated
  step), :mod:`qdyn.cooling.filters` (:class:`GQSPFilter`, :class:`QETUFilter`: filters on the time evolution),
  :mod:`qdyn.cooling.circuit_resources` (:func:`cooling_circuit_resources`);
* :mod:`qdyn.cooling.baselines` -- adiabatic preparation, eigenstate filtering, imaginary-time evolution;
* :mod:`qdyn.cooling.result` -- :class:`CoolingResult`, shared by all;
* the QSP mathematics (:mod:`qdyn.qsp`: polynomials, phases, GQSP) is re-exported here for convenience.
"""

from importlib import import_module

from qdyn.cooling.baselines import adiabatic, eigenstate_filter, imaginary_time, lin_tong_filter
from qdyn.cooling.driver import cool
from qdyn.cooling.filters import GQSPFilter, QETUFilter
from qdyn.cooling.problems import (
    SpectralNormalisation,
    default_perturbation,
    normalise_hamiltonian,
    ring_with_field,
    spectral_normalisation,
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

_CIRCUIT_SIDE = {
    "CoherentCoolingStep": "qdyn.cooling.coherent_step",
    "cooling_circuit_resources": "qdyn.cooling.circuit_resources",
    "gate_level_step_circuit": "qdyn.cooling.step_circuit",
}


def __getattr__(name):
    """The circuit side of cooling, imported (with :mod:`qdyn.circuits`) on first use."""
    if name in _CIRCUIT_SIDE:
        return getattr(import_module(_CIRCUIT_SIDE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ChebyshevSeries",
    "CoherentCoolingStep",
    "CoolingResult",
    "FourierSeries",
    "GQSPFilter",
    "GQSPPhases",
    "PhaseSolverError",
    "QETUFilter",
    "QSPPhases",
    "SpectralNormalisation",
    "adiabatic",
    "complementary_polynomial",
    "cool",
    "cooling_circuit_resources",
    "default_perturbation",
    "eigenstate_filter",
    "erf_polynomial",
    "fourier_sign_series",
    "gate_level_step_circuit",
    "gqsp_response",
    "imaginary_time",
    "lin_tong_filter",
    "normalise_hamiltonian",
    "qetu_sign_polynomial",
    "qsp_response",
    "ring_with_field",
    "sign_polynomial",
    "solve_gqsp_phases",
    "solve_phases",
    "solve_phases_lm",
    "solve_phases_newton",
    "spectral_normalisation",
]
