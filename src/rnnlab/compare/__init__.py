"""``rnnlab compare``: the article's three problems, recurrent cells against a causal Transformer.

1. speed: a training step's time and sequential depth against T (:mod:`.speed`);
2. reach-back: ‖∂ŷ/∂x_t‖ by lag, at initialisation and after training (:mod:`.reach`);
3. stability: the same aggressive SGD run without and with clipping (:mod:`.outcomes`);
4. what it buys: the adding and copy tasks, and the stock forecast with Diebold-Mariano p-values.

:func:`run_compare` runs all four with the same H, data and seed for every cell;
:func:`rnnlab.compare.verdict.verdict` turns the numbers into plain sentences. Importing this
package imports torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from rnnlab.compare.outcomes import Stability, TaskOutcome, measure_stability, run_memory_task
from rnnlab.compare.reach import Reach, measure_reach
from rnnlab.compare.speed import Speed, measure_speed, param_count
from rnnlab.settings.compare import CompareConfig

__all__ = ["CompareConfig", "CompareResult", "run_compare"]

TASKS = ("adding", "copy")


@dataclass
class CompareResult:
    """Everything :func:`run_compare` measured; ``forecast`` is a ForecastResult."""

    config: CompareConfig
    params: dict[str, int]
    speed: Speed
    reach: dict[str, Reach]
    stability: dict[str, Stability]
    tasks: dict[str, dict[str, TaskOutcome]]  # task -> cell -> outcome
    forecast: object
    seconds: float

    def to_dict(self) -> dict:
        """JSON-able (what the command prints as JSON)."""
        from rnnlab.compare.verdict import verdict

        f = self.forecast
        return {
            "config": self.config.to_dict(),
            "params": self.params,
            "speed": self.speed.to_dict(),
            "crossover": {
                c: self.speed.crossover("transformer", c)
                for c in self.params
                if c != "transformer" and "transformer" in self.params
            },
            "reach": {c: r.to_dict() for c, r in self.reach.items()},
            "stability": {c: s.to_dict() for c, s in self.stability.items()},
            "tasks": {t: {c: o.to_dict() for c, o in by.items()} for t, by in self.tasks.items()},
            "forecast": {
                "dataset": f.series.source,
                "rows": len(f.series),
                "test_points": f.split.n_test,
                "test": {r.name: {**r.scores.to_dict(), "p_value": r.p_value} for r in f.ranking()},
                "failed": f.failed,
                "verdict": f.verdict(),
            },
            "verdict": verdict(self),
            "seconds": round(self.seconds, 3),
        }


def run_compare(
    config: CompareConfig, progress: Callable[[str], None] | None = None
) -> CompareResult:
    """Run the four parts, cell by cell; ``progress(text)`` is told what starts next."""
    from rnnlab.data.load import load_series
    from rnnlab.data.sources import DEFAULT_DATASET
    from rnnlab.devices import resolve_device
    from rnnlab.forecast.experiment import run_forecast
    from rnnlab.settings.data import DataConfig
    from rnnlab.settings.forecasting import ForecastConfig
    from rnnlab.settings.training import NetConfig, TrainConfig

    say = progress or (lambda text: None)
    device = resolve_device(config.device)  # a GPU that is not there is said before any work
    start = time.perf_counter()
    cells, H, seed = config.cells, config.hidden, config.seed
    params = {c: param_count(c, H) for c in cells}
    say("1/4 speed: a training step at each T")
    speed = measure_speed(cells, H, config.batch, config.lengths(), config.repeats, seed, device)
    reach = {}
    for c in cells:
        say(f"2/4 reach-back: {c}")
        reach[c] = measure_reach(c, H, config.reach_length, config.reach_steps, seed, config.device)
    stability = {}
    for c in cells:
        say(f"3/4 stability: {c}, without and with clipping")
        stability[c] = measure_stability(c, config.explode_hidden, config.explode_steps, seed)
    tasks: dict[str, dict[str, TaskOutcome]] = {t: {} for t in TASKS}
    for t in TASKS:
        for c in cells:
            say(f"4/4 {t} task, T = {config.task_length}: {c}")
            tasks[t][c] = run_memory_task(
                t, c, H, config.task_length, config.task_steps, config.task_budget, seed,
                config.device,
            )  # fmt: skip
    say("4/4 forecast: " + ", ".join(cells))
    series = load_series(DataConfig(tail=config.tail), DEFAULT_DATASET)
    job = ForecastConfig(
        models=cells,
        net=NetConfig(hidden_size=H),
        device=config.device,
        train=replace(TrainConfig(), epochs=config.epochs, seed=seed),
    )
    forecast = run_forecast(series, job)
    return CompareResult(
        config, params, speed, reach, stability, tasks, forecast, time.perf_counter() - start
    )
