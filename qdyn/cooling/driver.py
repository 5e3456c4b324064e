"""Dynamical cooling with a shifted-sign transformed Hamiltonian (reconstruction of arXiv:2404.05810).

Each step ``k`` evolves the state for a time ``t_k`` under

    G_k = f_{mu_k}(H) + lam_k V,      f_mu(E) ~ sign(E - mu),

with ``mu_k`` lowered from above the spectrum to between ``E_0`` and ``E_1``. ``f_mu`` splits the spectrum
into two bands near -1 and +1; inside a band transitions conserve the transformed energy, so ``lam V`` moves
weight along a band while the gap of about 2 suppresses jumps across it; as ``mu`` sweeps down, levels leaving
the lower band push its weight down to the lowest vector of the band. With ``mu`` fixed the weight below
``mu`` is conserved up to ``O(lam)``.

Backends (all count queries the same way, see below):

* ``"exact"``: ``f_mu(E) = erf((E - mu)/eps)`` through the eigendecomposition of ``H``; ``e^{-i G t}`` by
  dense diagonalisation (``n <= 12``).
* ``"poly"``: ``f_mu(H) = p((H - mu)/alpha)``, ``p`` the odd Chebyshev polynomial of :func:`erf_polynomial`
  (``|p - erf| <= delta``, ``alpha = 2``), applied matrix-free by its three-term recurrence on
  :class:`qdyn.exact.PauliSum`; ``e^{-i G t}`` by a Chebyshev (Jacobi-Anger) propagator in ``G``.
* ``"circuit"``: each step is one coherent circuit, simulated (:mod:`qdyn.circuits.qsp_cooling`): a block
  encoding ``U_A`` of ``A`` (``"dilation"``, default, or ``"lcu"``), the QSVT circuit ``U_p`` with
  ``<0|U_p|0> = p(A)``, the LCU ``U_G = PREP^dag (|0><0| x U_p + |1><1| x U_V) PREP`` with
  ``<0|U_G|0> = (p(A) + lam V)/beta``, ``beta = 1 + lam ||V||_1``, and QSVT on ``U_G`` with the
  Jacobi-Anger polynomials ``(1 - eta) cos(beta t x)`` and ``(1 - eta) sin(beta t x)`` combined by one
  more ancilla, so that ``<0_anc|U_step|0_anc> ~ (1 - eta) e^{-i G t} / 2``. All ancillas start in
  ``|0>`` and are post-selected on ``|0>``; the post-selection probability (``~ (1 - eta)^2 / 4``) is
  recorded per step and the state renormalised. ``n + 5`` qubits with the dilation encoding.

Query accounting: ``e^{-i G t}`` needs ``m(t) = len(chebyshev_coefficients(r t)) - 1`` applications of ``G``
(``r = 1 + lam ||V||_1`` bounds ``||G||``), i.e. queries to a block encoding of ``G``; each costs ``deg p``
queries to the block encoding of ``H`` and one to ``V``. So a step spends ``m deg p`` H-queries and ``m``
V-queries (the ``"circuit"`` backend's step circuit has exactly these queries); the exact backend reports what
the polynomial route would spend.
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp
from scipy.special import erf

from qdyn.cooling.problems import check_normalised, default_perturbation
from qdyn.cooling.result import CoolingResult
from qdyn.errors import check_choice, check_int, check_positive, check_state
from qdyn.exact.evolution import chebyshev_coefficients
from qdyn.exact.pauli_sum import PauliSum, engine_for_device
from qdyn.operators import as_pauli_op, pauli_norm
from qdyn.qsp.polynomials import DEFAULT_MAX_DEGREE, erf_polynomial
from qdyn.results import Resources, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = ["BACKENDS", "EXACT_LIMIT", "cool"]

BACKENDS = ("exact", "poly", "circuit")
EXACT_LIMIT = 12  #: largest register for dense diagonalisation
_REFERENCE_LIMIT = 20  #: largest register for which a ground-state reference is computed


def _random_field(n: int, rng) -> SparsePauliOp:
    """``V = sum_i (a_i X_i + b_i Y_i + c_i Z_i) / n`` with a uniformly random unit vector per site."""
    labels, coeffs = [], []
    for i in range(n):
        v = rng.standard_normal(3)
        v /= np.linalg.norm(v)
        for p, c in zip("XYZ", v, strict=True):
            labels.append("I" * (n - 1 - i) + p + "I" * i)
            coeffs.append(c / n)
    return SparsePauliOp(labels, np.array(coeffs))


def _schedule(schedule, steps, mu_start, mu_end) -> np.ndarray:
    if isinstance(schedule, str):
        check_choice("schedule", schedule, ("linear",))
        return np.linspace(mu_start, mu_end, steps)
    if callable(schedule):
        return np.array([float(schedule(k, steps)) for k in range(steps)])
    mus = np.asarray(schedule, dtype=float)
    if mus.shape != (steps,):
        raise ValueError(f"schedule must be 'linear', a callable (k, steps) -> mu, or {steps} values; "
                         f"got shape {mus.shape}")
    return mus


class _Spectrum:
    """Dense eigendecomposition of a small ``H`` (exact backend and exact weights below mu)."""

    def __init__(self, op: SparsePauliOp):
        matrix = op.to_matrix()
        self.values, self.vectors = np.linalg.eigh((matrix + matrix.conj().T) / 2)

    def weight_below(self, psi, mu) -> float:
        amps = self.vectors.conj().T @ psi
        return float(np.sum(np.abs(amps[self.values < mu]) ** 2))


class _ExactStep:
    def __init__(self, spectrum: _Spectrum, eps: float):
        self.spec, self.eps = spectrum, eps

    def __call__(self, psi, mu, lam, v_matrix, t):
        q = self.spec.vectors
        g = (q * erf((self.spec.values - mu) / self.eps)) @ q.conj().T + lam * v_matrix
        w, u = np.linalg.eigh((g + g.conj().T) / 2)
        return u @ (np.exp(-1j * w * t) * (u.conj().T @ psi)), 1.0


class _PolyStep:
    """``e^{-i t (p(A) + lam V)} psi`` with ``A = (H - mu)/alpha``, matrix-free (Chebyshev propagator in ``G``)."""

    def __init__(self, h_sum: PauliSum, poly, alpha: float, tol: float):
        self.h, self.poly, self.alpha, self.tol = h_sum, poly, alpha, tol
        self.matvecs = 0

    def __call__(self, psi, mu, lam, v_sum: PauliSum, t):
        alpha, mu, lam = self.alpha, float(mu), float(lam)
        psi = self.h.asarray(psi)

        def a_matvec(v):
            self.matvecs += 1
            return (self.h.apply(v) - mu * v) / alpha

        def g_matvec(v):
            return self.poly.apply(a_matvec, v) + lam * v_sum.apply(v)

        radius = 1.0 + lam * pauli_norm(v_sum.op)
        coeffs = [complex(a) for a in chebyshev_coefficients(radius * t, tol=self.tol)]
        acc = coeffs[0] * psi
        if len(coeffs) > 1:
            prev, cur = psi, g_matvec(psi) / radius
            acc = acc + coeffs[1] * cur
            for a in coeffs[2:]:
                prev, cur = cur, 2 * g_matvec(cur) / radius - prev
                acc = acc + a * cur
        if self.h.engine == "torch":
            acc = acc.cpu().numpy()
        return acc, 1.0


def _circuit_stepper(op, poly, alpha: float, eps: float, delta: float, tol: float, options: dict | None):
    """The coherent step circuit of :class:`qdyn.circuits.qsp_cooling.CoherentCoolingStep` for the chosen
    filter route: ``"qsvt"`` (``poly`` on a block encoding of ``(H - mu)/alpha``), ``"gqsp"`` (the Fourier
    sign series in ``tau H``) or ``"qetu"`` (the QETU sign polynomial of ``cos(tau (H + 1)/2)``), the last
    two with the same ``eps`` and ``delta``."""
    from qdyn.circuits.qsp_cooling import CoherentCoolingStep, GQSPFilter, QETUFilter

    options = dict(options or {})
    unknown = set(options) - {"block_encoding", "eta", "route", "tau", "amplify"}
    if unknown:
        raise ValueError(f"circuit_options accepts 'block_encoding', 'eta', 'route', 'tau' and 'amplify', got "
                         f"{sorted(unknown)}")
    route = check_choice("route", options.pop("route", "qsvt"), ("qsvt", "gqsp", "qetu"))
    tau = options.pop("tau", None)
    if route == "qsvt":
        if tau is not None:
            raise ValueError("circuit_options 'tau' belongs to route='gqsp' or 'qetu'")
        return CoherentCoolingStep(op, poly, alpha=alpha, tol=tol, **options)
    if route == "gqsp":
        sign_filter = GQSPFilter(eps, delta, 0.95 * np.pi / (2 + eps) if tau is None else tau)
    else:
        sign_filter = QETUFilter(eps, delta, 0.95 * np.pi / 2 if tau is None else tau)
    return CoherentCoolingStep(op, sign_filter, tol=tol, **options)


def _applications(radius: float, t: float, tol: float) -> int:
    """Applications of ``G`` in the Chebyshev propagator for ``e^{-i G t}`` (``T_0`` is free)."""
    return int(chebyshev_coefficients(radius * t, tol=tol).size) - 1


def cool(H, V=None, psi0=None, *, steps: int = 100, lam: float = 0.5, eps: float = 0.15, delta: float = 1e-6,
         schedule="linear", mu_start: float | None = None, mu_end: float | None = None, time: float = 5.0,
         random_times: bool = False, refresh_v: bool = False, ramp_steps: int = 0, backend: str = "exact",
         alpha: float = 2.0, tol: float = 1e-13, max_degree: int = DEFAULT_MAX_DEGREE, seed=None,
         device: str = "cpu", progress: bool = False, circuit_options: dict | None = None,
         record_states: bool = False) -> CoolingResult:
    """Cool ``psi0`` towards the ground state of ``H`` (spectrum inside [-1, 1]) by dynamical cooling.

    Parameters
    ----------
    H : Hamiltonian (any form :func:`qdyn.operators.as_pauli_op` takes), normalised to spectrum in [-1, 1].
    V : perturbation on the same qubits (default ``-sum X_i / n``); ``refresh_v=True`` draws a random
        single-site field ``V`` every step instead (this only thermalises; kept as an option).
    psi0 : initial state (default ``|+...+>``, the ground state of the default ``V``).
    steps : number ``d`` of cooling steps; ``schedule`` gives ``mu_k``: ``"linear"`` from ``mu_start``
    (default
        ``E_max + 0.1``, capped at 1) to ``mu_end`` (default ``(E_0 + E_1)/2``), a callable ``(k, steps)``, or
        an array of ``steps`` values, all inside [-1, 1].
    lam : strength of ``V``; ``ramp_steps`` extra steps at ``mu_end`` lower it linearly to 0.
    eps : width of the smooth sign ``erf((E - mu)/eps)`` (energy units of the normalised ``H``).
    delta : accuracy of the polynomial (``"poly"``/``"circuit"``) and of the query accounting, in (0, 1).
    time : evolution time per step; ``random_times=True`` draws ``t_k`` uniformly from ``[0, 2 time]``.
    backend : ``"exact"``, ``"poly"`` or ``"circuit"`` (see module docstring).
    alpha : normalisation of the block encoding ``A = (H - mu)/alpha`` (``>= 2`` keeps ``||A|| <= 1``).
    seed : for random times and random ``V``; recorded in the metadata.
    device : ``"cpu"`` (numpy), ``"cuda"`` / ``"auto"`` (torch on a GPU) or ``"torch-cpu"``: where the
        ``"poly"`` backend applies ``H`` and ``V`` (:func:`qdyn.exact.engine_for_device`); the other backends
        run on the CPU.
    circuit_options : ``"circuit"`` backend: ``{"block_encoding": "dilation" | "lcu", "eta": 1e-4,
        "route": "qsvt" | "gqsp" | "qetu", "tau": ...}``. ``"qsvt"`` (default) applies the erf polynomial of
        the ``"poly"`` backend; ``"gqsp"`` the Fourier sign series ``g(tau H) ~ sign(H - mu)`` by GQSP on
        ``e^{i tau Z H/2}`` (default ``tau = 0.95 pi / (2 + eps)``, ``2 deg g`` queries per filter);
        ``"qetu"`` the QETU sign polynomial of ``cos(tau (H + 1)/2)`` (bands at +-0.9999, default
        ``tau = 0.95 pi / 2``, ``deg p`` queries per filter). Both approximate ``sign(E - mu)`` to ``delta``
        for ``|E - mu| >= eps``: filters different from ``erf((E - mu)/eps)``, and their H-queries are
        queries to the time evolution. ``"amplify": True`` adds one round of oblivious amplitude
        amplification per step (three times the queries, post-selection probability ``~1`` instead of
        ``~1/4``). See :class:`qdyn.circuits.qsp_cooling.CoherentCoolingStep`.
    record_states : keep the state after every step (``CoolingResult.states``, shape ``(steps + 1, 2^n)``).
    """
    check_choice("backend", backend, BACKENDS)
    engine, dev = engine_for_device(device)
    if backend != "poly" and engine != "numpy":
        raise ValueError(f"device={device!r} applies to backend='poly' only; backend={backend!r} runs on "
                         "the CPU")
    op = as_pauli_op(H, name="H")
    n = op.num_qubits
    eps = check_positive("eps", eps)
    delta = check_positive("delta", delta)
    if not delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    steps = check_int("steps", steps, minimum=1)
    ramp_steps = check_int("ramp_steps", ramp_steps, minimum=0)
    lam = check_positive("lam", lam, allow_zero=True)
    time = check_positive("time", time)
    alpha = check_positive("alpha", alpha)
    if alpha < 2:
        raise ValueError(f"alpha must be >= 2 so that ||(H - mu)/alpha|| <= 1 for mu in [-1, 1], got {alpha}")
    if backend == "exact" and n > EXACT_LIMIT:
        raise ValueError(f"backend='exact' diagonalises densely and is limited to {EXACT_LIMIT} qubits; "
                         f"got {n}; use backend='poly'")
    v_op = default_perturbation(n) if V is None else as_pauli_op(V, name="V")
    if v_op.num_qubits != n:
        raise ValueError(f"V acts on {v_op.num_qubits} qubits but H acts on {n}")
    if psi0 is None:
        from qdyn.states import plus_state

        psi0 = plus_state(n)
    psi = check_state(psi0, n, name="psi0").astype(complex)
    rng, recorded_seed = make_rng(seed)

    _, hi = check_normalised(op)
    spectrum = _Spectrum(op) if n <= EXACT_LIMIT else None
    reference = None
    if spectrum is not None:
        reference = (spectrum.values[:2], spectrum.vectors[:, 0])
    elif n <= _REFERENCE_LIMIT:
        from qdyn.exact import ground_state

        pairs = ground_state(op, k=2, seed=0)
        reference = (pairs.energies, pairs.states[:, 0])
    if mu_start is None:
        mu_start = min(hi + 0.1, 1.0)
    if mu_end is None:
        if reference is None:
            raise ValueError("mu_end is needed when the register is too large for an exact reference")
        mu_end = float(np.mean(reference[0][:2]))
    mus = _schedule(schedule, steps, float(mu_start), float(mu_end))
    if np.any(np.abs(mus) > 1) or not np.all(np.isfinite(mus)):
        raise ValueError("every mu of the schedule must lie inside the normalised spectrum range [-1, 1]")
    mus = np.concatenate([mus, np.full(ramp_steps, mus[-1])])
    lams = np.concatenate([np.full(steps, lam), lam * (1 - np.arange(1, ramp_steps + 1) / ramp_steps)])
    total = steps + ramp_steps
    times = rng.uniform(0, 2 * time, total) if random_times else np.full(total, time)

    poly = erf_polynomial(alpha / eps, delta, max_degree=max_degree)
    h_sum = PauliSum(op)
    if backend == "exact":
        stepper = _ExactStep(spectrum, eps)
    elif backend == "circuit":
        stepper = _circuit_stepper(op, poly, alpha, eps, delta, tol, circuit_options)
    else:
        stepper = _PolyStep(PauliSum(op, engine=engine, device=dev), poly, alpha, tol)

    def observe(state, mu):
        energy = float(np.real(h_sum.expectation(state)))
        fid = float(abs(np.vdot(reference[1], state)) ** 2) if reference is not None else np.nan
        weight = spectrum.weight_below(state, mu) if spectrum is not None and np.isfinite(mu) else np.nan
        return energy, fid, weight

    energies, fids, weights = np.empty(total + 1), np.empty(total + 1), np.empty(total + 1)
    q_h, q_v = np.zeros(total + 1, dtype=np.int64), np.zeros(total + 1, dtype=np.int64)
    walls, probs = np.zeros(total + 1), np.ones(total + 1)
    energies[0], fids[0], weights[0] = observe(psi, mus[0])
    states = [psi] if record_states else None
    v_now = v_op
    iterator = range(total)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"cooling ({backend})")
    with Stopwatch() as total_clock:
        for k in iterator:
            with Stopwatch() as clock:
                if refresh_v:
                    v_now = _random_field(n, rng)
                if backend == "exact":
                    psi, probs[k + 1] = stepper(psi, mus[k], lams[k], v_now.to_matrix(), times[k])
                elif backend == "circuit":
                    psi, probs[k + 1] = stepper(psi, mus[k], lams[k], v_now, times[k])
                else:
                    v_sum = PauliSum(v_now, engine=engine, device=dev)
                    psi, probs[k + 1] = stepper(psi, mus[k], lams[k], v_sum, times[k])
                psi = psi / np.linalg.norm(psi)
            walls[k + 1] = clock.elapsed
            m = _applications(1.0 + lams[k] * pauli_norm(v_now), times[k], tol)
            if backend == "circuit":  # amplified steps use the step circuit three times
                m *= stepper.query_factor
                per_filter = stepper.filter_queries(mus[k])
            else:
                per_filter = poly.degree
            q_h[k + 1], q_v[k + 1] = m * per_filter, m
            energies[k + 1], fids[k + 1], weights[k + 1] = observe(psi, mus[k])
            if record_states:
                states.append(psi)
    ground = float(reference[0][0]) if reference is not None else np.nan
    resources = Resources(evolutions=int(q_h.sum()), queries=int(q_v.sum()),
                          matvecs=getattr(stepper, "matvecs", 0), wall_time=total_clock.elapsed)
    meta = make_metadata(seed=recorded_seed, backend=backend, device=dev, steps=steps, lam=lam, eps=eps,
                         delta=delta, time=time, random_times=random_times, refresh_v=refresh_v,
                         ramp_steps=ramp_steps, alpha=alpha, degree=poly.degree,
                         route=stepper.route if backend == "circuit" else None, mu_start=float(mu_start),
                         mu_end=float(mu_end))
    return CoolingResult(
        method="dynamical-cooling", state=psi, energy=float(energies[-1]), fidelity=float(fids[-1]),
        ground_energy=ground, energies=energies, fidelities=fids, weights_below=weights,
        mus=np.concatenate([[np.nan], mus]), lams=np.concatenate([[np.nan], lams]),
        times=np.concatenate([[0.0], times]), queries_h=q_h, queries_v=q_v, wall_times=walls,
        success_probabilities=probs, total_queries_h=int(q_h.sum()), total_queries_v=int(q_v.sum()),
        resources=resources, metadata=meta, states=None if states is None else np.array(states))
