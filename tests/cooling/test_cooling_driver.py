"""The cooling driver: mechanism, the issue's regression run, poly vs exact, query accounting, units, bad input."""

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp

from qdyn.cooling import SpectralNormalisation, cool, normalise_hamiltonian, ring_with_field, spectral_normalisation
from qdyn.cooling.problems import MARGIN
from qdyn.exact.evolution import chebyshev_coefficients
from qdyn.models import tfim


@pytest.fixture(scope="module")
def ring6():
    return normalise_hamiltonian(ring_with_field(6), 1.05)[0]


@pytest.fixture(scope="module")
def ring4():
    return normalise_hamiltonian(ring_with_field(4), 1.05)[0]


def _eigen(H):
    return np.linalg.eigh(H.to_matrix())


def test_regression_exact_method(ring6):
    # The regression (H / (1.05 max|E|), lam=0.5, eps=0.15, d=100 steps of time 5, mu linear down to
    # (E0+E1)/2), except that mu starts at the top of the interval QSP allows, E_max + (MARGIN - 1)(E_max - E0)/2,
    # instead of E_max + 0.1 (which lies outside it once the spectrum is centred): above the spectrum either way.
    r = cool(ring6, steps=100, lam=0.5, eps=0.15, time=5.0, method="exact")
    w, v = _eigen(ring6)
    top = w[-1] + (MARGIN - 1) * (w[-1] - w[0]) / 2
    assert r.mus[1] == pytest.approx(top, abs=1e-12) and r.mus[-1] == pytest.approx((w[0] + w[1]) / 2)
    # independent reference: the ED ground state; the target band is 0.99 +- 0.01
    fid = abs(np.vdot(v[:, 0], r.state)) ** 2
    assert fid == pytest.approx(r.fidelity, abs=1e-12)
    assert 0.98 <= fid <= 1.0  # measured 0.9885
    assert r.fidelities[0] < 0.3  # |+...+> starts far from the ground state: the gain is the cooling
    assert r.energy - w[0] < 0.02


def test_regression_poly_method(ring6):
    # 100 steps, 2.5e5 H-queries (under a second: on 6 qubits the polynomial is applied in the eigenbasis).
    # Issue: poly method within 0.01 of exact with delta = 1e-6.
    exact = cool(ring6, steps=100, lam=0.5, eps=0.15, time=5.0, method="exact")
    poly = cool(ring6, steps=100, lam=0.5, eps=0.15, time=5.0, method="poly", delta=1e-6)
    assert abs(poly.fidelity - exact.fidelity) <= 0.01


def test_poly_follows_exact_step_by_step(ring4):
    # Same mechanism on 4 qubits and 25 steps (fast). |p - erf| <= 1e-6 per application, so the states differ
    # by O(1e-6 * t * steps); 1e-3 on every step's fidelity and energy leaves ample margin.
    kw = dict(steps=25, lam=0.5, eps=0.15, time=5.0)
    exact = cool(ring4, method="exact", **kw)
    poly = cool(ring4, method="poly", delta=1e-6, **kw)
    assert np.max(np.abs(exact.fidelities - poly.fidelities)) <= 1e-3
    assert np.max(np.abs(exact.energies - poly.energies)) <= 1e-3
    assert exact.fidelity > 0.7 > exact.fidelities[0]  # it cools on the short schedule too


@pytest.mark.parametrize("lam", [0.02, 0.16])
def test_weight_below_fixed_mu_is_conserved_to_order_lambda(ring4, lam):
    w, _ = _eigen(ring4)
    gaps = np.diff(w)
    i = int(np.argmax(gaps[2:-2])) + 2  # a wide gap in the middle of the spectrum
    mu = (w[i] + w[i + 1]) / 2
    r = cool(ring4, steps=40, lam=lam, eps=0.03, time=5.0, schedule=np.full(40, mu))
    drift = np.max(np.abs(r.weights_below - r.weights_below[0]))
    # measured drift ~0.075 lam; bound 0.2 lam (O(lam), far below the O(1) transfer when mu is lowered)
    assert drift <= 0.2 * lam
    lowered = cool(ring4, steps=40, lam=lam, eps=0.03, time=5.0, mu_start=mu, mu_end=(w[0] + w[1]) / 2)
    assert abs(lowered.weights_below[-1] - lowered.weights_below[1]) > 10 * drift


def test_query_accounting(ring4):
    r = cool(ring4, steps=3, lam=0.5, eps=0.3, time=2.0, method="poly", delta=1e-4)
    degree = r.metadata.options["degree"]
    m = chebyshev_coefficients((1 + 0.5 * 1.0) * 2.0, tol=1e-13).size - 1  # ||V||_1 = 1 for -sum X / n
    assert np.all(r.queries_v[1:] == m) and r.queries_v[0] == 0
    assert np.all(r.queries_h[1:] == m * degree)
    # on 4 qubits the filter is applied in the eigenbasis of H: one dense product per application of G (m per
    # step; the recurrence's deg p products of H per G are counted in tests/cooling/test_cooling_recurrence.py).
    # The queries are what a quantum computer spends whatever the classical route: nothing is post-selected, so
    # the oracle queries are the H- and V-queries once each, and no exp(-iHt) is applied
    assert r.resources.matvecs == r.total_queries_v
    assert r.total_queries_v == 3 * m and r.resources.queries == r.total_queries_h + r.total_queries_v
    assert r.resources.evolutions == 0 and np.all(r.success_probabilities == 1.0)
    longer = cool(ring4, steps=6, lam=0.5, eps=0.3, time=2.0, method="exact", delta=1e-4)
    assert longer.total_queries_h == 2 * r.total_queries_h  # linear in the number of steps at fixed t


def test_options_ramp_random_times_refresh(ring4):
    # steps counts the whole run: the last `ramp` of them lower lam linearly to 0 at mu_end
    r = cool(ring4, steps=14, ramp=4, random_times=True, refresh_v=True, seed=7)
    assert r.lams.size == 15 and np.allclose(r.lams[-4:], [0.375, 0.25, 0.125, 0.0]) and np.all(r.times[1:] <= 10.0)
    assert np.all(r.mus[-5:] == r.mus[-5]) and r.mus[-6] > r.mus[-5]  # mu swept over 10 steps, then held
    again = cool(ring4, steps=14, ramp=4, random_times=True, refresh_v=True, seed=7)
    assert np.array_equal(r.state, again.state) and r.metadata.seed == 7
    assert set(r.summary()) >= {"energy", "fidelity", "evolutions", "queries", "wall_time"}


def test_deprecated_keywords_warn_and_run_the_same(ring4):
    kw = {"lam": 0.5, "eps": 0.3, "time": 2.0, "seed": 1}
    new = cool(ring4, steps=6, ramp=2, method="poly", store_states=True, **kw)
    with pytest.warns(DeprecationWarning) as caught:
        old = cool(ring4, steps=4, ramp_steps=2, backend="poly", record_states=True, **kw)
    messages = " ".join(str(m.message) for m in caught)
    assert "use method=" in messages and "use store_states=" in messages and "ramp=k" in messages
    assert np.array_equal(old.states, new.states) and np.array_equal(old.mus, new.mus, equal_nan=True)
    schedule = np.linspace(0.6, 0.0, 4)  # an old 4-value schedule is held at its last mu for the ramp
    with pytest.warns(DeprecationWarning, match="ramp_steps"):
        held = cool(ring4, steps=4, ramp_steps=2, schedule=schedule, **kw)
    assert np.allclose(held.mus[1:], np.append(schedule, [0.0, 0.0]))
    with pytest.raises(TypeError, match="both 'backend'"):
        cool(ring4, steps=2, backend="poly", method="exact")
    with pytest.warns(DeprecationWarning, match="BACKENDS has moved"):
        from qdyn.cooling.driver import BACKENDS
    assert BACKENDS == ("exact", "poly", "circuit")


def test_any_hermitian_h_is_normalised_and_reported_in_its_own_units():
    # TFIM ring, n = 8, J = g = 1 (spectrum +-10.25, not inside [-1, 1]): cool normalises it itself.
    H = tfim(8)
    r = cool(H, steps=60, seed=0)
    # reference: free fermions, E0 = -sum_k sqrt(2 - 2 cos k), k = (2m+1) pi/8 (Pfeuty 1970); the dense
    # diagonalisation behind r.ground_energy agrees to rounding on |E| ~ 10 (1e-10)
    k = (2 * np.arange(8) + 1) * np.pi / 8
    e0 = -float(np.sum(np.sqrt(2 - 2 * np.cos(k))))
    assert r.ground_energy == pytest.approx(e0, abs=1e-10)
    assert r.energies[0] == pytest.approx(-8.0, abs=1e-12)  # <+|H|+> = -g n exactly
    w = np.linalg.eigvalsh(H.to_matrix())
    # E - E0 = sum_j p_j (E_j - E0) lies in [0, (1 - F)(E_max - E0)] for fidelity F: units and fidelity agree
    assert 0.0 <= r.energy - e0 <= (1 - r.fidelity) * (w[-1] - e0) + 1e-10
    assert r.fidelity > 0.9  # it cools (measured 0.957 from 0.42)
    norm = SpectralNormalisation(r.metadata.options["shift"], r.metadata.options["scale"])
    lanczos = spectral_normalisation(H)  # the same map from the exact spectral bounds: equal to rounding
    assert norm.shift == pytest.approx(lanczos.shift, abs=1e-10) and norm.scale == pytest.approx(lanczos.scale)
    assert norm.shift == pytest.approx(0.0, abs=1e-10) and norm.scale == pytest.approx(MARGIN * w[-1], rel=1e-12)
    # the same run on the normalised H, mapped back: the normalisation of H_n is the identity up to rounding,
    # so every energy agrees to 1e-9 relative (1e-12 from the map, amplified by 60 steps of rounding)
    manual = cool(norm.hamiltonian(H), steps=60, seed=0)
    assert manual.metadata.options["scale"] == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(norm.denormalise(manual.energies), r.energies, rtol=1e-9, atol=0)
    assert np.allclose(norm.denormalise(manual.mus[1:]), r.mus[1:], rtol=1e-9, atol=0)
    assert norm.denormalise(manual.ground_energy) == pytest.approx(r.ground_energy, rel=1e-12)
    assert np.allclose(manual.fidelities, r.fidelities, atol=1e-9)
    assert manual.total_queries_h == r.total_queries_h


def test_rows_are_one_per_step_and_quantity(ring4):
    r = cool(ring4, steps=3, lam=0.5, eps=0.3, time=2.0)
    frame = r.to_pandas()
    assert list(frame.columns) == ["step", "observable", "value", "error", "reference"]
    energy = frame[frame["observable"] == "energy"]
    assert list(energy["step"]) == [0, 1, 2, 3] and np.allclose(energy["value"], r.energies)
    assert np.allclose(energy["reference"], r.ground_energy)
    wide = frame.pivot(index="step", columns="observable", values="value")
    assert set(wide.columns) == {"energy", "fidelity", "weight_below", "mu", "lam", "time", "success_probability",
                                 "queries_h", "queries_v"}
    assert np.allclose(wide["queries_h"], r.queries_h) and np.isnan(wide.loc[0, "mu"])


def test_bad_input(ring4):
    with pytest.raises(ValueError, match="eps"):
        cool(ring4, eps=0.0, steps=2)
    with pytest.raises(ValueError, match="delta"):
        cool(ring4, delta=1.5, steps=2)
    with pytest.raises(ValueError, match="delta"):
        cool(ring4, delta=0.0, steps=2)
    with pytest.raises(ValueError, match="mu"):
        cool(ring4, steps=2, schedule=[0.5, 1.5])
    with pytest.raises(ValueError, match="V acts on 3 qubits"):
        cool(ring4, V=SparsePauliOp("XII"), steps=2)
    with pytest.raises(ValueError, match="method"):
        cool(ring4, steps=2, method="qpu")
    with pytest.raises(ValueError, match="ramp"):
        cool(ring4, steps=2, ramp=2)
    with pytest.raises(ValueError, match="single eigenvalue"):
        cool(SparsePauliOp("III", [2.0]), steps=2)
    with pytest.raises(ValueError, match="max_degree"):
        cool(ring4, steps=2, eps=1e-3, method="poly", max_degree=200)
    with pytest.raises(ValueError, match="psi0"):
        cool(ring4, psi0=np.ones(8), steps=2)


def test_poly_method_on_the_torch_engine(ring4):
    kw = {"steps": 3, "lam": 0.5, "eps": 0.3, "time": 2.0, "delta": 1e-6}
    numpy_run = cool(ring4, method="poly", **kw)
    torch_run = cool(ring4, method="poly", device="torch-cpu", **kw)
    # same arithmetic in complex128 on another engine: agreement to rounding
    assert np.linalg.norm(numpy_run.state - torch_run.state) <= 1e-12
    with pytest.raises(ValueError, match="device"):
        cool(ring4, method="exact", device="torch-cpu", steps=2)


def test_cuda_without_gpu_is_a_clear_error(ring4):
    from qdyn.devices import cuda_works

    if cuda_works():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="(?i)cuda|gpu"):
        cool(ring4, method="poly", device="cuda", steps=2)
