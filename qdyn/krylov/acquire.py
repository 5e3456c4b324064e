"""Acquisition of real-time Krylov data on every backend.

``acquire(H, refs, times, backend=...)`` returns a :class:`~qdyn.krylov.data.KrylovData` with
``s[a, b, m] = <phi_a|exp(-i H t_m)|phi_b>`` and ``h[a, b, m] = <phi_a|H exp(-i H t_m)|phi_b>``.

Backends
--------
* ``"exact"``: the exact engine's matrix-free ``H v`` in one Lanczos run per reference, which gives
  ``exp(-i H t)|phi_b>`` at every time to ``1e-13`` (:mod:`qdyn.krylov.lanczos_rows`).
* ``"trotter"``: product formulas applied exactly term by term (:func:`qdyn.exact.trotter_evolve`),
  ``trotter["steps_per_dt"]`` steps per ``dt`` (``m * steps_per_dt`` steps up to ``t_m``), so that the data stays
  Toeplitz in the Trotter unitary. Every backend applies the formula to ``H``'s terms in the layered order of
  :func:`qdyn.circuits.trotter_layers.layered_hamiltonian` (bond layers, then fields), the order of the shallow
  circuits, so ``"trotter"`` reproduces the circuits' Trotter error exactly.
* ``"shots"``: exact (or Trotter) overlaps plus the binomial noise of Hadamard tests with ``shots`` shots each:
  the ancilla gives ``+1`` with probability ``(1 + Re s)/2`` (``(1 + Im s)/2`` for the ``Y`` test), so the estimate
  has standard error ``sqrt((1 - (Re s)^2)/shots)``. ``h`` is measured term by term, ``h = sum_j c_j <phi|P_j U|phi>``.
* ``"lindblad"``: overlaps under decoherence through QuTiP (see :mod:`qdyn.krylov.lindblad`).
* anything else (``"statevector"``, ``"aer"``, ``"fake:<Name>"``, ``"ibm:<name>"``, a backend object): circuits on
  that target of :mod:`qdyn.circuits`, control-free or Hadamard tests (``overlaps=``; see
  :mod:`qdyn.krylov.circuit_data`). A circuit target needs ``trotter``: without it the exact unitary would be
  synthesised as a dense gate, which is a ``ValueError`` stating its cost unless ``trotter="exact"`` opts in.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.deprecation import renamed_arguments, warn_deprecated
from qdyn.errors import check_choice, check_int, check_state
from qdyn.exact import spectral_bounds
from qdyn.krylov.circuit_data import OVERLAPS
from qdyn.krylov.data import KrylovData, check_times
from qdyn.krylov.lanczos_rows import lanczos_overlaps
from qdyn.krylov.mpf import check_mpf_steps, combine_data, mpf_coefficients
from qdyn.operators import as_pauli_op
from qdyn.results import Resources, Stopwatch, make_metadata
from qdyn.seeding import make_rng

__all__ = ["acquire", "mpf_parts", "normalise_refs", "normalise_trotter"]

_ENGINE_BACKENDS = ("exact", "trotter", "shots")
_EXECUTIONS = ("job", "batch")  #: IBM execution modes (open-plan accounts have no sessions)


def normalise_refs(refs, n_qubits: int) -> np.ndarray:
    """References as a ``(R, 2**n)`` complex array; each must be a normalised state of ``n_qubits`` qubits, and
    together they must be linearly independent (Gram matrix ``<phi_a|phi_b>`` with smallest eigenvalue above
    ``1e-10``): dependent references repeat Krylov blocks and leave ``S`` exactly singular."""
    if isinstance(refs, np.ndarray) and refs.ndim == 1:
        refs = [refs]
    elif isinstance(refs, np.ndarray) and refs.ndim == 2:
        refs = list(refs)
    elif not isinstance(refs, list | tuple) or len(refs) == 0:
        raise TypeError("refs must be a state vector, a list of state vectors or a (R, 2**n) array")
    refs = np.stack([check_state(r, n_qubits, name=f"refs[{i}]") for i, r in enumerate(refs)])
    if refs.shape[0] > 1:
        lam, vecs = np.linalg.eigh(refs.conj() @ refs.T)
        if lam[0] < 1e-10:
            involved = np.flatnonzero(np.abs(vecs[:, 0]) > 1e-6).tolist()
            raise ValueError(f"refs must be linearly independent: refs{involved} are linearly dependent (smallest "
                             f"eigenvalue of their Gram matrix <phi_a|phi_b> is {lam[0]:.2g}); drop the repeated "
                             "references")
    return refs


def normalise_trotter(trotter) -> dict | str | None:
    """``None``, ``"exact"`` (circuit targets: the exact unitary as a gate, an explicit opt-in),
    ``{"steps_per_dt": r, "order": p}``: ``r`` product-formula steps per time step ``dt`` (so ``m r`` steps up to
    ``t_m``), order ``p`` (1 or even; default 2), or ``{"mpf": (r_1, r_2, ...), "order": p}``: the multi-product
    formula of those step counts (:mod:`qdyn.krylov.mpf`). The old key ``"steps"`` (the same per-``dt`` count) is
    accepted for one release with a ``DeprecationWarning``."""
    if trotter is None or (isinstance(trotter, str) and trotter == "exact"):
        return trotter
    if not isinstance(trotter, dict) or set(trotter) - {"steps_per_dt", "steps", "order", "mpf"}:
        raise TypeError("trotter must be None, 'exact' or a dict with keys 'steps_per_dt' (or 'mpf') and 'order'")
    if "steps" in trotter:
        if "steps_per_dt" in trotter:
            raise TypeError("trotter got both 'steps' (deprecated) and 'steps_per_dt'; pass only 'steps_per_dt'")
        warn_deprecated("trotter={'steps': ...} is deprecated; use trotter={'steps_per_dt': ...} (the same "
                        "number of product-formula steps per dt)", stacklevel=5)  # the caller of acquire
        trotter = {"steps_per_dt": trotter["steps"]} | {k: v for k, v in trotter.items() if k != "steps"}
    order = check_int("trotter['order']", trotter.get("order", 2), minimum=1)
    if order != 1 and order % 2:
        raise ValueError(f"trotter['order'] must be 1 or even, got {order}")
    if "mpf" in trotter:
        if "steps_per_dt" in trotter:
            raise TypeError("trotter takes 'steps_per_dt' (one product formula) or 'mpf' (several), not both")
        return {"mpf": check_mpf_steps(trotter["mpf"]), "order": order}
    steps = check_int("trotter['steps_per_dt']", trotter.get("steps_per_dt", 1), minimum=1)
    return {"steps_per_dt": steps, "order": order}


def mpf_parts(trotter) -> list[dict] | None:
    """The single product formulas of a multi-product ``trotter`` (``None`` for any other ``trotter``)."""
    if not (isinstance(trotter, dict) and "mpf" in trotter):
        return None
    return [{"steps_per_dt": k, "order": trotter["order"]} for k in trotter["mpf"]]


def _states(op: SparsePauliOp, refs: np.ndarray, n_times: int, dt: float, trotter, progress):
    """Yield ``(b, m, S(dt)^m phi_b)`` for the product formula ``S``, one state at a time (memory: one vector)."""
    from tqdm.auto import tqdm

    from qdyn.exact import trotter_evolve

    with tqdm(total=refs.shape[0] * n_times, desc="krylov rows", disable=not progress) as bar:
        for b in range(refs.shape[0]):
            state = refs[b]
            for m in range(n_times):
                if m:
                    state = trotter_evolve(op, state, dt, steps=trotter["steps_per_dt"], order=trotter["order"])
                bar.update()
                yield b, m, state


def _pauli_terms(op: SparsePauliOp):
    from qdyn.exact import PauliSum

    return [(PauliSum(SparsePauliOp(p)), float(c.real)) for p, c in zip(op.paulis, op.coeffs, strict=True)]


def _hadamard_estimate(values: np.ndarray, shots: int, rng, *, real_only_lag0: bool):
    """Binomial Hadamard-test estimates of complex ``values`` (|Re|, |Im| <= 1) and their standard errors."""
    def sample(x):
        p = np.clip((1 + x) / 2, 0.0, 1.0)
        est = 2 * rng.binomial(shots, p) / shots - 1
        return est, np.sqrt(np.clip(1 - x**2, 0, None) / shots)

    re, re_err = sample(values.real)
    im, im_err = sample(values.imag)
    if real_only_lag0:  # diagonal lag-0 elements are real by Hermiticity: no Y test is run
        for a in range(values.shape[0]):
            im[a, a, ..., 0] = 0.0
            im_err[a, a, ..., 0] = 0.0
    return re + 1j * im, re_err + 1j * im_err


def _hermitian_lag0(rows: np.ndarray) -> np.ndarray:
    """Make the lag-0 block Hermitian (it is by definition; noisy estimates are averaged with their adjoint)."""
    rows = rows.copy()
    rows[:, :, 0] = (rows[:, :, 0] + rows[:, :, 0].conj().T) / 2
    return rows


@renamed_arguments(mode="execution")
def acquire(H, refs, times, *, backend="exact", shots: int | None = None, trotter: dict | str | None = None,
            seed=None, with_h: bool = True, dephasing: float = 0.0, damping: float = 0.0,
            progress: bool = False, execution: str = "job", overlaps: str = "auto", mitigation=None) -> KrylovData:
    """Measure the Krylov overlap rows ``s`` (and ``h``) of ``H`` from ``refs`` on the grid ``times``.

    Parameters
    ----------
    H : Hamiltonian (any operator accepted by :func:`qdyn.operators.as_pauli_op`), energies in the units of ``1/t``.
    refs : a normalised state vector or a list of them (multi-reference Krylov).
    times : uniform grid ``t_m = m dt``, ``m = 0..M-1`` (VQPE of dimension K needs ``M >= K``, UVQPE ``M >= K+1``).
    backend : ``"exact" | "trotter" | "shots" | "lindblad"`` or a circuit target (name or backend object).
    shots : shots per circuit (required by ``"shots"``; optional for simulator targets, required on devices).
    trotter : ``{"steps_per_dt": r, "order": p}``, ``r`` product-formula steps per ``dt`` (``"trotter"``, circuits),
        in the layered term order (see the module docstring); ``{"mpf": (r_1, r_2, ...), "order": p}``: the
        multi-product formula of those step counts, each measured on its own and combined with the static MPF
        coefficients (:mod:`qdyn.krylov.mpf`; ``metadata.options["mpf"]``); ``"exact"``: circuit targets put the
        exact unitary in as a dense gate (opt-in; small registers).
    seed : int, Generator or None; recorded in the metadata.
    with_h : also measure ``h`` (needed by VQPE; UVQPE, ODMD and the matrix pencil need only ``s``).
    dephasing, damping : per-qubit rates of ``Z`` dephasing and of amplitude damping with
        ``sigma^- = |1><0|`` (relaxation towards ``|1>``), in units of ``1/t`` (``"lindblad"`` only).
    progress : tqdm progress bar over the evolutions / circuits being built.
    execution : IBM execution mode, ``"job"`` or ``"batch"`` (open-plan accounts have no sessions); formerly
        ``mode=`` (deprecated alias).
    overlaps : circuit targets: ``"auto"`` (control-free when the references are basis states and ``|0...0>`` or
        ``|1...1>`` is an eigenstate of the evolution, else Hadamard tests), ``"control-free"`` or ``"hadamard"``;
        the choice and its reason are in ``data.metadata.options``.
    mitigation : circuit targets: passed as it is to :func:`qdyn.circuits.backends.estimate`.
    """
    op = as_pauli_op(H)
    n = op.num_qubits
    refs = normalise_refs(refs, n)
    times, dt = check_times(times)
    trotter = normalise_trotter(trotter)
    check_choice("execution", execution, _EXECUTIONS)
    check_choice("overlaps", overlaps, OVERLAPS)
    parts = mpf_parts(trotter)
    if parts is not None:  # one acquisition per product formula, with independent seeds, then combined
        rng, recorded = make_rng(seed)
        data = [acquire(H, refs, times, backend=backend, shots=shots, trotter=part,
                        seed=int(rng.integers(0, 2**31 - 1)), with_h=with_h, dephasing=dephasing, damping=damping,
                        progress=progress, execution=execution, overlaps=overlaps, mitigation=mitigation)
                for part in parts]
        combined = combine_data(data, mpf_coefficients(trotter["mpf"], trotter["order"]), trotter["mpf"])
        return replace(combined, metadata=replace(combined.metadata, seed=recorded))
    if isinstance(trotter, dict):
        from qdyn.circuits.trotter_layers import layered_hamiltonian

        op = layered_hamiltonian(op)
    if not isinstance(with_h, bool):
        raise TypeError("with_h must be True or False")
    if (dephasing or damping) and backend != "lindblad":
        raise ValueError("dephasing and damping apply only to backend='lindblad'")
    on_engine = isinstance(backend, str) and backend in (*_ENGINE_BACKENDS, "lindblad")
    if on_engine and (trotter == "exact" or overlaps != "auto" or mitigation is not None):
        raise ValueError(f"trotter='exact', overlaps and mitigation apply to circuit targets, not "
                         f"backend={backend!r} (backend='exact' already evolves exactly)")
    if isinstance(backend, str) and backend == "lindblad":
        from qdyn.krylov.lindblad import acquire_lindblad

        if shots is not None or trotter is not None:
            raise ValueError("backend='lindblad' integrates the master equation exactly: no shots or trotter")
        return acquire_lindblad(op, refs, times, dt, dephasing=dephasing, damping=damping, with_h=with_h,
                                seed=seed)
    if isinstance(backend, str) and backend == "exact" and trotter is not None:
        raise ValueError("backend='exact' evolves exactly; for product formulas use backend='trotter'")
    if not (isinstance(backend, str) and backend in _ENGINE_BACKENDS):
        from qdyn.krylov.circuit_data import acquire_circuits

        return acquire_circuits(op, refs, times, dt, target=backend, shots=shots, trotter=trotter, seed=seed,
                                with_h=with_h, progress=progress, execution=execution, overlaps=overlaps,
                                mitigation=mitigation)
    if backend == "trotter" and trotter is None:
        raise ValueError("backend='trotter' needs trotter={'steps_per_dt': r, 'order': p}")
    if backend == "shots":
        shots = check_int("shots", shots, minimum=1) if shots is not None else None
        if shots is None:
            raise ValueError("backend='shots' needs shots=<shots per Hadamard-test circuit>")
    elif shots is not None:
        raise ValueError(f"shots applies to backend='shots' or circuit targets, not {backend!r}")
    rng, recorded_seed = make_rng(seed)
    n_refs, n_times = refs.shape[0], times.size

    with Stopwatch() as clock:
        from qdyn.exact import PauliSum

        pauli_sum = PauliSum(op)
        measure_terms = with_h and backend == "shots"
        terms = _pauli_terms(op) if measure_terms else []
        lefts = [refs]  # overlaps <left| U(t_m) |phi_b> for every left vector
        if with_h:
            lefts += [pauli.apply(refs.T).T for pauli, _ in terms] if measure_terms else [pauli_sum.apply(refs.T).T]
        lefts = np.concatenate(lefts)
        if trotter is None:
            real = pauli_sum.is_real and not np.any(refs.imag)
            rows, matvecs, ritz = lanczos_overlaps(pauli_sum.apply, lefts, refs, times, real=real)
            # the spectral range the references see (extreme Ritz values, converged at these step counts),
            # widened by 2% of the width as in qdyn.exact.spectral_bounds
            pad = 0.02 * max(ritz[1] - ritz[0], 1e-12)
            bounds = (ritz[0] - pad, ritz[1] + pad)
        else:
            bounds = spectral_bounds(op, method="lanczos")
            rows, matvecs = np.zeros((lefts.shape[0], n_refs, n_times), dtype=complex), 0
            for b, m, state in _states(op, refs, n_times, dt, trotter, progress):
                rows[:, b, m] = lefts.conj() @ state
        blocks = rows.reshape(-1, n_refs, n_refs, n_times)
        s = blocks[0]
        g = blocks[1:] if measure_terms else np.zeros((0, n_refs, n_refs, n_times))
        h = blocks[1].copy() if with_h and not measure_terms else (np.zeros_like(s) if with_h else None)
        n_circuits = 0
        s_err = np.zeros_like(s)
        h_err = np.zeros_like(s) if with_h else None
        if backend == "shots":
            s, s_err = _hadamard_estimate(s, shots, rng, real_only_lag0=True)
            n_circuits += 2 * n_refs * n_refs * n_times - n_refs
            for (pauli, c), g_j in zip(terms, g, strict=True):
                if not pauli.op.paulis[0].x.any() and not pauli.op.paulis[0].z.any():
                    h += c * s  # the identity term rescales the measured overlaps: no extra circuit
                    h_err += abs(c) * s_err
                    continue
                est, err = _hadamard_estimate(g_j, shots, rng, real_only_lag0=True)
                h += c * est
                h_err = np.sqrt(h_err.real**2 + (c * err.real) ** 2) + 1j * np.sqrt(
                    h_err.imag**2 + (c * err.imag) ** 2)
                n_circuits += 2 * n_refs * n_refs * n_times - n_refs
        s = _hermitian_lag0(s)
        h = _hermitian_lag0(h) if h is not None else None

    # one evolution per Krylov state U(t_m)|phi_b> with m >= 1 (a product formula of steps_per_dt steps counts once)
    resources = Resources(evolutions=n_refs * (n_times - 1), matvecs=matvecs, circuits=n_circuits,
                          shots=n_circuits * (shots or 0), wall_time=clock.elapsed)
    metadata = make_metadata(seed=recorded_seed, backend=backend, trotter=trotter, shots=shots,
                             n_refs=n_refs, n_times=n_times, dt=dt)
    return KrylovData(times=times, dt=dt, s=s, h=h, s_err=s_err, h_err=h_err, bounds=tuple(map(float, bounds)),
                      backend=backend, resources=resources, metadata=metadata)
