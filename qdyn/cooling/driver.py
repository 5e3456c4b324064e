"""Dynamical cooling with a shifted-sign transformed Hamiltonian (reconstruction of arXiv:2404.05810).

``H`` is first mapped onto the interval QSP needs: ``H_n = (H - shift)/scale`` with the spectrum centred and
filling ``[-1/1.05, 1/1.05]`` (:func:`qdyn.cooling.problems.spectral_normalisation`). Each step ``k`` evolves
the state for a time ``t_k`` under

    G_k = f_{mu_k}(H_n) + lam_k V,      f_mu(E) ~ sign(E - mu),

with ``mu_k`` lowered from above the spectrum to between ``E_0`` and ``E_1``. ``f_mu`` splits the spectrum
into two bands near -1 and +1; inside a band transitions conserve the transformed energy, so ``lam V`` moves
weight along a band while the gap of about 2 suppresses jumps across it; as ``mu`` sweeps down, levels leaving
the lower band push its weight down to the lowest vector of the band. With ``mu`` fixed the weight below
``mu`` is conserved up to ``O(lam)``. Energies, ``mu`` and the width ``eps`` of the sign are in the units of
``H``, so the filter ``erf((E - mu)/eps)`` does not depend on the normalisation; ``lam``, ``V`` and ``time``
belong to ``G``, whose sign term is dimensionless. Only the polynomial and block-encoding internals (``alpha``,
the degree of ``p``) live in the units of ``H_n``.

Methods (all count queries the same way, see below):

* ``"exact"``: ``f_mu(E) = erf((E - mu)/eps)`` through the eigendecomposition of ``H`` (``n <= 12``);
  ``e^{-i G t}`` by the Chebyshev (Jacobi-Anger) propagator in ``G``, one dense product per term in the
  eigenbasis (:class:`qdyn.cooling.classical_steps.SpectralStep`).
* ``"poly"``: ``f_mu = p((H_n - mu_n)/alpha)``, ``p`` the odd Chebyshev polynomial of :func:`erf_polynomial`
  (``|p - erf| <= delta``, steepness ``alpha scale / eps``, ``alpha = 2``), applied by Clenshaw's recurrence on
  the CSR matrix (or the matrix-free / torch :class:`qdyn.exact.PauliSum`) of ``H``, or, where cheaper at small
  ``n``, as the diagonal ``p((E_j - mu_n)/alpha)`` in the eigenbasis (the same polynomial);
  ``e^{-i G t}`` by the same Chebyshev propagator (:mod:`qdyn.cooling.classical_steps`).
* ``"circuit"``: each step is one coherent circuit, simulated (:mod:`qdyn.cooling.step_circuit`,
  :class:`qdyn.cooling.coherent_step.CoherentCoolingStep`): a block encoding ``U_A`` of ``A`` (``"dilation"``,
  default, or ``"lcu"``), the QSVT circuit ``U_p`` with ``<0|U_p|0> = p(A)``, the LCU ``U_G`` with
  ``<0|U_G|0> = (p(A) + lam V)/beta``, ``beta = 1 + lam ||V||_1``, and QSVT on ``U_G`` with the Jacobi-Anger
  polynomials, so that ``<0_anc|U_step|0_anc> ~ (1 - eta) e^{-i G t} / 2``. All ancillas start in ``|0>`` and
  are post-selected on ``|0>``; the post-selection probability (``~ (1 - eta)^2 / 4``) is recorded per step and
  the state renormalised. ``n + 5`` qubits with the dilation encoding.

Query accounting: ``e^{-i G t}`` needs ``m(t)`` applications of ``G`` (:func:`propagator_degree` of ``r t``,
``r = 1 + lam ||V||_1`` bounds ``||G||``), i.e. queries to a block encoding of ``G``; each costs ``deg p``
queries to the block encoding of ``H`` and one to ``V``. So a step spends ``m deg p`` H-queries and ``m``
V-queries (``queries_h``, ``queries_v``: per attempt; the circuit's step has exactly these queries); the exact
method reports what the polynomial route would spend. ``resources.queries`` is their sum over the run with the
post-selection overhead, ``sum_k (q_h + q_v)_k / p_k`` (each step repeated until it succeeds; the GQSP and
QETU routes query the time evolution, so their H-queries go under ``resources.evolutions`` instead).
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from qdyn.cooling.accounting import check_success_probabilities, expected_queries, propagator_degree
from qdyn.cooling.classical_steps import (
    DenseSpectrum,
    PolyStep,
    SpectralStep,
    erf_filter,
    poly_filter,
    spectral_is_cheaper,
)
from qdyn.cooling.problems import SpectralNormalisation, default_perturbation, random_field, spectral_normalisation
from qdyn.cooling.result import CoolingResult
from qdyn.deprecation import moved_names, renamed_arguments, warn_deprecated
from qdyn.errors import check_choice, check_int, check_positive, check_state
from qdyn.exact.pauli_sum import PauliSum, engine_for_device
from qdyn.operators import as_pauli_op, pauli_norm
from qdyn.qsp.polynomials import DEFAULT_MAX_DEGREE, erf_polynomial
from qdyn.results import Resources, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = ["EXACT_LIMIT", "METHODS", "cool"]

METHODS = ("exact", "poly", "circuit")
EXACT_LIMIT = 12  #: largest register for dense diagonalisation
_REFERENCE_LIMIT = 20  #: largest register for which a ground-state reference is computed
_MU_TOL = 1e-12  #: rounding allowed on a mu at the edge of the normalised interval
DEFAULT_RELATIVE_EPS = 0.15  #: default width of the sign in the units of H_n (``eps = 0.15 scale``)

__getattr__ = moved_names(__name__, {"BACKENDS": "qdyn.cooling.driver:METHODS"})


def _schedule(schedule, steps: int, ramp: int, mu_start: float, mu_end: float,
              norm: SpectralNormalisation) -> np.ndarray:
    """The ``steps`` values of ``mu`` for ``H_n``: ``"linear"`` from ``mu_start`` to ``mu_end`` over the first
    ``steps - ramp`` steps, then held (``mu_start``/``mu_end`` already normalised); a callable ``(k, steps)``
    or ``steps`` values in the units of ``H``."""
    if isinstance(schedule, str):
        check_choice("schedule", schedule, ("linear",))
        return np.concatenate([np.linspace(mu_start, mu_end, steps - ramp), np.full(ramp, mu_end)])
    if callable(schedule):
        mus = np.array([float(schedule(k, steps)) for k in range(steps)])
    else:
        mus = np.asarray(schedule, dtype=float)
        if mus.shape != (steps,):
            raise ValueError(f"schedule must be 'linear', a callable (k, steps) -> mu, or {steps} values; "
                             f"got shape {mus.shape}")
    return norm.normalise(mus)


def _check_mus(mus: np.ndarray, norm: SpectralNormalisation) -> np.ndarray:
    if not np.all(np.isfinite(mus)) or np.any(np.abs(mus) > 1 + _MU_TOL):
        lo, hi = norm.denormalise([-1.0, 1.0])
        raise ValueError(f"every mu of the schedule must lie inside [{lo:.6g}, {hi:.6g}] (units of H): the "
                         f"interval [-1, 1] of the normalised H_n = (H - {norm.shift:.6g}) / {norm.scale:.6g}")
    return np.clip(mus, -1.0, 1.0)


def _circuit_stepper(op, poly, alpha: float, eps: float, delta: float, tol: float, options: dict | None):
    """The coherent step circuit of :class:`qdyn.cooling.coherent_step.CoherentCoolingStep` for the chosen
    filter route: ``"qsvt"`` (``poly`` on a block encoding of ``(H - mu)/alpha``), ``"gqsp"`` (the Fourier
    sign series in ``tau H``) or ``"qetu"`` (the QETU sign polynomial of ``cos(tau (H + 1)/2)``), the last
    two with the same ``eps`` and ``delta``."""
    from qdyn.cooling.coherent_step import CoherentCoolingStep
    from qdyn.cooling.filters import GQSPFilter, QETUFilter

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


def _ramp_steps_renamed(function):
    """``ramp_steps=k`` (``k`` steps added after ``steps``) became ``ramp=k`` counted inside ``steps``: the old
    call runs as ``steps=steps + k, ramp=k`` with its schedule held at its last ``mu`` for the ``k`` steps."""
    default_steps = inspect.signature(function).parameters["steps"].default

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if "ramp_steps" in kwargs:
            if "ramp" in kwargs:
                raise TypeError(f"{function.__name__}() got both 'ramp_steps' (deprecated) and 'ramp'; pass only "
                                "'ramp'")
            warn_deprecated(f"{function.__module__}.{function.__name__}(ramp_steps=k) is deprecated: steps now "
                            "counts every step; use steps=steps + k, ramp=k", stacklevel=3)
            extra = check_int("ramp_steps", kwargs.pop("ramp_steps"), minimum=0)
            steps = check_int("steps", kwargs.get("steps", default_steps), minimum=1)
            schedule = kwargs.get("schedule", "linear")
            if callable(schedule):
                kwargs["schedule"] = lambda k, _total: schedule(min(k, steps - 1), steps)
            elif not isinstance(schedule, str):
                mus = np.asarray(schedule, dtype=float)
                kwargs["schedule"] = np.concatenate([mus, np.full(extra, mus[-1])]) if mus.size else mus
            kwargs["steps"], kwargs["ramp"] = steps + extra, extra
        return function(*args, **kwargs)

    return wrapper


@renamed_arguments(backend="method", record_states="store_states")
@_ramp_steps_renamed
def cool(H, V=None, psi0=None, *, steps: int = 100, lam: float = 0.5, eps: float | None = None,
         delta: float = 1e-6,
         schedule="linear", mu_start: float | None = None, mu_end: float | None = None, time: float = 5.0,
         random_times: bool = False, refresh_v: bool = False, ramp: int = 0, method: str = "exact",
         alpha: float = 2.0, tol: float = 1e-13, max_degree: int = DEFAULT_MAX_DEGREE, seed=None,
         device: str = "cpu", progress: bool = False, circuit_options: dict | None = None,
         store_states: bool = False) -> CoolingResult:
    """Cool ``psi0`` towards the ground state of the Hermitian ``H`` by dynamical cooling.

    Parameters
    ----------
    H : Hamiltonian, any form :func:`qdyn.operators.as_pauli_op` takes, in any units: it is normalised here
        (``H_n = (H - shift)/scale``, module docstring; ``shift`` and ``scale`` go into the metadata) and every
        energy, ``mu`` and the reference ground energy of the result are in the units of ``H``.
    V : perturbation on the same qubits, in the units of ``H_n`` (default ``-sum X_i / n``); ``refresh_v=True``
        draws a random single-site field ``V`` every step instead (this only thermalises; kept as an option).
    psi0 : initial state (default ``|+...+>``, the ground state of the default ``V``).
    steps : number of cooling steps in the whole run, the ramp included.
    schedule : ``mu_k`` in the units of ``H``: ``"linear"`` from ``mu_start`` (default the top of the normalised
        interval, ``shift + scale``, just above ``E_max``) to ``mu_end`` (default ``(E_0 + E_1)/2``) over the
        steps before the ramp, then held; a callable ``(k, steps)``; or ``steps`` values. Every ``mu`` must lie
        inside ``[shift - scale, shift + scale]``.
    lam : strength of ``V``; the last ``ramp`` steps lower it linearly to 0.
    eps : width of the smooth sign ``erf((E - mu)/eps)`` in the units of ``H`` (default ``0.15 scale``, i.e. 0.15
        in those of ``H_n``: 7% of the spectral width).
    delta : accuracy of the polynomial (``"poly"``/``"circuit"``) and of the query accounting, in (0, 1).
    time : evolution time per step (units of ``1/H_n``); ``random_times=True`` draws ``t_k`` uniformly from
        ``[0, 2 time]``.
    method : ``"exact"``, ``"poly"`` or ``"circuit"`` (module docstring); the metadata option ``evaluation`` says
        how the exact and poly filters were applied classically (``"eigenbasis"`` or ``"recurrence"``).
    alpha : normalisation of the block encoding ``A = (H_n - mu)/alpha`` (``>= 2`` keeps ``||A|| <= 1``).
    tol : truncation of the Chebyshev (Jacobi-Anger) series of ``e^{-i G t}`` (terms with ``|J_k| < tol`` dropped),
        for every method and for the query count; ``max_degree`` bounds the degree of ``p``.
    seed : for random times and random ``V``; recorded in the metadata.
    device : ``"cpu"`` (numpy), ``"cuda"`` / ``"auto"`` (torch on a GPU) or ``"torch-cpu"``: where the
        ``"poly"`` method applies ``H`` and ``V`` (:func:`qdyn.exact.engine_for_device`); the other methods
        run on the CPU.
    circuit_options : ``"circuit"`` method: ``{"block_encoding": "dilation" | "lcu", "eta": 1e-4,
        "route": "qsvt" | "gqsp" | "qetu", "tau": ..., "amplify": False}``. ``"qsvt"`` (default) applies the erf
        polynomial of the ``"poly"`` method; ``"gqsp"`` the Fourier sign series ``g(tau H_n) ~ sign(H_n - mu_n)``
        by GQSP on ``e^{i tau Z H_n/2}`` (default ``tau = 0.95 pi / (2 + eps_n)``, ``eps_n = eps / scale``,
        ``2 deg g`` queries per filter); ``"qetu"`` the QETU sign polynomial of ``cos(tau (H_n + 1)/2)`` (bands at
        +-0.9999, default ``tau = 0.95 pi / 2``, ``deg p`` queries per filter). Both approximate ``sign(E - mu)``
        to ``delta`` for ``|E - mu| >= eps``: filters different from ``erf((E - mu)/eps)``, and their H-queries
        are queries to the time evolution. ``"amplify": True`` adds one round of oblivious amplitude
        amplification per step (three times the queries, post-selection probability ``~1`` instead of
        ``~1/4``). The ``"qsvt"`` route also reports the two-qubit gates and depth of its largest step at gate
        level (``resources.two_qubit_gates``, ``resources.depth``; the same block encodings, transpiled to
        ``cx``/``u``, counted once per call).
    store_states : keep the state after every step (``CoolingResult.states``, shape ``(steps + 1, 2^n)``).

    Deprecated: ``backend=`` (now ``method=``), ``record_states=`` (now ``store_states=``), ``ramp_steps=k``
    (``k`` steps after ``steps``; now ``steps=steps + k, ramp=k``).
    """
    check_choice("method", method, METHODS)
    engine, dev = engine_for_device(device)
    if method != "poly" and engine != "numpy":
        raise ValueError(f"device={device!r} applies to method='poly' only; method={method!r} runs on the CPU")
    op = as_pauli_op(H, name="H")
    n = op.num_qubits
    if eps is not None:
        eps = check_positive("eps", eps)
    delta = check_positive("delta", delta)
    if not delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    steps = check_int("steps", steps, minimum=1)
    ramp = check_int("ramp", ramp, minimum=0)
    if ramp >= steps:
        raise ValueError(f"ramp must be smaller than steps (the ramp is the last `ramp` of the {steps} steps), "
                         f"got ramp={ramp}")
    lam = check_positive("lam", lam, allow_zero=True)
    time = check_positive("time", time)
    alpha = check_positive("alpha", alpha)
    if alpha < 2:
        raise ValueError(f"alpha must be >= 2 so that ||(H_n - mu)/alpha|| <= 1 for mu in [-1, 1], got {alpha}")
    if method == "exact" and n > EXACT_LIMIT:
        raise ValueError(f"method='exact' diagonalises densely and is limited to {EXACT_LIMIT} qubits; "
                         f"got {n}; use method='poly'")
    v_op = default_perturbation(n) if V is None else as_pauli_op(V, name="V")
    if v_op.num_qubits != n:
        raise ValueError(f"V acts on {v_op.num_qubits} qubits but H acts on {n}")
    if psi0 is None:
        from qdyn.states import plus_state

        psi0 = plus_state(n)
    psi = check_state(psi0, n, name="psi0").astype(complex)
    rng, recorded_seed = make_rng(seed)

    spectrum, reference = None, None  # reference: the two lowest levels of H_n and the ground state
    if n <= EXACT_LIMIT:
        raw = DenseSpectrum.of(op)
        norm = spectral_normalisation(op, bounds=(raw.values[0], raw.values[-1]))
        spectrum = DenseSpectrum(norm.normalise(raw.values), raw.vectors)
        reference = (spectrum.values[:2], spectrum.vectors[:, 0])
    else:
        norm = spectral_normalisation(op)
    h_n = norm.hamiltonian(op)
    eps_n = DEFAULT_RELATIVE_EPS if eps is None else eps / norm.scale  # the width for H_n
    if reference is None and n <= _REFERENCE_LIMIT:
        from qdyn.exact import ground_state

        pairs = ground_state(h_n, k=2, seed=0)
        reference = (pairs.energies, pairs.states[:, 0])
    mu_start_n = 1.0 if mu_start is None else float(norm.normalise(mu_start))
    if mu_end is None:
        if reference is None:
            raise ValueError("mu_end is needed when the register is too large for an exact reference")
        mu_end_n = float(np.mean(reference[0][:2]))
    else:
        mu_end_n = float(norm.normalise(mu_end))
    mus = _check_mus(_schedule(schedule, steps, ramp, mu_start_n, mu_end_n, norm), norm)
    lams = np.concatenate([np.full(steps - ramp, lam), lam * (1 - np.arange(1, ramp + 1) / max(ramp, 1))])
    times = rng.uniform(0, 2 * time, steps) if random_times else np.full(steps, time)

    poly = erf_polynomial(alpha / eps_n, delta, max_degree=max_degree)
    h_sum = PauliSum(h_n)
    if method == "exact":
        stepper = SpectralStep(spectrum, erf_filter(eps_n), tol)
    elif method == "circuit":
        stepper = _circuit_stepper(h_n, poly, alpha, eps_n, delta, tol, circuit_options)
    elif engine == "numpy" and spectrum is not None and not refresh_v and spectral_is_cheaper(h_sum, poly.degree):
        # (a fresh V every step would cost a dense change of basis, 8^n, every step)
        stepper = SpectralStep(spectrum, poly_filter(poly, alpha), tol)
    else:
        stepper = PolyStep(h_sum if engine == "numpy" else PauliSum(h_n, engine=engine, device=dev), poly, alpha,
                           tol)

    def observe(state, mu):
        energy = float(np.real(h_sum.expectation(state)))
        fid = float(abs(np.vdot(reference[1], state)) ** 2) if reference is not None else np.nan
        weight = spectrum.weight_below(state, mu) if spectrum is not None else np.nan
        return energy, fid, weight

    energies, fids, weights = np.empty(steps + 1), np.empty(steps + 1), np.empty(steps + 1)
    q_h, q_v = np.zeros(steps + 1, dtype=np.int64), np.zeros(steps + 1, dtype=np.int64)
    walls, probs = np.zeros(steps + 1), np.ones(steps + 1)
    energies[0], fids[0], weights[0] = observe(psi, mus[0])
    states = [psi] if store_states else None
    largest = (-1, None)  # the costliest step's queries and data: its gate-level circuit is the one counted
    v_now = v_op
    iterator = range(steps)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"cooling ({method})")
    with Stopwatch() as total_clock:
        for k in iterator:
            with Stopwatch() as clock:
                if refresh_v:
                    v_now = random_field(n, rng)
                psi, probs[k + 1] = stepper(psi, mus[k], lams[k], v_now, times[k])
                psi = psi / np.linalg.norm(psi)
            walls[k + 1] = clock.elapsed
            m = propagator_degree((1.0 + lams[k] * pauli_norm(v_now)) * times[k], tol)
            if method == "circuit":  # amplified steps use the step circuit three times
                m *= stepper.query_factor
                per_filter = stepper.filter_queries(mus[k])
            else:
                per_filter = poly.degree
            q_h[k + 1], q_v[k + 1] = m * per_filter, m
            if q_h[k + 1] + q_v[k + 1] > largest[0]:
                largest = (q_h[k + 1] + q_v[k + 1], (mus[k], lams[k], v_now, times[k]))
            energies[k + 1], fids[k + 1], weights[k + 1] = observe(psi, mus[k])
            if store_states:
                states.append(psi)
        counts = stepper.gate_counts(*largest[1]) if method == "circuit" else None

    low = check_success_probabilities(probs, f"cool(method={method!r})")
    route = stepper.route if method == "circuit" else None
    if route in ("gqsp", "qetu"):  # their H-oracle is the time evolution
        evolutions, queries = expected_queries(q_h, probs), expected_queries(q_v, probs)
    else:
        evolutions, queries = 0, expected_queries(q_h + q_v, probs)
    resources = Resources(evolutions=evolutions, queries=queries, matvecs=getattr(stepper, "matvecs", 0),
                          circuits=steps if method == "circuit" else 0,
                          depth=counts.depth if counts is not None else 0,
                          two_qubit_gates=counts.two_qubit_gates if counts is not None else 0,
                          wall_time=total_clock.elapsed)
    meta = make_metadata(seed=recorded_seed, backend="statevector" if method == "circuit" else "exact", device=dev,
                         method=method, steps=steps, lam=lam, eps=float(eps_n * norm.scale), delta=delta, time=time,
                         random_times=random_times, refresh_v=refresh_v, ramp=ramp, alpha=alpha, degree=poly.degree,
                         route=route, evaluation=getattr(stepper, "evaluation", None),
                         mu_start=float(norm.denormalise(mus[0])),
                         mu_end=float(norm.denormalise(mus[steps - ramp - 1])), shift=norm.shift, scale=norm.scale)
    ground = float(norm.denormalise(reference[0][0])) if reference is not None else np.nan
    energies = norm.denormalise(energies)
    return CoolingResult(
        method="dynamical-cooling", state=psi, energy=float(energies[-1]), fidelity=float(fids[-1]),
        ground_energy=ground, energies=energies, fidelities=fids, weights_below=weights,
        mus=np.concatenate([[np.nan], norm.denormalise(mus)]), lams=np.concatenate([[np.nan], lams]),
        times=np.concatenate([[0.0], times]), queries_h=q_h, queries_v=q_v, wall_times=walls,
        success_probabilities=probs, total_queries_h=int(q_h.sum()), total_queries_v=int(q_v.sum()),
        resources=resources, metadata=meta, states=None if states is None else np.array(states),
        low_success_probability=low)
