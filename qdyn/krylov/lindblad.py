"""Krylov overlaps under physical decoherence, through QuTiP: the ``"lindblad"`` acquisition backend.

A Hadamard test whose system decoheres while the ancilla controls ``U(t)`` starts from
``(|0>|phi_a> + |1>|phi_b>)/sqrt 2``. With ``H_tot = |1><1| (x) H`` and jump operators ``1 (x) L_k`` (noise acts on
the system whichever branch it is in), the ancilla coherence block ``X = <1|rho|0>`` (up to the factor 1/2) obeys

    dX/dt = -i H X + sum_k ( L_k X L_k^dag - {L_k^dag L_k, X}/2 ),      X(0) = |phi_b><phi_a|,

and the ancilla gives ``<X_anc> + i <Y_anc> = Tr X(t)``. So ``s[a, b, m] = Tr X(t_m)`` and, measuring
``X_anc (x) H``, ``h[a, b, m] = Tr(H X(t_m))``; without noise these are ``<phi_a|U(t_m)|phi_b>`` and
``<phi_a|H U(t_m)|phi_b>``. The signal is a sum of damped exponentials ``exp(omega_j t)`` over the eigenvalues of
this superoperator, so ODMD and the matrix pencil return each mode's energy ``-Im omega`` and decay rate
``-Re omega``.

Jump operators per qubit: dephasing ``sqrt(gamma_phi) Z_i`` and amplitude damping ``sqrt(gamma_1) sigma^-_i`` with
qdyn's one lowering operator ``sigma^- = |1><0| = (X - iY)/2`` (QuTiP's ``sigmam``, as in :mod:`qdyn.open`): it takes
``Z = +1`` to ``Z = -1``, so damping relaxes every qubit towards ``|1>``. Rates are in units of ``1/t``.
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import check_positive, require
from qdyn.exact import spectral_bounds
from qdyn.krylov.data import KrylovData
from qdyn.operators import state_to_qutip, to_qutip
from qdyn.results import Resources, Stopwatch, make_metadata

__all__ = ["acquire_lindblad", "jump_operators", "coherence_liouvillian"]


def jump_operators(n: int, *, dephasing: float = 0.0, damping: float = 0.0) -> list[SparsePauliOp]:
    """``sqrt(dephasing) Z_i`` and ``sqrt(damping) sigma^-_i`` (``sigma^- = |1><0|``) on every qubit ``i``
    (Qiskit order)."""
    dephasing = check_positive("dephasing", dephasing, allow_zero=True)
    damping = check_positive("damping", damping, allow_zero=True)
    ops = []
    for i in range(n):
        def on(label, i=i):
            return "I" * (n - 1 - i) + label + "I" * i
        if dephasing:
            ops.append(np.sqrt(dephasing) * SparsePauliOp(on("Z")))
        if damping:  # sigma^- = |1><0| = (X - iY)/2
            ops.append(np.sqrt(damping) * SparsePauliOp([on("X"), on("Y")], [0.5, -0.5j]))
    return ops


def coherence_liouvillian(op: SparsePauliOp, jumps: list[SparsePauliOp]):
    """The QuTiP superoperator ``X -> -i H X + sum_k D[L_k](X)`` of the module docstring."""
    qutip = require("qutip", purpose="the 'lindblad' Krylov backend")
    H = to_qutip(op)
    L = qutip.spre(-1j * H)
    for c in jumps:
        L = L + qutip.lindblad_dissipator(to_qutip(c))
    return L


def acquire_lindblad(op: SparsePauliOp, refs: np.ndarray, times: np.ndarray, dt: float, *, dephasing: float,
                     damping: float, with_h: bool, seed=None) -> KrylovData:
    """Krylov rows under decoherence (see the module docstring); called by :func:`qdyn.krylov.acquire`."""
    qutip = require("qutip", purpose="the 'lindblad' Krylov backend")
    n = op.num_qubits
    jumps = jump_operators(n, dephasing=dephasing, damping=damping)
    n_refs, n_times = refs.shape[0], times.size
    s = np.zeros((n_refs, n_refs, n_times), dtype=complex)
    h = np.zeros_like(s) if with_h else None
    with Stopwatch() as clock:
        L = coherence_liouvillian(op, jumps)
        Hq = to_qutip(op)
        kets = [state_to_qutip(r) for r in refs]
        options = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 100_000, "store_states": True,
                   "normalize_output": False}  # X is not a density matrix: its trace is the signal
        for a in range(n_refs):
            for b in range(n_refs):
                x0 = kets[b] * kets[a].dag()
                states = qutip.mesolve(L, x0, times, options=options).states
                s[a, b] = [x.tr() for x in states]
                if with_h:
                    h[a, b] = [(Hq * x).tr() for x in states]
    for arr in (s, h):
        if arr is not None:
            arr[:, :, 0] = (arr[:, :, 0] + arr[:, :, 0].conj().T) / 2
    resources = Resources(evolutions=n_refs * n_refs * (n_times - 1), wall_time=clock.elapsed)
    metadata = make_metadata(seed=seed if isinstance(seed, int) else None, backend="lindblad",
                             dephasing=float(dephasing), damping=float(damping), n_refs=n_refs, n_times=n_times,
                             dt=dt)
    bounds = spectral_bounds(op, method="lanczos")
    zeros = np.zeros_like(s)
    return KrylovData(times=times, dt=dt, s=s, h=h, s_err=zeros, h_err=None if h is None else zeros.copy(),
                      bounds=tuple(map(float, bounds)), backend="lindblad", resources=resources, metadata=metadata)
