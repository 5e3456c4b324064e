"""QSP/QSVT circuits: block encodings, the real-part QSVT circuit, the cooling circuit backend, resources."""

import numpy as np
import pytest
from qiskit.quantum_info import Operator

from qdyn.circuits.block_encoding import dilation_block_encoding, lcu_block_encoding
from qdyn.circuits.qsp import qsvt_circuit
from qdyn.circuits.qsp_cooling import cooling_circuit_resources, simulate_statevector
from qdyn.cooling import cool, normalise_hamiltonian, ring_with_field, sign_polynomial, solve_phases_newton
from qdyn.exact.evolution import chebyshev_coefficients


@pytest.fixture(scope="module")
def ring3():
    return normalise_hamiltonian(ring_with_field(3), 1.05)[0]


def _shifted(H, mu, alpha):
    return (H.to_matrix() - mu * np.eye(2**H.num_qubits)) / alpha


@pytest.mark.parametrize(("kind", "alpha"), [("lcu", 3.0), ("dilation", 2.0)])
def test_block_encodings(ring3, kind, alpha):
    build = lcu_block_encoding if kind == "lcu" else dilation_block_encoding
    block = build(ring3, 0.2, alpha)
    u = Operator(block.circuit).data
    # reference: the dense (H - mu)/alpha; the LCU goes through StatePreparation synthesis (rounding ~1e-14)
    assert np.max(np.abs(u[:8, :8] - _shifted(ring3, 0.2, alpha))) <= 1e-12
    assert np.max(np.abs(u - u.conj().T)) <= 1e-12  # Hermitian: a reflection, as qubitization needs
    assert block.alpha == pytest.approx(alpha)


def test_block_encoding_bad_alpha(ring3):
    with pytest.raises(ValueError, match="alpha must be >= the Pauli 1-norm"):
        lcu_block_encoding(ring3, 0.2, 1.0)
    with pytest.raises(ValueError, match="increase alpha"):
        dilation_block_encoding(ring3, 0.9, 1.0)


@pytest.mark.parametrize("kind", ["lcu", "dilation"])
def test_qsvt_circuit_postselected_block_is_the_polynomial(kind):
    H = normalise_hamiltonian(ring_with_field(2), 1.05)[0]
    alpha = 3.0 if kind == "lcu" else 2.0
    block = (lcu_block_encoding if kind == "lcu" else dilation_block_encoding)(H, -0.1, alpha)
    poly = sign_polynomial(0.4, 1e-2)
    phases = solve_phases_newton(poly, convention="qsvt").phases
    circuit = qsvt_circuit(block, phases)  # gate-level rotations (MCX + flag for the 2-ancilla LCU)
    w, v = np.linalg.eigh(_shifted(H, -0.1, alpha))
    reference = (v * poly(w)) @ v.conj().T  # p(A) from the eigendecomposition
    for col in (0, 3):
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[col] = 1.0
        out = simulate_statevector(circuit, initial)
        # every ancilla in |0> <-> the lowest 2^n amplitudes; phases rebuild p to 1e-12
        assert np.max(np.abs(out[:4] - reference[:, col])) <= 1e-10


def test_diagonal_rotations_equal_gate_level():
    H = normalise_hamiltonian(ring_with_field(2), 1.05)[0]
    block = lcu_block_encoding(H, 0.1, 3.0)
    phases = np.array([0.3, -0.2, 0.7, -0.2, 0.3])
    gates = qsvt_circuit(block, phases)
    diagonal = qsvt_circuit(block, phases, rotations="diagonal")
    rng = np.random.default_rng(3)
    psi = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    psi /= np.linalg.norm(psi)
    a = np.zeros(2**gates.num_qubits, complex)
    b = np.zeros(2**diagonal.num_qubits, complex)
    a[:4], b[:4] = psi, psi
    out_a, out_b = simulate_statevector(gates, a), simulate_statevector(diagonal, b)
    assert np.max(np.abs(out_a[:4] - out_b[:4])) <= 1e-12  # same post-selected block
    with pytest.raises(ValueError, match="rotations"):
        qsvt_circuit(block, phases, rotations="mcx")
    with pytest.raises(ValueError, match="phases"):
        qsvt_circuit(block, np.array([0.1]))


def _regression_mus(H, indices):
    """mu of the issue's regression schedule (100 steps, E_max + 0.1 -> (E0 + E1)/2) at ``indices``."""
    w = np.linalg.eigvalsh(H.to_matrix())
    return np.linspace(min(w[-1] + 0.1, 1.0), (w[0] + w[1]) / 2, 100)[list(indices)]


def test_coherent_circuit_backend_matches_poly_step_by_step_on_the_regression_ring():
    # The regression model (n = 6 ring, lam = 0.5, eps = 0.15, t = 5, delta = 1e-6): three steps at the
    # first, middle and last mu of its schedule, each one coherent 11-qubit circuit (dilation encodings).
    H = normalise_hamiltonian(ring_with_field(6), 1.05)[0]
    kw = {"steps": 3, "lam": 0.5, "eps": 0.15, "time": 5.0, "delta": 1e-6, "alpha": 2.0,
          "schedule": _regression_mus(H, (0, 49, 99)), "record_states": True}
    poly = cool(H, backend="poly", **kw)
    circ = cool(H, backend="circuit", **kw)
    # same filter and propagator polynomials; the phases rebuild them to 1e-12 (measured distance ~1e-12)
    assert np.max(np.linalg.norm(circ.states - poly.states, axis=1)) <= 1e-8
    assert np.max(np.abs(circ.fidelities - poly.fidelities)) <= 1e-8
    assert circ.total_queries_h == poly.total_queries_h and circ.total_queries_v == poly.total_queries_v
    # post-selection of (C - iS)/2 with C - iS = (1 - eta) e^{-iGt} up to the 1e-13 truncation: (1 - eta)^2/4
    assert circ.success_probabilities[0] == 1.0
    assert np.allclose(circ.success_probabilities[1:], (1 - 1e-4) ** 2 / 4, rtol=0, atol=1e-9)


def test_coherent_circuit_backend_with_lcu_encodings(ring3):
    kw = {"steps": 1, "lam": 0.5, "eps": 0.3, "time": 1.0, "delta": 1e-6, "alpha": 3.0, "schedule": [0.2]}
    poly = cool(ring3, backend="poly", **kw)
    circ = cool(ring3, backend="circuit", circuit_options={"block_encoding": "lcu"}, **kw)
    assert np.linalg.norm(circ.state - poly.state) <= 1e-8
    assert circ.total_queries_h == poly.total_queries_h


@pytest.mark.parametrize("route", ["gqsp", "qetu"])
def test_filter_routes_match_their_classical_references(route):
    # Filter routes on the time evolution inside the same coherent step circuit: "gqsp", the sign as a Fourier
    # series g(tau E) (tau (2 + eps) < pi: no phase wrap) by GQSP on e^{i tau Z H / 2}; "qetu", an even
    # polynomial p(cos(tau (E + 1)/2)) by QETU on H + 1. Reference: the series / polynomial evaluated on the
    # exact eigenvalues, G = Q f Q^dag + lam V and e^{-iGt} by dense expm, step after step.
    from scipy.linalg import expm

    from qdyn.cooling import default_perturbation, fourier_sign_series, qetu_sign_polynomial

    H = normalise_hamiltonian(ring_with_field(4), 1.05)[0]
    w, q = np.linalg.eigh(H.to_matrix())
    mus, eps, delta, lam, t = _regression_mus(H, (0, 49, 99)), 0.15, 1e-6, 0.5, 5.0
    if route == "gqsp":
        tau = 0.95 * np.pi / (2 + eps)  # the driver's default

        def reference_filter(mu):
            return fourier_sign_series(mu, eps, delta, tau).of_energy(w), 2 * fourier_sign_series(
                mu, eps, delta, tau).degree
    else:
        tau = 0.95 * np.pi / 2  # the driver's default: spectrum of H + 1 inside [0, 2] c [0, pi/tau]

        def reference_filter(mu):
            p = qetu_sign_polynomial(mu + 1, eps, delta, tau)
            return p(np.cos(tau * (w + 1) / 2)), p.degree
    r = cool(H, backend="circuit", steps=3, lam=lam, eps=eps, delta=delta, time=t, schedule=mus,
             record_states=True, circuit_options={"route": route})
    v = default_perturbation(4).to_matrix()
    m = chebyshev_coefficients(1.5 * t, tol=1e-13).size - 1
    psi = r.states[0]
    for k, mu in enumerate(mus, start=1):
        f, queries = reference_filter(mu)
        psi = expm(-1j * t * ((q * f) @ q.conj().T + lam * v)) @ psi
        # filter phases rebuild f to 1e-12, the evolution phases their polynomials to 1e-12 (measured 1e-13)
        assert np.linalg.norm(r.states[k] - psi) <= 1e-8
        assert r.queries_h[k] == m * queries  # m applications of G, each one filter
    assert r.metadata.options["route"] == route
    assert np.allclose(r.success_probabilities[1:], (1 - 1e-4) ** 2 / 4, rtol=0, atol=1e-9)


def test_coherent_circuit_backend_with_a_fresh_random_v_each_step(ring3):
    # refresh_v draws a new V (X, Y and Z fields) each step: the circuit rebuilds U_V and U_G each time
    kw = {"steps": 3, "lam": 0.5, "eps": 0.3, "time": 1.0, "schedule": [0.2, 0.2, 0.2], "refresh_v": True,
          "seed": 3, "record_states": True}
    poly = cool(ring3, backend="poly", **kw)
    circ = cool(ring3, backend="circuit", **kw)
    assert np.max(np.linalg.norm(circ.states - poly.states, axis=1)) <= 1e-8


def test_amplified_steps_match_poly_with_success_near_one():
    # One round of oblivious amplitude amplification per step: block sin(3 theta) U with sin(theta) = (1 - eta)/2
    H = normalise_hamiltonian(ring_with_field(4), 1.05)[0]
    kw = {"steps": 2, "lam": 0.5, "eps": 0.15, "time": 5.0, "delta": 1e-6, "schedule": _regression_mus(H, (0, 99)),
          "record_states": True}
    poly = cool(H, backend="poly", **kw)
    amp = cool(H, backend="circuit", circuit_options={"amplify": True}, **kw)
    assert np.max(np.linalg.norm(amp.states - poly.states, axis=1)) <= 1e-8
    expected = np.sin(3 * np.arcsin((1 - 1e-4) / 2)) ** 2  # 1 - 3e-8
    assert np.allclose(amp.success_probabilities[1:], expected, rtol=0, atol=1e-9)
    assert amp.total_queries_h == 3 * poly.total_queries_h and amp.total_queries_v == 3 * poly.total_queries_v
    with pytest.raises(TypeError, match="amplify"):
        cool(H, steps=1, backend="circuit", circuit_options={"amplify": "yes"})


def test_gate_level_step_circuit_is_the_evolution():
    # The counted circuit (LCU encodings, flag rotations, controlled pieces) simulated gate by gate, against
    # e^{-iGt} of G = p(A) + lam V from dense linear algebra: the post-selected block is (1 - eta) e^{-iGt}/2.
    from scipy.linalg import expm

    from qdyn.circuits.qsp_cooling import apply_circuit, gate_level_step_circuit
    from qdyn.cooling import default_perturbation, erf_polynomial

    H = normalise_hamiltonian(ring_with_field(2), 1.05)[0]
    alpha, mu, lam, t, eta = float(np.sum(np.abs(H.coeffs))) + 1.0, 0.1, 0.5, 2.0, 1e-4
    poly = erf_polynomial(alpha / 0.3, 1e-6)
    circuit, layout = gate_level_step_circuit(H, poly, mu=mu, lam=lam, time=t, alpha=alpha, eta=eta)
    assert circuit.num_qubits == 2 + layout.n_block + 5  # system, block ancillas, c_p, b, flag, c, e
    w, v = np.linalg.eigh(_shifted(H, mu, alpha))
    g = (v * poly(w)) @ v.conj().T + lam * default_perturbation(2).to_matrix()
    reference = expm(-1j * t * g)
    for col in (0, 3):
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[col] = 1.0
        out = apply_circuit(circuit, initial)[:4]
        # phases to 1e-12, Jacobi-Anger truncated at 1e-13: 1e-9 leaves a wide margin (measured 2e-12)
        assert np.max(np.abs(out / ((1 - eta) / 2) - reference[:, col])) <= 1e-9
    # the amplified gate-level circuit (-W R W^dag R W, multi-controlled-Z reflections): block sin(3 theta) U
    amplified, _ = gate_level_step_circuit(H, poly, mu=mu, lam=lam, time=t, alpha=alpha, eta=eta, amplify=True)
    initial = np.zeros(2**amplified.num_qubits, dtype=complex)
    initial[0] = 1.0
    out = apply_circuit(amplified, initial)[:4]
    assert np.max(np.abs(out / np.sin(3 * np.arcsin((1 - eta) / 2)) - reference[:, 0])) <= 1e-9
    res = cooling_circuit_resources(H, eps=0.3, delta=1e-6, mu=mu, time=t, alpha=alpha, amplify=True)
    m = chebyshev_coefficients((1 + lam) * t, tol=1e-13).size - 1  # ||V||_1 = 1
    assert res["queries_h"] == 3 * m * poly.degree and res["queries_v"] == 3 * m  # three uses of the step
    assert res["qubits"] == circuit.num_qubits and res["success_probability"] > 1 - 1e-7
    assert res["two_qubit_gates"] > 3 * m * res["g_two_qubit_gates"]


def test_apply_circuit_equals_qiskit_statevector():
    from qiskit.quantum_info import Operator, SparsePauliOp

    from qdyn.circuits.qsp import qetu_circuit
    from qdyn.circuits.qsp_cooling import CoherentCoolingStep, apply_circuit, circuit_operator
    from qdyn.cooling import default_perturbation, erf_polynomial

    H = normalise_hamiltonian(ring_with_field(2), 1.05)[0]
    step = CoherentCoolingStep(H, erf_polynomial(2.0 / 0.6, 1e-3), alpha=2.0)
    circuit = step.circuit(0.1, 0.5, default_perturbation(2), 0.5)
    rng = np.random.default_rng(5)
    initial = rng.standard_normal(2**circuit.num_qubits) + 1j * rng.standard_normal(2**circuit.num_qubits)
    initial /= np.linalg.norm(initial)
    assert np.max(np.abs(apply_circuit(circuit, initial) - simulate_statevector(circuit, initial))) <= 1e-12
    shifted = (H + SparsePauliOp("II", [1.5])).simplify()
    qetu = qetu_circuit(shifted, 1.0, np.array([0.2, -0.4, 0.1, 0.3]))  # dense signal, rotations, Hadamards
    assert np.max(np.abs(circuit_operator(qetu) - Operator(qetu).data)) <= 1e-12


def test_qsvt_filter_alone(ring3):
    from qdyn.circuits.qsp_cooling import qsvt_filter
    from qdyn.cooling import erf_polynomial

    poly = erf_polynomial(2.0 / 0.3, 1e-6)
    apply = qsvt_filter(ring3, poly, alpha=2.0, block_encoding="dilation")
    w, v = np.linalg.eigh(_shifted(ring3, -0.1, 2.0))
    psi = np.arange(8.0) + 1j
    out, prob = apply(psi, -0.1)
    reference = (v * poly(w)) @ v.conj().T @ psi  # p(A) psi from the eigendecomposition
    assert np.max(np.abs(out - reference)) <= 1e-10
    assert prob == pytest.approx(np.vdot(reference, reference).real / np.vdot(psi, psi).real, abs=1e-10)


def test_coherent_circuit_bad_input(ring3):
    from qdyn.circuits.qsp_cooling import CoherentCoolingStep, evolution_phases
    from qdyn.cooling import erf_polynomial

    with pytest.raises(ValueError, match="circuit_options"):
        cool(ring3, steps=1, backend="circuit", circuit_options={"depth": 3})
    with pytest.raises(ValueError, match="route"):
        cool(ring3, steps=1, backend="circuit", circuit_options={"route": "qsp"})
    with pytest.raises(ValueError, match="tau"):
        cool(ring3, steps=1, backend="circuit", circuit_options={"route": "gqsp", "tau": 1.6})
    with pytest.raises(ValueError, match="tau"):
        cool(ring3, steps=1, backend="circuit", circuit_options={"route": "qetu", "tau": 1.7})
    with pytest.raises(ValueError, match="tau"):
        cool(ring3, steps=1, backend="circuit", circuit_options={"tau": 1.0})
    with pytest.raises(ValueError, match="block_encoding"):
        cool(ring3, steps=1, backend="circuit", circuit_options={"block_encoding": "qubitized"})
    with pytest.raises(ValueError, match="eta"):
        cool(ring3, steps=1, backend="circuit", circuit_options={"eta": 1.5})
    with pytest.raises(ValueError, match="odd"):
        CoherentCoolingStep(ring3, np.array([0.1, 0.0, 0.5]), alpha=2.0)
    with pytest.raises(ValueError, match="too small"):
        evolution_phases(1e-9)
    assert erf_polynomial(2.0, 1e-3).degree % 2 == 1


def test_resource_counts_match_cooling_accounting():
    H = normalise_hamiltonian(ring_with_field(4), 1.05)[0]
    alpha = float(np.sum(np.abs(H.coeffs))) + 1.0
    res = cooling_circuit_resources(H, eps=0.3, delta=1e-4, steps=3, time=2.0, alpha=alpha)
    run = cool(H, steps=3, eps=0.3, delta=1e-4, time=2.0, alpha=alpha, backend="exact")
    # queries counted on the gate-level circuit equal the driver's accounting m d and m per step
    assert res["queries_h"] == run.total_queries_h and res["queries_v"] == run.total_queries_v
    assert res["queries_h_per_step"] == res["evolution_degree"] * res["degree"]
    m = int(np.ceil(np.log2(len(H) + 3)))  # H terms + identity + two padding terms
    assert res["block_ancillas"] == m
    assert res["qubits"] == 4 + m + 5  # system, block ancillas, c_p, b, flag, c, e
    # a step holds m queries to U_G, each with more two-qubit gates than its d queries to U_A alone
    assert res["step_two_qubit_gates"] >= res["evolution_degree"] * res["g_two_qubit_gates"] > 0
    assert res["two_qubit_gates"] == 3 * res["step_two_qubit_gates"]


def test_qetu_circuit_postselected_block(ring3):
    from qiskit.quantum_info import SparsePauliOp

    from qdyn.circuits.qsp import qetu_circuit
    from qdyn.cooling import qetu_sign_polynomial

    tau = 1.0
    H = (1.4 * ring3 + SparsePauliOp("III", [1.5])).simplify()  # spectrum inside [0.1, 2.9] c (0, pi/tau)
    w, v = np.linalg.eigh(H.to_matrix())
    mu = (w[0] + w[1]) / 2
    poly = qetu_sign_polynomial(mu, 0.2, 1e-6, tau)
    phases = solve_phases_newton(poly, convention="qetu").phases
    circuit = qetu_circuit(H, tau, phases)
    reference = (v * poly(np.cos(tau * w / 2))) @ v.conj().T  # p(cos(tau H / 2)) from the eigenpairs
    assert np.allclose(np.abs(np.diag(v.conj().T @ reference @ v)), 0.9999, atol=1e-6)  # +-peak bands
    for col in (0, 5):
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[col] = 1.0
        out = simulate_statevector(circuit, initial)[:8]
        assert np.max(np.abs(out - reference[:, col])) <= 1e-10
    trotter = qetu_circuit(H, tau, phases[:5], evolution="trotter", trotter_reps=2)
    assert trotter.num_qubits == 5 and trotter.count_ops()["PauliEvolution"] == 4
    with pytest.raises(ValueError, match="evolution"):
        qetu_circuit(H, tau, phases, evolution="qdrift")


def test_gqsp_circuit_postselected_block(ring3):
    from qdyn.circuits.qsp import gqsp_circuit
    from qdyn.cooling import fourier_sign_series
    from qdyn.qsp.gqsp import solve_gqsp_phases

    tau = 1.0
    w, v = np.linalg.eigh(ring3.to_matrix())
    g = fourier_sign_series((w[0] + w[1]) / 2, 0.15, 1e-6, tau)
    circuit = gqsp_circuit(ring3, tau, solve_gqsp_phases(g.coeffs))
    reference = (v * g.of_energy(w)) @ v.conj().T  # g(tau H) from the eigenpairs
    for col in (0, 6):
        initial = np.zeros(2**circuit.num_qubits, dtype=complex)
        initial[col] = 1.0
        out = simulate_statevector(circuit, initial)[:8]
        assert np.max(np.abs(out - reference[:, col])) <= 1e-10
