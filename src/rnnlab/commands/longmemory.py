"""``rnnlab longmemory``: the adding problem and the copy task, cell by cell.

Each cell trains on fresh random batches until it solves the task, runs out of steps or out of
its time budget; the table shows its final validation loss against the task's baseline (the
best loss without memory). The published pattern at T = 200: the tanh RNN stays near the
baseline, the LSTM and GRU solve it.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rnnlab.commands.common import (
    add_json_option,
    make_console,
    output_file,
    print_json,
    threads,
    user_text,
)
from rnnlab.config import add_options, add_quick_option, from_args
from rnnlab.settings.longmemory import LongMemoryConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``longmemory`` command: its options are :class:`LongMemoryConfig`'s fields."""
    p = sub.add_parser(
        "longmemory",
        help="the adding problem and the copy task: which cells remember over T steps",
        description=(
            "Train each cell on a long-memory task with fresh random batches every step and "
            "compare its final loss with the task's memoryless baseline. adding: add the two "
            "marked numbers of a sequence of T (baseline MSE 1/6, solved below 0.01). copy: "
            "recall 10 symbols after T blank steps (baseline 10·ln 8/(T+20), solved below 10% "
            "of it)."
        ),
    )
    add_options(p, LongMemoryConfig, quick=LongMemoryConfig.quick(), groups={"run": "training"})
    p.add_argument("--threads", type=threads, default=1, help="torch threads (default 1)")
    add_quick_option(p, LongMemoryConfig)
    add_json_option(p)
    p.set_defaults(run=run, settings=LongMemoryConfig)


def run(args: argparse.Namespace) -> int:
    """Run every cell on the task, one after the other; print the plan, then the table or
    JSON."""
    config = from_args(LongMemoryConfig, args, quick=args.quick)
    if config.plot is not None:
        output_file(config.plot, "--plot")
    progress = make_console(stderr=True)
    if progress.is_terminal:  # the first second says what is coming (before torch loads)
        _plan(config, progress)

    from rnnlab.commands.data_options import set_threads
    from rnnlab.tasks import make_task, run_task
    from rnnlab.tasks.runner import build_net

    task = make_task(config.task, config.length)
    runs = config.runs()
    set_threads(args)
    for run_config in runs:  # every option fits every cell, before the first long run starts
        build_net(task, run_config)
    results = []
    with step_progress() as start:
        for run_config in runs:
            results.append(run_task(task, run_config, start(run_config.cell, run_config)))
    if config.plot is not None:
        from rnnlab.atomic import write_errors
        from rnnlab.tasks.plot import plot_learning_curves

        with write_errors("--plot", "the learning curves", config.plot):
            plot_learning_curves(task, results, config.plot)
    if args.json:
        print_json(to_json(task, results, config.plot))
        return 0
    _print(task, results, config.plot)
    return 0


def _duration(seconds: float) -> str:
    """``45 s``, ``30 min``, ``2.5 h``."""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 3 * 3600:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:.3g} h"


def _plan(config: LongMemoryConfig, console) -> None:
    """What is about to run and how long it can take, before the first step; on stderr with
    the progress bars (so that stdout holds the results only, and --json one object)."""
    r = config.run
    task = "the adding problem" if config.task == "adding" else "the copy task"
    stop = "until solved, " if r.stop_when_solved else ""
    worst = config.worst_case_seconds()
    limit = f"{_duration(r.budget)} per cell" if r.budget is not None else "no time limit"
    total = "" if worst is None else f": at most {_duration(worst)} in all"
    console.print(
        f"Training {', '.join(config.cells)} on {task}, T = {config.length}, one after the "
        f"other: each {stop}{r.max_steps} steps or {limit}{total}."
    )


def _number(x: float) -> float | None:
    return x if math.isfinite(x) else None


def to_json(task, results, plot: Path | None) -> dict:
    """The ``--json`` object."""
    return {
        "task": task.name,
        "length": task.length,
        "baseline": task.baseline(),
        "threshold": task.threshold,
        "results": {
            r.cell: {
                "final_loss": _number(r.final_loss),
                "solved": r.solved,
                "seconds": round(r.seconds, 3),
                "steps": r.steps,
                "status": r.status,
                "message": r.message,
                "solved_step": r.solved_step,
                "best_loss": _number(r.best_loss),
                "fraction_of_baseline": _number(r.final_loss / task.baseline()),
                "clipping": r.clipping.to_dict(),
                "curve": [
                    {"step": s, "seconds": round(t, 3), "train_loss": _number(a), "val_loss": v}
                    for s, t, a, v in r.curve
                ],
                "config": r.config.to_dict(),
            }
            for r in results
        },
        "plot": None if plot is None else str(plot),
    }


def _print(task, results, plot: Path | None) -> None:
    """The table (seven short columns: it fits 80), then one line per cell with what does not
    fit a column (how it stopped, the gradient norms), then the settings."""
    from rich import box
    from rich.table import Table

    console = make_console()
    console.print(f"[bold]{task.describe()}[/]")
    table = Table(box=box.SIMPLE_HEAD)
    for col in ("cell", "final loss", "× baseline", "solved", "status", "steps", "seconds"):
        table.add_column(col, justify="left" if col in ("cell", "status") else "right")
    for r in results:
        table.add_row(
            r.cell,
            f"{r.final_loss:.4g}",
            f"{r.final_loss / task.baseline():.3f}",
            "[green]yes[/]" if r.solved else "[red]no[/]",
            r.status,
            str(r.steps),
            f"{r.seconds:.0f}" if r.seconds >= 10 else f"{r.seconds:.1f}",
        )
    console.print(table)
    for r in results:
        notes = [] if r.message is None else [r.message]
        if r.solved_step is not None:
            notes.append(f"first below the bar at step {r.solved_step}")
        notes.append(r.clipping.describe())
        console.print(f"  {r.cell}: {'; '.join(notes)}")
    c = results[0].config

    def own(r) -> str:
        fb = "" if r.config.forget_bias is None else f", forget-gate bias {r.config.forget_bias:g}"
        fb += ", chrono init" if r.config.chrono else ""
        return f"{r.cell} lr {r.config.lr:g}{fb}"

    budget = "no time limit" if c.budget is None else f"{c.budget:g} s"
    console.print(
        f"H = {c.hidden}, batch {c.batch_size}, {c.optimizer} ({'; '.join(map(own, results))}), "
        f"clip {'none' if c.clip is None else c.clip}, recurrent init {c.init} × {c.scale:g}, "
        f"seed {c.seed}; at most {c.max_steps} steps and {budget} per cell; validation "
        f"on {c.eval_size} fixed sequences every {c.eval_every} steps"
    )
    if plot is not None:
        console.print(f"Learning curves: {user_text(plot, None)}")


def step_progress():
    """A rich progress bar on stderr (on a terminal); yields ``start(cell, config) -> callback``."""
    from contextlib import contextmanager

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def manager():
        console = make_console(stderr=True)
        bar = Progress(
            TextColumn("{task.description:<6}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        )

        def start(cell: str, config):
            task_id = bar.add_task(cell, total=config.budget, info="")

            def update(p) -> None:
                val = "" if p.val_loss is None else f" val {p.val_loss:.4g}"
                bar.update(
                    task_id,
                    completed=min(p.seconds, config.budget),
                    info=f"step {p.step} loss {p.train_loss:.4g}{val}",
                )

            return update

        with bar:
            yield start

    return manager()
