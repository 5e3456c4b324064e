"""Open quantum systems: Lindbladians, exact references and the POVM probability formulation.

Convention (one for the whole module): ``Z|0> = +|0>`` and the lowering operator is ``sigma^- = |1><0|``, so
amplitude damping relaxes towards ``|1>`` (``<Z> -> -1``). Qubit order is qdyn's (qubit 0 least significant).

* :class:`Lindbladian` and the models (:func:`dissipative_ising`, :func:`dissipative_xyz`,
  :func:`amplitude_damping`, :func:`dephasing`, :func:`driven_damped_qubit`);
* exact references: the vectorised :class:`Liouvillian` propagator (numpy, torch on CPU/GPU),
  :func:`evolve_density`, :func:`steady_state_density`, and QuTiP's :func:`qutip_mesolve` /
  :func:`qutip_steadystate`;
* the POVM probability formulation: :class:`POVM` (``"tetra"``, ``"pauli4"``, custom), ``rho <-> P``,
  :class:`POVMLindbladian` (local ``4^k x 4^k`` tensors, ``apply``, ``matrix``, the batched
  :meth:`POVMLindbladian.connections` used by the neural solvers), exact POVM-space dynamics
  (:func:`evolve_povm`: trapezoid and adaptive ODE), :func:`povm_steady_state`, :func:`physicality`;
* POVM transformer states (:mod:`qdyn.open.neural`, networks in :mod:`qdyn.nets`): :func:`evolve_transformer`
  by the forward-backward trapezoid L1 loss, :func:`steady_state_transformer`, :func:`observables` with
  Monte-Carlo error bars;
* the front doors :func:`evolve` (-> :class:`OpenEvolution`) and :func:`steady_state` (-> :class:`OpenSteadyState`)
  with ``method="liouvillian" | "qutip" | "povm" | "transformer"``, observables ``e_ops`` (default
  :func:`site_average_paulis`). Every value comes with an error of a stated kind (``error_kind``); steady states
  are checked unique (else ``ValueError``) and physical (else ``PhysicsWarning`` and ``physical=False``) with a
  residual and a distance bound (:mod:`qdyn.open.stationarity`); the transformer drivers' checkpoints record
  the fingerprint of their problem (:mod:`qdyn.open.neural.fingerprint`) and refuse another's.
"""

from qdyn.open.density import as_density_matrix, expectation, purity
from qdyn.open.dynamics import OpenEvolution, evolve
from qdyn.open.lindbladian import Lindbladian, LocalTerm, pauli_on, sigma_minus
from qdyn.open.liouvillian import (
    DensityEvolution,
    Liouvillian,
    evolve_density,
    liouvillian_matrix,
    steady_state_density,
)
from qdyn.open.models import (
    amplitude_damping,
    dephasing,
    dissipative_ising,
    dissipative_xyz,
    driven_damped_qubit,
    square_lattice_bonds,
)
from qdyn.open.named_observables import site_average_paulis
from qdyn.open.neural import (
    NeuralEvolution,
    NeuralSteadyState,
    ObservableEstimate,
    evolve_transformer,
    observables,
    povm_transformer_state,
    steady_state_transformer,
)
from qdyn.open.povm import POVM, check_distribution, index_to_strings, strings_to_index
from qdyn.open.povm_dynamics import Physicality, POVMEvolution, evolve_povm, physicality, povm_steady_state
from qdyn.open.povm_lindbladian import Connections, POVMLindbladian, POVMTerm
from qdyn.open.reference import qutip_mesolve, qutip_steadystate
from qdyn.open.stationary import OpenSteadyState, steady_state

__all__ = [
    "NeuralEvolution", "NeuralSteadyState", "ObservableEstimate", "evolve", "evolve_transformer", "observables",
    "OpenEvolution", "OpenSteadyState", "povm_transformer_state", "site_average_paulis", "steady_state",
    "steady_state_transformer",
    "POVM",
    "Connections",
    "DensityEvolution",
    "Lindbladian",
    "Liouvillian",
    "LocalTerm",
    "POVMEvolution",
    "POVMLindbladian",
    "POVMTerm",
    "Physicality",
    "amplitude_damping",
    "as_density_matrix",
    "check_distribution",
    "dephasing",
    "dissipative_ising",
    "dissipative_xyz",
    "driven_damped_qubit",
    "evolve_density",
    "evolve_povm",
    "expectation",
    "index_to_strings",
    "liouvillian_matrix",
    "pauli_on",
    "physicality",
    "povm_steady_state",
    "purity",
    "qutip_mesolve",
    "qutip_steadystate",
    "sigma_minus",
    "square_lattice_bonds",
    "steady_state_density",
    "strings_to_index",
]
