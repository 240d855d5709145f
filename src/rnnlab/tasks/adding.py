"""The adding problem (Hochreiter & Schmidhuber 1997, experiment 4), in the form of Le, Jaitly
& Hinton (2015) and Arjovsky, Shah & Bengio (2016).

Each step carries two numbers, x_t = (v_t, m_t): a value v_t ~ U(0, 1) and a mark m_t ∈ {0, 1}.
Exactly two steps are marked, one uniformly in the first half and one in the second half.
The target, read after the last step, is the sum of the two marked values,

    y = Σ_t m_t·v_t = v_i + v_j.

Without memory of which values were marked the best answer is the constant E[y] = 1, with

    MSE = Var(v_i + v_j) = 2 · Var(U(0, 1)) = 2 · 1/12 = 1/6 ≈ 0.1667        (the baseline)

The task counts as solved below MSE 0.01 (6% of the baseline). The first mark can lie up to T
steps before the answer: the gradient has to carry it back that far.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnlab.tasks.base import Task


class AddingProblem(Task):
    """The adding problem with sequences of ``length`` steps."""

    name = "adding"
    input_size = 2
    output_size = 1
    per_step = False
    solved_below = 0.01

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """x (B, T, 2) = (value, mark) per step; y (B,) the sum of the two marked values."""
        B, T = batch_size, self.length
        values = torch.rand(B, T, generator=generator)  # (B, T) ~ U(0, 1)
        half = T // 2
        first = torch.randint(0, half, (B,), generator=generator)  # in the first half
        second = torch.randint(half, T, (B,), generator=generator)  # in the second half
        marks = torch.zeros(B, T)
        rows = torch.arange(B)
        marks[rows, first] = 1.0
        marks[rows, second] = 1.0
        y = (values * marks).sum(dim=1)  # (B,) = v_i + v_j
        return torch.stack([values, marks], dim=-1), y  # (B, T, 2), (B,)

    def loss(self, out: Tensor, target: Tensor) -> Tensor:
        """Mean squared error; ``out`` (B, 1) or (B,)."""
        return F.mse_loss(out.reshape(-1), target)

    def baseline(self) -> float:
        """Var(v_i + v_j) = 2/12 = 1/6: the MSE of always answering E[y] = 1."""
        return 2.0 / 12.0

    def describe(self) -> str:
        """One line."""
        return (
            f"adding problem, T = {self.length}: add the two marked values of U(0,1); "
            f"baseline MSE {self.baseline():.4f} (always answer 1), solved below "
            f"{self.threshold:g}"
        )
