"""Exact and Trotterised evolution against scipy.linalg.expm, with the sign of time checked."""

import warnings

import numpy as np
import pytest
from scipy.linalg import expm

from qdyn import exact, models, states
from qdyn.errors import ConvergenceWarning


@pytest.fixture(scope="module")
def system():
    H = models.heisenberg(6, delta=0.7, h=0.3)
    psi = states.haar_random_state(6, seed=11)
    return H, H.to_matrix(), psi


@pytest.mark.parametrize("t", [0.05, 1.0, 7.5])
def test_evolve_matches_expm(system, t):
    H, matrix, psi = system
    # 1e-10: the Chebyshev series is cut at 1e-13; expm is accurate to rounding.
    np.testing.assert_allclose(exact.evolve(H, psi, t), expm(-1j * t * matrix) @ psi, atol=1e-10)


def test_time_sign_is_exp_minus_iHt():
    # A single qubit H = Z: exp(-iZt)|+> has relative phase exp(+2it) on |1> relative to |0>.
    H = models.tfim(2, J=0.0, g=0.0) + models.heisenberg(2, J=0.0, h=1.0)
    psi = states.plus_state(2)
    t = 0.3
    out = exact.evolve(H, psi, t)
    diag = np.diag(H.to_matrix()).real
    np.testing.assert_allclose(out, np.exp(-1j * diag * t) * psi, atol=1e-12)


def test_evolve_on_a_time_grid(system):
    H, matrix, psi = system
    times = np.array([0.0, 0.4, 0.8, 2.0])
    out = exact.evolve(H, psi, times)
    for state, t in zip(out, times, strict=True):
        np.testing.assert_allclose(state, expm(-1j * t * matrix) @ psi, atol=1e-10)


@pytest.mark.parametrize("representation", ["csr", "free"])
def test_evolve_complex_hamiltonian_in_both_representations(representation):
    # An odd-Y Hamiltonian (complex matrix elements), given as a PauliSum in each representation, evolved twice
    # (the second call reuses the cached bounds and scaled operator): both calls match expm to 1e-10 (series cut
    # at 1e-13, expm accurate to rounding), at a short time (Pauli bounds) and a long one (Lanczos bounds).
    from qiskit.quantum_info import SparsePauliOp

    H = SparsePauliOp(["XYZII", "IYYXZ", "ZIIIZ", "YZZZX", "IIXII"], [0.7, -0.4, 1.1, 0.3, 0.5])
    op = exact.PauliSum(H, representation=representation)
    psi = states.haar_random_state(5, seed=4)
    for t in (0.7, 0.7, 500.0, 500.0):
        np.testing.assert_allclose(exact.evolve(op, psi, t), expm(-1j * t * H.to_matrix()) @ psi, atol=1e-10)


def test_evolve_on_torch_cpu(system):
    H, matrix, psi = system
    out = exact.evolve(H, psi, 1.3, device="torch-cpu")
    np.testing.assert_allclose(out.numpy(), expm(-1.3j * matrix) @ psi, atol=1e-10)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_trotter_error_scales_with_the_order(system, order):
    H, matrix, psi = system
    t = 1.0
    reference = expm(-1j * t * matrix) @ psi
    steps = np.array([8, 16, 32]) if order < 4 else np.array([4, 8, 16])
    errors = [np.linalg.norm(exact.trotter_evolve(H, psi, t, steps=int(s), order=order) - reference)
              for s in steps]
    slope = np.polyfit(np.log(t / steps), np.log(errors), 1)[0]
    # The leading error term is O(dt^order); the fitted slope is within 0.2 of it in the asymptotic regime.
    assert abs(slope - order) < 0.2, (order, slope, errors)


def test_single_step_first_order_is_the_plain_product(system):
    H, _, psi = system
    expected = psi.copy()
    for label, c in zip(H.paulis, H.coeffs, strict=True):
        expected = expm(-1j * 0.2 * c.real * label.to_matrix()) @ expected
    np.testing.assert_allclose(exact.trotter_evolve(H, psi, 0.2, steps=1, order=1), expected, atol=1e-12)


def _families():
    from qiskit.quantum_info import SparsePauliOp

    rng = np.random.default_rng(7)
    labels = ["".join(rng.choice(list("IXYZ"), 5)) for _ in range(12)]
    yield "tfim", models.tfim(6, J=1.0, g=0.7)
    yield "heisenberg", models.heisenberg(6)
    yield "random", SparsePauliOp(labels, rng.normal(size=12)).simplify()


@pytest.mark.parametrize("name, H", list(_families()))
@pytest.mark.parametrize("t", [0.3, 4.0, 120.0])
@pytest.mark.parametrize("tol", [1e-13, 1e-7, 1e-3])
def test_chebyshev_error_bound_holds(name, H, t, tol):
    # The reported bound is rigorous (dropped Bessel coefficients, |T_k| <= 1 on the spectrum): the distance to
    # scipy's expm must lie within it (plus 1e-12 of accumulated rounding), on models the propagator was not
    # tuned on, for short, long (split into sub-steps) and very long times.
    psi = states.haar_random_state(H.num_qubits, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        out, report = exact.evolve(H, psi, t, tol=tol, full_output=True)
    true = np.linalg.norm(out - expm(-1j * t * H.to_matrix()) @ psi)
    assert true <= report.error_bound + 1e-12 * max(1.0, report.series)
    assert report.error_bound < 100 * tol * report.series  # and it is useful: within a few tol per series
    if t == 120.0:
        assert report.series > 1  # split into sub-steps: the coefficient arrays stay small


def test_long_times_and_many_steps_are_refused_before_any_work():
    H, psi = models.tfim(10), states.plus_state(10)
    with pytest.raises(ValueError, match=r"needs about 2\.\d+e\+10 products with H, more than max_matvecs"):
        exact.evolve(H, psi, 1e9)
    with pytest.raises(ValueError, match="apply 4e\\+10 Pauli exponentials, more than max_exponentials"):
        exact.trotter_evolve(H, psi, 1.0, steps=10**9)


def test_a_register_too_large_for_memory_is_a_clear_error():
    from qdyn.errors import InsufficientMemoryError

    with pytest.raises(InsufficientMemoryError, match="exact engine on 40 qubits .* needs 48 TiB"):
        exact.ground_state(models.tfim(40))


def test_lanczos_reports_convergence_and_its_residual_bounds_the_error():
    # |E - E_exact| <= ||H v - E v|| for a Hermitian H (Weinstein bound); E_exact from the free-fermion formula.
    n = 14
    m = np.arange(1, n // 2 + 1)
    exact_e0 = -np.sum(2 * np.sqrt(1 + 0.8**2 - 2 * 0.8 * np.cos((2 * m - 1) * np.pi / n)))
    result = exact.ground_state(models.tfim(n, J=1.0, g=0.8), seed=1)
    assert result.converged and result.error_kind == "bound"
    assert abs(result.energy - exact_e0) <= result.residuals[0] + 1e-12


def test_lanczos_that_stops_short_warns_and_says_so(monkeypatch):
    import qdyn.exact.spectrum as spectrum

    real = spectrum.spla.eigsh

    def sloppy(*args, **kwargs):
        values, vectors = real(*args, **kwargs)
        vectors = vectors + 1e-2 * np.random.default_rng(0).standard_normal(vectors.shape)
        return values, vectors / np.linalg.norm(vectors, axis=0)

    monkeypatch.setattr(spectrum.spla, "eigsh", sloppy)
    with pytest.warns(ConvergenceWarning, match="Lanczos residuals .* lower tol"):
        result = exact.ground_state(models.tfim(12), method="lanczos", seed=0)
    assert not result.converged
