"""Real-time Krylov eigenvalue extraction: VQPE, UVQPE, ODMD and the matrix pencil, on every backend.

Data apart from solvers::

    data = qdyn.krylov.acquire(H, refs, times, backend="exact")      # overlap rows s(t), h(t) + errors
    result = qdyn.krylov.solve(data, method="vqpe", threshold="auto")  # energies, error bars, rank, history
    cost = qdyn.krylov.plan(H, refs, times, backend="fake:FakeTorino", shots=4000, trotter={"steps_per_dt": 1})

References: Klymko et al., PRX Quantum 3, 020323 (2022); Shen et al., Quantum 7, 1066 (2023).
"""

from qdyn.krylov.acquire import acquire
from qdyn.krylov.data import KrylovData, krylov_matrices, time_grid
from qdyn.krylov.guards import auto_threshold
from qdyn.krylov.plan import KrylovPlan, plan
from qdyn.krylov.solvers import METHODS, KrylovResult, solve
from qdyn.krylov.timestep import bound, check_aliasing, choose_dt

__all__ = [
           "METHODS",
           "KrylovData",
           "KrylovPlan",
           "KrylovResult",
           "acquire",
           "auto_threshold",
           "bound",
           "check_aliasing",
           "choose_dt",
           "krylov_matrices",
           "plan",
           "solve",
           "time_grid",
]

