"""QSP phases from the nonlinear Fourier transform: the forward NLFT built by hand and inverted, Weiss against the
exact outer factor, and the rebuilt polynomial on families the solver was not tuned on (erf sign, Jacobi-Anger,
random bounded polynomials within 1e-10 of |p| = 1; odd and even)."""

import warnings

import numpy as np
import pytest
from numpy.polynomial import chebyshev as cheb

from qdyn.errors import ConvergenceWarning
from qdyn.qsp import jacobi_anger_polynomials, qetu_sign_polynomial, qsp_response, sign_polynomial, solve_phases
from qdyn.qsp.nlft import nlft_reduced_phases, outer_complement, strip_layers, symmetric_b


def _forward_nlft(layers):
    """``(a*, b)`` coefficients (powers z^0..z^d) of ``prod_k M_k``, multiplied out as Laurent polynomials."""
    d = layers.size - 1
    size = 4 * d + 3  # powers -(2d+1)..(2d+1), index = power + 2d + 1
    zero = 2 * d + 1
    g = np.zeros((2, 2, size), dtype=complex)
    g[0, 0, zero] = g[1, 1, zero] = 1.0
    for k, f in enumerate(layers):
        c = 1 / np.sqrt(1 + abs(f) ** 2)
        new = np.empty_like(g)
        for i in range(2):  # row i of G times M_k = c [[1, F z^k], [-conj(F) z^-k, 1]]
            new[i, 0] = c * (g[i, 0] - np.conj(f) * np.roll(g[i, 1], -k))
            new[i, 1] = c * (g[i, 1] + f * np.roll(g[i, 0], k))
        g = new
    a, b = g[0, 0], g[0, 1]
    assert np.max(np.abs(a[zero + 1:])) < 1e-14 and np.max(np.abs(b[:zero])) < 1e-14  # a in z^-k, b in z^k
    a_star = np.conj(a[zero - np.arange(d + 1)])  # a*(z) = conj(a(1 / conj z))
    return a_star, b[zero:zero + d + 1]


def _chebyshev_of_response(phases):
    """Chebyshev coefficients of ``Im <0|U|0>`` by interpolation on 4d Chebyshev points (the polynomial has
    degree d, so the interpolant is exact up to rounding)."""
    d = phases.size - 1
    n = 4 * d + 8
    x = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    return cheb.chebfit(x, qsp_response(phases, x).imag, d)


@pytest.mark.parametrize("degree", [7, 8, 41])
def test_layer_stripping_inverts_the_forward_nlft(degree):
    rng = np.random.default_rng(100 + degree)
    # small phases (|phi| <= 0.4 / sqrt(d + 1)): the solution near 0, whose a* is outer; large random phases
    # give other solutions of the same |b|, with zeros of a* inside the disk, which Weiss cannot return
    half = rng.uniform(-1, 1, degree // 2 + 1) * 0.4 / np.sqrt(degree + 1)
    phases = np.concatenate([half, half[: (degree + 1) // 2][::-1]])  # symmetric, phi_k = phi_{d-k}
    layers = 1j * np.tan(phases)
    a_star, b = _forward_nlft(layers)
    assert np.min(np.abs(np.roots(a_star[::-1]))) > 1  # a* outer: no zeros in the closed disk
    # the identity Im P = sum_k beta_k T_|d-2k| with b = i beta: b from the Chebyshev coefficients of the response
    # (interpolation: rounding ~1e-15 per coefficient)
    assert np.max(np.abs(symmetric_b(_chebyshev_of_response(phases)) - b)) <= 1e-13
    # inverse: layer stripping of the exact pair returns the layers (rounding of d steps, ~d * 1e-16)
    assert np.max(np.abs(strip_layers(b, a_star, degree + 1) - layers)) <= 1e-12
    # Weiss: |b| <= ~0.8 here, the outer factor is resolved by 64 (d+1) points to rounding
    weiss, tail = outer_complement(b, 1 << int(np.ceil(np.log2(64 * (degree + 1)))))
    assert np.max(np.abs(weiss - a_star)) <= 1e-12 and tail <= 1e-12
    # and the whole route from the Chebyshev coefficients gives the phases back (the unique solution near 0)
    start = nlft_reduced_phases(_chebyshev_of_response(phases))
    assert np.max(np.abs(start.reduced - phases[: degree // 2 + 1])) <= 1e-11


def _bounded_random(degree, gap, seed):
    """Random Chebyshev series of parity ``degree`` scaled to ``max|p| = 1 - gap``: the maximum over the real
    critical points (roots of p') and the endpoints, so the peak is exact to rounding."""
    rng = np.random.default_rng(seed)
    c = np.zeros(degree + 1)
    k = np.arange(degree % 2, degree + 1, 2)
    c[k] = rng.normal(size=k.size) * np.exp(-3 * k / degree)
    roots = cheb.chebroots(cheb.chebder(c))
    points = np.concatenate([roots[(np.abs(roots.imag) < 1e-9) & (np.abs(roots.real) <= 1)].real, [-1.0, 1.0]])
    return c * (1 - gap) / np.max(np.abs(cheb.chebval(points, c)))


def _families():
    cos_p, sin_p = jacobi_anger_polynomials(35.0, 70, eta=1e-6)
    return {
        "erf sign eps=0.04 (odd)": sign_polynomial(0.04, 1e-7).coeffs,
        "Jacobi-Anger cos 35x (even)": cos_p.coeffs,
        "Jacobi-Anger sin 35x (odd)": sin_p.coeffs,
        "QETU sign (even)": qetu_sign_polynomial(0.7, 0.2, 1e-6, 1.0).coeffs,
        "random odd, 1 - max|p| = 1e-10": _bounded_random(121, 1e-10, 5),
        "random even, 1 - max|p| = 1e-10": _bounded_random(96, 1e-10, 6),
        "random odd, 1 - max|p| = 0.3": _bounded_random(45, 0.3, 7),
    }


@pytest.mark.parametrize("name", list(_families()))
def test_rebuild_on_untuned_families(name):
    coeffs = _families()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = solve_phases(coeffs)
    assert result.converged and result.max_error <= 1e-12
    # re-check on a fresh grid with the endpoints (the solver used Chebyshev nodes) against Clenshaw (chebval);
    # 1e-12: the tolerance, with the product's rounding ~sqrt(d) 1e-16 far below it
    d = result.degree
    x = np.cos(np.linspace(0, np.pi, 3 * d + 7))
    assert np.max(np.abs(qsp_response(result.phases, x).imag - cheb.chebval(x, coeffs))) <= 1e-12
    # the previous solver (Newton from the Chebyshev guess) finds the same symmetric phases where they are well
    # conditioned (1 - max|p| >= 1e-7: phase conditioning ~1/sqrt(1 - max|p|))
    gap = 1 - np.max(np.abs(cheb.chebval(np.cos(np.linspace(0, np.pi, 20 * d)), coeffs)))
    if gap >= 1e-7:
        reference = solve_phases(coeffs, method="newton")
        assert np.max(np.abs(reference.phases - result.phases)) <= 1e-8


def test_degree_3001_erf_is_nlft_alone():
    # the benchmark regime: erf near |p| = 1 (1 - max|p| ~ 2.5e-11 from delta/8) needs no Newton iteration
    from qdyn.qsp import erf_polynomial

    p = erf_polynomial(340.0, 2e-10)
    assert 2500 <= p.degree <= 3500
    result = solve_phases(p)
    assert result.solver == "nlft" and result.iterations == 0 and result.max_error <= 1e-12


def test_unreachable_tolerance_warns_with_advice():
    # 1 - max|p| = delta/8 = 1.25e-13: below what double precision resolves at degree ~500
    with pytest.warns(ConvergenceWarning, match="larger tol"):
        result = solve_phases(sign_polynomial(0.1, 1e-12))
    assert not result.converged and result.max_error > 1e-12


def test_nlft_bad_input():
    with pytest.raises(ValueError, match="n_fft"):
        outer_complement(np.array([0.1j, 0.0, 0.1j]), 4)
    with pytest.raises(ValueError, match=r"\|p\(x\)\| < 1"):
        outer_complement(np.array([0.6j, 0.6j]), 64)
    with pytest.raises(ValueError, match="method"):
        solve_phases(sign_polynomial(0.3, 1e-4), method="weiss")
