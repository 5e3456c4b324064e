"""The front door of open-system steady states: :func:`steady_state` with ``method=`` one of four engines.

The steady state solves ``L(rho) = 0``, ``Tr rho = 1``; before it is returned it is checked

* **unique** (:mod:`qdyn.open.stationarity`): a generator whose null space has dimension > 1 (no dissipation, a
  conserved quantity) is a ``ValueError`` naming that dimension, for every method (for the transformer up to
  ``N = 5``, before training);
* **physical**: a density matrix with an eigenvalue below ``-PHYSICALITY_ATOL`` (1e-8) warns
  :class:`qdyn.errors.PhysicsWarning` and the result says ``physical=False``;
* **solved**: ``residual = ||L(rho)||_F`` and ``distance_bound`` on ``||rho - rho_ss||_F`` (the POVM method:
  on ``||P - P_ss||_2``) are reported; the exact methods have ``converged = distance_bound <= tol`` (default
  ``tol = 1e-8``) and warn :class:`qdyn.errors.ConvergenceWarning` otherwise (an ill-conditioned steady state,
  e.g. very weak dissipation).

============== ============================================================================ ==================
method          engine                                                                        ``errors``
============== ============================================================================ ==================
"liouvillian"   the bordered Liouvillian (:func:`qdyn.open.steady_state_density`): dense up to 256 bound on
                unknowns, GMRES from 4096 (preconditioned by the no-jump inverse), sparse LU     ``|<O> - <O>_ss|``
                between and as the fallback (options ``tol``, ``device``)
"qutip"         ``qutip.steadystate`` (:func:`qdyn.open.qutip_steadystate`), checked against   bound on
                the bordered Liouvillian (option ``tol``)                                     ``|<O> - <O>_ss|``
"povm"          the null vector of the POVM-space generator (:func:`qdyn.open.povm_steady_state`; bound on
                options ``povm``, ``tol``, ``device``)                                        ``|<O> - <O>_ss|``
"transformer"   a POVM transformer trained towards ``L P = 0``                                  Monte-Carlo (0 with
                (:func:`qdyn.open.steady_state_transformer`; options ``initial`` (the product    ``n_samples=None``)
                start, default ``"0"``), ``povm``, ``network``, ``device``, and the driver's:
                ``n_samples``, ``iterations``, ``optimizer``, ``eval_every``, ``tol``,
                ``checkpoint``, ``resume``, ...); ``converged`` is the driver's (loss <= ``tol``)
============== ============================================================================ ==================

``device`` of "liouvillian" and "povm": where GMRES runs, ``"cpu"`` (scipy, default), ``"cuda"`` or ``"auto"``
(torch on the GPU, :mod:`qdyn.open.torch_gmres`), ``"torch-cpu"`` (the torch code on the CPU); the dense and LU
solvers run on the CPU. ``metadata.device`` says where the solve ran.

The exact methods' ``errors[name] = ||o||_2 distance_bound`` (``<O> = o . x``, Cauchy-Schwarz), of kind
``error_kind`` "bound" (up to 256 unknowns: an SVD of the bordered system) or "estimate" (beyond: ``onenormest``);
the transformer's are statistical (1-sigma Monte-Carlo bars of the network's own values), its
``distance_bound`` (up to ``N = 5``) saying how far the network is from the exact steady state.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from qdyn.open.legacy import accepts_neural_call
from qdyn.open.methods import as_povm, check_method, transformer_setup, with_method
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata

__all__ = ["OpenSteadyState", "steady_state"]

#: Largest register for which the transformer's steady state is checked for uniqueness and bounded (a sparse
#: LU of the 4^N POVM-space generator, a fraction of a second at N = 5).
_TRANSFORMER_CHECK_QUBITS = 5
#: Default target of the exact methods on ``distance_bound``.
DEFAULT_TOL = 1e-8


@dataclass(frozen=True)
class OpenSteadyState(Result):
    """A steady state from any method of :func:`steady_state`.

    ``expect[name]`` / ``errors[name]``: ``<O>`` and its error of kind ``error_kind`` (module docstring);
    ``state``: the density matrix (qdyn qubit order; for the transformer reconstructed by exact enumeration when
    N <= 8, else ``None``); ``residual``: ``||L(rho)||_F`` (POVM method: ``||L P||_2``; NaN without a state);
    ``distance_bound``: bound on the distance to the exact steady state (NaN where not computed);
    ``converged``: ``distance_bound <= tol`` (the transformer: its loss reached its ``tol``);
    ``min_eigenvalue`` / ``physical``: the density matrix's smallest eigenvalue and whether it is
    ``>= -1e-8``; ``metadata.options["method"]`` names the method; ``details`` the transformer's
    :class:`~qdyn.open.NeuralSteadyState` (loss history), else ``None``.
    """

    expect: dict
    errors: dict
    state: np.ndarray | None
    resources: Resources
    metadata: Metadata
    details: Result | None = None
    residual: float = math.nan
    distance_bound: float = math.nan
    error_kind: str = "bound"
    tol: float = DEFAULT_TOL
    converged: bool = True
    min_eigenvalue: float = math.nan
    physical: bool = True

    def rows(self) -> list[dict]:
        """One row per observable: ``observable, quantity, value, error, reference``."""
        from qdyn.open.named_observables import expectation_rows

        return expectation_rows(self.expect, self.errors)


def _checked(expect, errors, rho, stationarity, *, error_kind, converged, warn: bool = True,
             **fields) -> OpenSteadyState:
    """The result with the physicality check of ``rho`` and (``warn``) the convergence warning."""
    from qdyn.errors import ConvergenceWarning
    from qdyn.open.stationarity import check_physical

    lowest, physical = check_physical(rho) if rho is not None else (math.nan, True)
    if stationarity is not None:
        fields.update(residual=stationarity.residual, distance_bound=stationarity.distance_bound,
                      tol=stationarity.tol)
        if warn and not converged:
            warnings.warn(f"the steady state is known only to {stationarity.distance_bound:.2g} (a bound on its "
                          f"distance to the exact one, residual ||L rho|| = {stationarity.residual:.2g}), above "
                          f"tol={stationarity.tol:g}: it is ill-conditioned (a slow mode, e.g. weak dissipation "
                          "or a nearly conserved quantity); errors[...] bound the values; pass a larger tol to "
                          "accept it", ConvergenceWarning, stacklevel=6)
    return OpenSteadyState(expect=expect, errors=errors, state=rho, error_kind=error_kind, converged=converged,
                           min_eigenvalue=lowest, physical=physical, **fields)


def _exact(system, x, vectors: dict, ops: dict, rho, tol, watch, backend: str, method: str,
           **options) -> OpenSteadyState:
    """An exact method's result: the steady vector ``x`` of ``system``, ``<O> = o . x`` for ``vectors[name] = o``
    (real for a Hermitian ``ops[name]``), errors ``||o||_2 distance_bound``."""
    from qdyn.operators import is_hermitian

    report = system.stationarity(x, tol)
    expect = {}
    for k, o in vectors.items():
        value = complex(np.dot(o, x))
        expect[k] = value.real if is_hermitian(ops[k]) else value
    errors = {k: float(np.linalg.norm(o) * report.distance_bound) for k, o in vectors.items()}
    return _checked(expect, errors, rho, report, error_kind=report.error_kind, converged=report.converged,
                    resources=Resources(matvecs=system.matvecs, wall_time=watch.elapsed),
                    metadata=make_metadata(backend=backend, device=system.device, method=method, tol=tol,
                                           solver=system.method, **options))


def _liouville_vectors(ops: dict, n: int) -> dict:
    """``o = vec(O^T)`` (row-major) with ``Tr[O rho] = o . vec(rho)``."""
    from qdyn.open.liouvillian import vectorised_observables

    rows, _ = vectorised_observables(list(ops.values()), n)
    return {k: rows[i].toarray().reshape(-1) for i, k in enumerate(ops)}


def _liouvillian(lindbladian, ops, *, seed, progress, tol=DEFAULT_TOL, device="cpu"):
    from qdyn.open.liouvillian import steady_state_system

    with Stopwatch() as watch:
        system = steady_state_system(lindbladian, device=device)
        d = 2**lindbladian.num_qubits
        rho = system.solve().reshape(d, d)
        rho = 0.5 * (rho + rho.conj().T)
    return _exact(system, rho.reshape(-1), _liouville_vectors(ops, lindbladian.num_qubits), ops, rho, tol, watch,
                  "exact-liouvillian", "liouvillian")


def _qutip(lindbladian, ops, *, seed, progress, tol=DEFAULT_TOL):
    from qdyn.open.liouvillian import steady_state_system
    from qdyn.open.reference import qutip_steadystate

    with Stopwatch() as watch:
        system = steady_state_system(lindbladian)  # the uniqueness check, before QuTiP
        rho = qutip_steadystate(lindbladian)
    return _exact(system, rho.reshape(-1), _liouville_vectors(ops, lindbladian.num_qubits), ops, rho, tol, watch,
                  "qutip-steadystate", "qutip")


def _povm(lindbladian, ops, *, seed, progress, povm="tetra", tol=DEFAULT_TOL, device="cpu"):
    from qdyn.open.povm_dynamics import povm_steady_system
    from qdyn.open.povm_lindbladian import POVMLindbladian

    povm = as_povm(povm)
    with Stopwatch() as watch:
        system = povm_steady_system(POVMLindbladian(lindbladian, povm), device=device)
        P = system.solve().real
    return _exact(system, P, {k: povm.observable_vector(op) for k, op in ops.items()}, ops,
                  povm.operator_from_coefficients(P), tol, watch, "exact-povm", "povm", povm=povm.name)


def _transformer(lindbladian, ops, *, seed, progress, initial="0", povm="tetra", network=None, device=None,
                 **options):
    from qdyn.open.neural.states import MAX_EXACT_SITES, all_probabilities
    from qdyn.open.neural.steady import steady_state_transformer
    from qdyn.open.povm_dynamics import povm_steady_system

    state, povm, generator, seed = transformer_setup(lindbladian, initial, povm=povm, network=network, seed=seed,
                                                     device=device)
    system = povm_steady_system(generator) if state.n_sites <= _TRANSFORMER_CHECK_QUBITS else None
    result = steady_state_transformer(state, generator, e_ops=ops, seed=seed, progress=progress, **options)
    rho, report, fields = None, None, {"tol": result.tol}
    if state.n_sites <= MAX_EXACT_SITES:
        P = all_probabilities(state)[1].detach().cpu().double().numpy()
        rho = povm.operator_from_coefficients(P)
        if system is not None:
            report = system.stationarity(P, result.tol)
        else:
            fields["residual"] = float(np.linalg.norm(generator.apply(P)))
    return _checked(result.expect, result.errors, rho, report, error_kind="statistical",
                    converged=result.converged, warn=False, resources=result.resources,  # the driver warned
                    metadata=with_method(result.metadata, "transformer"), details=result, **fields)


_METHODS = {"liouvillian": _liouvillian, "qutip": _qutip, "povm": _povm, "transformer": _transformer}


@accepts_neural_call("qdyn.open.neural.steady:steady_state_transformer")
def steady_state(lindbladian, *, method: str = "liouvillian", e_ops=None, seed=None, progress: bool = False,
                 **method_options) -> OpenSteadyState:
    """The steady state of ``lindbladian`` and the observables ``e_ops`` in it.

    ``method``: ``"liouvillian"`` (default), ``"qutip"``, ``"povm"`` or ``"transformer"`` (module table);
    the state is checked unique (``ValueError`` otherwise) and physical, and its residual and distance bound
    are reported (module docstring);
    ``e_ops``: ``{name: operator}`` or a list (named 0, 1, ...), default the site averages ``"X"``, ``"Y"``,
    ``"Z"``; ``seed`` and ``progress``: the transformer's (recorded); ``method_options``: the engine's (unknown
    ones are a ``TypeError``). Returns an :class:`OpenSteadyState`. A call with a POVM network first (the old
    neural driver ``steady_state(state, lindbladian, ...)``) still reaches
    :func:`qdyn.open.steady_state_transformer` and warns ``DeprecationWarning``.
    """
    from qdyn.open.lindbladian import Lindbladian
    from qdyn.open.liouvillian import check_liouvillian_size
    from qdyn.open.named_observables import named_e_ops

    if not isinstance(lindbladian, Lindbladian):
        raise TypeError(f"lindbladian must be a qdyn.open.Lindbladian, got {type(lindbladian).__name__}")
    run = _METHODS[check_method(method)]
    if method != "transformer":  # every other method holds 4**n-entry density (or POVM) vectors
        check_liouvillian_size(lindbladian.num_qubits)
    return run(lindbladian, named_e_ops(e_ops, lindbladian.num_qubits), seed=seed, progress=progress,
               **method_options)
