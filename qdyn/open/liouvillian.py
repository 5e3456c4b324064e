"""The exact engine for open systems: the vectorised Liouvillian and its propagator (numpy; torch on CPU/GPU).

Vectorisation is row-major, ``v = rho.reshape(-1)`` (``v[i d + j] = rho_ij``), so ``vec(A rho B) = (A (x) B^T) v``
and, with ``H_eff = H - (i/2) sum_k gamma_k G_k^dagger G_k``,

    L = -i (H_eff (x) 1 - 1 (x) H_eff^*) + sum_k gamma_k G_k (x) G_k^*          (a sparse 4^n x 4^n matrix).

Propagation ``v(t) = exp(L t) v(0)`` uses a truncated Taylor series with scaling (the scheme of Al-Mohy &
Higham, SIAM J. Sci. Comput. 33, 488 (2011)): with ``mu = tr(L)/4^n`` and ``A = L - mu``, a step ``dt`` is
split into ``s`` sub-steps of degree ``m`` chosen to minimise ``m s`` subject to the rigorous remainder bound
``theta^{m+1} e^theta / (m+1)! <= tol``, ``theta = ||A||_1 dt / s``; each series stops early once two
consecutive terms fall below ``tol`` times the partial sum. One sub-step costs at most ``m`` sparse
matrix-vector products, on numpy (scipy CSR) or torch (sparse CSR on the CPU or a GPU). :meth:`Liouvillian.evolve`
plans the sub-steps over the span of up to ``_DENSE_OUTPUTS`` output times at once and reads each time off the
series of its sub-step (dense output: the terms scaled by ``(tau/h)^j``), so closely spaced output times add no
products (N = 8, 11 times in [0, 1], tol 1e-10: 54 products instead of 127 with one step per interval).

Memory: the CSR matrix holds about ``(3 n + 1) 4^n`` entries for a chain with single-site jumps (16 bytes per
value plus 4 or 8 per column index), plus a few vectors of ``4^n`` complex numbers.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from qdyn.errors import check_memory, check_positive
from qdyn.open.density import as_density_matrix
from qdyn.open.lindbladian import Lindbladian
from qdyn.open.superoperator import centred_liouvillian_csr, liouvillian_csr
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata, series_rows

__all__ = [
    "DensityEvolution",
    "Liouvillian",
    "check_times",
    "evolve_density",
    "liouvillian_matrix",
    "steady_state_density",
    "steady_state_system",
    "vectorised_observables",
]

_MAX_DEGREE = 55
#: Output times read off one run of sub-steps (one accumulator vector each, :meth:`Liouvillian.evolve`).
_DENSE_OUTPUTS = 16
#: Terms of the series added to the dense outputs by one matrix product (:meth:`Liouvillian._add_products`).
_BATCH_TERMS = 8


def liouvillian_matrix(lindbladian: Lindbladian) -> sp.csr_matrix:
    """The sparse ``4^n x 4^n`` superoperator acting on row-major ``vec(rho)`` (formula in the module docstring),
    assembled from XOR masks of the sparse ``H_eff`` and jump operators (:mod:`qdyn.open.superoperator`)."""
    return liouvillian_csr(*_sparse_generator(lindbladian))


def _sparse_generator(lindbladian: Lindbladian) -> tuple:
    """``(H_eff, [(rate, G), ...])`` as sparse matrices (zero rates left out), after the type and memory checks."""
    if not isinstance(lindbladian, Lindbladian):
        raise TypeError(f"lindbladian must be a Lindbladian, got {type(lindbladian).__name__}")
    check_liouvillian_size(lindbladian.num_qubits)
    h_eff = lindbladian.effective_hamiltonian().to_matrix(sparse=True)
    jumps = [(float(rate), g.to_matrix(sparse=True))
             for g, rate in zip(lindbladian.jump_ops, lindbladian.rates, strict=True) if rate != 0]
    return h_eff, jumps


def check_liouvillian_size(num_qubits: int) -> None:
    """:class:`~qdyn.errors.InsufficientMemoryError` before building a Liouvillian whose density vectors (``4^n``
    complex entries; the matrix and the propagator's work vectors hold several of them) do not fit."""
    n = int(num_qubits)
    check_memory(8 * 16 * 4.0**n, f"the Liouvillian of {n} qubits (vectors of 4**{n} entries)",
                 "use fewer qubits, or the POVM transformer (method='transformer')")


def check_times(times) -> np.ndarray:
    """A 1-D array of non-negative, strictly increasing, finite times (``ValueError`` otherwise)."""
    t = np.asarray(times, dtype=float)
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
        raise ValueError("times must be a non-empty 1-D array of non-negative, strictly increasing finite times")
    return t


@functools.cache
def _theta(tol: float) -> np.ndarray:
    """``theta[m]``: the largest ``theta`` with ``theta^{m+1} e^theta / (m+1)! <= tol`` (bisection on the log)."""
    out = np.zeros(_MAX_DEGREE + 1)
    for m in range(1, _MAX_DEGREE + 1):
        target = math.log(tol) + math.lgamma(m + 2)
        lo, hi = 0.0, 200.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            value = (m + 1) * math.log(mid) + mid if mid > 0 else -math.inf
            lo, hi = (mid, hi) if value <= target else (lo, mid)
        out[m] = lo
    return out


def _taylor_plan(norm_dt: float, tol: float) -> tuple[int, int]:
    """``(s, m)``: sub-steps and degree minimising ``m s`` for ``||A dt||_1 = norm_dt``."""
    if norm_dt == 0:
        return 1, 0
    theta = _theta(tol)
    best = None
    for m in range(1, _MAX_DEGREE + 1):
        s = max(1, math.ceil(norm_dt / theta[m]))
        if best is None or m * s < best[0] * best[1]:
            best = (m, s)
    m, s = best
    return s, m


@dataclass(frozen=True)
class DensityEvolution(Result):
    """Density-matrix dynamics: expectation values, purity and trace at ``times`` (and the states if stored).

    ``expect[k, i] = Tr[O_k rho(t_i)]`` (real when every ``O_k`` is Hermitian); ``states`` has shape
    ``(len(times), 2^n, 2^n)`` in qdyn qubit order, or is ``None`` unless ``store_states=True``.
    ``error_estimate[i]`` (the Liouvillian propagator; ``None`` for QuTiP) estimates the largest error of an
    entry of ``rho(t_i)`` (kind "estimate", :meth:`Liouvillian.propagate`), so ``|<O_k> - exact| <~
    ||vec(O_k)||_1 error_estimate[i]``; ``converged`` says whether every step met the propagator's ``tol``.
    """

    times: np.ndarray
    expect: np.ndarray
    purity: np.ndarray
    trace: np.ndarray
    states: np.ndarray | None
    resources: Resources
    metadata: Metadata
    error_estimate: np.ndarray | None = None
    tol: float = math.nan
    converged: bool = True

    def rows(self) -> list[dict]:
        """One row per time and observable (observables named by their position in ``e_ops``)."""
        return series_rows(self.times, dict(enumerate(self.expect)))


class Liouvillian:
    """The vectorised Liouvillian of a :class:`Lindbladian` on an engine, with ``apply`` and ``evolve``.

    Parameters
    ----------
    lindbladian : Lindbladian
    device : "cpu" (numpy/scipy), "cuda" or "auto" (torch sparse CSR), or "torch-cpu" (torch on the CPU,
        for testing the GPU code path without a GPU).
    precision : "double" (complex128) or "single" (complex64).
    """

    def __init__(self, lindbladian: Lindbladian, *, device: str = "cpu", precision: str = "double"):
        from qdyn.exact import engine_for_device

        if precision not in ("double", "single"):
            raise ValueError(f"unknown precision {precision!r}; expected 'double' or 'single'")
        check_liouvillian_size(lindbladian.num_qubits)
        self.lindbladian = lindbladian
        self.num_qubits = lindbladian.num_qubits
        self.dim = 4**self.num_qubits
        self.engine, self.device = engine_for_device(device)
        self.precision = precision
        #: machine epsilon of the precision
        self.eps = float(np.finfo(np.complex128 if precision == "double" else np.complex64).eps)
        matrix, shift = centred_liouvillian_csr(*_sparse_generator(lindbladian))
        self.nnz = int(matrix.nnz)
        #: ``mu = tr(L) / 4^n``; ``matrix`` holds ``A = L - mu`` (the series is taken in ``A``, module docstring)
        self.shift = complex(shift)
        #: ``||A||_1``, the largest column sum of ``|A|``
        self.norm1 = float(np.max(np.bincount(matrix.indices, weights=np.abs(matrix.data), minlength=self.dim)))
        self.matrix = self._to_engine(matrix)

    # engine helpers ------------------------------------------------------------------------------------
    def _cdtype(self):
        if self.engine == "numpy":
            return np.complex128 if self.precision == "double" else np.complex64
        import torch

        return torch.complex128 if self.precision == "double" else torch.complex64

    def _to_engine(self, matrix: sp.csr_matrix):
        matrix = matrix.astype(self._cdtype() if self.engine == "numpy" else complex, copy=False)
        if self.engine == "numpy":
            return matrix
        from qdyn.devices import torch_csr

        return torch_csr(matrix, self.device, self._cdtype())

    def asarray(self, v):
        """``v`` as this engine's vector type and dtype."""
        if self.engine == "numpy":
            return np.asarray(v, dtype=self._cdtype())
        import torch

        if isinstance(v, torch.Tensor):
            return v.to(device=self.device, dtype=self._cdtype())
        return torch.as_tensor(np.asarray(v)).to(device=self.device, dtype=self._cdtype())

    def _stacked(self, v, count: int):
        """``count`` copies of the vector ``v`` as the rows of one (row-major) array."""
        if self.engine == "numpy":
            out = np.empty((count, v.shape[0]), dtype=v.dtype)
            out[:] = v
            return out
        return v.unsqueeze(0).repeat(count, 1)

    def _add_products(self, outs, coeffs: np.ndarray, terms: list) -> None:
        """``outs += coeffs @ stack(terms)`` in place (``outs`` ``(c, D)``, ``coeffs`` ``(c, k)``, ``k`` vectors):
        one matrix product per batch of terms, so ``outs`` is read and written once per batch, not once per term
        (BLAS ``gemm`` on the transposes, which are column-major, on numpy; ``addmm_`` on torch)."""
        if self.engine == "numpy":
            from scipy.linalg import get_blas_funcs

            gemm = get_blas_funcs("gemm", (outs,))
            gemm(1.0, np.stack(terms).T, coeffs.astype(outs.dtype).T, beta=1.0, c=outs.T, overwrite_c=True)
            return
        import torch

        outs.addmm_(torch.as_tensor(coeffs, dtype=outs.dtype, device=outs.device), torch.stack(terms))

    @staticmethod
    def _to_numpy(v) -> np.ndarray:
        return v if isinstance(v, np.ndarray) else v.detach().cpu().numpy()

    def apply(self, v):
        """``L v`` for ``v`` of shape ``(4^n,)`` (row-major ``vec(rho)``) or ``(4^n, m)``."""
        v = self.asarray(v)
        if v.shape[0] != self.dim:
            raise ValueError(f"v has leading dimension {v.shape[0]}, expected {self.dim}")
        return self.matrix @ v + self.shift * v

    # propagation ---------------------------------------------------------------------------------------
    def _substep(self, v, h: float, m: int, tol: float, taus=()) -> tuple:
        """One sub-step of the scaled Taylor scheme from ``v``: ``(exp(L h) v, [exp(L tau) v for tau in taus],
        matvecs, error, met)`` (``0 < tau <= h``; ``error`` and ``met`` as in :meth:`propagate`, ``error``
        covering every ``tau`` too).

        Dense output: ``exp(A tau) v`` is the same truncated series with the terms ``(h A)^j v / j!`` scaled by
        ``(tau / h)^j``, accumulated as the terms are made, ``_BATCH_TERMS`` terms per dense matrix product (no
        extra products of ``L``); its truncation is at most that at ``h`` (every term is smaller).
        """
        theta = self.norm1 * h
        ratios = np.array([tau / h for tau in taus])
        acc, term = v * 1, v  # a copy of v, accumulated in place
        outs = self._stacked(v, len(taus))
        pending, powers = [], []  # terms not yet added to the dense outputs
        bound = float(abs(v).max())  # >= max|acc| (triangle inequality): max|acc| is needed only near the end
        prev_size, size, terms, early, scale = math.inf, 0.0, 0, False, None
        for j in range(1, m + 1):
            term = self.matrix @ term
            term *= h / j
            acc += term
            terms = j
            if len(taus):
                pending.append(term)
                powers.append(j)
                if len(pending) == _BATCH_TERMS:
                    self._add_products(outs, ratios[:, None] ** np.array(powers)[None, :], pending)
                    pending, powers = [], []
            size = float(abs(term).max())
            bound += size
            if size + prev_size <= tol * bound:
                scale = float(abs(acc).max())
                if size + prev_size <= tol * scale:
                    early = True
                    break
            prev_size = size
        if pending:
            self._add_products(outs, ratios[:, None] ** np.array(powers)[None, :], pending)
        scale = float(abs(acc).max()) if scale is None or not early else scale
        truncation = size
        if not early and theta > 0:
            remainder = math.exp((m + 1) * math.log(theta) + theta - math.lgamma(m + 2))
            truncation = min(size, remainder * float(abs(v).sum()))
        rounding = (terms + 1) * self.eps * scale
        eta = complex(np.exp(self.shift * h))
        local = max(abs(eta), 1.0) * (truncation + rounding)  # |e^{mu tau}| <= max(|e^{mu h}|, 1) for tau <= h
        for i, tau in enumerate(taus):
            outs[i] *= complex(np.exp(self.shift * tau))
        acc *= eta
        return acc, list(outs), terms, local, rounding <= tol * scale

    def propagate(self, v, dt: float, tol: float = 1e-12) -> tuple[object, int, float, bool]:
        """``(exp(L dt) v, matvecs, error, met)`` by the scaled Taylor scheme of the module docstring.

        ``error`` estimates ``max_i |(exp(L dt) v)_i - result_i|`` as the sum over sub-steps of the truncation
        (the last term kept when the series stopped early, the tail of a series whose terms shrink; else the
        rigorous remainder ``theta^{m+1} e^theta / (m+1)! ||v||_1``) and the rounding of the terms summed
        (``(j + 1) eps max|acc|``, ``eps`` of the precision), each scaled by ``max(|e^{mu h}|, 1)`` (errors already made
        are taken as not amplified, as by a contractive evolution). ``met``: the rounding of every sub-step
        stayed within ``tol`` times its largest entry (the truncation meets ``tol`` by construction).
        """
        s, m = _taylor_plan(self.norm1 * dt, tol)
        h = float(dt) / s  # a Python float: a numpy float64 would promote single-precision vectors to double
        matvecs, error, met = 0, 0.0, True
        for _ in range(s):
            v, _, used, local, local_met = self._substep(v, h, m, tol)
            matvecs, error, met = matvecs + used, error + local, met and local_met
        return v, matvecs, error, met

    def _dense_output(self, v, start: float, times: np.ndarray, tol: float) -> tuple[list, int, bool]:
        """``([(exp(L (t - start)) v, error) for t in times], matvecs, met)`` for increasing ``times > start``:
        the span is split into the sub-steps of :meth:`propagate` and each time is read off the series of the
        sub-step holding it (:meth:`_substep`), so the output times cost no extra products."""
        span = float(times[-1] - start)
        s, m = _taylor_plan(self.norm1 * span, tol)
        h = span / s
        offsets = times - start
        step_of = np.clip(np.ceil(offsets / h).astype(int) - 1, 0, s - 1)
        outputs, matvecs, error, met = [], 0, 0.0, True
        for k in range(s):
            taus = [float(min(max(offset - k * h, 0.0), h)) for offset in offsets[step_of == k]]
            v, outs, used, local, local_met = self._substep(v, h, m, tol, taus)
            matvecs, met, error = matvecs + used, met and local_met, error + local
            outputs += [(out, error) for out in outs]
        return outputs, matvecs, met

    def evolve(self, rho0, times, e_ops=(), *, tol: float = 1e-12, store_states: bool = False,
               progress: bool = False) -> DensityEvolution:
        """Density-matrix dynamics ``rho(t) = exp(L t) rho0`` at every time of ``times`` (``times[0]`` may be 0).

        ``rho0``: state vector or density matrix (see :func:`qdyn.open.density.as_density_matrix`); ``e_ops``:
        operators whose expectation values are recorded; ``tol``: local truncation tolerance of the Taylor
        series relative to the state (the result is accurate to about ``tol`` times the number of sub-steps).
        The times are taken ``_DENSE_OUTPUTS`` at a time: the span to the last of them is split into the
        sub-steps that ``tol`` needs, and each time is read off its sub-step's series (dense output), so
        closely spaced times cost no extra products of the Liouvillian.

        The result's ``error_estimate[i]`` estimates the largest error of an entry of ``rho(t_i)`` (truncation and
        rounding, accumulated over the sub-steps, :meth:`propagate`, and in single precision the rounding of
        ``rho0``); ``converged`` is whether every sub-step met
        ``tol``, and a :class:`qdyn.errors.ConvergenceWarning` says what to change when one did not (rounding
        above ``tol``: single precision, or ``tol`` below double precision's reach).
        """
        check_positive("tol", tol)
        t = check_times(times)
        rho = as_density_matrix(rho0, self.num_qubits)
        ops, hermitian = vectorised_observables(e_ops, self.num_qubits)
        ops_engine = self._to_engine(ops) if ops.shape[0] else None
        d = 2**self.num_qubits
        diag_index = np.arange(d) * (d + 1)
        if self.engine == "torch":
            import torch

            diag_index = torch.as_tensor(diag_index, device=self.device)
        state = self.asarray(rho.reshape(-1))
        expect = np.zeros((ops.shape[0], t.size), dtype=complex)
        pur, trace, states = np.zeros(t.size), np.zeros(t.size), []
        # the state's rounding to the engine's precision (none in double precision: rho0 is given in double)
        error = 0.0 if self.precision == "double" else 0.5 * self.eps * float(np.max(np.abs(rho)))
        errors = np.zeros(t.size)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=t.size, desc="Liouvillian evolution")

        def record(i, vector, err):
            errors[i] = err
            if ops_engine is not None:
                expect[:, i] = self._to_numpy(ops_engine @ vector)
            pur[i] = float((abs(vector) ** 2).sum())  # Tr rho^2 = sum_ij |rho_ij|^2, on the engine's device
            trace[i] = float(vector[diag_index].sum().real)
            if store_states:
                states.append(self._to_numpy(vector).reshape(d, d).copy())
            if bar is not None:
                bar.update(1)

        matvecs, previous, met, first = 0, 0.0, True, 0
        with Stopwatch() as watch:
            if t[0] == 0:
                record(0, state, error)
                first = 1
            for begin in range(first, t.size, _DENSE_OUTPUTS):
                chunk = t[begin:begin + _DENSE_OUTPUTS]
                outputs, used, chunk_met = self._dense_output(state, previous, chunk, tol)
                for k, (vector, local) in enumerate(outputs):
                    record(begin + k, vector, error + local)
                state, error = outputs[-1][0], error + outputs[-1][1]
                matvecs, met, previous = matvecs + used, met and chunk_met, float(chunk[-1])
        if bar is not None:
            bar.close()
        if not met:
            from qdyn.errors import ConvergenceWarning

            warnings.warn(f"the Liouvillian propagator cannot meet tol={tol:g}: rounding in {self.precision} "
                          f"precision exceeds it (estimated error {error:.2g} at t={t[-1]:g}; single precision "
                          "reaches about 1e-6, double about 1e-14): use precision='double' or a larger tol",
                          ConvergenceWarning, stacklevel=3)
        return DensityEvolution(
            times=t, expect=expect.real if hermitian else expect, purity=pur, trace=trace,
            states=np.stack(states) if store_states else None, error_estimate=errors, tol=tol, converged=met,
            resources=Resources(matvecs=matvecs, wall_time=watch.elapsed),
            metadata=make_metadata(backend=f"exact-liouvillian-{self.engine}", device=self.device, tol=tol,
                                   precision=self.precision, nnz=self.nnz))


def vectorised_observables(e_ops, n: int) -> tuple[sp.csr_matrix, bool]:
    """Rows ``vec(O^T)`` so that ``Tr[O rho] = vec(O^T) . vec(rho)`` (row-major), and whether all are Hermitian."""
    from qdyn.operators import as_matrix, is_hermitian

    rows, hermitian = [], True
    for k, op in enumerate(list(e_ops)):
        matrix = as_matrix(op, sparse=True, name=f"e_ops[{k}]", hermitian=False)
        if matrix.shape[0] != 2**n:
            raise ValueError(f"e_ops[{k}] has dimension {matrix.shape[0]}, expected {2**n} for {n} qubits")
        hermitian = hermitian and is_hermitian(op)
        rows.append(sp.csr_matrix(matrix.T.reshape(1, -1)))
    if not rows:
        return sp.csr_matrix((0, 4**n), dtype=complex), True
    return sp.vstack(rows, format="csr"), hermitian


def evolve_density(lindbladian: Lindbladian, rho0, times, e_ops=(), *, device: str = "cpu", tol: float = 1e-12,
                   precision: str = "double", store_states: bool = False, progress: bool = False
                   ) -> DensityEvolution:
    """Exact Lindblad dynamics through the vectorised Liouvillian (see :class:`Liouvillian`)."""
    return Liouvillian(lindbladian, device=device, precision=precision).evolve(
        rho0, times, e_ops, tol=tol, store_states=store_states, progress=progress)


def steady_state_system(lindbladian: Lindbladian, *, device: str = "cpu"):
    """The bordered system of the Liouvillian with the trace (:class:`qdyn.open.stationarity.BorderedGenerator`):
    the row of ``d rho_00/dt`` is replaced by ``Tr rho = 1``; its GMRES runs on ``device`` (``"cpu"``: scipy;
    ``"cuda"``, ``"auto"``, ``"torch-cpu"``: torch), preconditioned by the inverse of the no-jump part
    (:class:`qdyn.open.no_jump.NoJumpInverse`). ``ValueError`` when the steady state is not unique."""
    from qdyn.open.no_jump import NoJumpInverse
    from qdyn.open.stationarity import BorderedGenerator

    matrix = liouvillian_matrix(lindbladian)
    d = 2**lindbladian.num_qubits
    trace = np.zeros(d * d)
    trace[np.arange(d) * (d + 1)] = 1.0
    h_eff = lindbladian.effective_hamiltonian()
    return BorderedGenerator(matrix, trace, what="the Liouvillian", device=device,
                             preconditioner=lambda: NoJumpInverse.build(h_eff.to_matrix()))


def steady_state_density(lindbladian: Lindbladian) -> np.ndarray:
    """The steady state ``L rho = 0``, ``Tr rho = 1`` from the bordered system (Hermitised): dense solve up to 4
    qubits, sparse LU at 5, preconditioned GMRES from 6 on (LU where GMRES fails; :mod:`qdyn.open.stationarity`).

    Checked before it is returned: ``ValueError`` when the steady state is not unique (the null space of ``L``
    has dimension > 1, e.g. no dissipation), :class:`qdyn.errors.PhysicsWarning` when ``rho`` has an eigenvalue
    below ``-1e-8`` (:mod:`qdyn.open.stationarity`). :func:`qdyn.open.steady_state` also reports the residual
    ``||L rho||`` and a bound on the distance to the exact steady state.
    """
    from qdyn.open.stationarity import check_physical

    d = 2**lindbladian.num_qubits
    rho = steady_state_system(lindbladian).solve().reshape(d, d)
    rho = 0.5 * (rho + rho.conj().T)
    check_physical(rho)
    return rho
