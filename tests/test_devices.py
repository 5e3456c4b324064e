"""qdyn.devices.map_chunks: chunks side by side on the CPU's torch threads, in order, with the caller's grad mode,
single-threaded operations while they run and the thread count restored after (also after an error)."""

import threading

import pytest
import torch

from qdyn import devices
from qdyn.devices import map_chunks


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _probe(chunk):
    """What a chunk saw: its value, the torch threads, grad mode, and the OS thread that ran it."""
    return chunk * 10, torch.get_num_threads(), torch.is_grad_enabled(), threading.get_ident()


def test_chunks_run_side_by_side_single_threaded_in_order(two_threads):
    results = map_chunks(_probe, range(5), "cpu")
    assert [r[0] for r in results] == [0, 10, 20, 30, 40]
    assert {r[1] for r in results} == {1}  # each chunk's operations on one thread
    assert threading.get_ident() not in {r[3] for r in results}  # on worker threads
    assert torch.get_num_threads() == 2  # restored
    with torch.no_grad():
        assert not any(r[2] for r in map_chunks(_probe, range(3), "cpu"))  # the caller's grad mode
    assert all(r[2] for r in map_chunks(_probe, range(3), "cpu"))


def test_an_error_in_a_chunk_reaches_the_caller_and_the_threads_are_restored(two_threads):
    def fail_on_two(chunk):
        if chunk == 2:
            raise ValueError("chunk 2 failed")
        return chunk

    with pytest.raises(ValueError, match="chunk 2 failed"):
        map_chunks(fail_on_two, range(4), "cpu")
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("threads,chunks,device,side_by_side", [(1, 4, "cpu", True), (2, 1, "cpu", True),
                                                               (2, 4, "cuda", True), (2, 4, "cpu", False)])
def test_in_turn_on_the_calling_thread_with_one_thread_one_chunk_a_gpu_or_when_asked(threads, chunks, device,
                                                                                     side_by_side, monkeypatch):
    monkeypatch.setattr(devices, "SIDE_BY_SIDE", side_by_side)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        results = map_chunks(_probe, range(chunks), device)
    finally:
        torch.set_num_threads(before)
    assert [r[0] for r in results] == [10 * c for c in range(chunks)]
    assert {r[3] for r in results} == {threading.get_ident()}


@pytest.mark.parametrize("rows,most,threads,sizes", [
    (20, 16, 2, [10, 10]),  # two chunks of at most 16, balanced
    (100, 9, 2, [9] * 4 + [8] * 8),  # 12 chunks (already a multiple of 2)
    (100, 9, 4, [9] * 4 + [8] * 8),
    (7, 100, 2, [4, 3]),  # one chunk would do; two let both threads work
    (1, 100, 2, [1]),
    (10, 3, 1, [3, 3, 2, 2]),  # in turn: as few chunks as fit
])
def test_balanced_chunks_fit_and_feed_every_worker(rows, most, threads, sizes):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        chunks = devices.balanced_chunks(torch.arange(rows), most, "cpu")
    finally:
        torch.set_num_threads(before)
    assert [len(c) for c in chunks] == sizes
    assert torch.equal(torch.cat(chunks), torch.arange(rows))
