"""Median wall-clock times, measured interleaved, in blocks of back-to-back calls.

Timings on a shared machine are noisy: each implementation gets a warm-up call, then the
implementations being compared take turns, one block each per round, and each reports the
median of its rounds. Interleaving spreads any slow spell over all of them alike; the bench
puts the machine's limits (:mod:`rnnlab.bench.limits`) in the same rounds.

A block is as many back-to-back calls as fill ``block`` seconds (one call for anything
slower), timed together: seconds per call = block time / calls. A single short call timed
right after another implementation's turn measures the change of work as much as the work:
on the AMD EPYC here, one fused RNN step at B = 64, H = 64, T = 50 took 1.12 ms timed alone
and 1.9 ms timed straight after a 1024 × 1024 matmul (the first call after it 1.77 ms, the
next ones 1.30, 1.24, 1.18 ms; after a 5 ms sleep 1.50 ms), so the bench printed 48 % of the
peak for a kernel that runs at 70 % step after step, as training runs it. This is how
``timeit`` and ``torch.utils.benchmark``'s ``blocked_autorange`` time short code.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from time import perf_counter

BLOCK_S = 0.02  # seconds of back-to-back calls timed together in each round
MAX_CALLS = 10_000  # calls in a block at most


def calls_per_block(seconds: float, block: float) -> int:
    """How many calls of ``seconds`` each fill a block of ``block`` seconds: ⌈block / seconds⌉,
    at least 1, at most MAX_CALLS."""
    if block <= 0 or seconds >= block:
        return 1
    return min(MAX_CALLS, math.ceil(block / max(seconds, 1e-9)))


def interleaved_medians(
    fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1, block: float = BLOCK_S
) -> dict[str, float]:
    """Median seconds per call of each function, timed in alternating rounds of one block each
    (see the module's docstring; ``block`` = 0 times one call per round)."""
    calls: dict[str, int] = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        if block > 0:  # one timed call after the warm-up sizes the block
            start = perf_counter()
            fn()
            calls[name] = calls_per_block(perf_counter() - start, block)
        else:
            calls[name] = 1
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            n = calls[name]
            start = perf_counter()
            for _ in range(n):
                fn()
            times[name].append((perf_counter() - start) / n)
    return {name: statistics.median(ts) for name, ts in times.items()}
