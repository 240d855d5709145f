"""Problem 1, training speed: one training step's time and its sequential depth against T.

A recurrence must finish h_{t−1} before it starts h_t, so a step over T inputs is T dependent
updates, each O(H²) work (O(H) for the diagonal minGRU): cost and depth both grow like T. A
causal Transformer computes every position of a layer at once: depth = its layers, whatever T,
but each layer compares every pair of positions, O(T²·H) work and T² attention scores per head
(Vaswani et al. 2017, table 1). On a machine with few cores the parallelism buys little and
the T² term dominates at long T; the crossover, where one exists, is measured, not assumed.

Times are interleaved medians (:func:`rnnlab.bench.timing.interleaved_medians`) of forward +
backward of a sum-of-squares loss over (B, T, 1) inputs, at the current torch thread count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rnnlab.bench.timing import interleaved_medians
from rnnlab.cells import make_cell
from rnnlab.cells.base import Recurrence


def sequential_depth(cell: Recurrence, T: int) -> int:
    """Dependent steps in one forward pass: T for a nonlinear recurrence, ⌈log₂ T⌉ for a
    diagonal linear one evaluated by a parallel scan, the layers for the Transformer."""
    if not cell.has_state:
        return cell.layers  # type: ignore[attr-defined]  # the Transformer's blocks
    if hasattr(cell, "log_coefficients"):  # minGRU/minLSTM: h_t = a_t ⊙ h_{t−1} + b_t
        return max(1, math.ceil(math.log2(T)))
    return T


def param_count(name: str, hidden: int, input_size: int = 1) -> int:
    """Parameters of one cell of this kind (the head not counted)."""
    return sum(p.numel() for p in make_cell(name, input_size, hidden).parameters())


@dataclass(frozen=True)
class Speed:
    """Seconds per training step and depth, by cell and T (lists in the order of ``lengths``).

    ``attention_mib``: one layer's attention scores B·heads·T² in float32, if they were stored
    (the memory term that grows with T²; torch's fused kernel on the CPU need not store them).
    """

    lengths: list[int]
    batch: int
    hidden: int
    threads: int
    device: str
    seconds: dict[str, list[float]]
    depth: dict[str, list[int]]
    attention_mib: list[float] | None

    def crossover(self, a: str, b: str) -> int | None:
        """The first T at which ``a``'s step is slower than ``b``'s after being faster (or
        faster after being slower): where the order of the two changes; None if it never does."""
        faster = [x < y for x, y in zip(self.seconds[a], self.seconds[b], strict=True)]
        for i in range(1, len(faster)):
            if faster[i] != faster[i - 1]:
                return self.lengths[i]
        return None

    def to_dict(self) -> dict:
        """JSON-able."""
        return {
            "lengths": self.lengths,
            "batch": self.batch,
            "hidden": self.hidden,
            "threads": self.threads,
            "device": self.device,
            "seconds": self.seconds,
            "depth": self.depth,
            "attention_mib": self.attention_mib,
        }


def measure_speed(
    cells: tuple[str, ...],
    hidden: int,
    batch: int,
    lengths: list[int],
    repeats: int,
    seed: int,
    device: torch.device | None = None,
) -> Speed:
    """Time a training step of every cell at every T (the cells interleaved at each T), on
    ``device`` (the CPU by default; on a GPU each call waits for its kernels to finish)."""
    device = torch.device("cpu") if device is None else device
    torch.manual_seed(seed)
    built = {name: make_cell(name, 1, hidden).to(device) for name in cells}
    seconds: dict[str, list[float]] = {name: [] for name in cells}
    gen = torch.Generator().manual_seed(seed)
    for T in lengths:
        x = torch.randn(batch, T, 1, generator=gen).to(device)  # (B, T, I)

        def step(cell: Recurrence, x: torch.Tensor = x) -> None:
            cell.zero_grad(set_to_none=True)
            h, _ = cell(x)  # (B, T, H)
            h.square().mean().backward()
            if x.is_cuda:
                torch.cuda.synchronize(x.device)  # the time of the work, not of its launch

        fns = {name: (lambda c=cell: step(c)) for name, cell in built.items()}
        for name, sec in interleaved_medians(fns, repeats).items():
            seconds[name].append(sec)
    depth = {name: [sequential_depth(c, T) for T in lengths] for name, c in built.items()}
    heads = [c.heads for c in built.values() if not c.has_state]  # type: ignore[attr-defined]
    mib = [batch * heads[0] * T * T * 4 / 2**20 for T in lengths] if heads else None
    threads = torch.get_num_threads()
    return Speed(lengths, batch, hidden, threads, str(device), seconds, depth, mib)
