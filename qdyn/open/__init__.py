"""Open quantum systems: Lindbladians, exact references and the POVM probability formulation.

Convention (one for the whole module): ``Z|0> = +|0>`` and the lowering operator is ``sigma^- = |1><0|``, so
amplitude damping relaxes towards ``|1>`` (``<Z> -> -1``). Qubit order is qdyn's (qubit 0 least significant).

* :class:`Lindbladian` and the models (:func:`dissipative_ising`, :func:`dissipative_xyz`,
  :func:`amplitude_damping`, :func:`dephasing`, :func:`driven_damped_qubit`);
* exact references: the vectorised :class:`Liouvillian` propagator (numpy, torch on CPU/GPU),
  :func:`evolve_density`, :func:`steady_state_density`, and QuTiP's :func:`qutip_mesolve` /
  :func:`qutip_steadystate`.
"""

from qdyn.open.density import as_density_matrix, expectation, purity
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
from qdyn.open.reference import qutip_mesolve, qutip_steadystate

__all__ = [
                                   "DensityEvolution",
                                   "Lindbladian",
                                   "Liouvillian",
                                   "LocalTerm",
                                   "amplitude_damping",
                                   "as_density_matrix",
                                   "dephasing",
                                   "dissipative_ising",
                                   "dissipative_xyz",
                                   "driven_damped_qubit",
                                   "evolve_density",
                                   "expectation",
                                   "liouvillian_matrix",
                                   "pauli_on",
                                   "purity",
                                   "qutip_mesolve",
                                   "qutip_steadystate",
                                   "sigma_minus",
                                   "square_lattice_bonds",
                                   "steady_state_density",
]
