"""``rnnlab bench``'s settings (no torch here): which device, which shapes, how many threads.

One config for both benches: the CPU bench (:func:`rnnlab.bench.run_bench`) and the GPU bench
(:func:`rnnlab.bench.gpu.run_gpu_bench`); ``device`` picks between them on the command line.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from rnnlab.config import check_fields, option
from rnnlab.settings.devices import DEVICES

SHAPES = ("all", "quick")
MAX_SEED = 2**32 - 1


def _cores() -> int:
    """The cores this process may run on (the most threads it can use)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class BenchConfig:
    """What ``rnnlab bench`` runs: the device, the shapes, threads, seed, where the plot goes.

    ``shapes="quick"`` (``--quick``) keeps the shapes behind the headline numbers: on the CPU,
    the RNN at H = 64, 128 and 256, T = 50 and 200, the gated layers at T = 4096 only and DEER
    at T = 64 and 256; on the GPU, float32 at T = 256 and 4096, DEER up to T = 1024.
    ``smoke`` shrinks every shape to a few steps: the harness runs end to end in seconds and
    measures nothing meaningful (the test suite's run).
    """

    device: str = option(
        "auto",
        "auto: the GPU when torch sees one, else the CPU; cpu: our fused kernels against "
        "nn.RNN/nn.GRU/nn.LSTM, and DEER; cuda: cuDNN against the Triton minGRU/minLSTM kernel "
        "and the scan, and DEER, against the GPU's measured bandwidth and matmul rate",
        choices=DEVICES,
    )
    threads: int = option(1, "torch/MKL threads (the CPU bench)", low=1, high=_cores(), metavar="N")
    seed: int = option(0, "seed for the inputs and weights", low=0, high=MAX_SEED, metavar="N")
    plot: Path = option(
        Path("runs/bench/time_vs_T.png"), "the PNG of time against T", metavar="FILE.png"
    )
    shapes: str = option("all", "every shape, or the headline ones only", choices=SHAPES, cli=False)
    smoke: bool = option(False, argparse.SUPPRESS)  # a hidden switch: tiny shapes, for tests

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def quick(cls) -> BenchConfig:
        """Only the shapes behind the headline numbers: about half a minute on one CPU core."""
        return cls(shapes="quick")

    @property
    def is_quick(self) -> bool:
        """Whether only the headline shapes run."""
        return self.shapes == "quick"

    def shape(self, B: int, T: int) -> tuple[int, int]:
        """(B, T) of a CPU case as run: unchanged, or shrunk for a smoke run."""
        return (2, max(2, T // 64)) if self.smoke else (B, T)

    def to_dict(self) -> dict:
        """JSON-able."""
        return asdict(self) | {"plot": str(self.plot)}
