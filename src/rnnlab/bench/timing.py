"""Median wall-clock times, measured interleaved.

Timings on a shared machine are noisy: each implementation gets a warm-up call, then the
implementations being compared take turns, one call each per round, and each reports the
median of its rounds. Interleaving spreads any slow spell over all of them alike; the bench
puts the machine's limits (:mod:`rnnlab.bench.limits`) in the same rounds.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved_medians(
    fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1
) -> dict[str, float]:
    """Median seconds per call of each function, timed in alternating rounds."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}
