"""The exact engine: Pauli sums (CSR where it fits, matrix-free above), eigenpairs, exact and Trotterised time
evolution.

It is the reference every other engine is tested against and the fast path for emulation at scale.
"""

from qdyn.exact.evolution import PropagatorReport, chebyshev_coefficients, evolve
from qdyn.exact.pauli_sum import PauliSum, as_pauli_sum, csr_budget, engine_for_device
from qdyn.exact.spectrum import (
    Eigenpairs,
    expectation,
    extreme_eigenvalues,
    ground_state,
    sector_indices,
    spectral_bounds,
)
from qdyn.exact.trotter import product_formula_sequence, trotter_evolve

__all__ = [
    "PauliSum", "as_pauli_sum", "csr_budget", "engine_for_device",
    "Eigenpairs", "ground_state", "expectation", "extreme_eigenvalues", "sector_indices", "spectral_bounds",
    "evolve", "chebyshev_coefficients", "PropagatorReport",
    "trotter_evolve", "product_formula_sequence",
]
