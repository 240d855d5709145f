"""Problems 3 and 4: stability without clipping, and what each cell achieves.

Stability reuses :func:`rnnlab.diagnostics.explode.exploding_in_practice`: the same network
trained twice by plain SGD (lr 0.1) on the adding problem at T = 10, without and with clipping,
under the stated criterion ‖g_k‖ > 10⁴·‖g_1‖ ("exploded"). The aggressive setting is the same
for every cell: the recurrent weights (every H × H block of W_hh) orthogonal × 1.5, so
σ_max = 1.5. A cell without a recurrent matrix (minGRU, the Transformer) keeps its own
initialisation: the setting has nothing to scale in it, which is part of the answer.

What it buys: the adding problem and the copy task through :func:`rnnlab.tasks.run_task`
(Adam, fresh batches, a time budget per cell), and the one-step forecast of an embedded series
through :func:`rnnlab.forecast.experiment.run_forecast`, each model scored against persistence
with a Diebold-Mariano p-value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnnlab.cells import make_cell
from rnnlab.cells.init import recurrent_weights
from rnnlab.diagnostics.explode import exploding_in_practice
from rnnlab.settings.gradients import ExplodeConfig
from rnnlab.settings.tasks import RunConfig
from rnnlab.tasks import make_task, run_task
from rnnlab.tasks.runner import RunResult

AGGRESSIVE_SCALE = 1.5  # σ_max of every recurrent block


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _cell_params(r: RunResult) -> int:
    """Parameters of the run's cell (its input size is the task's; the head not counted)."""
    assert r.net is not None
    return sum(p.numel() for p in r.net.cell.parameters())


@dataclass(frozen=True)
class Stability:
    """One cell's two SGD runs: ``growth`` = max ‖g_k‖ / ‖g_1‖ without clipping."""

    cell: str
    init: str
    plain: RunResult
    clipped: RunResult
    baseline: float

    @property
    def growth(self) -> float:
        norms = [g for g in self.plain.grad_norm if math.isfinite(g)]
        return max(norms) / norms[0] if norms and norms[0] > 0 else math.inf

    def to_dict(self) -> dict:
        """JSON-able."""

        def run(r: RunResult) -> dict:
            return {
                "status": r.status,
                "steps": r.steps,
                "message": r.message,
                "final_loss": _finite(r.final_loss),
                "fraction_of_baseline": _finite(r.final_loss / self.baseline),
                "clipping": r.clipping.to_dict(),
            }

        return {
            "params": _cell_params(self.plain),
            "init": self.init,
            "growth": _finite(self.growth),
            "no_clip": run(self.plain),
            "clip": run(self.clipped),
        }


def measure_stability(cell: str, hidden: int, steps: int, seed: int) -> Stability:
    """Both runs of the exploding demo for ``cell``."""
    recurrent = bool(recurrent_weights(make_cell(cell, 1, hidden)))
    init, scale = ("orthogonal", AGGRESSIVE_SCALE) if recurrent else ("default", 1.0)
    config = ExplodeConfig(cell=cell, hidden=hidden, init=init, scale=scale, steps=steps, seed=seed)
    plain, clipped, baseline = exploding_in_practice(config)
    what = f"orthogonal × {AGGRESSIVE_SCALE:g}" if recurrent else "its own (no W_hh)"
    return Stability(cell, what, plain, clipped, baseline)


@dataclass(frozen=True)
class TaskOutcome:
    """One cell on one long-memory task."""

    task: str
    length: int
    baseline: float
    result: RunResult

    def to_dict(self) -> dict:
        """JSON-able."""
        r = self.result
        return {
            "params": _cell_params(r),
            "status": r.status,
            "solved": r.solved,
            "solved_step": r.solved_step,
            "steps": r.steps,
            "seconds": round(r.seconds, 3),
            "final_loss": _finite(r.final_loss),
            "fraction_of_baseline": _finite(r.final_loss / self.baseline),
        }


def run_memory_task(
    task_name: str,
    cell: str,
    hidden: int,
    length: int,
    steps: int,
    budget: float,
    seed: int,
    device: str = "cpu",
) -> TaskOutcome:
    """``cell`` on the adding problem or the copy task (Adam, the cell's defaults)."""
    task = make_task(task_name, length)
    config = RunConfig(
        cell=cell, hidden=hidden, max_steps=steps, budget=budget,
        eval_every=max(1, min(100, steps // 3)), eval_size=500 if steps >= 1000 else 64,
        seed=seed, device=device,
    )  # fmt: skip
    return TaskOutcome(task.name, length, task.baseline(), run_task(task, config))
