"""Synthetic long-memory tasks (the adding problem, the copy task) and the training runner
that shows which cells carry information across T steps. Importing this package imports torch.
"""

from rnnlab.tasks.adding import AddingProblem
from rnnlab.tasks.base import Task, make_task, task_names
from rnnlab.tasks.copying import CopyTask
from rnnlab.tasks.runner import RunConfig, RunResult, run_task

__all__ = [
    "AddingProblem",
    "CopyTask",
    "RunConfig",
    "RunResult",
    "Task",
    "make_task",
    "run_task",
    "task_names",
]
