"""Ground-state-preparation baselines with the same result fields as :func:`qdyn.cooling.cool`.

All three take any Hermitian ``H``, run on ``H_n = (H - shift)/scale`` (spectrum centred in [-1, 1], as in
:func:`qdyn.cooling.cool`; ``shift`` and ``scale`` go into the metadata), report energies in the units of ``H``,
and count queries to the block encoding of ``H_n`` the way the cooling driver does, so their costs can be set
side by side (``resources.queries``: H- and V-queries, post-selection repetitions included). Their parameters
(``total_time``, ``alpha``, ``betas``) are in the units of ``H_n``:

* :func:`adiabatic` -- ``H(s) = (1 - s) V + s H_n`` with ``s = k / steps``, each piece ``e^{-i H(s) dt}``
  applied by the exact Chebyshev propagator; a piece costs ``m`` (:func:`propagator_degree` of ``||H(s)||_1 dt``)
  queries to a block encoding of ``H(s)`` (one H-query and one V-query each); Farhi et al.,
  arXiv:quant-ph/0001106.
* :func:`eigenstate_filter` -- the Lin-Tong filter (Lin & Tong, Quantum 4, 372 (2020), Eq. (8))

      R_l(x) = T_l(-1 + 2 (x^2 - D^2)/(1 - D^2)) / T_l(-1 + 2 (-D^2)/(1 - D^2)),   x = (H_n - E_0)/alpha,

  of degree ``2 l`` (``D = gap/alpha``), ``|R_l| <= 2 e^{-sqrt(2) l D}`` away from ``x = 0``; applied to
  ``psi0`` by its Chebyshev recurrence and post-selected (success probability ``||R_l psi0||^2``). It needs
  ``E_0`` and the gap, which the cooling method does not.
* :func:`imaginary_time` -- ``e^{-beta (H_n + 1)} psi0 / norm`` exactly; the cost reported is the degree of
  a Chebyshev approximation of ``e^{-beta (x + 1)}`` on [-1, 1] to ``delta`` (what a QSVT implementation
  spends), and the success probability ``||e^{-beta (H_n + 1)} psi0||^2``.
"""

from __future__ import annotations

import numpy as np

from qdyn.cooling.accounting import check_success_probabilities, expected_queries, propagator_degree
from qdyn.cooling.problems import default_perturbation, spectral_normalisation
from qdyn.cooling.result import CoolingResult
from qdyn.errors import check_int, check_positive, check_state
from qdyn.exact.evolution import evolve
from qdyn.exact.pauli_sum import PauliSum
from qdyn.operators import as_pauli_op, pauli_norm
from qdyn.qsp.polynomials import ChebyshevSeries, chebyshev_coefficients_of
from qdyn.results import Resources, Stopwatch, make_metadata

__all__ = ["adiabatic", "eigenstate_filter", "imaginary_time", "lin_tong_filter"]


class _Problem:
    """Validated ``H`` (``op``: normalised, ``norm``: the map), ``psi0`` and the exact reference (the two lowest
    levels of ``op`` and its ground state)."""

    def __init__(self, H, psi0, V=None):
        original = as_pauli_op(H, name="H")
        self.n = original.num_qubits
        self.norm = spectral_normalisation(original)
        self.op = self.norm.hamiltonian(original)
        self.v = default_perturbation(self.n) if V is None else as_pauli_op(V, name="V")
        if self.v.num_qubits != self.n:
            raise ValueError(f"V acts on {self.v.num_qubits} qubits but H acts on {self.n}")
        if psi0 is None:
            from qdyn.states import plus_state

            psi0 = plus_state(self.n)
        self.psi0 = check_state(psi0, self.n, name="psi0").astype(complex)
        self.h_sum = PauliSum(self.op)
        from qdyn.exact import ground_state

        pairs = ground_state(self.op, k=2, seed=0)
        self.energies, self.ground = pairs.energies, pairs.states[:, 0]

    def observe(self, psi):
        return float(np.real(self.h_sum.expectation(psi))), float(abs(np.vdot(self.ground, psi)) ** 2)

    def result(self, method, states_obs, q_h, q_v, walls, probs, wall, meta_options):
        energies = self.norm.denormalise([e for e, _ in states_obs[1]])
        fids = np.array([f for _, f in states_obs[1]])
        nan = np.full(energies.size, np.nan)
        q_h, q_v = np.asarray(q_h, dtype=np.int64), np.asarray(q_v, dtype=np.int64)
        probs = np.asarray(probs, dtype=float)
        low = check_success_probabilities(probs, method)
        return CoolingResult(
            method=method, state=states_obs[0], energy=float(energies[-1]), fidelity=float(fids[-1]),
            ground_energy=float(self.norm.denormalise(self.energies[0])), energies=energies, fidelities=fids,
            weights_below=nan, mus=nan, lams=nan, times=np.asarray(meta_options.pop("times", nan), dtype=float),
            queries_h=q_h, queries_v=q_v, wall_times=np.asarray(walls), success_probabilities=probs,
            total_queries_h=int(q_h.sum()), total_queries_v=int(q_v.sum()),
            resources=Resources(queries=expected_queries(q_h + q_v, probs), wall_time=wall),
            metadata=make_metadata(backend="exact", method=method, shift=self.norm.shift, scale=self.norm.scale,
                                   **meta_options), low_success_probability=low)


def adiabatic(H, V=None, psi0=None, *, total_time: float = 100.0, steps: int = 100,
              tol: float = 1e-13) -> CoolingResult:
    """Adiabatic preparation from the ground state of ``V`` (default ``-sum X / n``, ``psi0 = |+...+>``)."""
    prob = _Problem(H, psi0, V)
    total_time = check_positive("total_time", total_time)
    steps = check_int("steps", steps, minimum=1)
    dt = total_time / steps
    psi = prob.psi0
    obs, q_h, q_v, walls = [prob.observe(psi)], [0], [0], [0.0]
    with Stopwatch() as total:
        for k in range(1, steps + 1):
            s = (k - 0.5) / steps  # midpoint of the k-th interval
            h_s = ((1 - s) * prob.v + s * prob.op).simplify(atol=0)
            norm = max(pauli_norm(h_s, include_identity=True), 1e-12)
            with Stopwatch() as clock:
                psi = evolve(h_s, psi, dt, bounds=(-norm, norm), tol=tol)
            m = propagator_degree(norm * dt, tol)
            obs.append(prob.observe(psi))
            q_h.append(m)
            q_v.append(m)
            walls.append(clock.elapsed)
    times = np.concatenate([[0.0], np.full(steps, dt)])
    return prob.result("adiabatic", (psi, obs), q_h, q_v, walls, np.ones(steps + 1), total.elapsed,
                       {"total_time": total_time, "steps": steps, "times": times})


def lin_tong_filter(order: int, gap: float) -> ChebyshevSeries:
    """The Lin-Tong polynomial ``R_l(x; D)`` of degree ``2 l`` (``R(0) = 1``) in the Chebyshev basis."""
    order = check_int("order", order, minimum=1)
    gap = check_positive("gap", gap)
    if gap >= 1:
        raise ValueError(f"gap must lie in (0, 1) in units of alpha, got {gap}")
    d2 = gap * gap

    def r(x):
        arg = -1 + 2 * (x * x - d2) / (1 - d2)
        return np.polynomial.chebyshev.chebval(arg, [0] * order + [1])

    norm = float(r(np.zeros(1))[0])
    coeffs = chebyshev_coefficients_of(lambda x: r(x) / norm, 2 * order + 2)[: 2 * order + 1]
    coeffs[1::2] = 0.0  # even polynomial
    return ChebyshevSeries(coeffs, parity=0, target=f"Lin-Tong R_{order}(x; {gap:.4g})", error_bound=0.0)


def eigenstate_filter(H, psi0=None, *, orders=(1, 2, 4, 8, 16, 32), alpha: float = 2.0) -> CoolingResult:
    """Lin-Tong eigenstate filtering of ``psi0`` at the exact ``E_0`` (one entry per filter order)."""
    prob = _Problem(H, psi0)
    alpha = check_positive("alpha", alpha)
    orders = [check_int("orders", o, minimum=1) for o in orders]
    e0, e1 = prob.energies[:2]
    gap = (e1 - e0) / alpha

    def a_matvec(v):
        return (prob.h_sum.apply(v) - e0 * v) / alpha

    obs, q_h, probs, walls = [prob.observe(prob.psi0)], [0], [1.0], [0.0]
    psi = prob.psi0
    with Stopwatch() as total:
        for order in orders:
            with Stopwatch() as clock:
                filtered = lin_tong_filter(order, gap).apply(a_matvec, prob.psi0)
                p = float(np.vdot(filtered, filtered).real)
                psi = filtered / np.sqrt(p)
            obs.append(prob.observe(psi))
            q_h.append(2 * order)
            probs.append(p)
            walls.append(clock.elapsed)
    return prob.result("eigenstate-filter", (psi, obs), q_h, np.zeros(len(q_h)), walls, probs, total.elapsed,
                       {"orders": orders, "alpha": alpha})


def _exp_degree(beta: float, delta: float) -> int:
    """Degree of the Chebyshev truncation of ``e^{-beta (x + 1)}`` with coefficient tail below ``delta``."""
    n = int(2 * beta + 64)
    while True:
        c = chebyshev_coefficients_of(lambda x: np.exp(-beta * (x + 1)), n)
        tail = np.append(np.cumsum(np.abs(c)[::-1])[::-1], 0.0)
        ok = np.nonzero(tail[1:] <= delta)[0]
        if ok.size and ok[0] < n // 2:
            return int(ok[0])
        n *= 2


def imaginary_time(H, psi0=None, *, betas=(1, 2, 4, 8, 16, 32, 64), delta: float = 1e-6) -> CoolingResult:
    """``e^{-beta H} psi0 / norm`` exactly (dense for ``n <= 12``, ``expm_multiply`` beyond), per ``beta``."""
    prob = _Problem(H, psi0)
    betas = np.asarray(betas, dtype=float)
    if betas.ndim != 1 or betas.size == 0 or np.any(betas <= 0):
        raise ValueError("betas must be a non-empty 1-D sequence of positive numbers")
    delta = check_positive("delta", delta)
    obs, q_h, probs, walls = [prob.observe(prob.psi0)], [0], [1.0], [0.0]
    psi = prob.psi0
    with Stopwatch() as total:
        if prob.n <= 12:
            w, u = np.linalg.eigh(prob.op.to_matrix())
            amps = u.conj().T @ prob.psi0

            def propagate(beta):
                return u @ (np.exp(-beta * (w + 1)) * amps)
        else:
            import scipy.sparse as sp
            from scipy.sparse.linalg import expm_multiply

            shifted = prob.op.to_matrix(sparse=True) + sp.identity(2**prob.n, format="csr")

            def propagate(beta):
                return expm_multiply(-beta * shifted, prob.psi0)

        for beta in betas:
            with Stopwatch() as clock:
                out = propagate(beta)
                p = float(np.vdot(out, out).real)
                psi = out / np.sqrt(p)
            obs.append(prob.observe(psi))
            q_h.append(_exp_degree(beta, delta))
            probs.append(p)
            walls.append(clock.elapsed)
    return prob.result("imaginary-time", (psi, obs), q_h, np.zeros(len(q_h)), walls, probs, total.elapsed,
                       {"betas": betas.tolist(), "delta": delta})
