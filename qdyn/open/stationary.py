"""The front door of open-system steady states: :func:`steady_state` with ``method=`` one of four engines.

The steady state solves ``L(rho) = 0``, ``Tr rho = 1`` (assumed unique):

============== ============================================================================ ==================
method          engine                                                                        error bars
============== ============================================================================ ==================
"liouvillian"   sparse LU of the vectorised Liouvillian (:func:`qdyn.open.steady_state_density`) 0
"qutip"         ``qutip.steadystate`` (:func:`qdyn.open.qutip_steadystate`)                     0
"povm"          the null vector of the POVM-space generator (:func:`qdyn.open.povm_steady_state`; 0
                option ``povm``)
"transformer"   a POVM transformer trained towards ``L P = 0``                                  Monte-Carlo (0 with
                (:func:`qdyn.open.steady_state_transformer`; options ``initial`` (the product    ``n_samples=None``)
                start, default ``"0"``), ``povm``, ``network``, ``device``, and the driver's:
                ``n_samples``, ``iterations``, ``optimizer``, ``eval_every``, ...)
============== ============================================================================ ==================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qdyn.open.legacy import accepts_neural_call
from qdyn.open.methods import as_povm, check_method, density_of_network, transformer_setup, with_method
from qdyn.results import Metadata, Resources, Result, Stopwatch, make_metadata

__all__ = ["OpenSteadyState", "steady_state"]


@dataclass(frozen=True)
class OpenSteadyState(Result):
    """A steady state from any method of :func:`steady_state`.

    ``expect[name]`` / ``errors[name]``: ``<O>`` and its standard error (0 for the exact methods, Monte-Carlo
    for the transformer); ``state``: the density matrix (qdyn qubit order; for the transformer reconstructed by
    exact enumeration when N <= 8, else ``None``); ``metadata.options["method"]`` names the method;
    ``details`` the transformer's :class:`~qdyn.open.NeuralSteadyState` (loss history), else ``None``.
    """

    expect: dict
    errors: dict
    state: np.ndarray | None
    resources: Resources
    metadata: Metadata
    details: Result | None = None

    def rows(self) -> list[dict]:
        """One row per observable: ``observable, quantity, value, error, reference``."""
        from qdyn.open.named_observables import expectation_rows

        return expectation_rows(self.expect, self.errors)


def _from_density(rho, ops: dict, watch, backend: str, method: str) -> OpenSteadyState:
    from qdyn.open.density import expectation

    return OpenSteadyState(expect={k: expectation(op, rho) for k, op in ops.items()}, errors=dict.fromkeys(ops, 0.0),
                           state=rho, resources=Resources(wall_time=watch.elapsed),
                           metadata=make_metadata(backend=backend, device="cpu", method=method))


def _liouvillian(lindbladian, ops, *, seed, progress):
    from qdyn.open.liouvillian import steady_state_density

    with Stopwatch() as watch:
        rho = steady_state_density(lindbladian)
    return _from_density(rho, ops, watch, "exact-liouvillian", "liouvillian")


def _qutip(lindbladian, ops, *, seed, progress):
    from qdyn.open.reference import qutip_steadystate

    with Stopwatch() as watch:
        rho = qutip_steadystate(lindbladian)
    return _from_density(rho, ops, watch, "qutip-steadystate", "qutip")


def _povm(lindbladian, ops, *, seed, progress, povm="tetra"):
    from qdyn.open.povm_dynamics import povm_steady_state
    from qdyn.open.povm_lindbladian import POVMLindbladian

    povm = as_povm(povm)
    with Stopwatch() as watch:
        P = povm_steady_state(POVMLindbladian(lindbladian, povm))
    return OpenSteadyState(expect={k: povm.expectation(op, P) for k, op in ops.items()},
                           errors=dict.fromkeys(ops, 0.0), state=povm.operator_from_coefficients(P),
                           resources=Resources(wall_time=watch.elapsed),
                           metadata=make_metadata(backend="exact-povm", device="cpu", method="povm", povm=povm.name))


def _transformer(lindbladian, ops, *, seed, progress, initial="0", povm="tetra", network=None, device=None,
                 **options):
    from qdyn.open.neural.states import MAX_EXACT_SITES
    from qdyn.open.neural.steady import steady_state_transformer

    state, povm, generator, seed = transformer_setup(lindbladian, initial, povm=povm, network=network, seed=seed,
                                               device=device)
    result = steady_state_transformer(state, generator, e_ops=ops, seed=seed, progress=progress, **options)
    rho = density_of_network(state, povm) if state.n_sites <= MAX_EXACT_SITES else None
    return OpenSteadyState(expect=result.expect, errors=result.errors, state=rho, resources=result.resources,
                           metadata=with_method(result.metadata, "transformer"), details=result)


_METHODS = {"liouvillian": _liouvillian, "qutip": _qutip, "povm": _povm, "transformer": _transformer}


@accepts_neural_call("qdyn.open.neural.steady:steady_state_transformer")
def steady_state(lindbladian, *, method: str = "liouvillian", e_ops=None, seed=None, progress: bool = False,
                 **method_options) -> OpenSteadyState:
    """The steady state of ``lindbladian`` and the observables ``e_ops`` in it.

    ``method``: ``"liouvillian"`` (default), ``"qutip"``, ``"povm"`` or ``"transformer"`` (module table);
    ``e_ops``: ``{name: operator}`` or a list (named 0, 1, ...), default the site averages ``"X"``, ``"Y"``,
    ``"Z"``; ``seed`` and ``progress``: the transformer's (recorded); ``method_options``: the engine's (unknown
    ones are a ``TypeError``). Returns an :class:`OpenSteadyState`. A call with a POVM network first (the old
    neural driver ``steady_state(state, lindbladian, ...)``) still reaches
    :func:`qdyn.open.steady_state_transformer` and warns ``DeprecationWarning``.
    """
    from qdyn.open.lindbladian import Lindbladian
    from qdyn.open.named_observables import named_e_ops

    if not isinstance(lindbladian, Lindbladian):
        raise TypeError(f"lindbladian must be a qdyn.open.Lindbladian, got {type(lindbladian).__name__}")
    run = _METHODS[check_method(method)]
    return run(lindbladian, named_e_ops(e_ops, lindbladian.num_qubits), seed=seed, progress=progress,
               **method_options)
