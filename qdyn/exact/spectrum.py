"""Eigenpairs and expectation values on the exact engine.

Small registers use dense ``numpy.linalg.eigh``; larger ones use Lanczos (ARPACK's implicitly restarted
Lanczos, ``scipy.sparse.linalg.eigsh``) on the matrix-free :class:`~qdyn.exact.pauli_sum.PauliSum`.
A ``hamming_weight`` restricts the problem to basis states with that many 1 bits (the particle-number sector
of a Jordan-Wigner-encoded fermion Hamiltonian, or a magnetisation sector of a spin chain).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla

from qdyn.errors import ConvergenceWarning, check_int, check_memory, check_state
from qdyn.exact.pauli_sum import PauliSum, as_pauli_sum, engine_for_device
from qdyn.operators import as_pauli_op
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata, value_rows
from qdyn.seeding import make_rng

__all__ = ["Eigenpairs", "ground_state", "expectation", "extreme_eigenvalues", "sector_indices", "spectral_bounds"]

DENSE_LIMIT = 256  # largest (sub)space handled by dense eigh (O(dim^3) time: 0.3 s at 1024, Lanczos 3 ms)


@dataclass(frozen=True)
class Eigenpairs(Result):
    """Lowest eigenpairs: ``energies[j]`` with the normalised eigenvector ``states[:, j]`` (full register)."""

    energies: np.ndarray
    states: np.ndarray
    residuals: np.ndarray  #: ||H v - E v|| for each pair; an exact eigenvalue lies within it of E
    method: str
    resources: Resources
    metadata: Metadata
    converged: bool = True  #: every residual within sqrt(tol) * max(1, |E|) (see :func:`ground_state`)
    error_kind: str = "bound"  #: the residuals bound the distance to the nearest exact eigenvalue

    @property
    def energy(self) -> float:
        return float(self.energies[0])

    @property
    def state(self) -> np.ndarray:
        return self.states[:, 0]

    def rows(self) -> list[dict]:
        """One row per eigenvalue: ``value`` the energy, ``error`` its residual ``||H v - E v||`` (an exact
        eigenvalue lies within it), no ``reference`` (NaN: this is the reference)."""
        return value_rows("energy", self.energies, errors=self.residuals)


def sector_indices(num_qubits: int, hamming_weight: int) -> np.ndarray:
    """Basis indices with exactly ``hamming_weight`` bits set, ascending."""
    check_int("hamming_weight", hamming_weight, minimum=0)
    if hamming_weight > num_qubits:
        raise ValueError(f"hamming_weight={hamming_weight} exceeds the number of qubits {num_qubits}")
    idx = np.arange(2**num_qubits, dtype=np.int64)
    return idx[np.bitwise_count(idx) == hamming_weight]


class _Counter:
    """Counts products with ``H`` restricted to a sector; real arithmetic when ``H`` is real."""

    def __init__(self, op: PauliSum, sector: np.ndarray | None):
        self.op, self.sector, self.count = op, sector, 0
        self.dtype = np.float64 if op.is_real else np.complex128

    def __call__(self, v: np.ndarray) -> np.ndarray:
        self.count += 1 if v.ndim == 1 else v.shape[1]
        if self.sector is None:
            full = np.asarray(v, dtype=self.dtype)
        else:
            full = np.zeros((self.op.dim,) + v.shape[1:], dtype=self.dtype)
            full[self.sector] = v
        out = self.op.apply(full)
        if self.op.engine == "torch":
            out = out.cpu().numpy()
        out = np.asarray(out, dtype=self.dtype)
        return out if self.sector is None else out[self.sector]


def ground_state(H, k: int = 1, *, hamming_weight: int | None = None, method: str = "auto",
                 device: str = "cpu", tol: float = 1e-12, seed=None) -> Eigenpairs:
    """The ``k`` lowest eigenpairs of the Hermitian ``H``.

    ``method``: ``"dense"`` (eigh), ``"lanczos"`` (matrix-free eigsh) or ``"auto"`` (dense up to a 256-dim
    space). ``seed`` draws the Lanczos start vector. ``device`` runs the matrix-vector products ("cpu" = numpy,
    "cuda"/"auto" = torch).

    ``tol`` is ARPACK's relative accuracy of the Ritz values. The result reports the residual
    ``r = ||H v - E v||`` of every pair (an exact eigenvalue lies within ``r`` of ``E``; the energy error is about
    ``r^2 / gap``) and ``converged=True`` when every ``r <= sqrt(tol) * max(1, |E|)``; otherwise it warns
    (:class:`~qdyn.errors.ConvergenceWarning`). The memory the Lanczos basis needs is checked before starting.
    """
    k = check_int("k", k, minimum=1)
    if method not in ("auto", "dense", "lanczos"):
        raise ValueError(f"unknown method {method!r}; expected 'auto', 'dense' or 'lanczos'")
    engine, dev = engine_for_device(device)
    with Stopwatch() as clock:
        op = as_pauli_sum(H, engine=engine, device=dev)
        sector = None if hamming_weight is None else sector_indices(op.num_qubits, hamming_weight)
        dim = op.dim if sector is None else sector.size
        if k > dim:
            raise ValueError(f"k={k} exceeds the dimension {dim} of the space")
        matvec = _Counter(op, sector)
        rng, recorded = make_rng(seed)
        use_dense = method == "dense" or (method == "auto" and dim <= DENSE_LIMIT) or k >= dim - 1
        if use_dense:
            matrix = op.op.to_matrix(sparse=True)
            if sector is not None:
                matrix = matrix[sector][:, sector]
            matrix = matrix.real.toarray() if op.is_real else matrix.toarray()
            values, vectors = np.linalg.eigh((matrix + matrix.conj().T) / 2)
            values, vectors = values[:k], vectors[:, :k]
            used = "dense"
        else:
            itemsize = 8 if op.is_real else 16
            basis = min(dim, max(2 * k + 1, 20)) + 4  # ARPACK's default ncv, plus work vectors
            check_memory(basis * itemsize * float(dim), f"a Lanczos basis of {basis} vectors of dimension {dim}",
                         "use fewer qubits or a symmetry sector (hamming_weight=)")
            v0 = rng.standard_normal(dim)
            if not op.is_real:
                v0 = v0 + 1j * rng.standard_normal(dim)
            linop = spla.LinearOperator((dim, dim), matvec=matvec, dtype=matvec.dtype)
            values, vectors = spla.eigsh(linop, k=k, which="SA", v0=v0, tol=tol)
            order = np.argsort(values)
            values, vectors = values[order], vectors[:, order]
            used = "lanczos"
        hv = matvec(vectors)
        residuals = np.linalg.norm(hv - vectors * values, axis=0)
        if sector is not None:
            full = np.zeros((op.dim, k), dtype=complex)
            full[sector] = vectors
            vectors = full
    values = np.asarray(values, dtype=float)
    converged = bool(np.all(residuals <= np.sqrt(tol) * np.maximum(1.0, np.abs(values))))
    if not converged:
        warnings.warn(f"ground_state: Lanczos residuals up to {float(np.max(residuals)):.3g} exceed "
                      f"sqrt(tol) * max(1, |E|) (tol={tol:g}); lower tol, or use method='dense' for small spaces",
                      ConvergenceWarning, stacklevel=2)
    return Eigenpairs(
        energies=values, states=np.asarray(vectors, dtype=complex), converged=converged,
        residuals=residuals, method=used,
        resources=Resources(matvecs=matvec.count, wall_time=clock.elapsed),
        metadata=make_metadata(seed=recorded if used == "lanczos" else None, backend="exact",
                               device=dev, hamming_weight=hamming_weight),
    )


def expectation(H, psi, *, device: str = "cpu") -> float:
    """``<psi|H|psi>`` for a normalised state ``psi`` (real for Hermitian ``H``)."""
    engine, dev = engine_for_device(device)
    op = as_pauli_sum(H, engine=engine, device=dev)
    psi = check_state(psi, op.num_qubits)
    return float(np.real(op.expectation(psi)))


def extreme_eigenvalues(H, *, exact: bool = False, seed=0) -> tuple[float, float, float]:
    """``(lowest, highest, err)``: the extreme eigenvalues, each within ``err`` of a true eigenvalue.

    Dense for small registers (``err = 0``); otherwise Lanczos to a loose tolerance (``exact=False``), with the
    larger of the two residual norms as ``err``.
    """
    op = as_pauli_sum(H)
    if op.dim <= DENSE_LIMIT:
        matrix = op.op.to_matrix()
        values = np.linalg.eigvalsh((matrix + matrix.conj().T) / 2)
        return float(values[0]), float(values[-1]), 0.0
    rng, _ = make_rng(seed)
    linop = op.linear_operator()
    tol = 0.0 if exact else 1e-6
    bounds, errs = [], []
    for which in ("SA", "LA"):
        v0 = rng.standard_normal(op.dim) if op.is_real else (
            rng.standard_normal(op.dim) + 1j * rng.standard_normal(op.dim))
        value, vector = spla.eigsh(linop, k=1, which=which, v0=v0, tol=tol)
        bounds.append(float(value[0]))
        errs.append(float(np.linalg.norm(linop.matvec(vector[:, 0]) - value[0] * vector[:, 0])))
    return bounds[0], bounds[1], max(errs)


def spectral_bounds(op, method: str = "pauli", *, seed=0) -> tuple[float, float]:
    """Interval ``(lo, hi)`` containing the spectrum of the Hermitian ``op``.

    * ``"pauli"``: ``c_I -/+`` the Pauli 1-norm; rigorous, often loose.
    * ``"lanczos"``: extreme Ritz values of a Lanczos run (exact diagonalisation for small registers), widened by
      their residuals and 2% of the width, and clipped to the Pauli interval; tight, used by the propagators.
    * ``"exact"``: the smallest and largest eigenvalues (ground state computations on ``H`` and ``-H``).
    """
    pauli = as_pauli_op(op)
    identity = pauli.paulis.x.any(axis=1) | pauli.paulis.z.any(axis=1)
    c_id = float(np.sum(pauli.coeffs.real[~identity]))
    norm = float(np.sum(np.abs(pauli.coeffs[identity])))
    if method == "pauli":
        return c_id - norm, c_id + norm
    if method not in ("lanczos", "exact"):
        raise ValueError(f"unknown method {method!r}; expected 'pauli', 'lanczos' or 'exact'")
    lo, hi, err = extreme_eigenvalues(pauli, exact=(method == "exact"), seed=seed)
    if method == "exact":
        return lo, hi
    pad = err + 0.02 * max(hi - lo, 1e-12)
    return max(lo - pad, c_id - norm), min(hi + pad, c_id + norm)
