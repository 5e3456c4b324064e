"""Baselines: adiabatic preparation, Lin-Tong eigenstate filtering, imaginary time; same result fields."""

import dataclasses

import numpy as np
import pytest
from scipy.linalg import expm

from qdyn.cooling import CoolingResult, cool, normalise_hamiltonian, ring_with_field, spectral_normalisation
from qdyn.cooling.baselines import adiabatic, eigenstate_filter, imaginary_time, lin_tong_filter
from qdyn.states import plus_state


@pytest.fixture(scope="module")
def ring6():
    H = normalise_hamiltonian(ring_with_field(6), 1.05)[0]
    w, v = np.linalg.eigh(H.to_matrix())
    return H, w, v


def test_adiabatic_slow_and_sudden_limits(ring6):
    H, w, v = ring6
    slow = adiabatic(H, total_time=200.0, steps=40)
    # adiabatic theorem: slow sweeps end in the ED ground state (measured infidelity 1.4e-4)
    assert abs(np.vdot(v[:, 0], slow.state)) ** 2 >= 0.999
    sudden = adiabatic(H, total_time=1e-3, steps=1)
    # sudden limit: the state is still |+...+>, so the fidelity is its ED overlap (error O(T) = 1e-3)
    assert sudden.fidelity == pytest.approx(abs(np.vdot(v[:, 0], plus_state(6))) ** 2, abs=2e-3)


def test_lin_tong_polynomial_bounds():
    order, gap = 12, 0.1
    r = lin_tong_filter(order, gap)
    assert r.degree == 2 * order and r(0.0) == pytest.approx(1.0, abs=1e-12)
    x = np.linspace(-1, 1, 20001)
    far = np.abs(x) >= gap
    # Lin & Tong (2020), Lemma 2: |R_l(x)| <= 2 exp(-sqrt(2) l D) for D <= |x| <= 1
    assert np.max(np.abs(r(x[far]))) <= 2 * np.exp(-np.sqrt(2) * order * gap)


def test_eigenstate_filter_converges_to_ground_state(ring6):
    H, w, v = ring6
    res = eigenstate_filter(H, orders=(2, 8, 32))
    overlap = abs(np.vdot(v[:, 0], plus_state(6))) ** 2
    assert res.fidelity >= 0.9999  # filter error 2 exp(-sqrt(2) 32 gap/2) squared, gap ~0.33: < 1e-6
    # success probability -> |<E0|psi0>|^2 (ED reference) once the filter is sharp
    assert res.success_probabilities[-1] == pytest.approx(overlap, rel=1e-4)
    assert list(res.queries_h) == [0, 4, 16, 64]
    # the post-selected filters are repeated until they succeed: queries = sum_k q_k / p_k
    assert res.resources.queries == round(float(np.sum(res.queries_h / res.success_probabilities)))
    assert res.resources.evolutions == 0


def test_imaginary_time_matches_expm(ring6):
    H, w, v = ring6
    betas = (2.0, 20.0)
    res = imaginary_time(H, betas=betas)
    psi0 = plus_state(6)
    h_n = spectral_normalisation(H).hamiltonian(H)  # betas are in the units of the normalised H_n
    for k, beta in enumerate(betas, start=1):
        out = expm(-beta * (h_n.to_matrix() + np.eye(64))) @ psi0  # reference: scipy's dense expm
        assert res.success_probabilities[k] == pytest.approx(np.vdot(out, out).real, rel=1e-10)
        fid = abs(np.vdot(v[:, 0], out)) ** 2 / np.vdot(out, out).real
        assert res.fidelities[k] == pytest.approx(fid, abs=1e-10)
    assert np.all(np.diff(res.queries_h[1:]) > 0)  # the polynomial degree grows with beta


def test_same_result_fields(ring6):
    H = ring6[0]
    results = [cool(H, steps=3), adiabatic(H, total_time=5.0, steps=3), eigenstate_filter(H, orders=(2,)),
               imaginary_time(H, betas=(1.0,))]
    names = {f.name for f in dataclasses.fields(CoolingResult)}
    for r in results:
        assert isinstance(r, CoolingResult)
        assert r.energies.size == r.fidelities.size == r.queries_h.size == r.success_probabilities.size
        assert set(r.summary()) == set(results[0].summary())
        w0 = ring6[1][0]
        assert r.ground_energy == pytest.approx(w0) and r.energy >= w0 - 1e-12
    methods = {"dynamical-cooling", "adiabatic", "eigenstate-filter", "imaginary-time"}
    assert {r.method for r in results} == methods
    assert names >= {"energies", "fidelities", "queries_h", "queries_v", "wall_times"}


def test_baselines_take_any_h_and_report_in_its_units(ring6):
    # The unscaled ring (spectrum ~[-9.1, 7.8]) against the same ring divided by 1.05 max|E| (ring6): the
    # baselines normalise both to the same H_n, so the runs agree once the energies are scaled back (rounding of
    # the two normalisations: 1e-9 relative).
    H, scale = ring_with_field(6), normalise_hamiltonian(ring_with_field(6), 1.05)[1]
    w = np.linalg.eigvalsh(H.to_matrix())
    for run in (lambda h: imaginary_time(h, betas=(2.0, 8.0)), lambda h: adiabatic(h, total_time=5.0, steps=5)):
        own, scaled = run(H), run(ring6[0])
        assert own.ground_energy == pytest.approx(w[0], rel=1e-12)  # ED of the unscaled ring
        assert np.allclose(own.energies, scale * scaled.energies, rtol=1e-9, atol=0)
        assert np.allclose(own.fidelities, scaled.fidelities, atol=1e-9)
        assert own.metadata.options["scale"] == pytest.approx(scale * scaled.metadata.options["scale"])


def test_baseline_bad_input(ring6):
    H = ring6[0]
    with pytest.raises(ValueError, match="total_time"):
        adiabatic(H, total_time=-1.0)
    with pytest.raises(ValueError, match="gap"):
        lin_tong_filter(3, 1.5)
    with pytest.raises(ValueError, match="betas"):
        imaginary_time(H, betas=(-1.0,))
    with pytest.raises(ValueError, match="V acts on"):
        adiabatic(H, V=ring_with_field(4) / 20)
