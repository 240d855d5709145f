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
    MAX_WEIGHT,
    add_json_option,
    add_quick_option,
    add_seed_option,
    make_console,
    output_file,
    parse_number,
    print_json,
    real,
    threads,
    user_text,
    whole,
)
from rnnlab.commands.data_options import MAX_BATCH, MAX_HIDDEN
from rnnlab.errors import RnnlabError

# Normal defaults and the --quick ones (a run of a few seconds for tests).
DEFAULTS = {
    "length": (200, 10),
    "hidden": (128, 8),
    "batch_size": (64, 16),
    "max_steps": (100_000, 40),
    "budget": (600.0, 30.0),
    "eval_every": (100, 20),
    "eval_size": (1000, 64),
}
# Per-cell defaults where the shared ones do not suit:
#   irnn  Adam lr 1e-4: Le, Jaitly & Hinton (2015) train the IRNN with a small learning rate
#   lstm  forget-gate bias 1 (Gers, Schmidhuber & Cummins 2000; Jozefowicz et al. 2015; the
#         default of Keras's LSTM): with torch's U(−1/√H, 1/√H) init, f ≈ 0.5 at the start
CELL_DEFAULTS: dict[str, dict] = {"irnn": {"lr": 1e-4}, "lstm": {"forget_bias": 1.0}}
OPTIMIZERS = ("adam", "sgd")  # rnnlab.tasks.runner.OPTIMIZERS, without importing torch
TASKS = ("adding", "copy")  # rnnlab.tasks.task_names()
MAX_LENGTH = 100_000  # T: batches of B·T inputs, and T steps per sequence
MAX_EVAL = 2**16  # validation sequences, all evaluated in one batch
MAX_ACTIVATIONS = 2**28  # B·T·H states kept for backpropagation (1 GiB in float32)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``longmemory`` command."""
    from rnnlab.commands.gradients import INIT_SCHEMES

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
    p.add_argument("--task", choices=TASKS, default="adding", help="default adding")
    p.add_argument(
        "--length", type=whole(2, MAX_LENGTH), metavar="T", help="the delay T (default 200)"
    )
    p.add_argument(
        "--cell",
        default="rnn,lstm,gru",
        metavar="NAMES",
        help="comma-separated cell names (default rnn,lstm,gru; also irnn, and every other "
        "registered cell)",
    )
    g = p.add_argument_group("training")
    g.add_argument(
        "--hidden", type=whole(1, MAX_HIDDEN), metavar="H", help="hidden units (default 128)"
    )
    g.add_argument(
        "--batch-size", type=whole(1, MAX_BATCH), help="fresh sequences per step (default 64)"
    )
    g.add_argument(
        "--lr",
        type=real(0, above=True),
        help="learning rate (default 1e-3; irnn 1e-4, after Le et al.)",
    )
    g.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="default adam")
    g.add_argument(
        "--clip",
        metavar="C",
        default="none",
        help="clip the gradient's global norm to C (default none)",
    )
    g.add_argument("--max-steps", type=whole(1), help="most steps per cell (default 100000)")
    g.add_argument(
        "--budget",
        type=real(0, above=True),
        metavar="SECONDS",
        help="most seconds of training per cell (default 600)",
    )
    g.add_argument(
        "--eval-every", type=whole(1), help="steps between validation losses (default 100)"
    )
    g.add_argument(
        "--eval-size", type=whole(1, MAX_EVAL), help="validation sequences (default 1000)"
    )
    g.add_argument(
        "--no-stop",
        action="store_true",
        help="keep training after the task is solved (default: stop at the first solved check)",
    )
    g.add_argument("--init", choices=INIT_SCHEMES, default="default", help="recurrent weights")
    g.add_argument(
        "--scale",
        type=real(limit=MAX_WEIGHT),
        default=1.0,
        help="times the --init scheme (default 1)",
    )
    g.add_argument(
        "--forget-bias",
        metavar="B",
        help="the LSTM's forget-gate bias (default 1; 'torch' keeps torch's own init)",
    )
    g.add_argument(
        "--chrono",
        action="store_true",
        help="LSTM/GRU: chrono init of the gate biases over 1 … T (Tallec & Ollivier 2018)",
    )
    g.add_argument("--threads", type=threads, default=1, help="torch threads (default 1)")
    p.add_argument("--plot", type=Path, metavar="FILE.png", help="write the learning curves")
    add_seed_option(p)
    add_quick_option(p)
    add_json_option(p)
    p.set_defaults(run=run)


def _pick(args: argparse.Namespace, name: str):
    value = getattr(args, name)
    if value is not None:
        return value
    normal, quick = DEFAULTS[name]
    return quick if args.quick else normal


def _cells(text: str) -> list[str]:
    from rnnlab.cells import cell_names

    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise RnnlabError("--cell: the list is empty")
    known = cell_names()
    for n in names:
        if n not in known:
            raise RnnlabError(f"--cell: unknown cell {n!r}; choose from {', '.join(known)}")
    return list(dict.fromkeys(names))


def _clip(text: str) -> float | None:
    if text.strip().lower() in ("none", "0", "off"):
        return None
    value = parse_number(text, "--clip")
    if value <= 0:
        raise RnnlabError(f"--clip: must be > 0 (or none), got {text}")
    return value


def _forget_bias(text: str | None) -> float | None:
    """The LSTM's forget-gate bias: the default 1, a number, or None for torch's own init."""
    if text is None:
        return CELL_DEFAULTS["lstm"]["forget_bias"]
    if text.strip().lower() == "torch":
        return None
    return parse_number(text, "--forget-bias", MAX_WEIGHT)


def configs(args: argparse.Namespace) -> list:
    """One :class:`RunConfig` per cell named in ``--cell``."""
    from rnnlab.tasks.runner import RunConfig

    clip = _clip(args.clip)
    names = _cells(args.cell)
    forget_bias = _forget_bias(args.forget_bias)
    if args.forget_bias is not None and "lstm" not in names:
        raise RnnlabError("--forget-bias: sets the LSTM's forget gate, but --cell names no lstm")
    if args.chrono and not {"lstm", "gru"} & set(names):
        raise RnnlabError("--chrono: sets LSTM and GRU gate biases, but --cell names neither")
    if args.chrono and args.forget_bias is not None:
        raise RnnlabError("--chrono: sets the forget-gate bias itself; drop --forget-bias")
    T, H = _pick(args, "length"), _pick(args, "hidden")
    for option, B in (
        ("--batch-size", _pick(args, "batch_size")),
        ("--eval-size", _pick(args, "eval_size")),
    ):
        if B * T * H > MAX_ACTIVATIONS:
            raise RnnlabError(
                f"{option}, --length, --hidden: B·T·H = {B}·{T}·{H} = {B * T * H} hidden "
                f"states, more than {MAX_ACTIVATIONS} (memory for backpropagation); use smaller "
                "sizes"
            )
    out = []
    for name in names:
        defaults = CELL_DEFAULTS.get(name, {})
        lr = args.lr if args.lr is not None else defaults.get("lr", 1e-3)
        out.append(
            RunConfig(
                cell=name,
                hidden=_pick(args, "hidden"),
                batch_size=_pick(args, "batch_size"),
                lr=lr,
                optimizer=args.optimizer,
                clip=clip,
                max_steps=_pick(args, "max_steps"),
                budget=_pick(args, "budget"),
                eval_every=_pick(args, "eval_every"),
                eval_size=_pick(args, "eval_size"),
                stop_when_solved=not args.no_stop,
                init=args.init,
                scale=args.scale,
                forget_bias=forget_bias if name == "lstm" and not args.chrono else None,
                chrono=args.chrono and name in ("lstm", "gru"),
                seed=args.seed,
            )
        )
    return out


def run(args: argparse.Namespace) -> int:
    """Run every cell on the task, one after the other; print the table or JSON."""
    from rnnlab.commands.data_options import set_threads
    from rnnlab.tasks import make_task, run_task
    from rnnlab.tasks.runner import build_net

    if args.plot is not None:
        output_file(args.plot, "--plot")
    task = make_task(args.task, _pick(args, "length"))
    runs = configs(args)
    set_threads(args)
    for config in runs:  # every option fits every cell, before the first long run starts
        build_net(task, config)
    results = []
    with step_progress() as start:
        for config in runs:
            results.append(run_task(task, config, start(config.cell, config)))
    if args.plot is not None:
        from rnnlab.atomic import write_errors
        from rnnlab.tasks.plot import plot_learning_curves

        with write_errors("--plot", "the learning curves", args.plot):
            plot_learning_curves(task, results, args.plot)
    if args.json:
        print_json(to_json(task, results, args.plot))
        return 0
    _print(task, results, args.plot)
    return 0


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
    from rich.table import Table

    console = make_console()
    console.print(f"[bold]{task.describe()}[/]")
    table = Table()
    for col in ("cell", "final loss", "× baseline", "solved", "status", "steps", "seconds"):
        table.add_column(col, justify="left" if col in ("cell", "status") else "right")
    table.add_column("gradient norm before clipping")
    for r in results:
        ratio = r.final_loss / task.baseline()
        status = r.status if r.message is None else f"{r.status}: {r.message}"
        if r.solved_step is not None:
            status += f" (first below the bar at step {r.solved_step})"
        table.add_row(
            r.cell,
            f"{r.final_loss:.4g}",
            f"{ratio:.3f}",
            "[green]yes[/]" if r.solved else "[red]no[/]",
            status,
            str(r.steps),
            f"{r.seconds:.0f}" if r.seconds >= 10 else f"{r.seconds:.1f}",
            r.clipping.describe(),
        )
    console.print(table)
    c = results[0].config

    def own(r) -> str:
        fb = "" if r.config.forget_bias is None else f", forget-gate bias {r.config.forget_bias:g}"
        fb += ", chrono init" if r.config.chrono else ""
        return f"{r.cell} lr {r.config.lr:g}{fb}"

    console.print(
        f"H = {c.hidden}, batch {c.batch_size}, {c.optimizer} ({'; '.join(map(own, results))}), "
        f"clip {'none' if c.clip is None else c.clip}, recurrent init {c.init} × {c.scale:g}, "
        f"seed {c.seed}; at most {c.max_steps} steps and {c.budget:g} s per cell; validation "
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
