"""The cached local loss: reusing each sample's keys/values for its connected strings changes no number.

References: the full evaluation of every distinct string (``prefix=False``), which runs the network on whole
strings and shares nothing. Both are float64 sums of the same conditionals in a different grouping, so they agree
to rounding (1e-10 absolute on ratios of order 1-100, relative on gradients). float32 arithmetic (the default of
the stationarity loss) is compared with float64 at the tolerance its unit roundoff allows (stated per test).
"""

import copy

import pytest
import torch

from qdyn.devices import cuda_works
from qdyn.nets.povm_transformer import POVMTransformer
from qdyn.nets.string_states import StringState, snake_strings
from qdyn.open import dissipative_ising, dissipative_xyz
from qdyn.open.neural.connections import (
    CachedPlan,
    FullPlan,
    apply_action,
    cached_plan,
    evaluation_plan,
    local_action,
    unique_rows,
)
from qdyn.open.neural.losses import StationaryProblem, TrapezoidProblem
from qdyn.open.povm import POVM
from qdyn.open.povm_lindbladian import POVMLindbladian
from qdyn.seeding import torch_generator


def _net(n, seed=3, layers=2, **kw):
    """A multi-head network with a nonzero output layer (conditionals depend on the prefix); one layer takes the
    attention of the connected strings from tables of the samples' pass, more layers rerun them on the cache."""
    net = POVMTransformer(n, n_layers=layers, n_heads=2, d_model=16, d_ff=32, seed=seed, **kw)
    with torch.no_grad():
        weight = net.head.weight  # drawn on the CPU, so that every device gets the same weights
        weight.copy_(0.7 * torch.randn(weight.shape, generator=torch_generator(seed + 1), dtype=weight.dtype))
    return net


def _chain(n=6):
    return local_action(POVMLindbladian(dissipative_ising(n, V=2.0, g=1.0, gamma=1.0), POVM("tetra")))


def _lattice():
    """3 x 3 periodic dissipative XYZ (18 bonds, 9 sites) read along two snake paths."""
    return local_action(POVMLindbladian(dissipative_xyz(3, Jx=0.9, Jy=1.0, Jz=1.0, B=0.3), POVM("tetra")))


def _ratio_and_grad(problem, state, a):
    state.zero_grad()
    ratio = problem.ratio(a)
    ratio.abs().sum().backward()
    return ratio.detach(), [p.grad.clone() for p in state.parameters()]


def _assert_same(first, second, atol, grad_rtol):
    (r1, g1), (r2, g2) = first, second
    torch.testing.assert_close(r1, r2, atol=atol, rtol=0)
    for x, y in zip(g1, g2, strict=True):
        assert float((x - y).abs().max()) <= grad_rtol * max(float(y.abs().max()), 1e-300)


def _geometry(geometry: str, layers: int = 2):
    """(state, action) on a 6-site chain or a 3x3 lattice read along two snakes."""
    if geometry == "chain":
        return _net(6, layers=layers), _chain(6)
    return StringState(_net(9, layers=layers), snake_strings(3, 3)[:2]), _lattice()


def _stationary_losses(geometry: str, layers: int, *settings):
    """(ratio, gradient) of the stationarity loss on the same 40 samples for each ``(prefix, precision)``."""
    state, action = _geometry(geometry, layers)
    a = state.sample(40, generator=torch_generator(0))
    return [_ratio_and_grad(StationaryProblem(state, action, prefix=prefix, precision=precision), state, a)
            for prefix, precision in settings]


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("geometry", ["chain", "lattice"])
def test_cached_stationary_loss_equals_the_uncached_one(geometry, layers):
    cached, full = _stationary_losses(geometry, layers, (True, "double"), (False, "double"))
    assert float(full[0].abs().max()) > 1.0  # a nontrivial residual
    _assert_same(cached, full, atol=1e-10, grad_rtol=1e-10)


@pytest.mark.parametrize("layers", [1, 2])
def test_cached_trapezoid_loss_equals_the_uncached_one(layers):
    state, action = _net(6, layers=layers), _chain(6)
    frozen = copy.deepcopy(state)
    with torch.no_grad():  # the trained state has moved away from the frozen one
        for p in state.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=torch_generator(2), dtype=p.dtype))
    a = state.sample(40, generator=torch_generator(1))
    cached = _ratio_and_grad(TrapezoidProblem(state, frozen, action, 0.05, prefix=True, precision="double"),
                             state, a)
    full = _ratio_and_grad(TrapezoidProblem(state, frozen, action, 0.05, prefix=False, precision="double"),
                           state, a)
    _assert_same(cached, full, atol=1e-10, grad_rtol=1e-10)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("geometry", ["chain", "lattice"])
def test_float32_arithmetic_agrees_with_float64(geometry, layers):
    # float32 unit roundoff 6e-8, amplified by the sums of N log-conditionals and the exponentials of their
    # differences (ratios up to ~1e2 here): the ratios agree to 1e-5 of the largest, the gradients to 1e-4.
    single, double = _stationary_losses(geometry, layers, (True, "single"), (True, "double"))
    assert single[0].dtype == torch.float64  # parameters and sums keep the network's dtype
    scale = float(double[0].abs().max())
    _assert_same(single, double, atol=1e-5 * scale, grad_rtol=1e-4)
    assert StationaryProblem(*_geometry(geometry, layers)).precision == "single"  # the default of the stationarity loss


def test_cached_plan_drops_zero_values_and_duplicates():
    action = _chain(6)
    a = _net(6).sample(20, generator=torch_generator(0))
    connected, values = apply_action(action, a)
    plan = cached_plan(a, connected, values)
    differs = (connected != a[:, None, :]).any(-1) & (values != 0)
    assert plan.slot.numel() == int(differs.sum())
    pairs = {(int(r), tuple(s.tolist())) for r, s in zip(plan.rows, plan.strings, strict=True)}
    assert len(pairs) == plan.strings.shape[0]  # each (sample, string) once
    every = {(b, tuple(connected[b, m].tolist())) for b, m in zip(*torch.nonzero(differs, as_tuple=True), strict=True)
             for b, m in [(int(b), int(m))]}
    assert pairs == every
    assert isinstance(evaluation_plan(a, connected, False), FullPlan)
    assert isinstance(evaluation_plan(a, connected, True, values), CachedPlan)


def test_unique_rows_matches_torch_unique():
    keys = torch.randint(3, (500, 4), generator=torch_generator(0))
    first, inverse = unique_rows(keys)
    assert torch.equal(keys[first][inverse], keys)
    assert first.numel() == torch.unique(keys, dim=0).shape[0]


@pytest.mark.skipif(not cuda_works(), reason="needs a CUDA GPU")
def test_cached_loss_on_cuda_matches_the_cpu():
    # Same weights on both devices (seeded on the CPU); float64 arithmetic: rounding only.
    cpu, gpu = _net(6), _net(6, device="cuda")
    action = _chain(6)
    a = cpu.sample(40, generator=torch_generator(0))
    on_cpu = _ratio_and_grad(StationaryProblem(cpu, action, prefix=True, precision="double"), cpu, a)
    on_gpu = _ratio_and_grad(StationaryProblem(gpu, action, prefix=True, precision="double"), gpu, a.cuda())
    _assert_same((on_gpu[0].cpu(), [g.cpu() for g in on_gpu[1]]), on_cpu, atol=1e-10, grad_rtol=1e-9)


def test_bad_rows():
    net = _net(4)
    a = net.sample(3, generator=torch_generator(0))
    with pytest.raises(ValueError, match="rows must index"):
        net.log_prob_connected(a, a[:2], rows=torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"shape \(G, 4\)"):
        net.log_prob_connected(a, a[:2], rows=torch.tensor([0]))
    with pytest.raises(ValueError, match="precision"):
        net.log_prob_connected(a, a[:2], rows=torch.tensor([0, 1]), precision="half")
