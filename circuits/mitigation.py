"""Error-mitigation settings and their cost: :class:`Mitigation` and :class:`MitigationOverhead`.

A :class:`Mitigation` says which techniques :func:`qdyn.circuits.backends.estimate` applies; it runs nothing.

* ``twirling`` — Pauli twirling of the two-qubit gates (Wallman & Emerson, PRA 94, 052325 (2016)): ``R``
  randomized copies of each circuit, each an independent draw of Paulis around every CX/CZ/ECR; coherent gate errors
  become stochastic Pauli errors that zero-noise extrapolation models well.
* ``readout`` — twirled readout error extinction, TREX (van den Berg, Minev & Temme, PRA 105, 032620 (2022)):
  random X flips before each measurement (undone on the bits) make the readout channel a symmetric bit flip, which
  rescales each Pauli term by a factor ``f_t`` measured on ``|0...0>`` with the same flips;
  ``<P_t> = <P_t>_measured / f_t``.
* ``dd`` — dynamical decoupling on idle qubits (Viola, Knill & Lloyd, PRL 82, 2417 (1999)), scheduled with the
  device's gate durations.
* ``zne`` — zero-noise extrapolation (Temme, Bravyi & Gambetta, PRL 119, 180509 (2017)) by two-qubit gate folding
  ``G -> G (G^dagger G)^k`` (noise factor ``1 + 2k``) and a least-squares polynomial fit evaluated at zero noise.

Client side (fake devices and simulators) these run in :mod:`qdyn.circuits.mitigated`; on ``"ibm:<name>"`` the
runtime's ``EstimatorV2`` applies the same settings through :func:`qdyn.circuits.ibm.estimator_options`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from qdyn.errors import check_int

__all__ = ["Mitigation", "MitigationOverhead", "resolve_mitigation", "EXTRAPOLATORS", "DD_SEQUENCES"]

EXTRAPOLATORS = ("linear", "quadratic", "richardson", "exponential")
"""ZNE fits: a straight line, a parabola, the polynomial of degree ``len(zne) - 1`` through every point, or
``A exp(-b lambda)`` (a straight line through ``ln|y|``; a term whose values change sign or are within twice their
error of zero falls back to the straight line)."""

DD_SEQUENCES = ("XX", "XpXm", "XY4")
"""The runtime's dynamical-decoupling sequences; client side, ``"XX"`` (the others need gates outside the ISA)."""


@dataclass(frozen=True)
class MitigationOverhead:
    """What one logical circuit costs under a :class:`Mitigation`, for ``shots`` shots asked per circuit.

    ``circuits`` executed circuits and ``shots`` executed shots per logical (measurement) circuit;
    ``calibration_circuits`` and ``calibration_shots`` once per :func:`~qdyn.circuits.backends.estimate` call
    (readout calibration); ``variance_factor``: the zero-noise fit multiplies the variance of an estimate (for
    ``"exponential"``, its relative variance) by about this, ``sum_f w_f^2`` with ``w`` the fit's weights at zero
    noise (1 without ZNE).
    """

    circuits: int
    shots: int
    calibration_circuits: int
    calibration_shots: int
    variance_factor: float


@dataclass(frozen=True)
class Mitigation:
    """Error-mitigation settings (see the module docstring).

    twirling : int
        Randomizations ``R`` of the two-qubit-gate Pauli twirl, 0 = no gate twirling.
    readout : bool
        TREX readout-error mitigation (measurement twirling plus a calibration on ``|0...0>``).
    dd : str or None
        Dynamical-decoupling sequence (one of :data:`DD_SEQUENCES`), or ``None``.
    zne : tuple of float or None
        Noise factors (each >= 1, e.g. ``(1, 3, 5)``; odd integers fold every gate the same number of times), or
        ``None`` for no extrapolation.
    extrapolator : str
        The zero-noise fit, one of :data:`EXTRAPOLATORS`.

    The ``shots`` of an estimate are per logical circuit and noise factor, split evenly over the randomizations
    (``ceil(shots / R)`` each). With ``readout`` the measurement flips come in complementary pairs, so at least 2
    randomizations run even without gate twirling, and the calibration runs ``R`` circuits of ``ceil(shots / R)``
    shots on the measured qubits.
    """

    twirling: int = 0
    readout: bool = False
    dd: str | None = None
    zne: tuple[float, ...] | None = None
    extrapolator: str = "linear"

    def __post_init__(self):
        check_int("twirling", self.twirling, minimum=0)
        if not isinstance(self.readout, bool):
            raise TypeError(f"readout must be a bool, got {type(self.readout).__name__}")
        if self.dd is not None and self.dd not in DD_SEQUENCES:
            raise ValueError(f"dd must be None or one of {DD_SEQUENCES}, got {self.dd!r}")
        if self.extrapolator not in EXTRAPOLATORS:
            raise ValueError(f"extrapolator must be one of {EXTRAPOLATORS}, got {self.extrapolator!r}")
        if self.zne is not None:
            if isinstance(self.zne, str) or not hasattr(self.zne, "__len__"):
                raise TypeError(f"zne must be None or a sequence of noise factors, got {self.zne!r}")
            factors = tuple(float(f) for f in self.zne)
            if len(set(factors)) < 2 or min(factors) < 1:
                raise ValueError(f"zne needs at least two distinct noise factors >= 1, got {self.zne!r}")
            if len(factors) <= self.degree_for(len(factors)):
                raise ValueError(f"extrapolator {self.extrapolator!r} needs more than {len(factors)} noise factors")
            object.__setattr__(self, "zne", factors)

    def degree_for(self, n_factors: int) -> int:
        """Polynomial degree of the zero-noise fit through ``n_factors`` points."""
        return {"linear": 1, "exponential": 1, "quadratic": 2}.get(self.extrapolator, n_factors - 1)

    @property
    def active(self) -> bool:
        """Whether any technique is on."""
        return bool(self.twirling or self.readout or self.dd or self.zne)

    @property
    def noise_factors(self) -> tuple[float, ...]:
        """The noise factors executed (``(1.0,)`` without ZNE)."""
        return self.zne or (1.0,)

    @property
    def randomizations(self) -> int:
        """Randomized copies per circuit and noise factor: ``R`` (at least 2, and even, with ``readout``)."""
        r = max(self.twirling, 1)
        return r + r % 2 if self.readout else r

    def zne_weights(self) -> np.ndarray:
        """Weights ``w_f`` with ``value(0) = sum_f w_f y_f`` for the least-squares polynomial fit of the
        extrapolator's degree through ``(lambda_f, y_f)`` (unweighted, so they depend on the factors only;
        ``"exponential"`` applies them to ``ln|y_f|``).

        Written here, not taken from qiskit-mitigation: its zero-noise fit (``zne.extrapolation``, private API)
        scales the fit covariance by the residuals, which leaves an exactly determined fit (two factors, a line)
        without an error; explicit weights propagate the per-factor variances, twirl spread and readout
        calibration exactly (:func:`qdyn.circuits.backends.estimate`)."""
        x = np.asarray(self.noise_factors)
        if len(x) == 1:
            return np.ones(1)
        vander = np.vander(x, self.degree_for(len(x)) + 1, increasing=True)
        return np.linalg.pinv(vander)[0]

    def overhead(self, shots: int) -> MitigationOverhead:
        """The cost of one logical circuit asked with ``shots`` shots (see :class:`MitigationOverhead`)."""
        shots = check_int("shots", shots, minimum=1)
        r = self.randomizations
        per = math.ceil(shots / r)
        n_f = len(self.noise_factors)
        cal_circuits = r if self.readout else 0
        return MitigationOverhead(circuits=n_f * r, shots=n_f * r * per, calibration_circuits=cal_circuits,
                                  calibration_shots=cal_circuits * per,
                                  variance_factor=float(np.sum(self.zne_weights() ** 2)))

    def to_dict(self) -> dict:
        """The settings as plain values (recorded in result metadata)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


AUTO_DEVICE = Mitigation(twirling=8, readout=True, zne=(1, 3), extrapolator="exponential")
"""``mitigation="auto"`` on a noisy device: 8 twirls, TREX, exponential ZNE from noise factors 1 and 3 (on a
6-qubit, 120-CZ circuit on FakeTorino a straight line through factors 1 and 3 kept 16 % of the signal loss as
bias, well outside its error bar; the exponential fit leaves about its own error bar)."""


def resolve_mitigation(mitigation, *, noisy: bool) -> Mitigation | None:
    """``None`` | ``"auto"`` | :class:`Mitigation` -> a :class:`Mitigation` or ``None`` (nothing to do).

    ``"auto"`` is :data:`AUTO_DEVICE` on a noisy target (``noisy=True``: fake or IBM device) and ``None`` on an
    ideal simulator, where there is no noise to mitigate.
    """
    if mitigation is None:
        return None
    if isinstance(mitigation, str):
        if mitigation != "auto":
            raise ValueError(f"mitigation must be None, 'auto' or a Mitigation, got {mitigation!r}")
        return AUTO_DEVICE if noisy else None
    if not isinstance(mitigation, Mitigation):
        raise TypeError(f"mitigation must be None, 'auto' or a Mitigation, got {type(mitigation).__name__}")
    return mitigation if mitigation.active else None
