"""This machine's limits, measured as functions that take turns with the cases being timed.

Each limit is a :class:`Probe`: a function of no arguments that does a known amount of work,
and that amount. The bench puts the probes in the same interleaved rounds as the cases
(:func:`rnnlab.bench.timing.interleaved_medians`), so that a limit and a case are measured
under the same load and a case can never look faster than the machine allows.

- ``matmul``: fp32 square matmul at n = 1024 (2·n³ FLOPs) on the bench's torch threads.
- ``triad``: a = b + s·c over float32 arrays of 256 MiB each, well past any L3, one thread
  (numba, no parallel loop); STREAM's count: 3 arrays × 4 bytes a value.
- ``sigmoid``, ``tanh``, ``exp``: float32 throughput over a buffer that stays in L1, in the
  style of the kernels (``@njit`` with :data:`rnnlab.kernels._jit.JIT`): σ exactly as the
  minimal cells compute it (:func:`rnnlab.kernels._jit.sigmoid`: 1/(1 + 2^y) with 2^y by a
  polynomial and the exponent bits, vectorized), tanh as the RNN kernel does (the rational
  fit), and ``math.exp`` (a libm call per value unless numba finds Intel's SVML).

Imported on first use only (numba).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from rnnlab.kernels._jit import JIT, sigmoid, tanh_f32

MIB = 2**20


@dataclass
class Probe:
    """A function to time and the work one call does; rate = work / median seconds."""

    fn: Callable[[], object]
    work: float
    unit: str  # what rate is in: FLOP/s, bytes/s, values/s


@njit(**JIT)
def _triad(a, b, c, s):
    for j in range(a.size):
        a[j] = b[j] + s * c[j]


@njit(**JIT)
def _sigmoid_sweep(x, out, reps):
    for _ in range(reps):  # out accumulates, so no round of the work can be dropped
        for j in range(x.size):
            out[j] += sigmoid(x[j])


@njit(**JIT)
def _tanh_sweep(x, out, reps):
    for _ in range(reps):
        for j in range(x.size):
            out[j] += tanh_f32(x[j])


@njit(**JIT)
def _exp_sweep(x, out, reps):
    for _ in range(reps):
        for j in range(x.size):
            out[j] += math.exp(x[j])


def matmul_probe(n: int = 1024) -> Probe:
    """fp32 n × n matmul on torch's threads: 2·n³ FLOPs."""
    import torch

    gen = torch.Generator().manual_seed(n)
    a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
    return Probe(lambda: a @ b, 2.0 * n**3, "FLOP/s")


def triad_probe(mib: int = 256) -> Probe:
    """a = b + s·c on three float32 arrays of ``mib`` MiB each: 3 × 4 bytes a value."""
    n = mib * MIB // 4
    a, b, c = np.zeros(n, np.float32), np.ones(n, np.float32), np.full(n, 2, np.float32)
    s = np.float32(3)
    return Probe(lambda: _triad(a, b, c, s), 3.0 * 4 * n, "bytes/s")


def transcendental_probes(values: int = 2**24, n: int = 2048) -> dict[str, Probe]:
    """σ, tanh and exp over ``n`` float32 values in L1, ``values`` evaluations a call."""
    x = np.linspace(-6, 6, n).astype(np.float32)
    out = np.zeros(n, np.float32)
    reps = max(1, values // n)
    sweeps = {"sigmoid": _sigmoid_sweep, "tanh": _tanh_sweep, "exp": _exp_sweep}
    return {
        name: Probe(lambda f=f: f(x, out, reps), float(reps * n), "values/s")
        for name, f in sweeps.items()
    }


def probes(smoke: bool = False, kinds: tuple[str, ...] = ("matmul",)) -> dict[str, Probe]:
    """The probes asked for, named ``limit: <kind>`` for the timing rounds; ``smoke``: tiny
    sizes that measure nothing meaningful (the test suite's run)."""
    out: dict[str, Probe] = {}
    if "matmul" in kinds:
        out["limit: matmul"] = matmul_probe(64 if smoke else 1024)
    if "triad" in kinds:
        out["limit: triad"] = triad_probe(1 if smoke else 256)
    if "transcendental" in kinds:
        tr = transcendental_probes(2**12 if smoke else 2**24, 256 if smoke else 2048)
        out |= {f"limit: {k}": p for k, p in tr.items()}
    return out


def rates(found: dict[str, Probe], seconds: dict[str, float]) -> dict[str, float]:
    """The rate of each probe (its work ÷ its median seconds), by kind (the name without
    ``limit: ``)."""
    return {
        name.removeprefix("limit: "): p.work / seconds[name] if seconds[name] > 0 else math.inf
        for name, p in found.items()
    }
