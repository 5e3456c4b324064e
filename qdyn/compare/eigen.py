"""Eigenvalue problems: exact diagonalisation, Lanczos, the real-time Krylov solvers and dynamical cooling.

The reference is the ``n_roots`` lowest eigenvalues by dense diagonalisation (:func:`qdyn.exact.ground_state`,
``method="dense"``). The four Krylov rows (``vqpe``, ``uvqpe``, ``odmd``, ``matrix_pencil``;
:mod:`qdyn.krylov`) read one shared acquisition of the overlap data on the problem's backend, so their rows
differ only by the solver; each row's resources and wall time include that acquisition. The ``cooling`` row is
the energy of the state prepared by :func:`qdyn.cooling.cool` on ``H`` (which normalises ``H`` itself and
reports in the units of ``H``); it gives the lowest energy
only. Energies are in the units of ``H``; times in the units of ``1/H``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.compare.registry import register
from qdyn.compare.table import SolverRun
from qdyn.errors import check_int
from qdyn.results import Stopwatch

__all__ = ["EigenProblem", "eigen_problem", "lowest_diagonal_state"]

_KRYLOV = ("vqpe", "uvqpe", "odmd", "matrix_pencil")


def lowest_diagonal_state(H: SparsePauliOp) -> np.ndarray:
    """The computational basis state ``|b>`` minimising ``<b|H|b>`` (only the Z/I strings contribute)."""
    n = H.num_qubits
    index = np.arange(2**n, dtype=np.int64)
    diagonal = np.zeros(2**n)
    for pauli, c in zip(H.paulis, H.coeffs, strict=True):
        if pauli.x.any():
            continue
        parity = np.zeros_like(index)
        for q in np.flatnonzero(pauli.z):
            parity ^= (index >> int(q)) & 1
        diagonal += float(np.real(c)) * (1 - 2 * parity)
    state = np.zeros(2**n, dtype=complex)
    state[int(np.argmin(diagonal))] = 1.0
    return state


@dataclass(frozen=True, eq=False)
class EigenProblem:
    """The ``n_roots`` lowest eigenvalues of ``hamiltonian``; Krylov data from ``refs`` on ``times``.

    Built by :func:`eigen_problem`. ``backend``, ``shots`` and ``trotter`` are passed to
    :func:`qdyn.krylov.acquire`; ``seed`` drives every stochastic solver.
    """

    kind: ClassVar[str] = "eigen"
    hamiltonian: SparsePauliOp
    refs: np.ndarray
    times: np.ndarray
    n_roots: int = 1
    backend: object = "exact"
    shots: int | None = None
    trotter: dict | None = None
    seed: int | None = None
    name: str = "eigen"

    headline: ClassVar[str] = "E0"  #: what the table's ``value`` column holds: the lowest energy

    @cached_property
    def reference(self) -> np.ndarray:
        """The ``n_roots`` lowest eigenvalues by dense diagonalisation."""
        return np.asarray(self._exact.energies, dtype=float)

    @cached_property
    def _exact(self):
        from qdyn.exact import ground_state

        return ground_state(self.hamiltonian, k=self.n_roots, method="dense")

    @cached_property
    def krylov_data(self):
        """The overlap data every Krylov row reads (acquired once, with the Hamiltonian rows for VQPE)."""
        from qdyn.krylov import acquire

        return acquire(self.hamiltonian, list(self.refs), self.times, backend=self.backend, shots=self.shots,
                       trotter=self.trotter, seed=self.seed, with_h=True)


def eigen_problem(H, refs=None, *, n_times: int = 20, dt: float | None = None, n_roots: int = 1,
                  backend="exact", shots: int | None = None, trotter: dict | None = None,
                  seed: int | None = 0, name: str | None = None) -> EigenProblem:
    """An eigenvalue problem for :func:`qdyn.compare.compare`.

    ``H``: any operator :func:`qdyn.operators.as_pauli_op` accepts. ``refs``: Krylov reference state(s)
    (default: the computational basis state of lowest diagonal energy, a Hartree-Fock-like guess; pass a state
    with a good ground-state overlap, e.g. ``plus_state(n)`` for the transverse-field Ising model).
    ``n_times`` samples ``t_m = m dt``, ``dt`` by default from :func:`qdyn.krylov.choose_dt` (no aliasing).
    """
    from qdyn.krylov import choose_dt, time_grid
    from qdyn.krylov.acquire import normalise_refs
    from qdyn.operators import as_pauli_op

    op = as_pauli_op(H, name="H")
    refs = normalise_refs(lowest_diagonal_state(op) if refs is None else refs, op.num_qubits)
    n_roots = check_int("n_roots", n_roots, minimum=1)
    if n_roots > 2**op.num_qubits:
        raise ValueError(f"n_roots={n_roots} exceeds the dimension 2**{op.num_qubits}")
    dt = choose_dt(op) if dt is None else dt
    times = time_grid(dt, n_times)
    return EigenProblem(op, refs, times, n_roots, backend, shots, trotter, seed,
                        name or f"{op.num_qubits}-qubit eigenproblem")


def _padded(energies, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    e = np.asarray(energies, dtype=float)[:n]
    out[:e.size] = e
    return out


@register("eigen", "exact", description="dense diagonalisation (numpy eigh)")
def _exact(problem: EigenProblem) -> SolverRun:
    result = problem._exact
    return SolverRun("exact", _padded(result.energies, problem.n_roots), result,
                     wall_time=result.resources.wall_time)


@register("eigen", "lanczos", description="matrix-free Lanczos (scipy eigsh) on the exact engine")
def _lanczos(problem: EigenProblem, device: str = "cpu") -> SolverRun:
    from qdyn.exact import ground_state

    result = ground_state(problem.hamiltonian, k=problem.n_roots, method="lanczos", device=device,
                          seed=problem.seed)
    return SolverRun("lanczos", _padded(result.energies, problem.n_roots), result)


def _krylov_adapter(method: str):
    def run(problem: EigenProblem, **options) -> SolverRun:
        from qdyn.krylov import solve

        data = problem.krylov_data
        with Stopwatch() as clock:
            result = solve(data, method, n_roots=problem.n_roots, seed=problem.seed, **options)
        errors = None if result.energies_err is None else _padded(result.energies_err, problem.n_roots)
        resources = dataclasses.replace(result.resources, wall_time=data.resources.wall_time + clock.elapsed)
        return SolverRun(method, _padded(result.energies, problem.n_roots), result, errors=errors,
                         resources=resources, wall_time=resources.wall_time)

    run.__doc__ = f"qdyn.krylov.solve(data, method={method!r}) on the problem's shared Krylov data"
    return run


for _method in _KRYLOV:
    register("eigen", _method, requires=("qdyn.krylov",))(_krylov_adapter(_method))


@register("eigen", "cooling", requires=("qdyn.cooling",),
          description="energy of the state prepared by dynamical cooling (qdyn.cooling.cool)")
def _cooling(problem: EigenProblem, **options) -> SolverRun:
    from qdyn.cooling import cool

    options.setdefault("seed", problem.seed)
    result = cool(problem.hamiltonian, **options)
    values = np.full(problem.n_roots, np.nan)
    values[0] = result.energy
    return SolverRun("cooling", values, result)

