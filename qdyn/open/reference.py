"""QuTiP references: ``mesolve`` and ``steadystate`` on a :class:`~qdyn.open.lindbladian.Lindbladian`.

QuTiP is imported lazily. States and operators are converted in :mod:`qdyn.operators` (QuTiP subsystem ``i`` is
qdyn qubit ``i``); results come back in qdyn's qubit order, in the same :class:`DensityEvolution` container as
the exact engine's.
"""

from __future__ import annotations

import numpy as np

from qdyn.errors import check_positive, require
from qdyn.open.density import as_density_matrix, purity
from qdyn.open.lindbladian import Lindbladian
from qdyn.open.liouvillian import DensityEvolution, check_times
from qdyn.operators import reverse_qubit_order
from qdyn.results import Resources, Stopwatch, make_metadata

__all__ = ["qutip_mesolve", "qutip_steadystate"]


def _qobj_density(rho: np.ndarray, n: int):
    qutip = require("qutip", purpose="QuTiP references")
    return qutip.Qobj(reverse_qubit_order(rho, n), dims=[[2] * n, [2] * n])


def qutip_mesolve(lindbladian: Lindbladian, rho0, times, e_ops=(), *, atol: float = 1e-10, rtol: float = 1e-10,
                  method: str = "adams", store_states: bool = False, nsteps: int = 100_000) -> DensityEvolution:
    """``qutip.mesolve`` on ``lindbladian`` from ``rho0`` at ``times`` (``times[0]`` is the initial time).

    ``atol``/``rtol`` are QuTiP's ODE tolerances. The purity and trace are computed from the stored states,
    so the states are always requested from QuTiP; they are returned only when ``store_states``.
    """
    qutip = require("qutip", purpose="QuTiP references")
    from qdyn.operators import is_hermitian, to_qutip

    if not isinstance(lindbladian, Lindbladian):
        raise TypeError(f"lindbladian must be a Lindbladian, got {type(lindbladian).__name__}")
    check_positive("atol", atol)
    check_positive("rtol", rtol)
    t = check_times(times)
    n = lindbladian.num_qubits
    rho = as_density_matrix(rho0, n)
    H, c_ops = lindbladian.to_qutip()
    ops = list(e_ops)
    q_ops = [to_qutip(op) for op in ops]
    tlist = t if t[0] == 0 else np.concatenate([[0.0], t])
    options = {"atol": atol, "rtol": rtol, "method": method, "nsteps": nsteps, "store_states": True,
               "progress_bar": False}
    with Stopwatch() as watch:
        result = qutip.mesolve(H, _qobj_density(rho, n), tlist, c_ops, e_ops=q_ops, options=options)
    offset = 0 if t[0] == 0 else 1
    states = np.stack([reverse_qubit_order(s.full(), n) for s in result.states[offset:]])
    expect = np.array([np.asarray(e)[offset:] for e in result.expect]).reshape(len(ops), t.size)
    hermitian = all(is_hermitian(op) for op in ops)
    return DensityEvolution(
        times=t, expect=expect.real if hermitian else expect.astype(complex),
        purity=np.array([purity(s) for s in states]), trace=np.trace(states, axis1=1, axis2=2).real,
        states=states if store_states else None,
        resources=Resources(wall_time=watch.elapsed),
        metadata=make_metadata(backend="qutip-mesolve", device="cpu", atol=atol, rtol=rtol, method=method))


def qutip_steadystate(lindbladian: Lindbladian) -> np.ndarray:
    """``qutip.steadystate`` as a density matrix in qdyn's qubit order."""
    qutip = require("qutip", purpose="QuTiP references")
    H, c_ops = lindbladian.to_qutip()
    rho = qutip.steadystate(H, c_ops)
    return reverse_qubit_order(rho.full(), lindbladian.num_qubits)
