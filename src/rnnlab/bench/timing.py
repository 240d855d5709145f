"""Median wall-clock times, measured interleaved, and this machine's matmul peak.

Timings on a shared machine are noisy: each implementation gets a warm-up call, then the
implementations being compared take turns, one call each per round, and each reports the
median of its rounds. Interleaving spreads any slow spell over all of them alike.
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


def matmul_peak(sizes: tuple[int, ...] = (512, 1024), repeats: int = 7) -> float:
    """This machine's fp32 matmul rate in GFLOP/s: the best median over square sizes n,
    each matmul costing 2·n³ FLOPs (at the current torch thread count)."""
    import torch

    best = 0.0
    for n in sizes:
        gen = torch.Generator().manual_seed(n)
        a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
        sec = interleaved_medians({"mm": lambda a=a, b=b: a @ b}, repeats, warmup=2)["mm"]
        best = max(best, 2 * n**3 / sec / 1e9)
    return best
