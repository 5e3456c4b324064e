"""Product formulas applied exactly, term by term, so Trotter error can be studied without circuits.

For ``H = sum_j h_j`` with Pauli terms ``h_j = c_j P_j`` (``P_j^2 = 1``), each factor is applied exactly:
``exp(-i c P s) psi = cos(c s) psi - i sin(c s) P psi``. One step of size ``dt``:

* order 1 (Lie-Trotter): ``S1(dt) = prod_{j=1..L} exp(-i h_j dt)``;
* order 2 (Strang): ``S2(dt) = prod_{j=1..L} exp(-i h_j dt/2) prod_{j=L..1} exp(-i h_j dt/2)``;
* order 2k (Suzuki, J. Math. Phys. 32, 400 (1991)):
  ``S_{2k}(dt) = S_{2k-2}(p dt)^2 S_{2k-2}((1 - 4p) dt) S_{2k-2}(p dt)^2``, ``p = 1/(4 - 4^{1/(2k-1)})``.

Terms are taken in the order of the simplified ``SparsePauliOp`` (Qiskit's ``LieTrotter``/``SuzukiTrotter``
with ``preserve_order=True`` use the same order), and the error of ``S_p(t/r)^r`` shrinks as ``(t/r)^p``.
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qdyn.errors import check_int, check_positive, check_state
from qdyn.exact.pauli_sum import PauliSum, engine_for_device
from qdyn.operators import as_pauli_op

__all__ = ["product_formula_sequence", "trotter_evolve"]


def product_formula_sequence(n_terms: int, order: int) -> list[tuple[int, float]]:
    """One step of the product formula as ``(term index, fraction of dt)`` pairs, left factor applied first."""
    check_int("n_terms", n_terms, minimum=1)
    order = check_int("order", order, minimum=1)
    if order != 1 and order % 2:
        raise ValueError(f"order must be 1 or an even number, got {order}")
    if order == 1:
        return [(j, 1.0) for j in range(n_terms)]
    if order == 2:
        half = [(j, 0.5) for j in range(n_terms)]
        return half + half[::-1]
    p = 1.0 / (4.0 - 4.0 ** (1.0 / (order - 1)))
    inner = product_formula_sequence(n_terms, order - 2)

    def scaled(f):
        return [(j, w * f) for j, w in inner]

    return scaled(p) * 2 + scaled(1 - 4 * p) + scaled(p) * 2


MAX_EXPONENTIALS = 10**7  #: default guard on the Pauli exponentials one call may apply


def trotter_evolve(H, psi, t: float, *, steps: int, order: int = 2, device: str = "cpu",
                   max_exponentials: int = MAX_EXPONENTIALS, progress: bool = False) -> np.ndarray:
    """``S_order(t/steps)^steps psi`` with every Pauli exponential applied exactly.

    The call applies ``steps * len(sequence)`` Pauli exponentials, known before it starts; more than
    ``max_exponentials`` is a ``ValueError`` giving the count (raise the guard to go ahead). ``progress`` shows a
    tqdm bar over the steps.
    """
    t = check_positive("t", t)
    steps = check_int("steps", steps, minimum=1)
    max_exponentials = check_int("max_exponentials", max_exponentials, minimum=1)
    op = as_pauli_op(H)
    engine, dev = engine_for_device(device)
    psi = check_state(psi, op.num_qubits)
    sequence = product_formula_sequence(len(op), order)
    if steps * len(sequence) > max_exponentials:
        raise ValueError(f"steps={steps} of the order-{order} formula over {len(op)} terms apply "
                         f"{steps * len(sequence):.3g} Pauli exponentials, more than max_exponentials="
                         f"{max_exponentials}; use fewer steps, a higher order, or raise max_exponentials")
    terms = [(PauliSum(SparsePauliOp(p), engine=engine, device=dev), float(c.real))
             for p, c in zip(op.paulis, op.coeffs, strict=True)]
    dt = t / steps
    state = terms[0][0].asarray(psi)
    iterator = range(steps)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="Trotter steps")
    for _ in iterator:
        for j, fraction in sequence:
            pauli, coeff = terms[j]
            angle = coeff * fraction * dt
            state = np.cos(angle) * state - 1j * np.sin(angle) * pauli.apply(state)
    return state
