"""The long-memory training runner: fresh batches every step, a fixed validation set, Adam (or
SGD), optional clipping by norm, a time budget, NaN/inf caught and reported.

Per step, with θ the parameters and c the clip threshold:

    (x, y) ~ task              a fresh batch: there is nothing to memorise, only a rule
    L = task.loss(net(x), y)
    g = ∂L/∂θ,  ‖g‖ recorded   (before clipping)
    g ← g · min(1, c/‖g‖)       if clipping
    θ ← optimiser(θ, g)

Every ``eval_every`` steps (and at the end) the loss on a fixed validation set of
``eval_size`` sequences decides whether the task is solved. A NaN or inf loss or gradient
stops the run: the weights of the step before are restored, and the result says so. With
``explode_factor`` set, a gradient that has grown past that many times the first step's,

    ‖g_k‖ > explode_factor · ‖g_1‖,

stops the run too, before the step is taken ("exploded"): this is the robust sign of an
explosion. What an unclipped SGD step of that size does next (an inf loss a few steps later, or
weights thrown into saturation where training stalls) is a chaotic trajectory that differs with
the SIMD path the CPU's BLAS takes; the growth itself is orders of magnitude past any threshold
on every CPU.
Unlike :func:`rnnlab.forecast.training.train` (epochs over a fixed set of windows, MSE only),
this loop draws new data forever and stops on a time budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from rnnlab.diagnostics.clipping import ClipStats
from rnnlab.settings.tasks import RunConfig
from rnnlab.stepper import Stepper, Stop
from rnnlab.tasks.base import Task
from rnnlab.tasks.model import TaskNet, build_cell


@dataclass(frozen=True)
class Progress:
    """Passed to the progress callback every few steps."""

    step: int
    max_steps: int
    seconds: float
    budget: float
    train_loss: float
    val_loss: float | None


@dataclass
class RunResult:
    """What happened when one cell trained on one task.

    ``status``: "solved" (stopped at the bar), "completed" (every step), "budget" (the time
    ran out), "diverged" (a NaN/inf loss or gradient; ``message`` says where) or "exploded"
    (‖g‖ grew past ``explode_factor`` times the first step's; ``message`` says by how much).
    ``curve`` holds (step, seconds, mean training loss since the last point, validation loss).
    """

    cell: str
    config: RunConfig
    status: str = "completed"
    message: str | None = None
    final_loss: float = math.nan
    best_loss: float = math.inf
    solved: bool = False
    solved_step: int | None = None
    steps: int = 0
    seconds: float = 0.0
    curve: list[tuple[int, float, float, float]] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)  # per step, before clipping
    clipped: list[bool] = field(default_factory=list)  # per step, did the clip fire
    step_loss: list[float] = field(default_factory=list)  # per step, the batch's loss
    net: TaskNet | None = field(default=None, repr=False)  # the trained network

    @property
    def clipping(self) -> ClipStats:
        """Statistics of the gradient norms before clipping."""
        return ClipStats.from_norms(self.grad_norm, self.config.clip)

    @property
    def diverged(self) -> bool:
        """A NaN or inf, or an exploded gradient, stopped the run."""
        return self.status in ("diverged", "exploded")


def build_net(task: Task, config: RunConfig) -> TaskNet:
    """The cell (seeded, initialised as configured, the cell's defaults resolved by
    :meth:`RunConfig.resolved`) and the task's head."""
    from rnnlab.cells.init import chrono_init, init_recurrent, set_forget_bias

    config = config.resolved()
    torch.manual_seed(config.seed)
    cell = build_cell(config.cell, task.input_size, config.hidden, config.cell_options)
    init_recurrent(cell, config.init, config.scale, seed=config.seed)
    if config.forget_bias is not None:
        set_forget_bias(cell, config.forget_bias)
    if config.chrono:
        chrono_init(cell, task.steps, seed=config.seed)
    return TaskNet(cell, task.output_size, task.per_step)


@torch.no_grad()
def evaluate(net: TaskNet, task: Task, data: tuple, chunk: int = 250) -> float:
    """The task's mean loss on fixed data, in chunks."""
    x, y = data
    total = 0.0
    for i in range(0, len(x), chunk):
        total += float(task.loss(net(x[i : i + chunk]), y[i : i + chunk])) * len(x[i : i + chunk])
    return total / len(x)


def _stop_message(halt: Stop, step: int, factor: float | None) -> str:
    if halt.kind == "loss":
        return f"step {step}: the loss became {halt.loss}"
    if halt.kind == "gradient":
        return f"step {step}: the gradient norm became {halt.norm} (loss {halt.loss:.3g})"
    norm, first = halt.norm or math.nan, halt.first or math.nan
    return (
        f"step {step}: ‖g‖ = {norm:.3g}, {norm / first:.3g}× the first step's {first:.3g} "
        f"(the criterion: more than {factor:g}×)"
    )


def run_task(
    task: Task, config: RunConfig, progress: Callable[[Progress], None] | None = None
) -> RunResult:
    """Train ``config.cell`` on ``task`` until solved, out of steps or out of time (the
    cell's defaults resolved: the result's config is the one trained)."""
    config = config.resolved()
    from rnnlab.devices import resolve_device

    device = resolve_device(config.device)  # batches are drawn on the CPU, then moved
    net = build_net(task, config).to(device)
    params = [p for p in net.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(params, lr=config.lr)
    else:
        optimizer = torch.optim.SGD(params, lr=config.lr)
    batches = torch.Generator().manual_seed(config.seed)
    val = task.batch(config.eval_size, torch.Generator().manual_seed(config.seed + 1_000_003))
    val = tuple(t.to(device) for t in val)
    result = RunResult(cell=config.cell, config=config)
    start = time.perf_counter()
    since_eval: list[float] = []
    last_val: float | None = None

    def validate(step: int) -> float:
        nonlocal last_val
        last_val = evaluate(net, task, val)
        mean_train = sum(since_eval) / len(since_eval) if since_eval else math.nan
        result.curve.append((step, time.perf_counter() - start, mean_train, last_val))
        since_eval.clear()
        result.best_loss = min(result.best_loss, last_val)
        if task.solved(last_val) and result.solved_step is None:
            result.solved_step = step
        return last_val

    net.train()
    step = 0
    stepper = Stepper(params, optimizer, result, config.clip, config.explode_factor)

    def batch_loss() -> tuple[torch.Tensor, float]:
        x, y = (t.to(device) for t in task.batch(config.batch_size, batches))
        loss = task.loss(net(x), y)
        return loss, float(loss.detach())

    while step < config.max_steps:
        if config.budget is not None and time.perf_counter() - start > config.budget:
            result.status = "budget"
            break
        halt = stepper.step(batch_loss)
        if halt is not None:
            result.status = halt.status
            result.message = _stop_message(halt, step + 1, config.explode_factor)
            break
        value = result.step_loss[-1]
        step += 1
        since_eval.append(value)
        val_loss = validate(step) if step % config.eval_every == 0 else None
        if progress is not None and (val_loss is not None or step % 10 == 0):
            elapsed = time.perf_counter() - start
            budget = math.inf if config.budget is None else config.budget
            progress(Progress(step, config.max_steps, elapsed, budget, value, last_val))
        if val_loss is not None and not math.isfinite(val_loss):
            stepper.undo()
            result.status = "diverged"
            result.message = f"step {step}: the validation loss became {val_loss}"
            result.curve.pop()
            break
        if result.solved_step is not None and config.stop_when_solved:
            result.status = "solved"
            break
    result.steps = step
    if not result.curve or result.curve[-1][0] != step or result.diverged:
        validate(step)  # the final validation loss, on the weights kept
    result.final_loss = result.curve[-1][3]
    result.solved = task.solved(result.final_loss)
    result.seconds = time.perf_counter() - start
    net.eval()
    result.net = net.to("cpu")
    return result
