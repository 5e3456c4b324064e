"""The torch GMRES path of the Liouvillian and POVM steady states (``device=``), without a GPU on ``"torch-cpu"``.

References independent of the code under test: ``numpy.linalg.solve`` for the GMRES kernel; QuTiP's
``steadystate`` (its own vectorisation and bordering, solved by its GMRES to ``rtol = 1e-14``; on the dissipative
Ising chain N = 6 it agrees with QuTiP's direct sparse solve to 1.3e-14, which takes 11 s and is left out here)
for the steady states, on the dissipative Ising chain and on an XYZ chain with a field, site-dependent decay rates
and dephasing that the solver was not tuned on; and the scipy path (``device="cpu"``) on the same system.
"""

import functools
import warnings

import numpy as np
import pytest
import qutip
import scipy.sparse as sp
import torch
from qiskit.quantum_info import SparsePauliOp

import qdyn.open as O
from qdyn.devices import cuda_works
from qdyn.open import iterative
from qdyn.open.iterative import KrylovSolver
from qdyn.open.liouvillian import liouvillian_matrix, steady_state_system
from qdyn.open.stationarity import BorderedGenerator
from qdyn.open.torch_gmres import gmres
from qdyn.operators import reverse_qubit_order

N = 6


def _xyz_chain(n: int) -> O.Lindbladian:
    """Open XYZ chain, Jx, Jy, Jz = 0.7, 1.1, 0.4, field 0.6 X, decay sigma^- at rates 0.4..0.9, Z dephasing 0.3
    on the first site."""
    terms = [(p * 2, [i, i + 1], J) for i in range(n - 1) for p, J in (("X", 0.7), ("Y", 1.1), ("Z", 0.4))]
    terms += [("X", [i], 0.6) for i in range(n)]
    H = SparsePauliOp.from_sparse_list(terms, n)
    lowering = [SparsePauliOp.from_sparse_list([("X", [i], 0.5), ("Y", [i], 0.5j)], n) for i in range(n)]
    dephasing = SparsePauliOp.from_sparse_list([("Z", [0], 1.0)], n)
    return O.Lindbladian(H, lowering + [dephasing], [0.4 + 0.1 * i for i in range(n)] + [0.3])


MODELS = {"ising": O.dissipative_ising, "xyz": _xyz_chain}


def _site_paulis(n: int) -> dict:
    return {f"{p}{i}": SparsePauliOp.from_sparse_list([(p, [i], 1.0)], n) for i in range(n) for p in "XZ"}


@functools.cache
def _model(name: str, n: int = N) -> tuple[O.Lindbladian, np.ndarray]:
    """The Lindbladian and QuTiP's steady state (its GMRES at rtol 1e-14) in qdyn's qubit order, its residual
    checked."""
    lb = MODELS[name](n)
    H, c_ops = lb.to_qutip()
    rho = reverse_qubit_order(qutip.steadystate(H, c_ops, method="iterative-gmres", rtol=1e-14, atol=1e-16).full(),
                              lb.num_qubits)
    assert np.linalg.norm(liouvillian_matrix(lb) @ rho.reshape(-1)) < 1e-12
    return lb, rho


def _trace_functional(n: int) -> np.ndarray:
    d = 2**n
    trace = np.zeros(d * d)
    trace[np.arange(d) * (d + 1)] = 1.0
    return trace


# -- the GMRES kernel ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize("jacobi", [False, True])
def test_gmres_solves_a_well_conditioned_system(dtype, jacobi):
    # A = diag(2..4) + G / (2 sqrt n) (cond ~ 3), sparse CSR on the torch side: the error is at most
    # cond * residual ~ 1e-13 with the target 1e-14; 1e-12 leaves room for the rounding of numpy's LU.
    rng = np.random.default_rng(7)
    n = 80
    A = np.diag(rng.uniform(2.0, 4.0, n)) + rng.standard_normal((n, n)) / (2 * np.sqrt(n))
    b = rng.standard_normal(n)
    if dtype.is_complex:
        A = A + 1j * rng.standard_normal((n, n)) / (2 * np.sqrt(n))
        b = b + 1j * rng.standard_normal(n)
    csr = sp.csr_matrix(A)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch marks sparse CSR as beta
        matrix = torch.sparse_csr_tensor(torch.from_numpy(csr.indptr.astype(np.int64)),
                                         torch.from_numpy(csr.indices.astype(np.int64)),
                                         torch.from_numpy(csr.data), size=A.shape)
    diagonal = torch.as_tensor(np.diag(A).copy())
    jacobi_inverse = (lambda v: v / diagonal) if jacobi else None
    x, residual, products = gmres(matrix, torch.as_tensor(b), preconditioner=jacobi_inverse, rtol=1e-14, restart=30)
    assert x.dtype == dtype
    assert residual <= 1e-14
    assert np.abs(x.numpy() - np.linalg.solve(A, b)).max() < 1e-12
    assert products < n  # a well-conditioned system converges in far fewer products than its size


def test_gmres_reports_the_true_residual_when_it_stops_early():
    # Two cycles of dimension 3 cannot solve a random 80 x 80 system: the returned residual is the measured
    # ||b - A x|| / ||b||, above the target, and 2 * 3 + 1 products were made (one for the check of the restart).
    rng = np.random.default_rng(1)
    A = np.eye(80) * 3.0 + rng.standard_normal((80, 80))
    b = rng.standard_normal(80)
    x, residual, products = gmres(torch.as_tensor(A), torch.as_tensor(b), rtol=1e-14, restart=3, max_restarts=2)
    assert residual == pytest.approx(np.linalg.norm(b - A @ x.numpy()) / np.linalg.norm(b), rel=1e-12)
    assert 1e-6 < residual < 1.0
    assert products == 2 * 3 + 2


def test_gmres_on_an_inconsistent_singular_system_stops_without_blowing_up():
    # diag(1, 2, 0) x = (1, 1, 1) has no solution; the least residual is 1/sqrt(3) of ||b|| (the third component).
    # GMRES must say so (a residual >= that, finite x) instead of dividing by the vanishing pivot.
    A = torch.diag(torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64))
    x, residual, _ = gmres(A, torch.ones(3, dtype=torch.float64), max_restarts=5)
    assert torch.isfinite(x).all()
    assert residual >= 1 / np.sqrt(3) - 1e-12


def test_failed_solve_returns_none_and_the_bordered_system_falls_back(monkeypatch):
    # With two Arnoldi steps per cycle and one cycle GMRES cannot reach ACCEPT_RTOL: the solver says None (both
    # with and without Jacobi) and the bordered system solves by sparse LU on the CPU, to the same state as the
    # torch GMRES with its normal limits (both within the 1e-11 distance estimate; 1e-10 leaves a margin).
    lb, d = O.dissipative_ising(5), 2**5
    trace = _trace_functional(5)
    normal = BorderedGenerator(liouvillian_matrix(lb), trace, what="L", method="gmres", device="torch-cpu")
    assert (normal.method, normal.device) == ("gmres", "torch-cpu")
    monkeypatch.setattr(iterative, "RESTART", 2)
    monkeypatch.setattr(iterative, "MAX_RESTARTS", 1)
    solver = KrylovSolver(normal.bordered, device="torch-cpu")
    assert solver.solve(np.eye(d * d)[0]) is None
    assert solver.preconditioner == "none"
    fallback = BorderedGenerator(liouvillian_matrix(lb), trace, what="L", method="gmres", device="torch-cpu")
    assert (fallback.method, fallback.device) == ("sparse-lu", "cpu")
    assert np.abs(fallback.solve() - normal.solve()).max() < 1e-10


# -- steady states on torch-cpu ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "method"), [
    # the Liouvillian GMRES runs with the no-jump preconditioner, on the torch path as its torch factors (with the
    # Jacobi diagonal alone the XYZ chain took ~9000 products, 26 s; now ~170, 0.4 s)
    ("ising", "liouvillian"), ("ising", "povm"), ("xyz", "povm"), ("xyz", "liouvillian")])
def test_steady_state_on_torch_agrees_with_scipy_and_qutip(name, method):
    # The true error of every <O> (against QuTiP) lies within the reported error (||o||_2 times the distance
    # estimate, ~1e-10 here) plus 1e-12 for QuTiP's own (its GMRES at rtol 1e-14, condition number < 1e2); the
    # torch and scipy paths solve the same bordered system to the same 1e-14 residual: they agree to 1e-10
    # (both within the distance estimate of the exact state).
    lb, rho = _model(name)
    ops = _site_paulis(N)
    torch_run = O.steady_state(lb, method=method, e_ops=ops, device="torch-cpu")
    scipy_run = O.steady_state(lb, method=method, e_ops=ops)
    assert torch_run.metadata.device == "torch-cpu" and scipy_run.metadata.device == "cpu"
    assert torch_run.metadata.options["solver"] == "gmres" and torch_run.converged
    assert torch_run.resources.matvecs > 0
    if method == "liouvillian":
        assert steady_state_system(lb, device="torch-cpu").preconditioner == "no-jump"
    for name, op in ops.items():
        exact = float(np.trace(op.to_matrix() @ rho).real)
        assert abs(torch_run.expect[name] - exact) <= torch_run.errors[name] + 1e-12
        assert abs(torch_run.expect[name] - scipy_run.expect[name]) < 1e-10
    assert max(torch_run.errors.values()) < 1e-8


def test_bordered_liouvillian_on_torch_untuned_chain_within_its_distance_estimate():
    # The fast version of the slow case above (N = 5, GMRES forced below its 4096-unknown threshold): the distance
    # to QuTiP's state lies within the reported estimate ||B^-1||_1 ||B x - e_0||_1 plus QuTiP's own error (1e-12).
    lb, rho = _model("xyz", 5)
    system = BorderedGenerator(liouvillian_matrix(lb), _trace_functional(5), what="L", method="gmres",
                               device="torch-cpu")
    assert (system.method, system.device) == ("gmres", "torch-cpu")
    x = system.solve()
    report = system.stationarity(x, 1e-8)
    assert report.converged and report.residual < 1e-12
    assert np.linalg.norm(x - rho.reshape(-1)) <= report.distance_bound + 1e-12


def test_povm_steady_state_takes_a_device():
    # The low-level function, GMRES forced at N = 5 (1024 outcomes), against the sparse LU of the same bordered
    # system: both within the ~1e-12 distance estimate of the exact state; 1e-10 leaves a margin.
    generator = O.POVMLindbladian(_xyz_chain(5), "tetra")
    P = O.povm_steady_state(generator, method="gmres", device="torch-cpu")
    assert np.abs(P - O.povm_steady_state(generator, method="sparse-lu")).max() < 1e-10
    assert P.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("device", ["gpu", "tpu:0"])
def test_bad_device_names_are_a_clear_error(device):
    lb = O.dissipative_ising(3)
    with pytest.raises(ValueError, match="unknown device"):
        O.steady_state(lb, method="liouvillian", device=device)
    with pytest.raises(ValueError, match="unknown device"):
        O.povm_steady_state(O.POVMLindbladian(lb, "tetra"), device=device)


@pytest.mark.skipif(cuda_works(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no working CUDA GPU"):
        O.steady_state(O.dissipative_ising(3), method="povm", device="cuda")


@pytest.mark.skipif(not cuda_works(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("method", ["liouvillian", "povm"])
def test_steady_state_on_cuda_agrees_with_the_cpu(method):
    lb = O.dissipative_ising(N)
    gpu, cpu = (O.steady_state(lb, method=method, device=d) for d in ("cuda", "cpu"))
    assert gpu.metadata.device.startswith("cuda") and gpu.converged
    assert max(abs(gpu.expect[k] - cpu.expect[k]) for k in cpu.expect) < 1e-10
