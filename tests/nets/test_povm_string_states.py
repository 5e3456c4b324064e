"""String states: exact symmetry over a closed set of orderings, normalisation, exact sampling."""

import itertools

import numpy as np
import pytest
import torch
from scipy import stats

from qdyn.nets.povm_transformer import POVMTransformer
from qdyn.nets.string_states import StringState, chain_strings, snake_strings
from qdyn.seeding import torch_generator


def _random_state(strings, n_sites, seed=5, layers=2):
    net = POVMTransformer(n_sites, n_layers=layers, n_heads=2, d_model=16, d_ff=32, seed=seed)
    with torch.no_grad():
        torch.nn.init.normal_(net.head.weight, std=1.5, generator=torch_generator(seed))
    return StringState(net, strings)


def test_chain_strings_are_the_dihedral_group():
    strings = chain_strings(5)
    assert strings.shape == (10, 5)
    assert {tuple(s) for s in strings} == {tuple((t + s * np.arange(5)) % 5) for t in range(5) for s in (1, -1)}
    assert chain_strings(5, reflections=False).shape == (5, 5)


def test_translated_and_reflected_strings_give_the_same_probability():
    n = 6
    state = _random_state(chain_strings(n), n)
    a = torch.randint(4, (200, n), generator=torch_generator(2))
    logp = state.log_prob(a).detach()
    # The mixture over a closed group is exactly invariant: equal up to float64 rounding.
    for shift in range(1, n):
        torch.testing.assert_close(state.log_prob(torch.roll(a, shift, dims=1)).detach(), logp, atol=1e-12, rtol=0)
    torch.testing.assert_close(state.log_prob(a.flip(1)).detach(), logp, atol=1e-12, rtol=0)
    # The bare network is not symmetric (the test would fail without the averaging).
    assert not torch.allclose(state.net.log_prob(torch.roll(a, 1, dims=1)), state.net.log_prob(a))


def test_snake_strings_cover_every_bond_and_are_lattice_symmetric():
    lx = ly = 3
    strings = snake_strings(lx, ly)
    adjacent = {frozenset(p) for s in strings for p in zip(s[:-1], s[1:], strict=True)}
    for x, y in itertools.product(range(lx), range(ly)):
        site = x + lx * y
        if x + 1 < lx:
            assert frozenset((site, site + 1)) in adjacent
        if y + 1 < ly:
            assert frozenset((site, site + lx)) in adjacent
    state = _random_state(strings, lx * ly)
    grid = np.arange(lx * ly).reshape(ly, lx)
    a = torch.randint(4, (100, lx * ly), generator=torch_generator(4))
    logp = state.log_prob(a).detach()
    for image in (np.rot90(grid), np.fliplr(grid), np.flipud(grid), grid.T):
        perm = torch.as_tensor(image.reshape(-1).copy())
        # The snakes from the four corners are closed under the square's symmetries: exact invariance.
        torch.testing.assert_close(state.log_prob(a[:, perm]).detach(), logp, atol=1e-12, rtol=0)


def test_string_state_normalised_and_sampled_exactly():
    state = _random_state(chain_strings(4), 4, seed=8)
    probs = state.probabilities().numpy()
    assert abs(probs.sum() - 1.0) < 1e-12  # float64 rounding over 256 terms
    n = 20_000
    # The batched mixture equals the mean of the network's densities along each string, one at a time.
    a = torch.randint(4, (50, 4), generator=torch_generator(7))
    mixture = torch.stack([torch.exp(state.net.log_prob(a, order=s)) for s in state.strings]).mean(0)
    torch.testing.assert_close(torch.exp(state.log_prob(a)).detach(), mixture.detach(), atol=1e-14, rtol=1e-12)
    samples = state.sample(n, generator=torch_generator(6))
    counts = np.bincount((samples * 4 ** torch.arange(4)).sum(1).numpy(), minlength=256)
    keep = probs * n >= 5
    _, pvalue = stats.chisquare(np.append(counts[keep], counts[~keep].sum()),
                                np.append(probs[keep] * n, probs[~keep].sum() * n))
    assert pvalue > 1e-4  # seeded; a correct sampler fails at this level with probability 1e-4


@pytest.mark.parametrize("layers", [1, 2])
def test_prefix_shared_evaluation_of_a_string_state(layers):
    # Every ordering shares the prefix of its own reading of the sample (one layer: the attention from tables of
    # that reading's pass, one ordering per row); the mixture must equal log_prob.
    n = 5
    state = _random_state(chain_strings(n), n, layers=layers)
    rng = np.random.default_rng(1)
    a = state.sample(30, generator=torch_generator(1))
    c = a[:, None, :].repeat(1, 8, 1)
    c[:, :, 2] = torch.as_tensor(rng.integers(0, 4, size=(30, 8)))  # change one site (or keep it)
    logp_a, logp_c = state.log_prob_connected(a, c)
    torch.testing.assert_close(logp_a, state.log_prob(a), atol=1e-12, rtol=0)
    torch.testing.assert_close(logp_c, state.log_prob(c.reshape(-1, n)).reshape(30, 8), atol=1e-12, rtol=0)


def test_bad_strings():
    net = POVMTransformer(4, seed=0)
    with pytest.raises(ValueError, match="permutation"):
        StringState(net, [[0, 1, 1, 2]])
    with pytest.raises(ValueError, match=r"shape \(S, 4\)"):
        StringState(net, [[0, 1, 2]])
    with pytest.raises(TypeError, match="POVMTransformer"):
        StringState("net", [[0, 1, 2, 3]])
