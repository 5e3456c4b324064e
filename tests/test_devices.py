"""qdyn.devices.map_chunks: chunks side by side on the CPU's torch threads, in order, with the caller's grad mode,
single-threaded operations while they run and the thread count restored after (also after an error)."""

import threading

import pytest
import torch

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


@pytest.mark.parametrize("threads,chunks,device", [(1, 4, "cpu"), (2, 1, "cpu"), (2, 4, "cuda")])
def test_in_turn_on_the_calling_thread_with_one_thread_one_chunk_or_a_gpu(threads, chunks, device):
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        results = map_chunks(_probe, range(chunks), device)
    finally:
        torch.set_num_threads(before)
    assert [r[0] for r in results] == [10 * c for c in range(chunks)]
    assert {r[3] for r in results} == {threading.get_ident()}
