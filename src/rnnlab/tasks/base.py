"""What a long-memory task is: a generator of fresh batches, a loss, a baseline, a bar.

A task draws as many independent sequences as asked (fresh data every step: nothing to
memorise, only a rule to learn), says how its outputs are scored, and knows its *baseline*:
the best loss a model can reach without memory of the sequence's content. A model that stays
at the baseline has learnt nothing across the T steps.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnlab.fielderror import FieldError


class Task:
    """Base class; subclasses set the sizes and define :meth:`batch`, :meth:`loss`,
    :meth:`baseline`.

    Attributes
    ----------
    name : str
    length : int            T, the delay the task is about
    input_size : int        I, features per step
    output_size : int       O, outputs per scored step
    per_step : bool         scored at every step (B, T', O) or only after the last (B, O)
    solved_fraction : float|None  solved when loss < solved_fraction · baseline
    solved_below : float|None     or when loss < this absolute value
    """

    name: str
    input_size: int
    output_size: int
    per_step: bool
    solved_fraction: float | None = None
    solved_below: float | None = None

    def __init__(self, length: int) -> None:
        if isinstance(length, bool) or not isinstance(length, int) or length < 2:
            raise FieldError("length", "must be a whole number >= 2, got {0}", repr(length))
        self.length = length

    @property
    def steps(self) -> int:
        """Time steps per input sequence."""
        return self.length

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """``batch_size`` fresh sequences: inputs (B, steps, I) float32 and their targets."""
        raise NotImplementedError

    def loss(self, out: Tensor, target: Tensor) -> Tensor:
        """The mean loss of the model's outputs against the targets (a scalar tensor)."""
        raise NotImplementedError

    def baseline(self) -> float:
        """The loss of the best prediction that keeps no memory of the content."""
        raise NotImplementedError

    @property
    def threshold(self) -> float:
        """The loss below which the task counts as solved."""
        if self.solved_below is not None:
            return self.solved_below
        assert self.solved_fraction is not None
        return self.solved_fraction * self.baseline()

    def solved(self, loss: float) -> bool:
        """loss < threshold."""
        return loss < self.threshold

    def describe(self) -> str:
        """One line: the task, its baseline and its bar."""
        raise NotImplementedError


def task_names() -> tuple[str, ...]:
    """The names :func:`make_task` accepts."""
    return ("adding", "copy")


def make_task(name: str, length: int) -> Task:
    """A task by name."""
    from rnnlab.tasks.adding import AddingProblem
    from rnnlab.tasks.copying import CopyTask

    tasks = {"adding": AddingProblem, "copy": CopyTask}
    if name not in tasks:
        raise FieldError(
            "task", "unknown task {0}; choose one of {1}", repr(name), ", ".join(tasks), lead=False
        )
    return tasks[name](length)
