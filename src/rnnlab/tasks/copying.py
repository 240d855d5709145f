"""The copy task (Hochreiter & Schmidhuber 1997; Arjovsky, Shah & Bengio 2016, §4.1).

Remember 10 symbols over a delay of T steps. Symbols 1 … 8 are data, 0 is the blank, 9 the
delimiter. Each sequence has T + 20 steps:

    input    a_1 … a_10   0 … 0 (T − 1 blanks)   9   0 … 0 (10 blanks)
    target   0 … 0 (T + 10 blanks)                    a_1 … a_10

with a_i drawn uniformly from 1 … 8. The loss is the cross-entropy averaged over all T + 20
outputs (9 classes: blank and the 8 symbols). Without memory of the 10 symbols the best one can
do is to answer blank for the first T + 10 steps (loss 0, the timing is fixed) and a uniform
guess over the 8 symbols for the last 10 (loss ln 8 each), so

    baseline = 10 · ln 8 / (T + 20)

The task counts as solved below 10% of the baseline.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnlab.tasks.base import Task

SYMBOLS, REMEMBER = 8, 10  # data symbols 1 … 8; sequences of 10 to remember
BLANK, DELIMITER = 0, SYMBOLS + 1  # 0 and 9
N_INPUTS, N_OUTPUTS = SYMBOLS + 2, SYMBOLS + 1  # one-hot inputs 0 … 9, outputs 0 … 8


class CopyTask(Task):
    """The copy task with a delay of ``length`` blank steps."""

    name = "copy"
    input_size = N_INPUTS
    output_size = N_OUTPUTS
    per_step = True
    solved_fraction = 0.1

    @property
    def steps(self) -> int:
        """T + 20."""
        return self.length + 2 * REMEMBER

    def sequences(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """Symbol indices: input (B, T + 20) in 0 … 9, target (B, T + 20) in 0 … 8."""
        B, T = batch_size, self.length
        data = torch.randint(1, SYMBOLS + 1, (B, REMEMBER), generator=generator)  # a_1 … a_10
        inputs = torch.full((B, T + 2 * REMEMBER), BLANK, dtype=torch.long)
        inputs[:, :REMEMBER] = data
        inputs[:, REMEMBER + T - 1] = DELIMITER  # after T − 1 blanks
        target = torch.full_like(inputs, BLANK)
        target[:, T + REMEMBER :] = data  # the last 10 steps
        return inputs, target

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """x (B, T + 20, 10) one-hot float32; y (B, T + 20) class indices."""
        inputs, target = self.sequences(batch_size, generator)
        return F.one_hot(inputs, N_INPUTS).float(), target

    def loss(self, out: Tensor, target: Tensor) -> Tensor:
        """Cross-entropy over every step; ``out`` (B, T + 20, 9) logits."""
        return F.cross_entropy(out.reshape(-1, N_OUTPUTS), target.reshape(-1))

    def baseline(self) -> float:
        """10 · ln 8 / (T + 20): blanks known, the 10 symbols guessed uniformly."""
        return REMEMBER * math.log(SYMBOLS) / (self.length + 2 * REMEMBER)

    def describe(self) -> str:
        """One line."""
        return (
            f"copy task, T = {self.length}: recall 10 symbols of 8 after {self.length} steps; "
            f"baseline cross-entropy {self.baseline():.4f} (10·ln 8/(T+20)), solved below "
            f"{self.threshold:.4g} (10% of it)"
        )
