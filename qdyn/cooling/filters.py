"""Shifted-sign filters realised on the time evolution ``e^{-i tau H}`` instead of a block encoding of ``H``.

Both replace the QSVT filter ``U_p`` of a cooling step (:mod:`qdyn.cooling.step_circuit`) by one dense gate
``U_f``, the operator of their circuit computed once per ``mu``; ``H`` is normalised (spectrum inside [-1, 1]).

* :class:`GQSPFilter` -- the Fourier sign series ``g(tau E)`` (:func:`qdyn.qsp.fourier_sign_series`) by the
  Laurent-GQSP circuit :func:`qdyn.circuits.qsp.gqsp_circuit` on ``e^{i tau Z_a H / 2}`` (Motlagh & Wiebe, PRX
  Quantum 5, 020368 (2024)); one ancilla, ``2 deg g`` queries to the evolution.
* :class:`QETUFilter` -- an even polynomial ``p(cos(tau (E + 1) / 2))`` (:func:`qdyn.qsp.qetu_sign_polynomial`)
  by the QETU circuit :func:`qdyn.circuits.qsp.qetu_circuit` on the control-free ``e^{-i (tau/2) Z_c Z_a (H + 1)}``
  (Dong, Lin, Tong, PRX Quantum 3, 040305 (2022)); two ancillas, ``deg p`` queries.

Both approximate ``sign(E - mu)`` to ``delta`` for ``|E - mu| >= eps``: filters different from the
``erf((E - mu)/eps)`` of the QSVT route.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdyn.errors import check_positive

__all__ = ["GQSPFilter", "QETUFilter"]


@dataclass(frozen=True)
class GQSPFilter:
    """The shifted sign as a Fourier series in ``tau H``, by GQSP (module docstring).

    ``|g(tau E) - sign(E - mu)| <= delta`` for ``|E - mu| >= eps``; with ``E, mu`` in ``[-1, 1]`` the phase
    does not wrap when ``tau (2 + eps) <= pi`` (checked).
    """

    eps: float
    delta: float
    tau: float

    def __post_init__(self):
        check_positive("eps", self.eps)
        check_positive("tau", self.tau)
        if self.tau * (2 + self.eps) > np.pi:
            raise ValueError(f"tau must be <= pi / (2 + eps) = {np.pi / (2 + self.eps):.6g} so that tau |E - mu| "
                             f"+ tau eps stays below pi for E, mu in [-1, 1]; got tau = {self.tau:.6g}")

    def function(self, mu: float):
        """``g`` as a function of the energy: the filter's classical reference."""
        from qdyn.qsp.polynomials import fourier_sign_series

        return fourier_sign_series(mu, self.eps, self.delta, self.tau).of_energy

    def queries(self, mu: float) -> int:
        """Queries to the evolution per filter: ``2 deg g`` (the same for every ``mu``, which only multiplies
        each Fourier coefficient by a phase)."""
        from qdyn.qsp.polynomials import fourier_sign_series

        return 2 * fourier_sign_series(0.0, self.eps, self.delta, self.tau).degree

    def dense_unitary(self, H, mu: float) -> tuple[np.ndarray, int]:
        """The operator of the filter circuit for ``mu`` and its number of ancillas."""
        from qdyn.circuits.qsp import gqsp_circuit
        from qdyn.circuits.simulate import circuit_operator
        from qdyn.qsp.gqsp import solve_gqsp_phases
        from qdyn.qsp.polynomials import fourier_sign_series

        series = fourier_sign_series(mu, self.eps, self.delta, self.tau)
        return circuit_operator(gqsp_circuit(H, self.tau, solve_gqsp_phases(series.coeffs))), 1


@dataclass(frozen=True)
class QETUFilter:
    """The shifted sign as an even polynomial of ``cos(tau (H + 1) / 2)``, by QETU (module docstring).

    ``H + 1`` has its spectrum in ``[0, 2]``, which must lie inside ``[0, pi/tau]``: ``tau <= pi/2`` (checked);
    ``mu`` is shifted alike and must lie inside ``(-1, pi/tau - 1)``. ``|p - peak sign(E - mu)| <= delta`` for
    ``|E - mu| >= eps``; two ancillas (``a`` and the real-part select ``c``).
    """

    eps: float
    delta: float
    tau: float
    peak: float = 0.9999

    def __post_init__(self):
        check_positive("eps", self.eps)
        check_positive("tau", self.tau)
        if self.tau > np.pi / 2:
            raise ValueError(f"tau must be <= pi/2 so that the spectrum of H + 1 lies inside [0, pi/tau]; got "
                             f"tau = {self.tau:.6g}")

    def polynomial(self, mu: float):
        """The even QETU polynomial ``p`` of ``cos(tau (E + 1) / 2)`` for threshold ``mu``."""
        from qdyn.qsp.polynomials import qetu_sign_polynomial

        return qetu_sign_polynomial(mu + 1.0, self.eps, self.delta, self.tau, peak=self.peak)

    def function(self, mu: float):
        """``p(cos(tau (E + 1) / 2))`` as a function of the energy: the filter's classical reference."""
        poly = self.polynomial(mu)
        return lambda energies: poly(np.cos(self.tau * (np.asarray(energies, dtype=float) + 1.0) / 2))

    def queries(self, mu: float) -> int:
        """Queries to the evolution per filter: ``deg p``, which depends on ``mu`` (the slope of the cosine)."""
        return self.polynomial(mu).degree

    def dense_unitary(self, H, mu: float) -> tuple[np.ndarray, int]:
        """The operator of the filter circuit for ``mu`` and its number of ancillas."""
        from qiskit.quantum_info import SparsePauliOp

        from qdyn.circuits.qsp import qetu_circuit
        from qdyn.circuits.simulate import circuit_operator
        from qdyn.operators import as_pauli_op
        from qdyn.qsp.phases import solve_phases_newton

        op = as_pauli_op(H, name="H")
        shifted = (op + SparsePauliOp("I" * op.num_qubits, [1.0])).simplify(atol=0)
        phases = solve_phases_newton(self.polynomial(mu), convention="qetu").phases
        return circuit_operator(qetu_circuit(shifted, self.tau, phases)), 2
