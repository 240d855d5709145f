"""The fused kernels on several cores: the batch split over torch's intra-op threads.

The rows of a batch are independent recurrences, so each of ``torch.get_num_threads()``
threads (``torch.set_num_threads``) runs a kernel on its own contiguous slice of
rows; the numba kernels release the GIL. Inside each slice MKL's GEMM (used for inputs wider
than a few features) runs on one thread, so that N slices make N busy threads, not N × N.

Used by the minGRU/minLSTM kernels (measured, 2 threads, T = 4096: 88 → 53 ms a training step).
Not by the vanilla RNN kernel: its time is in one small GEMM per step, and two threads each
running half the batch's GEMMs took as long as one thread running all of them (4.2 ms against
3.9 ms, H = 128, T = 200, forward); there MKL's own threads inside each GEMM do better.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch

from rnnlab.kernels._blas import mkl_local_threads

PARALLEL_MIN_WORK = 1 << 18  # elements per pass below which one thread does it all


def batch_parts(B: int, work: int) -> list[slice]:
    """Contiguous slices of the batch, one per torch intra-op thread, or one slice when the
    work (elements touched per pass) is too small to share."""
    n = max(1, min(torch.get_num_threads(), B)) if work >= PARALLEL_MIN_WORK else 1
    return [slice(a, b) for a, b in itertools.pairwise(B * i // n for i in range(n + 1))]


@functools.cache
def _pool(workers: int, pid: int) -> ThreadPoolExecutor:
    """Threads for the slices, made on first use and kept; one pool per process id, since a
    forked child has none of its parent's threads."""
    return ThreadPoolExecutor(workers, thread_name_prefix="rnnlab-kernel")


def _one_mkl_thread(call: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        before = mkl_local_threads(1)
        try:
            call()
        finally:
            mkl_local_threads(before)

    return run


def run_parts(calls: list[Callable[[], None]]) -> None:
    """Run the calls, the first in this thread and the others in the pool, MKL on one thread
    in each (also for a single call: the kernels' GEMMs are small, one per chunk of 128 steps,
    and a GEMM spread over many threads pays a fork and a join each time); wait for all of
    them before returning or raising (they write into shared output arrays)."""
    calls = [_one_mkl_thread(c) for c in calls]
    if len(calls) == 1:
        calls[0]()
        return
    futures = [_pool(len(calls) - 1, os.getpid()).submit(c) for c in calls[1:]]
    try:
        calls[0]()
    finally:
        errors = [f.exception() for f in futures]  # waits for each
    for e in errors:
        if e is not None:
            raise e
