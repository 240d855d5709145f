"""``rnnlab forecast``: the main job. Real series in, tomorrow's value out, every model against
honest baselines on the same held-out tail, and a report with plots.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.commands.common import (
    add_json_option,
    add_quick_option,
    add_seed_option,
    real,
    whole,
)
from rnnlab.commands.data_options import (
    MAX_HORIZON,
    add_data_options,
    add_net_options,
    add_train_options,
    add_window_options,
    epoch_progress,
    load_series,
    net_config,
    set_threads,
    train_config,
    window_config,
)
from rnnlab.data.sources import DEFAULT_DATASET
from rnnlab.outdir import directory

DEFAULT_OUT = Path("out") / "forecast"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``forecast`` command."""
    p = sub.add_parser(
        "forecast",
        help="train the RNN and its rivals, score them against baselines, predict what's next",
        description=(
            "Load a series (default: AAPL's daily split-adjusted close, 2000-2013), split it "
            "in time, fit persistence, a moving average, a linear autoregression, an MLP and "
            "the rnn/lstm/gru forecasters, score each on the held-out test tail (MAE, RMSE, "
            "MAPE, direction, skill against persistence), predict the next value, and write "
            "report.html with plots and metrics.json."
        ),
    )
    add_data_options(p, DEFAULT_DATASET)
    p.add_argument(
        "--models",
        default=None,
        help="comma-separated models, or 'all' (default persistence,moving_average,linear,mlp,"
        "rnn,lstm,gru; any cell name works; persistence is always run)",
    )
    p.add_argument(
        "--test",
        type=real(0, 1, above=True),
        default=0.15,
        help="fraction held out for the test (0.15)",
    )
    p.add_argument(
        "--ma-window", type=whole(1), default=7, help="k of the moving-average baseline (7)"
    )
    p.add_argument(
        "--horizon",
        type=whole(1, MAX_HORIZON),
        default=1,
        help="next values to predict after the data (default 1)",
    )
    add_window_options(p)
    add_net_options(p)
    add_train_options(p)
    p.add_argument(
        "--out",
        type=directory,
        default=DEFAULT_OUT,
        help=f"directory for report.html, the plots and metrics.json (default {DEFAULT_OUT})",
    )
    p.add_argument("--no-report", action="store_true", help="write no files")
    add_seed_option(p)
    add_quick_option(p)
    add_json_option(p)
    p.set_defaults(run=run)


def _models(text: str | None) -> tuple[str, ...]:
    from rnnlab.forecast.models import DEFAULT_MODELS, model_names, parse_models

    if text is None:
        return DEFAULT_MODELS
    if text.strip() == "all":
        return model_names()
    return parse_models(text)


def run(args: argparse.Namespace) -> int:
    """Hold the report's directory (unless --no-report) for the whole run, and run."""
    from contextlib import nullcontext

    from rnnlab.outdir import claim_out

    models = _models(args.models)  # check the cheap things before the lock and torch
    # a second run on the same --out is refused now, not after its minutes of training
    if args.no_report:
        claim = nullcontext(None)
    else:  # the lock inside --out: its parent need not be writable (forecast --out ~)
        claim = claim_out(args.out, "--out", "the report in", inside=True)
    with claim as out:
        return _forecast(args, models, out)


def _forecast(args: argparse.Namespace, models: tuple[str, ...], out: Path | None) -> int:
    """Load, fit, score, predict, report (into ``out``, unless it is None)."""
    from rnnlab.forecast.experiment import ForecastConfig, run_forecast
    from rnnlab.forecast.models import is_neural

    series = load_series(args, DEFAULT_DATASET)
    set_threads(args)
    net = net_config(args)
    options = {"rnn": dict(net.cell_options)} if net.cell_options else {}
    config = ForecastConfig(
        models=models,
        window=window_config(args),
        net=net,
        cell_options=options,
        train=train_config(args),
        val=args.val,
        test=args.test,
        ma_window=args.ma_window,
        horizon=args.horizon,
        threads=args.threads,
    )
    with epoch_progress(enabled=True) as start:
        result = run_forecast(
            series,
            config,
            progress=lambda name: start(name, config.train.epochs) if is_neural(name) else None,
        )
    report = None
    if out is not None:
        from rnnlab.atomic import write_errors
        from rnnlab.report import write_report

        with write_errors("--out", "the report in", out):  # disk full, no permission
            report = write_report(result, out)
    summary = result.to_dict()
    summary["report"] = None if report is None else str(report)
    if args.json:
        from rnnlab.commands.common import print_json

        print_json(summary)
        return 0
    _print(result, summary)
    return 0


def _print(result, summary: dict) -> None:
    from rich.table import Table

    from rnnlab.commands.common import fmt, make_console, user_text
    from rnnlab.forecast.experiment import SCORE_COLUMNS

    console = make_console()
    s, sp, w = result.series, result.split, result.config.window
    console.print(
        f"[bold]{user_text(s.name)}[/]: {len(s)} points, "
        f"{s.label(0)} … {s.label(len(s) - 1)} ({s.frequency})" + "".join(f"; {n}" for n in s.notes)
    )
    console.print(
        f"Split in time: train {sp.n_train}, validation {sp.n_val}, test {sp.n_test} "
        f"({s.label(sp.val_end)} … {s.label(len(s) - 1)}). Window {w.window}, target {w.target}, "
        f"{w.scaler} scaler fitted on the training part only."
    )
    when = summary["next_date"] or f"row {len(s) + 1}"
    table = Table(title=f"Test scores, {sp.n_test} one-step-ahead forecasts (best first)")
    for col in (*SCORE_COLUMNS, f"next ({when})", "epochs", "time"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in result.ranking():
        h = r.history
        epochs = "" if h is None else f"{h.best_epoch}/{h.epochs}" + (" !" if h.diverged else "")
        table.add_row(*r.cells(), fmt(r.next_values[0]), epochs, f"{r.seconds:.1f}s")
    console.print(table)
    console.print(
        "skill = 1 − RMSE/RMSE(persistence); direction = up/down moves called right; "
        "p (DM) = Diebold-Mariano p-value that the model beats persistence; "
        "epochs = kept/run (! = diverged)."
    )
    console.print(f"Last value {fmt(s.values[-1])} on {s.label(len(s) - 1)}.")
    for name, t in summary["training"].items():
        if t["message"]:
            console.print(f"[yellow]{name}: {user_text(t['message'], None)}[/]")
    for name, why in result.failed.items():
        console.print(f"[red]{name}: no scores, {user_text(why, None)}[/]")
    console.print(f"[bold]Verdict:[/] {result.verdict()}")
    if summary["report"]:
        console.print(f"Report: {user_text(summary['report'], None)}")
    console.print(f"Done in {result.seconds:.1f} s.")
