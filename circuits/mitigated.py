"""The circuits a mitigated estimate executes, client side (fake devices and simulators).

From one compiled measurement circuit (ISA on a device) and a :class:`~qdyn.circuits.mitigation.Mitigation`,
:func:`executed_variants` builds, per noise factor ``lambda`` and randomization ``r``:

1. gate folding ``G -> G (G^dagger G)^k`` of every two-qubit gate, ``lambda = 1 + 2k`` (fractional factors fold a
   seeded random subset once more) — ``qiskit_mitigation.zne.GateFoldingPass``;
2. Pauli twirling of every two-qubit gate, re-synthesised to the device's single-qubit basis —
   ``qiskit.circuit.pauli_twirl_2q_gates`` (with the device ``Target``);
3. measurement twirling for TREX: an X before each measured qubit of a random mask (the bits are flipped back
   in post-processing); masks come in complementary pairs ``(m, not m)`` so each qubit is flipped in exactly half of
   the randomizations;
4. dynamical decoupling: ALAP scheduling with the device's durations and an X-X sequence in the idle windows of the
   active qubits — Qiskit's ``ALAPScheduleAnalysis`` and ``PadDynamicalDecoupling``.

Only step 3 is written here by hand: qiskit-mitigation's ``TREX`` builds its measurement twirl and calibration as
a samplomatic ``QuantumProgram`` for the runtime's executor, which the local fake devices do not run; the flips
and the ``|0...0>`` calibration circuits (:func:`calibration_circuits`) are a few gates each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit

from qdyn.circuits.mitigation import Mitigation

__all__ = ["Variant", "executed_variants", "measured_qubits", "flip_masks", "calibration_circuits"]


@dataclass(frozen=True)
class Variant:
    """One executed circuit: logical circuit ``index``, noise-factor index ``factor``, randomization ``draw``,
    and the measurement ``flips`` (one bool per classical bit) to undo on its bits."""

    index: int
    factor: int
    draw: int
    circuit: QuantumCircuit
    flips: np.ndarray


def measured_qubits(circuit: QuantumCircuit) -> list[int]:
    """The qubit measured into each classical bit of ``circuit``, in classical-bit order."""
    out = [-1] * circuit.num_clbits
    for inst in circuit.data:
        if inst.operation.name == "measure":
            out[circuit.find_bit(inst.clbits[0]).index] = circuit.find_bit(inst.qubits[0]).index
    if -1 in out:
        raise ValueError("every classical bit of a measurement circuit must be measured once")
    return out


def flip_masks(n_masks: int, n_bits: int, rng: np.random.Generator) -> np.ndarray:
    """``n_masks`` (even) random bit masks of length ``n_bits`` in complementary pairs ``(m, ~m)``."""
    half = rng.integers(0, 2, size=(n_masks // 2, n_bits)).astype(bool)
    return np.stack([half, ~half], axis=1).reshape(n_masks, n_bits)


def _flip_measurements(circuit: QuantumCircuit, flips: np.ndarray) -> QuantumCircuit:
    """``circuit`` with an X on each measured qubit whose classical bit has ``flips[bit]``, just before it is
    measured."""
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        if inst.operation.name == "measure" and flips[circuit.find_bit(inst.clbits[0]).index]:
            out.x(inst.qubits[0])
        out.append(inst)
    return out


def _decoupled(circuit: QuantumCircuit, target) -> QuantumCircuit:
    """X-X dynamical decoupling in the idle windows of the qubits ``circuit`` acts on (ALAP schedule from the
    device ``target``'s durations); idle qubits of the device get no delays, so simulators keep them truncated."""
    from qiskit.circuit.library import XGate
    from qiskit.transpiler import PassManager
    from qiskit.transpiler.passes import ALAPScheduleAnalysis, PadDynamicalDecoupling

    active = sorted({circuit.find_bit(q).index for inst in circuit.data for q in inst.qubits})
    pm = PassManager([ALAPScheduleAnalysis(target=target),
                      PadDynamicalDecoupling(target=target, dd_sequence=[XGate(), XGate()], qubits=active)])
    padded = pm.run(circuit)
    out = padded.copy_empty_like()
    keep = set(active)
    for inst in padded.data:
        if inst.operation.name == "delay" and padded.find_bit(inst.qubits[0]).index not in keep:
            continue
        out.append(inst)
    return out


def executed_variants(circuits: list[QuantumCircuit], mitigation: Mitigation, *, device_target=None,
                      rng: np.random.Generator) -> list[Variant]:
    """Every executed circuit for ``circuits`` (compiled, measured) under ``mitigation`` (see the module
    docstring), in the order circuit, noise factor, randomization. ``device_target``: the device's
    ``qiskit.transpiler.Target`` (keeps twirled circuits ISA; required for dynamical decoupling)."""
    from qiskit.circuit import pauli_twirl_2q_gates
    from qiskit.transpiler import PassManager
    from qiskit_mitigation.zne import GateFoldingPass

    if mitigation.dd is not None:
        if device_target is None:
            raise ValueError("mitigation.dd needs a device target (gate durations); simulators have none")
        if mitigation.dd != "XX":
            raise ValueError(f"client-side dynamical decoupling runs the 'XX' sequence only, got "
                             f"{mitigation.dd!r} ({mitigation.dd!r} runs on 'ibm:<name>' targets)")
    n_draws = mitigation.randomizations
    out = []
    for index, circuit in enumerate(circuits):
        masks = (flip_masks(n_draws, circuit.num_clbits, rng) if mitigation.readout
                 else np.zeros((n_draws, circuit.num_clbits), dtype=bool))
        for f, factor in enumerate(mitigation.noise_factors):
            seed = int(rng.integers(0, 2**31 - 1))
            folded = PassManager([GateFoldingPass(factor, seed=seed)]).run(circuit) if factor != 1 else circuit
            if mitigation.twirling:
                twirled = pauli_twirl_2q_gates(folded, seed=int(rng.integers(0, 2**31 - 1)), num_twirls=n_draws,
                                               target=device_target)
            else:
                twirled = [folded] * n_draws
            for r in range(n_draws):
                qc = _flip_measurements(twirled[r], masks[r]) if mitigation.readout else twirled[r]
                if mitigation.dd is not None:
                    qc = _decoupled(qc, device_target)
                out.append(Variant(index=index, factor=f, draw=r, circuit=qc, flips=masks[r]))
    return out


def calibration_circuits(width: int, qubits: list[int], masks: np.ndarray) -> list[QuantumCircuit]:
    """TREX calibration: for each mask, ``|0...0>`` on ``width`` qubits, an X on ``qubits[i]`` where ``mask[i]``,
    and ``qubits`` measured into the register ``meas`` (X and measure are native on every device, so the circuits
    are ISA as built and keep their physical qubits)."""
    out = []
    for mask in masks:
        qc = QuantumCircuit(width)
        creg = ClassicalRegister(len(qubits), "meas")
        qc.add_register(creg)
        for i, q in enumerate(qubits):
            if mask[i]:
                qc.x(q)
        qc.measure(qubits, creg)
        out.append(qc)
    return out
