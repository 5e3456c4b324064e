"""Clenshaw's recurrence and the classical cooling steps built on it, against exact diagonalisation.

Reference everywhere: the dense matrix of ``G = f_mu(H) + lam V`` with ``f_mu(H) = Q diag(f_mu(E_j)) Q^dag`` from
``numpy.linalg.eigh`` and ``e^{-i G t}`` from ``scipy.linalg.expm`` -- no Chebyshev series, no recurrence.
Tolerance 1e-10: the propagator's series is truncated at ``tol = 1e-13`` and the recurrences add ``O(d eps_mach)``
(``d <= 100``) per application, ~1e-13 per step, so ten steps stay below 1e-11.
"""

import numpy as np
import pytest
import scipy.linalg
from qiskit.quantum_info import SparsePauliOp
from scipy.special import erf

from qdyn.cooling import cool, normalise_hamiltonian, ring_with_field
from qdyn.cooling.accounting import propagator_degree
from qdyn.cooling.classical_steps import DenseSpectrum, PolyStep, SpectralStep, poly_filter
from qdyn.cooling.problems import default_perturbation
from qdyn.cooling.recurrence import AppliedShift, CSRShift, DenseOperator, clenshaw
from qdyn.exact.pauli_sum import PauliSum
from qdyn.operators import pauli_norm
from qdyn.qsp import erf_polynomial

TOL = 1e-10


@pytest.fixture(scope="module")
def ring5():
    return normalise_hamiltonian(ring_with_field(5), 1.05)[0]


@pytest.fixture(scope="module")
def chiral5():
    """The ring plus a Dzyaloshinskii-Moriya term 0.3 sum (X_i Y_i+1 - Y_i X_i+1): a complex Hermitian matrix."""
    labels = []
    for i in range(5):
        for a, b, sign in (("X", "Y", 1.0), ("Y", "X", -1.0)):
            label = ["I"] * 5
            label[4 - i], label[4 - (i + 1) % 5] = a, b
            labels.append(("".join(label), 0.3 * sign))
    return normalise_hamiltonian(ring_with_field(5) + SparsePauliOp.from_list(labels), 1.05)[0]


def _reference_step(H, V, psi, f_values, lam, t):
    """``expm(-i t (Q diag(f(E)) Q^dag + lam V)) psi`` densely."""
    e, q = np.linalg.eigh(H.to_matrix())
    g = (q * f_values(e)) @ q.conj().T + lam * V.to_matrix()
    return scipy.linalg.expm(-1j * t * g) @ psi


def _random_state(dim, seed):
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=dim) + 1j * rng.normal(size=dim)
    return psi / np.linalg.norm(psi)


def test_clenshaw_on_every_operator_matches_the_series_on_the_eigenvalues(ring5):
    # f(X) v = sum_k c_k T_k(X) v with X = (H - mu)/alpha; reference: chebval on the eigenvalues of H (eigh)
    mu, alpha = 0.3, 2.0
    coeffs = np.random.default_rng(0).normal(size=12) * 0.5 ** np.arange(12) + 1j * 0.1
    psi = _random_state(32, 1)
    e, q = np.linalg.eigh(ring5.to_matrix())
    expected = q @ (np.polynomial.chebyshev.chebval((e - mu) / alpha, coeffs) * (q.conj().T @ psi))
    h = PauliSum(ring5)
    shifted = [CSRShift(h.matrix).set_shift(2 / alpha, mu), AppliedShift(h.apply, psi).set_shift(2 / alpha, mu),
               DenseOperator(2 * (ring5.to_matrix() - mu * np.eye(32)).real / alpha)]
    for op in shifted:
        out = clenshaw(op, coeffs, psi, np.zeros(32, complex), (np.zeros(32, complex), np.zeros(32, complex)))
        assert np.linalg.norm(out - expected) <= 1e-13
        assert op.products == coeffs.size - 1  # one product of M per degree
    torch = pytest.importorskip("torch")
    ht = PauliSum(ring5, engine="torch", device="cpu")
    vt = torch.as_tensor(psi)
    for op in (AppliedShift(ht.apply, vt), CSRShift(h.matrix, device="cpu")):  # matrix-free and sparse tensor
        op.set_shift(2 / alpha, mu)
        out = clenshaw(op, coeffs, vt, op.new_vector(), (op.new_vector(), op.new_vector()))
        assert np.linalg.norm(out.numpy() - expected) <= 1e-13


@pytest.mark.parametrize("route", ["spectral", "csr", "free", "torch"])
@pytest.mark.parametrize("kind", ["real", "complex"])
def test_one_poly_step_on_every_route_matches_the_dense_reference(ring5, chiral5, route, kind):
    # a milder filter and a shorter time than the defaults (degree 47, 14 applications of G): the torch engine's
    # matrix-free products are slow on 5 qubits, and the comparison does not depend on the sizes
    poly, alpha, mu, lam, t = erf_polynomial(2 / 0.3, 1e-6), 2.0, 0.2, 0.5, 2.0
    H = ring5 if kind == "real" else chiral5
    V = default_perturbation(5)
    if kind == "complex":  # a complex V too: half the field along y
        V = (V + SparsePauliOp.from_list([("IIIIY", -0.2), ("IIYII", -0.2)])).simplify()
    psi = _random_state(32, 2)
    if route == "spectral":
        step = SpectralStep(DenseSpectrum.of(H), poly_filter(poly, alpha), 1e-13)
        assert np.iscomplexobj(step.spec.vectors) == (kind == "complex")  # real eigenvectors for a real H
    elif route == "torch":
        pytest.importorskip("torch")
        step = PolyStep(PauliSum(H, engine="torch", device="cpu"), poly, alpha, 1e-13)
    else:
        step = PolyStep(PauliSum(H, representation=route), poly, alpha, 1e-13)
    out, prob = step(psi, mu, lam, V, t)
    expected = _reference_step(H, V, psi, lambda e: poly((e - mu) / alpha), lam, t)
    assert prob == 1.0 and np.linalg.norm(out - expected) <= TOL
    # products made: deg p of H per application of G on the recurrence routes, one dense G in the eigenbasis
    applications = propagator_degree((1 + lam * pauli_norm(V)) * t, 1e-13)
    assert step.matvecs == applications * (1 if route == "spectral" else poly.degree)


def test_cool_states_match_the_dense_reference_for_poly_and_exact(ring5, monkeypatch):
    # ten steps, mu swept and lam ramped to 0 over the last three: every stored state against the dense reference
    kw = dict(steps=10, ramp=3, lam=0.5, eps=0.15, time=3.0, delta=1e-6, store_states=True)
    V = default_perturbation(5)
    runs = {"exact": cool(ring5, method="exact", **kw), "poly (spectral)": cool(ring5, method="poly", **kw)}
    monkeypatch.setattr("qdyn.cooling.driver.spectral_is_cheaper", lambda *args: False)
    runs["poly (recurrence)"] = cool(ring5, method="poly", **kw)
    evaluations = [r.metadata.options["evaluation"] for r in runs.values()]
    assert evaluations == ["eigenbasis", "eigenbasis", "recurrence"]
    poly = erf_polynomial(2 / (0.15 / runs["exact"].metadata.options["scale"]), 1e-6)
    shift, scale = runs["exact"].metadata.options["shift"], runs["exact"].metadata.options["scale"]
    h_n = ((ring5 - SparsePauliOp("I" * 5, shift)) / scale).simplify()  # the H_n that cool stepped with
    eps_n = 0.15 / scale
    for name, r in runs.items():
        psi = r.states[0]
        for k in range(1, 11):
            mu_n = (r.mus[k] - shift) / scale
            if name == "exact":
                f = lambda e, mu_n=mu_n: erf((e - mu_n) / eps_n)  # noqa: E731
            else:
                f = lambda e, mu_n=mu_n: poly((e - mu_n) / 2.0)  # noqa: E731
            psi = _reference_step(h_n, V, psi, f, r.lams[k], r.times[k])
            psi /= np.linalg.norm(psi)
            assert np.linalg.norm(r.states[k] - psi) <= TOL, (name, k)
