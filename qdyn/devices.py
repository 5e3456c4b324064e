"""Compute devices for torch code paths: ``"auto" | "cpu" | "cuda"`` (also ``"cuda:N"``).

``"auto"`` probes once by allocating a tensor on the GPU (not by asking torch what it was built for) and falls
back to the CPU with one log line; an explicit ``"cuda"`` without a working GPU is a ``ValueError``.
"""

from __future__ import annotations

import functools
import logging
import warnings

__all__ = ["SIDE_BY_SIDE", "balanced_chunks", "chunk_workers", "cuda_works", "map_chunks", "resolve_device",
           "torch_csr", "torch_dtype"]

_log = logging.getLogger("qdyn")
_FALLBACK_LOGGED = False
#: Whether :func:`map_chunks` runs chunks side by side on the CPU's torch threads. Set it to False when other
#: threads of the process run torch work at the same time (the torch thread count is process-wide).
SIDE_BY_SIDE = True


@functools.cache
def cuda_works() -> bool:
    """True when a tensor can actually be created and used on the default CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    try:
        x = torch.ones(2, device="cuda")
        return bool((x + x).sum().item() == 4.0)
    except Exception:  # noqa: BLE001 - any failure means no usable GPU
        return False


def resolve_device(device: str = "auto") -> str:
    """Return a concrete device string: ``"cpu"`` or ``"cuda"``/``"cuda:N"``."""
    global _FALLBACK_LOGGED
    if not isinstance(device, str):
        raise TypeError(f"device must be a string ('auto', 'cpu' or 'cuda'), got {type(device).__name__}")
    if device == "cpu":
        return "cpu"
    if device == "auto":
        if cuda_works():
            return "cuda"
        if not _FALLBACK_LOGGED:
            _log.info("device='auto': no working CUDA GPU found, using the CPU")
            _FALLBACK_LOGGED = True
        return "cpu"
    if device == "cuda" or device.startswith("cuda:"):
        if not cuda_works():
            raise ValueError(f"device={device!r} was asked for but no working CUDA GPU was found "
                             "(install a CUDA build of torch on a machine with an NVIDIA GPU, or use device='cpu')")
        return device
    raise ValueError(f"unknown device {device!r}; expected 'auto', 'cpu' or 'cuda'")


def torch_dtype(precision: str = "double", complex_: bool = True):
    """torch dtype for ``precision`` in {"double", "single"}: complex128/complex64 or float64/float32."""
    import torch

    if precision not in ("double", "single"):
        raise ValueError(f"unknown precision {precision!r}; expected 'double' or 'single'")
    if complex_:
        return torch.complex128 if precision == "double" else torch.complex64
    return torch.float64 if precision == "double" else torch.float32


def torch_csr(matrix, device: str, dtype=None):
    """A scipy CSR ``matrix`` as a torch sparse CSR tensor on ``device`` (int64 indices; ``dtype`` a torch dtype,
    default the matrix's). Torch's "sparse CSR support is in beta" warning is silenced: only products are used."""
    import numpy as np
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(torch.from_numpy(matrix.indptr.astype(np.int64)),
                                       torch.from_numpy(matrix.indices.astype(np.int64)),
                                       torch.from_numpy(matrix.data), size=matrix.shape, dtype=dtype, device=device,
                                       check_invariants=False)


def chunk_workers(device) -> int:
    """How many chunks :func:`map_chunks` runs at once on ``device``: the torch threads on the CPU, else 1."""
    import torch

    if not SIDE_BY_SIDE or str(device).startswith("cuda"):
        return 1
    return max(1, torch.get_num_threads())


def balanced_chunks(items, most: int, device) -> list:
    """``items`` (a tensor) cut along its first axis into near-equal chunks of at most ``most`` rows, as many as
    needed rounded up to a multiple of :func:`chunk_workers` (no more than the rows), so that no worker of
    :func:`map_chunks` waits for another's last chunk."""
    import torch

    rows = items.shape[0]
    workers = chunk_workers(device)
    count = -(-max(1, -(-rows // most)) // workers) * workers
    return list(torch.tensor_split(items, max(1, min(rows, count))))


def map_chunks(fn, chunks, device) -> list:
    """``[fn(chunk) for chunk in chunks]``, in order, for torch work on ``device``.

    On the CPU with ``T > 1`` torch threads and several chunks, up to ``T`` chunks run side by side, each on its
    own Python thread whose torch operations are single-threaded: the intra-op thread count is 1 while they run
    (for the whole process) and is restored afterwards. Chunked network passes are chains of many small,
    memory-bound operations whose intra-op parallelism is poor, so whole chunks side by side finish sooner (a
    steady-state iteration of the POVM transformer on 2 cores, against the same chunks in turn: 1.35x at N = 64
    with 100 samples and 1.19x at N = 8 with 1000, from the initial state; about 1.0x with only two or three
    chunks; ``python benchmarks/povm_transformer.py --no-accuracy``). Grad mode is the caller's. Each result is
    computed on one thread, so it is the same on every run; it can differ from a multi-threaded run of ``fn`` by
    the rounding order of reductions only. On a GPU, with one thread or one chunk, or with :data:`SIDE_BY_SIDE`
    set to False, the chunks run in turn on the calling thread.
    """
    import torch

    chunks = list(chunks)
    threads = chunk_workers(device)
    if threads < 2 or len(chunks) < 2:
        return [fn(chunk) for chunk in chunks]
    from concurrent.futures import ThreadPoolExecutor

    grad_mode = torch.is_grad_enabled()

    def run(chunk):
        with torch.set_grad_enabled(grad_mode):
            return fn(chunk)

    torch.set_num_threads(1)  # new threads take the count in force at their first torch operation
    try:
        with ThreadPoolExecutor(max_workers=min(threads, len(chunks))) as pool:
            return list(pool.map(run, chunks))
    finally:
        torch.set_num_threads(threads)
