"""The front door of open-system dynamics: :func:`evolve` with ``method=`` one of four engines, one result type.

``d rho / dt = -i[H, rho] + sum_k gamma_k (G_k rho G_k^dag - {G_k^dag G_k, rho} / 2)`` from ``rho0`` at ``t = 0``,
observables recorded at ``times`` (in the units of ``1/H``):

============== =========================================================================== ===================
method          engine                                                                       error bars
============== =========================================================================== ===================
"liouvillian"   the vectorised Liouvillian propagator (:func:`qdyn.open.evolve_density`;     truncation and
                options ``device``, ``tol``, ``precision``)                                  rounding estimate
"qutip"         ``qutip.mesolve`` (:func:`qdyn.open.qutip_mesolve`; options ``atol``,        0
                ``rtol``, ``integrator``, ``nsteps``)
"povm"          the full POVM distribution (:func:`qdyn.open.evolve_povm`; options ``povm``,  0
                ``tau`` (trapezoid rule), or ``integrator="ode"``, ``rtol``, ``atol``)
"transformer"   a POVM transformer trained step by step (:func:`qdyn.open.evolve_transformer`; Monte-Carlo
                options ``tau`` (required), ``povm``, ``network``, ``device``, and the         (0 with
                driver's: ``n_samples``, ``iterations``, ``optimizer``, ``checkpoint``, ...)   ``n_samples=None``)
============== =========================================================================== ===================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdyn.open.initial import initial_density
from qdyn.open.legacy import accepts_neural_call
from qdyn.open.methods import as_povm, check_method, density_of_network, transformer_setup, with_method
from qdyn.results import Metadata, Resources, Result, series_rows

__all__ = ["OpenEvolution", "evolve"]


@dataclass(frozen=True)
class OpenEvolution(Result):
    """Open-system dynamics from any method of :func:`evolve`.

    ``expect[name]`` / ``errors[name]``: ``<O>(t)`` at ``times`` and its error of kind ``error_kind``:
    ``"estimate"`` for the Liouvillian propagator (``||vec(O)||_1`` times its estimate of the largest error of
    an entry of ``rho(t)``, :class:`~qdyn.open.DensityEvolution`), ``"statistical"`` (1-sigma Monte-Carlo bars
    of the network's values) for the transformer, ``None`` (errors 0: no estimate) for QuTiP and the POVM
    engine; ``converged``: the Liouvillian propagator met its ``tol`` (always True for the others);
    ``states``: the density matrices ``(len(times), 2^n,
    2^n)`` (qdyn qubit order) when ``store_states``, else ``None``; ``metadata.options["method"]`` names the
    method; ``details`` is the engine's own result (:class:`~qdyn.open.DensityEvolution`,
    :class:`~qdyn.open.POVMEvolution` or :class:`~qdyn.open.NeuralEvolution`) with its diagnostics (purity,
    residuals, loss history, ...).
    """

    times: np.ndarray
    expect: dict
    errors: dict
    states: np.ndarray | None
    resources: Resources
    metadata: Metadata
    details: Result
    error_kind: str | None = None
    converged: bool = True

    def rows(self) -> list[dict]:
        """One row per time and observable: ``time, observable, value, error, reference``."""
        return series_rows(self.times, self.expect, errors=self.errors)


def _named(values, ops: dict) -> dict:
    """Rows of an ``(n_ops, n_times)`` array, keyed by the observables' names."""
    return {name: np.asarray(values[k]) for k, name in enumerate(ops)}


def _exact(result, ops: dict, method: str, states, errors: dict | None = None, **fields) -> OpenEvolution:
    """An :class:`OpenEvolution` from an exact engine's ``(n_ops, n_times)`` expectation array (errors 0 unless
    given)."""
    expect = _named(result.expect, ops)
    errors = errors if errors is not None else {k: np.zeros(v.shape) for k, v in expect.items()}
    return OpenEvolution(times=result.times, expect=expect, errors=errors, states=states, resources=result.resources,
                         metadata=with_method(result.metadata, method), details=result, **fields)


def _liouvillian(lindbladian, rho0, times, ops, *, store_states, seed, progress, device="cpu", tol=1e-12,
                 precision="double"):
    from qdyn.open.liouvillian import evolve_density, vectorised_observables

    result = evolve_density(lindbladian, initial_density(rho0, lindbladian.num_qubits), times, list(ops.values()),
                            device=device, tol=tol, precision=precision, store_states=store_states, progress=progress)
    rows, _ = vectorised_observables(list(ops.values()), lindbladian.num_qubits)
    weights = np.asarray(abs(rows).sum(axis=1)).reshape(-1)  # |Tr[O D]| <= ||vec(O)||_1 max|D_ij|
    errors = {k: weights[i] * result.error_estimate for i, k in enumerate(ops)}
    return _exact(result, ops, "liouvillian", result.states, errors, error_kind="estimate",
                  converged=result.converged)


def _qutip(lindbladian, rho0, times, ops, *, store_states, seed, progress, atol=1e-10, rtol=1e-10,
           integrator="adams", nsteps=100_000):
    from qdyn.open.reference import qutip_mesolve

    result = qutip_mesolve(lindbladian, initial_density(rho0, lindbladian.num_qubits), times, list(ops.values()),
                           atol=atol, rtol=rtol, method=integrator, store_states=store_states, nsteps=nsteps)
    return _exact(result, ops, "qutip", result.states)


def _povm(lindbladian, rho0, times, ops, *, store_states, seed, progress, povm="tetra", tau=None, integrator=None,
          rtol=1e-10, atol=1e-12):
    from qdyn.open.povm_dynamics import evolve_povm
    from qdyn.open.povm_lindbladian import POVMLindbladian

    povm = as_povm(povm)
    integrator = integrator or ("ode" if tau is None else "trapezoid")
    rho = initial_density(rho0, lindbladian.num_qubits)
    result = evolve_povm(POVMLindbladian(lindbladian, povm), povm.probabilities(rho), times, list(ops.values()),
                         method=integrator, tau=tau, rtol=rtol, atol=atol, store_states=store_states)
    states = None
    if store_states:
        states = np.stack([povm.operator_from_coefficients(P) for P in result.probabilities])
    return _exact(result, ops, "povm", states)


def _transformer(lindbladian, rho0, times, ops, *, store_states, seed, progress, tau=None, povm="tetra",
                 network=None, device=None, callback=None, **options):
    from qdyn.errors import check_positive
    from qdyn.open.neural.evolution import evolve_transformer

    if tau is None:
        raise ValueError("method='transformer' needs the time step tau= (times must be multiples of it)")
    tau = check_positive("tau", tau)
    steps = times / tau
    index = np.round(steps).astype(int)
    if np.any(np.abs(steps - index) > 1e-9 * np.maximum(1.0, steps)) or index[-1] < 1:
        raise ValueError(f"method='transformer' records its trapezoid steps: times must be multiples of tau={tau} "
                         f"reaching at least one step, got {times}")
    if store_states and options.get("resume"):
        raise ValueError("store_states=True cannot resume a run: the states before the checkpoint are not kept")
    state, povm, generator, seed = transformer_setup(lindbladian, rho0, povm=povm, network=network, seed=seed,
                                               device=device)
    states = [density_of_network(state, povm)] if store_states else None

    def record(step, time, network_state):
        if store_states:
            states.append(density_of_network(network_state, povm))
        if callback is not None:
            callback(step, time, network_state)

    result = evolve_transformer(state, generator, index[-1] * tau, tau, e_ops=ops, seed=seed, progress=progress,
                                callback=record, **options)
    return OpenEvolution(times=times, expect={k: v[index] for k, v in result.expect.items()},
                         errors={k: v[index] for k, v in result.errors.items()},
                         states=np.stack(states)[index] if store_states else None, resources=result.resources,
                         metadata=with_method(result.metadata, "transformer"), details=result,
                         error_kind="statistical")


_METHODS = {"liouvillian": _liouvillian, "qutip": _qutip, "povm": _povm, "transformer": _transformer}


@accepts_neural_call("qdyn.open.neural.evolution:evolve_transformer")
def evolve(lindbladian, rho0, times, *, method: str = "liouvillian", e_ops=None, store_states: bool = False,
           seed=None, progress: bool = False, **method_options) -> OpenEvolution:
    """Lindblad dynamics of ``lindbladian`` from ``rho0`` with the observables ``e_ops`` recorded at ``times``.

    Parameters
    ----------
    lindbladian : a :class:`qdyn.open.Lindbladian` (e.g. :func:`qdyn.open.dissipative_ising`).
    rho0 : the state at ``t = 0``: one site label for every qubit (``"0"``, ``"1"``, ``"+"``, ``"-"``, ``"+i"``,
        ``"-i"``), a list of labels (entry ``i`` = qubit ``i``), a state vector, a density matrix or a
        ``qutip.Qobj``. The transformer needs a product state.
    times : non-negative, increasing times (``times[0]`` may be 0); for the transformer, multiples of ``tau``.
    method : ``"liouvillian"`` (default), ``"qutip"``, ``"povm"`` or ``"transformer"`` (see the module table).
    e_ops : ``{name: operator}`` or a list (named 0, 1, ...); an operator is a ``SparsePauliOp``, a Pauli label,
        a matrix or a ``qutip.Qobj``. Default: the site averages ``"X"``, ``"Y"``, ``"Z"``.
    store_states : keep the density matrices at ``times`` (for the transformer: reconstructed from the network
        by exact enumeration, N <= 8).
    seed : the transformer's seed (network initialisation and samples); recorded. The other methods are exact.
    progress : a tqdm bar.
    method_options : options of the method's engine (module table); unknown ones are a ``TypeError``.

    Returns an :class:`OpenEvolution`. A call with a POVM network first (the old neural driver
    ``evolve(state, lindbladian, t_final, tau, ...)``) still reaches :func:`qdyn.open.evolve_transformer` and
    warns ``DeprecationWarning``.
    """
    from qdyn.open.lindbladian import Lindbladian
    from qdyn.open.liouvillian import check_liouvillian_size, check_times
    from qdyn.open.named_observables import named_e_ops

    if not isinstance(lindbladian, Lindbladian):
        raise TypeError(f"lindbladian must be a qdyn.open.Lindbladian, got {type(lindbladian).__name__}")
    run = _METHODS[check_method(method)]
    n = lindbladian.num_qubits
    if method != "transformer":  # every other method holds 4**n-entry density (or POVM) vectors
        check_liouvillian_size(n)
    ops = named_e_ops(e_ops, n)
    t = check_times(times)
    return run(lindbladian, rho0, t, ops, store_states=bool(store_states), seed=seed, progress=progress,
               **method_options)
