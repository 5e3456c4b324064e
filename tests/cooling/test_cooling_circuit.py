"""The circuit side of cooling: the coherent step circuit against the poly method and dense references, the
filter routes, amplification, gate-level circuits and their resources."""

import numpy as np
import pytest
from scipy.linalg import expm

from qdyn.circuits.simulate import apply_circuit, simulate_statevector
from qdyn.cooling import (
    CoherentCoolingStep,
    SpectralNormalisation,
    cool,
    cooling_circuit_resources,
    default_perturbation,
    gate_level_step_circuit,
    normalise_hamiltonian,
    ring_with_field,
    spectral_normalisation,
)
from qdyn.exact.evolution import chebyshev_coefficients
from qdyn.qsp import erf_polynomial, evolution_phases, fourier_sign_series, qetu_sign_polynomial

ETA = 1e-4  #: the default margin of the evolution polynomials
P_STEP = (1 - ETA) ** 2 / 4  #: post-selection probability of a step: |(1 - eta) e^{-iGt} / 2|^2


@pytest.fixture(scope="module")
def ring3():
    return normalise_hamiltonian(ring_with_field(3), 1.05)[0]


def _normalisation(H) -> SpectralNormalisation:
    w = np.linalg.eigvalsh(H.to_matrix())
    return spectral_normalisation(H, bounds=(w[0], w[-1]))


def _regression_mus(H, indices):
    """mu of the default 100-step schedule (top of the normalised interval -> (E0 + E1)/2) at ``indices``."""
    w = np.linalg.eigvalsh(H.to_matrix())
    return np.linspace(_normalisation(H).denormalise(1.0), (w[0] + w[1]) / 2, 100)[list(indices)]


def _shifted(H, mu, alpha):
    return (H.to_matrix() - mu * np.eye(2**H.num_qubits)) / alpha


def test_circuit_method_matches_poly_step_by_step_on_the_regression_ring():
    # The regression model (n = 6 ring, lam = 0.5, eps = 0.15, t = 5, delta = 1e-6): three steps at the
    # first, middle and last mu of its schedule, each one coherent 11-qubit circuit (dilation encodings).
    H = normalise_hamiltonian(ring_with_field(6), 1.05)[0]
    kw = {"steps": 3, "lam": 0.5, "eps": 0.15, "time": 5.0, "delta": 1e-6, "alpha": 2.0,
          "schedule": _regression_mus(H, (0, 49, 99)), "store_states": True}
    poly = cool(H, method="poly", **kw)
    circ = cool(H, method="circuit", **kw)
    # same filter and propagator polynomials; the phases rebuild them to 1e-12 (measured distance ~1e-12)
    assert np.max(np.linalg.norm(circ.states - poly.states, axis=1)) <= 1e-8
    assert np.max(np.abs(circ.fidelities - poly.fidelities)) <= 1e-8
    assert circ.total_queries_h == poly.total_queries_h and circ.total_queries_v == poly.total_queries_v
    # post-selection of (C - iS)/2 with C - iS = (1 - eta) e^{-iGt} up to the 1e-13 truncation: (1 - eta)^2/4
    assert circ.success_probabilities[0] == 1.0
    assert np.allclose(circ.success_probabilities[1:], P_STEP, rtol=0, atol=1e-9)
    # each step is repeated until it succeeds: 1/p = 4/(1 - eta)^2 times the queries of one attempt
    attempt = circ.total_queries_h + circ.total_queries_v
    assert circ.resources.queries == pytest.approx(attempt / P_STEP, abs=1)  # rounded to an integer
    assert poly.resources.queries == attempt and circ.resources.evolutions == 0
    assert circ.resources.circuits == 3 and circ.metadata.backend == "statevector"
    # the largest step at gate level (its query sequence on LCU encodings): counted, and deeper than its m d
    # sequential queries to U_A
    assert circ.resources.two_qubit_gates > circ.queries_h.max() > 0
    assert circ.resources.depth > circ.queries_h.max()


def test_circuit_method_with_lcu_encodings_and_its_gate_count(ring3):
    kw = {"steps": 1, "lam": 0.5, "eps": 0.3, "time": 1.0, "delta": 1e-6, "alpha": 3.0, "schedule": [0.2]}
    poly = cool(ring3, method="poly", **kw)
    circ = cool(ring3, method="circuit", circuit_options={"block_encoding": "lcu"}, **kw)
    assert np.linalg.norm(circ.state - poly.state) <= 1e-8
    assert circ.total_queries_h == poly.total_queries_h
    # the depth and two-qubit gates are those of the same step built at gate level from the run's own H_n, mu_n
    norm = SpectralNormalisation(circ.metadata.options["shift"], circ.metadata.options["scale"])
    counts = cooling_circuit_resources(norm.hamiltonian(ring3), eps=0.3 / norm.scale, delta=1e-6, alpha=3.0,
                                       mu=float(norm.normalise(0.2)), time=1.0, lam=0.5)
    assert circ.resources.two_qubit_gates == counts["step_two_qubit_gates"] > 0
    assert circ.resources.depth == counts["step_depth"] > 0
    assert circ.queries_h[1] == counts["queries_h_per_step"] and circ.queries_v[1] == counts["queries_v_per_step"]


@pytest.mark.parametrize("route", ["gqsp", "qetu"])
def test_filter_routes_match_their_classical_references(route):
    # Filter routes on the time evolution inside the same coherent step circuit: "gqsp", the sign as a Fourier
    # series g(tau E) (tau (2 + eps) < pi: no phase wrap) by GQSP on e^{i tau Z H / 2}; "qetu", an even
    # polynomial p(cos(tau (E + 1)/2)) by QETU on H + 1. Both act on the normalised H_n. Reference: the series /
    # polynomial evaluated on the exact eigenvalues of H_n, G = Q f Q^dag + lam V and e^{-iGt} by dense expm.
    H = normalise_hamiltonian(ring_with_field(4), 1.05)[0]
    norm = _normalisation(H)
    w, q = np.linalg.eigh(norm.hamiltonian(H).to_matrix())
    mus, eps, delta, lam, t = _regression_mus(H, (0, 49, 99)), 0.15, 1e-6, 0.5, 5.0
    eps_n = eps / norm.scale
    if route == "gqsp":
        tau = 0.95 * np.pi / (2 + eps_n)  # the driver's default

        def reference_filter(mu_n):
            series = fourier_sign_series(mu_n, eps_n, delta, tau)
            return series.of_energy(w), 2 * series.degree
    else:
        tau = 0.95 * np.pi / 2  # the driver's default: spectrum of H_n + 1 inside [0, 2] c [0, pi/tau]

        def reference_filter(mu_n):
            p = qetu_sign_polynomial(mu_n + 1, eps_n, delta, tau)
            return p(np.cos(tau * (w + 1) / 2)), p.degree
    r = cool(H, method="circuit", steps=3, lam=lam, eps=eps, delta=delta, time=t, schedule=mus,
             store_states=True, circuit_options={"route": route})
    v = default_perturbation(4).to_matrix()
    m = chebyshev_coefficients(1.5 * t, tol=1e-13).size - 1
    psi = r.states[0]
    for k, mu in enumerate(mus, start=1):
        f, queries = reference_filter(float(norm.normalise(mu)))
        psi = expm(-1j * t * ((q * f) @ q.conj().T + lam * v)) @ psi
        # filter phases rebuild f to 1e-12, the evolution phases their polynomials to 1e-12 (measured 1e-13)
        assert np.linalg.norm(r.states[k] - psi) <= 1e-8
        assert r.queries_h[k] == m * queries  # m applications of G, each one filter
    assert r.metadata.options["route"] == route
    assert np.allclose(r.success_probabilities[1:], P_STEP, rtol=0, atol=1e-9)
    # their H-oracle is the time evolution: evolutions and V-queries, each with the post-selection overhead
    assert r.resources.evolutions == pytest.approx(r.total_queries_h / P_STEP, abs=1)  # rounded
    assert r.resources.queries == pytest.approx(r.total_queries_v / P_STEP, abs=1)
    assert r.resources.depth == r.resources.two_qubit_gates == 0  # no gate-level form of these filters here


def test_circuit_method_with_a_fresh_random_v_each_step(ring3):
    # refresh_v draws a new V (X, Y and Z fields) each step: the circuit rebuilds U_V and U_G each time
    kw = {"steps": 3, "lam": 0.5, "eps": 0.3, "time": 1.0, "schedule": [0.2, 0.2, 0.2], "refresh_v": True,
          "seed": 3, "store_states": True}
    poly = cool(ring3, method="poly", **kw)
    circ = cool(ring3, method="circuit", **kw)
    assert np.max(np.linalg.norm(circ.states - poly.states, axis=1)) <= 1e-8


def test_amplified_steps_match_poly_with_success_near_one():
    # One round of oblivious amplitude amplification per step: block sin(3 theta) U with sin(theta) = (1 - eta)/2
    H = normalise_hamiltonian(ring_with_field(4), 1.05)[0]
    kw = {"steps": 2, "lam": 0.5, "eps": 0.15, "time": 5.0, "delta": 1e-6, "schedule": _regression_mus(H, (0, 99)),
          "store_states": True}
    poly = cool(H, method="poly", **kw)
    amp = cool(H, method="circuit", circuit_options={"amplify": True}, **kw)
    assert np.max(np.linalg.norm(amp.states - poly.states, axis=1)) <= 1e-8
    expected = np.sin(3 * np.arcsin((1 - ETA) / 2)) ** 2  # 1 - 3e-8
    assert np.allclose(amp.success_probabilities[1:], expected, rtol=0, atol=1e-9)
    assert amp.total_queries_h == 3 * poly.total_queries_h and amp.total_queries_v == 3 * poly.total_queries_v
    with pytest.raises(TypeError, match="amplify"):
        cool(H, steps=1, method="circuit", circuit_options={"amplify": "yes"})


def test_gate_level_step_circuit_is_the_evolution():
    # The counted circuit (gate-level encodings, flag rotations, controlled pieces) simulated gate by gate, against
    # e^{-iGt} of G = p(A) + lam V from dense linear algebra: the post-selected block is (1 - eta) e^{-iGt}/2.
    H = normalise_hamiltonian(ring_with_field(2), 1.05)[0]
    alpha, mu, lam, t = float(np.sum(np.abs(H.coeffs))) + 1.0, 0.1, 0.5, 2.0
    poly = erf_polynomial(alpha / 0.3, 1e-6)
    circuit, layout = gate_level_step_circuit(H, poly, mu=mu, lam=lam, time=t, alpha=alpha, eta=ETA)
    assert circuit.num_qubits == 2 + layout.n_block + 5  # system, block ancillas, c_p, b, flag, c, e
    w, v = np.linalg.eigh(_shifted(H, mu, alpha))
    g = (v * poly(w)) @ v.conj().T + lam * default_perturbation(2).to_matrix()
    reference = expm(-1j * t * g)
    for col in (0, 3):
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[col] = 1.0
        out = apply_circuit(circuit, initial)[:4]
        # phases to 1e-12, Jacobi-Anger truncated at 1e-13: 1e-9 leaves a wide margin (measured 2e-12)
        assert np.max(np.abs(out / ((1 - ETA) / 2) - reference[:, col])) <= 1e-9
    # the amplified gate-level circuit (-W R W^dag R W, multi-controlled-Z reflections): block sin(3 theta) U
    amplified, _ = gate_level_step_circuit(H, poly, mu=mu, lam=lam, time=t, alpha=alpha, eta=ETA, amplify=True)
    initial = np.zeros(2**amplified.num_qubits, dtype=complex)
    initial[0] = 1.0
    out = apply_circuit(amplified, initial)[:4]
    assert np.max(np.abs(out / np.sin(3 * np.arcsin((1 - ETA) / 2)) - reference[:, 0])) <= 1e-9
    res = cooling_circuit_resources(H, eps=0.3, delta=1e-6, mu=mu, time=t, alpha=alpha, amplify=True)
    m = chebyshev_coefficients((1 + lam) * t, tol=1e-13).size - 1  # ||V||_1 = 1
    assert res["queries_h"] == 3 * m * poly.degree and res["queries_v"] == 3 * m  # three uses of the step
    assert res["qubits"] == circuit.num_qubits and res["success_probability"] > 1 - 1e-7
    assert res["two_qubit_gates"] > 3 * m * res["g_two_qubit_gates"]


def test_step_circuit_simulators_agree():
    H = normalise_hamiltonian(ring_with_field(2), 1.05)[0]
    step = CoherentCoolingStep(H, erf_polynomial(2.0 / 0.6, 1e-3), alpha=2.0)
    circuit = step.circuit(0.1, 0.5, default_perturbation(2), 0.5)
    rng = np.random.default_rng(5)
    initial = rng.standard_normal(2**circuit.num_qubits) + 1j * rng.standard_normal(2**circuit.num_qubits)
    initial /= np.linalg.norm(initial)
    # the tensordot simulator against Qiskit's Statevector on the dense step circuit: rounding (1e-12)
    assert np.max(np.abs(apply_circuit(circuit, initial) - simulate_statevector(circuit, initial))) <= 1e-12


def test_coherent_circuit_bad_input(ring3):
    with pytest.raises(ValueError, match="circuit_options"):
        cool(ring3, steps=1, method="circuit", circuit_options={"depth": 3})
    with pytest.raises(ValueError, match="route"):
        cool(ring3, steps=1, method="circuit", circuit_options={"route": "qsp"})
    with pytest.raises(ValueError, match="tau"):
        cool(ring3, steps=1, method="circuit", circuit_options={"route": "gqsp", "tau": 1.6})
    with pytest.raises(ValueError, match="tau"):
        cool(ring3, steps=1, method="circuit", circuit_options={"route": "qetu", "tau": 1.7})
    with pytest.raises(ValueError, match="tau"):
        cool(ring3, steps=1, method="circuit", circuit_options={"tau": 1.0})
    with pytest.raises(ValueError, match="block_encoding"):
        cool(ring3, steps=1, method="circuit", circuit_options={"block_encoding": "qubitized"})
    with pytest.raises(ValueError, match="eta"):
        cool(ring3, steps=1, method="circuit", circuit_options={"eta": 1.5})
    with pytest.raises(ValueError, match="odd"):
        CoherentCoolingStep(ring3, np.array([0.1, 0.0, 0.5]), alpha=2.0)
    with pytest.raises(ValueError, match="too small"):
        evolution_phases(1e-9, 1)


def test_resource_counts_match_cooling_accounting():
    # the circuit is built for a normalised H; on H_n = its own normalisation cool's widths equal the given ones
    H = spectral_normalisation(ring_with_field(4)).hamiltonian(ring_with_field(4))
    alpha = float(np.sum(np.abs(H.coeffs))) + 1.0
    res = cooling_circuit_resources(H, eps=0.3, delta=1e-4, steps=3, time=2.0, alpha=alpha)
    run = cool(H, steps=3, eps=0.3, delta=1e-4, time=2.0, alpha=alpha, method="exact")
    # queries counted on the gate-level circuit equal the driver's accounting m d and m per step
    assert res["queries_h"] == run.total_queries_h and res["queries_v"] == run.total_queries_v
    assert res["queries_h_per_step"] == res["evolution_degree"] * res["degree"]
    m = int(np.ceil(np.log2(len(H) + 3)))  # H terms + identity + two padding terms
    assert res["block_ancillas"] == m
    assert res["qubits"] == 4 + m + 5  # system, block ancillas, c_p, b, flag, c, e
    # a step holds m queries to U_G, each with more two-qubit gates than its d queries to U_A alone
    assert res["step_two_qubit_gates"] >= res["evolution_degree"] * res["g_two_qubit_gates"] > 0
    assert res["two_qubit_gates"] == 3 * res["step_two_qubit_gates"]
    assert res["step_depth"] >= res["evolution_degree"] * res["degree"]  # the U_A queries act in sequence
