"""A filter that drives the post-selection probability below 1e-12 (MIN_SUCCESS_PROBABILITY) warns PhysicsWarning
and flags the result (``low_success_probability``); ordinary runs do neither."""

import warnings

import numpy as np
import pytest

from qdyn.cooling import cool
from qdyn.cooling.accounting import MIN_SUCCESS_PROBABILITY
from qdyn.cooling.baselines import eigenstate_filter, imaginary_time
from qdyn.errors import PhysicsWarning
from qdyn.models import tfim


@pytest.fixture(scope="module")
def chain():
    H = tfim(3, J=1.0, g=0.6)
    return H, *np.linalg.eigh(H.to_matrix())


def test_imaginary_time_from_the_top_state(chain):
    # e^{-beta (H_n + 1)} on the highest eigenstate: p = e^{-2 beta (E_max,n + 1)} (analytic), 1e-35 at beta = 64.
    H, _, v = chain
    with pytest.warns(PhysicsWarning, match=r"imaginary-time: the post-selection probability of step 2 is .*e-"):
        res = imaginary_time(H, psi0=v[:, -1], betas=(1, 64))
    assert res.low_success_probability and res.success_probabilities[-1] < MIN_SUCCESS_PROBABILITY


def test_eigenstate_filter_orthogonal_to_the_ground_state():
    # A start with overlap 1e-8 on E_0 (paramagnetic chain, g = 2, gap 2.2): the sharp filter keeps
    # p -> |<E_0|psi0>|^2 = 1e-16 (analytic limit; measured 1.03e-16 at order 64).
    H = tfim(3, J=1.0, g=2.0)
    v = np.linalg.eigh(H.to_matrix())[1]
    psi0 = v[:, 1] + 1e-8 * v[:, 0]
    with pytest.warns(PhysicsWarning, match="eigenstate-filter: the post-selection probability"):
        res = eigenstate_filter(H, psi0=psi0 / np.linalg.norm(psi0), orders=(16, 64))
    assert res.low_success_probability


def test_cooling_circuit_with_a_vanishing_step_amplitude(chain):
    # eta = 1 - 1e-7: each step's post-selection probability is ((1 - eta)/2)^2 = 2.5e-15 (the step's LCU).
    H, _, _ = chain
    with pytest.warns(PhysicsWarning, match=r"cool\(method='circuit'\): the post-selection probability of step 1"):
        res = cool(H, steps=2, method="circuit", circuit_options={"eta": 1 - 1e-7})
    assert res.low_success_probability
    np.testing.assert_allclose(res.success_probabilities[1:], 2.5e-15, rtol=1e-5)


def test_ordinary_runs_neither_warn_nor_flag(chain):
    H, _, _ = chain
    with warnings.catch_warnings():
        warnings.simplefilter("error", PhysicsWarning)
        runs = [cool(H, steps=3), imaginary_time(H, betas=(1, 4)), eigenstate_filter(H, orders=(2, 4))]
    assert not any(r.low_success_probability for r in runs)
