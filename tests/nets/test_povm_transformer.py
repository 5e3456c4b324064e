"""The POVM autoregressive transformer: normalisation, exact sampling, causality, the exact initial state."""

import numpy as np
import pytest
import torch
from scipy import stats

from qdyn.devices import cuda_works
from qdyn.nets.povm_transformer import POVMTransformer, _TableAttention, all_outcome_strings
from qdyn.seeding import torch_generator


def _random_model(n_sites, seed=3, **kw):
    """A model whose output layer is not zero, so the conditionals really depend on the prefix, and whose
    LayerNorms scale and shift (as after training; not the identity affine they start with)."""
    model = POVMTransformer(n_sites, seed=seed, **kw)
    g = torch_generator(seed + 1)
    with torch.no_grad():
        torch.nn.init.normal_(model.head.weight, std=1.5, generator=g)
        for norm in (m for m in model.modules() if isinstance(m, torch.nn.LayerNorm)):
            norm.weight.copy_(1 + 0.3 * torch.randn(norm.weight.shape, generator=g, dtype=norm.weight.dtype))
            norm.bias.copy_(0.3 * torch.randn(norm.bias.shape, generator=g, dtype=norm.bias.dtype))
    return model


def test_float64_by_default_and_float32_on_request():
    assert POVMTransformer(3, seed=0).dtype == torch.float64
    model = _random_model(3, precision="single")
    assert model.dtype == torch.float32
    # float32 rounding of 64 summed probabilities: 1e-5.
    assert abs(float(model.probabilities().sum()) - 1.0) < 1e-5


@pytest.mark.parametrize("layers,heads", [(1, 1), (2, 2), (3, 4)])
def test_probabilities_sum_to_one_by_enumeration(layers, heads):
    model = _random_model(4, n_layers=layers, n_heads=heads, d_model=16)
    probs = model.probabilities()
    assert probs.shape == (256,)
    # Each conditional is a softmax; their product sums to 1 up to float64 rounding over 256 terms.
    assert abs(float(probs.sum()) - 1.0) < 1e-12
    # The same along another site ordering.
    order = [2, 0, 3, 1]
    total = torch.exp(model.log_prob(all_outcome_strings(4), order=order)).sum()
    assert abs(float(total.detach()) - 1.0) < 1e-12


def test_initial_state_is_the_given_product_distribution():
    rng = np.random.default_rng(5)
    p0 = rng.dirichlet(np.ones(4), size=5)
    p0[2] = [0.5, 0.5, 0.0, 0.0]  # zero entries are allowed
    model = POVMTransformer(5, n_layers=2, initial_probs=p0, seed=2)
    strings = all_outcome_strings(5)
    expected = np.prod(p0[np.arange(5), strings.numpy()], axis=1)
    # Zero output weight and bias log p0: P is the product up to float64 rounding.
    for order in (None, [4, 2, 0, 1, 3]):
        got = torch.exp(model.log_prob(strings, order=order)).detach().numpy()
        np.testing.assert_allclose(got, expected, atol=1e-15, rtol=1e-12)


def test_exact_samples_follow_the_density_chi_square():
    # Two layers: a sampler that dropped the causal mask would follow a different distribution.
    model = _random_model(4, n_layers=2, n_heads=2, d_model=16, seed=7)
    probs = model.probabilities().numpy()
    n = 100_000
    samples = model.sample(n, generator=torch_generator(11))
    index = (samples * 4 ** torch.arange(4)).sum(1).numpy()
    counts = np.bincount(index, minlength=256)
    keep = probs * n >= 5  # chi-square validity: expected counts >= 5; the rest pooled into one cell
    observed = np.append(counts[keep], counts[~keep].sum())
    expected = np.append(probs[keep] * n, probs[~keep].sum() * n)
    _, pvalue = stats.chisquare(observed, expected)
    # Seeded, so deterministic; a correct sampler fails at this level with probability 1e-4.
    assert pvalue > 1e-4


def test_cached_sampling_equals_uncached_evaluation():
    model = _random_model(7, n_layers=3, n_heads=2, d_model=16, seed=9)
    for order in (None, [3, 6, 0, 1, 5, 2, 4]):
        samples, logp_cached = model.sample(500, generator=torch_generator(1), order=order, return_log_prob=True)
        logp_full = model.log_prob(samples, order=order)
        # Same arithmetic in another association order: float64 rounding only.
        torch.testing.assert_close(logp_cached, logp_full.detach(), atol=1e-12, rtol=0)


def _samples_and_copies(model, batch, slots, seed):
    """``(rng, a, c)``: a random stream, ``batch`` samples of ``model`` and ``slots`` copies of each ``(batch,
    slots, N)``, which the callers change into connected strings."""
    a = model.sample(batch, generator=torch_generator(seed))
    return np.random.default_rng(seed), a, a[:, None, :].repeat(1, slots, 1)


def _random_connected(model, batch, slots, seed):
    """Strings ``(batch, slots, N)`` that agree with random samples up to a random site and differ after it
    (some equal to the sample), as the connected strings of a local term do."""
    rng, a, c = _samples_and_copies(model, batch, slots, seed)
    n = model.n_sites
    for b in range(batch):
        for m in range(slots):
            j = rng.integers(0, n + 1)  # j = n: the sample itself (a padding slot)
            if j < n:
                c[b, m, j:] = torch.as_tensor(rng.integers(0, 4, size=n - j))
    return a, c


@pytest.mark.parametrize("order", [None, [3, 0, 4, 1, 2]])
def test_prefix_shared_evaluation_equals_the_full_evaluation(order):
    # log_prob_connected reuses the sample's keys/values for the common prefix; it must equal log_prob on each
    # string (values and gradients), for a 3-layer, 2-head model, in float64 (summation order only).
    model = _random_model(5, n_layers=3, n_heads=2, d_model=16)
    a, c = _random_connected(model, 40, 12, seed=4)
    logp_a, logp_c = model.log_prob_connected(a, c, order=order)
    full_a = model.log_prob(a, order=order)
    full_c = model.log_prob(c.reshape(-1, 5), order=order).reshape(40, 12)
    torch.testing.assert_close(logp_a, full_a, atol=1e-12, rtol=0)
    torch.testing.assert_close(logp_c, full_c, atol=1e-12, rtol=0)
    weights = torch.linspace(0.5, 1.5, 12, dtype=torch.float64)
    shared = torch.autograd.grad((logp_c * weights).sum() + logp_a.sum(), list(model.parameters()))
    full = torch.autograd.grad((full_c * weights).sum() + full_a.sum(), list(model.parameters()))
    for g_shared, g_full in zip(shared, full, strict=True):
        torch.testing.assert_close(g_shared, g_full, atol=1e-11, rtol=1e-12)
    with pytest.raises(ValueError, match="connected strings must have shape"):
        model.log_prob_connected(a, c[:, :, :4])


def _runs_of_changes(model, batch, slots, seed):
    """Strings ``(batch, slots, N)`` that change one run of 1-3 consecutive sites of random samples (as one- and
    two-site terms do; runs at the end of the string included), plus some with two separate changes or a run of
    5 sites (which take the general pass), and some equal to their sample."""
    rng, a, c = _samples_and_copies(model, batch, slots, seed)
    n = model.n_sites
    for b in range(batch):
        for m in range(slots):
            kind, j = rng.integers(0, 10), int(rng.integers(0, n))
            if kind == 0:  # two separate changes
                sites = [j, (j + 2 + int(rng.integers(0, n - 3))) % n]
            elif kind == 1:
                sites = list(range(j, min(n, j + 5)))
            elif kind < 9:
                sites = list(range(j, min(n, j + int(rng.integers(1, 4)))))
            else:  # the sample itself
                sites = []
            for site in sites:
                c[b, m, site] = (c[b, m, site] + int(rng.integers(1, 4))) % 4
    return a, c


@pytest.mark.parametrize("heads,order,sharp", [(1, None, 1.0), (2, "one", 1.0), (2, "rows", 1.0), (1, None, 6.0)])
def test_one_layer_connected_strings_from_the_sample_tables(heads, order, sharp):
    # A one-layer network forms the attention of a string that changes one run of sites from tables of its
    # sample's pass (prefix and suffix sums of the sample's terms, the changed keys' scores); it must equal
    # log_prob on every string, values and gradients, in float64 (only the summation order differs: 1e-12
    # absolute on log P ~ -10, 1e-10 of the largest gradient entry), also for a nearly one-hot attention
    # (queries and keys scaled by 6: scores of tens), and in float32 to its rounding (1e-4 absolute over the
    # 7 conditionals). ``order``: one ordering for all samples, or one per sample.
    n, batch, slots = 7, 24, 10
    model = _random_model(n, n_heads=heads, d_model=16)
    with torch.no_grad():
        model.blocks[0].attn.qkv.weight[:32].mul_(sharp)
    rng = np.random.default_rng(2)
    a, c = _runs_of_changes(model, batch, slots, seed=5)
    if order == "one":
        order_t = torch.as_tensor(rng.permutation(n))
        order_c = order_t
    elif order == "rows":
        order_t = torch.as_tensor(np.stack([rng.permutation(n) for _ in range(batch)]))
        order_c = order_t.repeat_interleave(slots, 0)
    else:
        order_t = order_c = None
    logp_a, logp_c = model.log_prob_connected(a, c, order=order_t)
    full_a = model.log_prob(a, order=order_t)
    full_c = model.log_prob(c.reshape(-1, n), order=order_c).reshape(batch, slots)
    torch.testing.assert_close(logp_a, full_a, atol=1e-12, rtol=0)
    torch.testing.assert_close(logp_c, full_c, atol=1e-12, rtol=0)
    weights = torch.linspace(0.5, 1.5, slots, dtype=torch.float64)
    shared = torch.autograd.grad((logp_c * weights).sum() + logp_a.sum(), list(model.parameters()))
    full = torch.autograd.grad((full_c * weights).sum() + full_a.sum(), list(model.parameters()))
    largest = max(float(g.abs().max()) for g in full)
    for g_shared, g_full in zip(shared, full, strict=True):
        assert float((g_shared - g_full).abs().max()) <= 1e-10 * largest
    single = model.log_prob_connected(a, c, order=order_t, precision="single")[1]
    torch.testing.assert_close(single, full_c.detach(), atol=1e-4, rtol=0)


def test_table_attention_backward_matches_finite_differences():
    # The hand-written backward of the table attention (one gradient buffer per table) against central finite
    # differences of its forward (torch.autograd.gradcheck, float64: eps 1e-6, agreement to 1e-5 relative), with
    # repeated table rows, masked changed keys and two heads (every sum of weights positive, as in the tables).
    g = torch_generator(3)
    rows, heads, width, depth = 12, 2, 5, 2
    tables = [torch.rand(7, heads, width, generator=g, dtype=torch.float64) + 0.1 for _ in range(2)]
    scores = torch.randn(9, heads, generator=g, dtype=torch.float64)
    values = torch.randn(6, heads, width, generator=g, dtype=torch.float64)
    values[..., -1] = values[..., -1].abs() + 0.1  # (v, weight) rows: positive weights, as in the tables
    at_prefix, at_suffix = (torch.randint(7, (rows,), generator=g) for _ in range(2))
    at_scores = torch.randint(9, (rows, depth), generator=g)
    keys = torch.randint(6, (rows, depth), generator=g)
    valid = torch.rand(rows, depth, generator=g) < 0.7
    inputs = [t.requires_grad_() for t in (*tables, scores, values)]
    def y(*t):
        return _TableAttention.apply(*t, at_prefix, at_suffix, at_scores, keys, valid)[0]
    assert torch.autograd.gradcheck(y, inputs, eps=1e-6, atol=1e-8, rtol=1e-5)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("heads", [1, 2])
def test_connected_strings_of_the_shortest_chains(n, heads):
    # One to three sites: no position reads a site (N = 1), or every position after a change is a changed one
    # (N = 2: no row with the sample's query). The one-layer tables must still equal log_prob, values to 1e-12
    # and gradients to 1e-10 of the largest entry (float64: summation order only).
    model = _random_model(n, n_heads=heads, d_model=8)
    rng, a, c = _samples_and_copies(model, 6, 5, seed=n)
    for b in range(6):
        for m in range(5):
            site = int(rng.integers(0, n))
            c[b, m, site] = (c[b, m, site] + 1 + m % 3) % 4
    logp_a, logp_c = model.log_prob_connected(a, c)
    full_a, full_c = model.log_prob(a), model.log_prob(c.reshape(-1, n)).reshape(6, 5)
    torch.testing.assert_close(logp_c, full_c, atol=1e-12, rtol=0)
    parameters = list(model.parameters())
    shared = torch.autograd.grad(logp_c.sum() + logp_a.sum(), parameters, allow_unused=True)
    full = torch.autograd.grad(full_c.sum() + full_a.sum(), parameters, allow_unused=True)
    pairs = [(g, f) for g, f in zip(shared, full, strict=True) if f is not None]
    largest = max(float(f.abs().max()) for _, f in pairs)
    for g_shared, g_full in pairs:
        assert float((-g_full if g_shared is None else g_shared - g_full).abs().max()) <= 1e-10 * largest


def test_one_layer_tables_serve_every_run_of_local_changes(monkeypatch):
    # Strings changing one run of at most _MAX_RUN sites never rerun the layers on the cache; neither do those of
    # the periodic bond (sites 0 and N-1: the last site's outcome is read by no position).
    model = _random_model(6)
    a = model.sample(8, generator=torch_generator(1))
    c = a[:, None, :].repeat(1, 7, 1)
    for m in range(6):
        c[:, m, m:m + 2] = (c[:, m, m:m + 2] + 1) % 4
    c[:, 6, [0, 5]] = (c[:, 6, [0, 5]] + 2) % 4
    monkeypatch.setattr(POVMTransformer, "_rerun", lambda *args: pytest.fail("reran the layers"))
    logp_c = model.log_prob_connected(a, c)[1]
    torch.testing.assert_close(logp_c, model.log_prob(c.reshape(-1, 6)).reshape(8, 7), atol=1e-12, rtol=0)



def test_saturated_float32_attention_falls_back_instead_of_nan():
    # Queries and keys scaled by 60: scores spread over hundreds, so in float32 the tables' common reference (the
    # largest score any token could reach) leaves some rows with every term underflowed (0/0 before the guard).
    # Those strings must be rerun on the bucketed pass: finite values equal to log_prob's in float32 (1e-4
    # absolute over 12 conditionals), finite gradients.
    n = 12
    model = _random_model(n, d_model=32)
    with torch.no_grad():
        model.blocks[0].attn.qkv.weight.mul_(60.0)
    a, c = _runs_of_changes(model, 16, 8, seed=7)
    logp_c = model.log_prob_connected(a, c, precision="single")[1]
    full_c = model.log_prob(c.reshape(-1, n), precision="single").reshape(16, 8)
    assert bool(torch.isfinite(logp_c).all())
    torch.testing.assert_close(logp_c, full_c, atol=1e-4, rtol=0)
    grads = torch.autograd.grad(logp_c.sum(), list(model.parameters()))
    assert all(bool(torch.isfinite(g).all()) for g in grads)

def test_density_evaluation_is_causal():
    model = _random_model(6, n_layers=2, n_heads=2, d_model=16)
    x = torch.randint(4, (50, 6), generator=torch_generator(0))
    base = model.conditional_log_probs(x)
    for k in range(6):
        changed = x.clone()
        changed[:, k:] = (changed[:, k:] + 1) % 4
        out = model.conditional_log_probs(changed)
        # Conditionals at positions <= k see only x_<k, which did not change: identical.
        torch.testing.assert_close(out[:, : k + 1], base[:, : k + 1], atol=1e-14, rtol=0)
        if k < 5:
            assert not torch.allclose(out[:, k + 1:], base[:, k + 1:])


def test_seed_reproduces_weights_and_samples():
    a, b = POVMTransformer(5, seed=4), POVMTransformer(5, seed=4)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert a.seed == 4
    ma, mb = _random_model(5, seed=4), _random_model(5, seed=4)
    assert torch.equal(ma.sample(100, generator=torch_generator(3)), mb.sample(100, generator=torch_generator(3)))


@pytest.mark.skipif(cuda_works(), reason="a GPU is present")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no working CUDA GPU"):
        POVMTransformer(3, device="cuda")


@pytest.mark.skipif(not cuda_works(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    cpu = _random_model(5, n_layers=2)
    gpu = _random_model(5, n_layers=2, device="cuda")
    strings = all_outcome_strings(5)
    torch.testing.assert_close(gpu.log_prob(strings.cuda()).cpu(), cpu.log_prob(strings), atol=1e-10, rtol=0)


def test_bad_input():
    with pytest.raises(ValueError, match="divisible by n_heads"):
        POVMTransformer(3, d_model=10, n_heads=3)
    with pytest.raises(ValueError, match="initial_probs must have shape"):
        POVMTransformer(3, initial_probs=[0.5, 0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        POVMTransformer(3, initial_probs=[0.5, 0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="precision"):
        POVMTransformer(3, precision="half")
    with pytest.raises(ValueError, match="n_sites must be >= 1"):
        POVMTransformer(0)
    model = POVMTransformer(3, seed=0)
    with pytest.raises(ValueError, match="outcomes must lie in 0..3"):
        model.log_prob(torch.tensor([[0, 1, 4]]))
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        model.log_prob(torch.tensor([[0, 1]]))
    with pytest.raises(TypeError, match="integer tensor"):
        model.log_prob(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="permutation"):
        model.log_prob(torch.zeros(2, 3, dtype=torch.long), order=[0, 0, 1])
    with pytest.raises(ValueError, match="too large to enumerate"):
        all_outcome_strings(11)
