"""qdyn.circuits: everything that is a quantum circuit, and the backend layer that runs it.

* :mod:`qdyn.circuits.state_prep` — product, Neel, Hartree-Fock and general state preparation;
* :mod:`qdyn.circuits.evolution` — decomposed Trotter/Suzuki evolution circuits and their controlled versions;
* :mod:`qdyn.circuits.trotter_layers` — shallow product-formula circuits: edge-coloured layers of commuting bonds,
  one minimal (at most 3-CNOT) block per bond, and the layered term order the exact engine reproduces;
* :mod:`qdyn.circuits.hadamard` — Hadamard tests for Re/Im of ``<phi|U|phi>`` and ``<phi|P U|phi>``;
* :mod:`qdyn.circuits.control_free` — overlaps between basis states without a controlled evolution, through a
  vacuum eigenstate in another symmetry sector;
* :mod:`qdyn.circuits.backends` — :func:`resolve_target` and :func:`estimate` (circuits + observables in, values
  with standard errors, shots, depth, two-qubit gates, seeds and job ids out) on statevector, Aer, Lightning,
  fake and real IBM devices; :mod:`qdyn.circuits.ibm` is the one adapter for qiskit-ibm-runtime;
* :mod:`qdyn.circuits.mitigation` — :class:`Mitigation` (Pauli twirling, TREX readout correction, dynamical
  decoupling, zero-noise extrapolation) and its cost; run client side by :mod:`qdyn.circuits.mitigated`;
* :mod:`qdyn.circuits.block_encoding`, :mod:`qdyn.circuits.qsp` — block encodings, QSVT/QETU/GQSP circuits and
  a simulated, post-selected QSVT filter (:func:`qsvt_filter`);
* :mod:`qdyn.circuits.simulate` — exact statevector simulation (Qiskit's, and a fast ``tensordot`` one), circuit
  operators, post-selection;
* :mod:`qdyn.circuits.forms`, :mod:`qdyn.circuits.amplification`, :mod:`qdyn.circuits.gate_counts` — one circuit
  rendered dense (simulation) or at gate level (counting), oblivious amplitude amplification, and two-qubit gates
  and depth of large circuits counted per distinct gate.

The coherent cooling step moved to :mod:`qdyn.cooling` (``CoherentCoolingStep``, ``GQSPFilter``, ``QETUFilter``,
``cooling_circuit_resources``, ``gate_level_step_circuit``); the old names here still resolve, with a
``DeprecationWarning``.
"""

from qdyn.circuits.backends import Estimates, Target, circuit_costs, estimate, resolve_target
from qdyn.circuits.block_encoding import BlockEncoding, dilation_block_encoding, lcu_block_encoding
from qdyn.circuits.control_free import basis_action, branch_circuit, control_free_overlap, vacuum_energy
from qdyn.circuits.evolution import controlled_evolution_circuit, evolution_circuit, pauli_rotation
from qdyn.circuits.hadamard import controlled_pauli, hadamard_test
from qdyn.circuits.mitigation import Mitigation
from qdyn.circuits.qsp import gqsp_circuit, qetu_circuit, qsvt_circuit, qsvt_filter, qsvt_layout
from qdyn.circuits.simulate import apply_circuit, circuit_operator, run_postselected, simulate_statevector
from qdyn.circuits.state_prep import (
    basis_state_circuit,
    hartree_fock_circuit,
    neel_circuit,
    product_state_circuit,
    state_circuit,
)
from qdyn.circuits.trotter_layers import bond_layers, layer_units, layered_evolution_circuit, layered_hamiltonian
from qdyn.deprecation import moved_names

__all__ = [
    "Estimates", "Target", "circuit_costs", "estimate", "resolve_target", "Mitigation",
    "controlled_evolution_circuit", "evolution_circuit", "pauli_rotation",
    "controlled_pauli", "hadamard_test",
    "basis_action", "branch_circuit", "control_free_overlap", "vacuum_energy",
    "bond_layers", "layer_units", "layered_evolution_circuit", "layered_hamiltonian",
    "basis_state_circuit", "hartree_fock_circuit", "neel_circuit", "product_state_circuit", "state_circuit",
    "BlockEncoding", "dilation_block_encoding", "lcu_block_encoding",
    "gqsp_circuit", "qetu_circuit", "qsvt_circuit", "qsvt_filter", "qsvt_layout",
    "apply_circuit", "circuit_operator", "run_postselected", "simulate_statevector",
]

__getattr__ = moved_names(__name__, {name: "qdyn.cooling" for name in (
    "CoherentCoolingStep", "GQSPFilter", "QETUFilter", "cooling_circuit_resources", "gate_level_step_circuit")})
