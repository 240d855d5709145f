"""``rnnlab forecast``: the main job. Real series in, tomorrow's value out, every model against
honest baselines on the same held-out tail, and a report with plots.

Its options are :class:`~rnnlab.settings.forecasting.ForecastSettings`' fields. The data are
read and the plan printed before torch is loaded, so a bad option, a missing file or an unknown
column is refused at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.commands.common import add_json_option
from rnnlab.config import add_options, add_quick_option, from_args
from rnnlab.settings.forecasting import ForecastSettings

GROUPS = {"data": "data", "forecast": "models, window, nets and training"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``forecast`` command: its options are :class:`ForecastSettings`' fields."""
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
    add_options(p, ForecastSettings, quick=ForecastSettings.quick(), groups=GROUPS)
    add_quick_option(p, ForecastSettings)
    add_json_option(p)
    p.set_defaults(run=run, settings=ForecastSettings)


def run(args: argparse.Namespace) -> int:
    """Read the data and say what will happen (no torch yet), hold the report's directory
    (unless --no-report) for the whole run, and run."""
    from contextlib import nullcontext

    from rnnlab.data.load import load_series
    from rnnlab.data.sources import DEFAULT_DATASET
    from rnnlab.outdir import claim_out

    settings = from_args(ForecastSettings, args, quick=args.quick)
    job = settings.job()
    series = load_series(settings.data, DEFAULT_DATASET)
    split = job.split(len(series))  # too few rows: said now, not after the imports
    console = None
    if not args.json:
        from rnnlab.commands.common import make_console

        console = make_console()
        _print_plan(console, series, split, job)
    # a second run on the same --out is refused now, not after its minutes of training
    if settings.no_report:
        claim = nullcontext(None)
    else:  # the lock inside --out: its parent need not be writable (forecast --out ~)
        claim = claim_out(settings.out, "--out", "the report in", inside=True)
    with claim as out:
        return _forecast(series, job, out, console)


def _print_plan(console, series, split, job) -> None:
    """The data, the split and what will be trained, before the slow part."""
    from rnnlab.commands.common import user_text

    s, w, t = series, job.window, job.train
    console.print(
        f"[bold]{user_text(s.name)}[/]: {len(s)} points, {s.label(0)} to "
        f"{s.label(len(s) - 1)} ({s.frequency})" + "".join(f"; {n}" for n in s.notes)
    )
    console.print(
        f"Split in time: train {split.n_train}, validation {split.n_val}, test {split.n_test} "
        f"({s.label(split.val_end)} to {s.label(len(s) - 1)}). Window {w.window}, target "
        f"{w.target}, {w.scaler} scaler fitted on the training part only."
    )
    if job.task == "direction":
        from rnnlab.settings.cells import known_cells

        cells = [m for m in job.models if m in known_cells()]
        kinds = "down/flat/up" if job.flat > 0 else "down/up"
        console.print(
            f"Direction task ({kinds}, flat = |move| ≤ {job.flat:g}): a softmax classifier for "
            f"{', '.join(cells) or 'no recurrent model'}, up to {t.epochs} epochs each, "
            "against the majority class."
        )
        return
    if job.ablation == "features":
        console.print(
            "Feature ablation: the MLP on the raw window, on each hand-made feature alone and "
            f"on all; the {next((m for m in job.neural() if m != 'mlp'), 'rnn')} on the raw "
            f"window; up to {t.epochs} epochs each."
        )
        return
    baselines = [m for m in job.models if m not in job.neural()]
    line = f"Baselines: {', '.join(baselines)}."
    if job.neural():
        stop = "no early stop" if t.patience == 0 else f"early stop after {t.patience} flat"
        line += (
            f" Training {', '.join(job.neural())}: up to {t.epochs} epochs each ({stop}), "
            f"hidden {job.net.hidden_size}, {job.threads} thread(s)."
        )
    console.print(line)


def _forecast(series, job, out: Path | None, console) -> int:
    """Fit, score, predict, report (into ``out``, unless it is None)."""
    from rnnlab.commands.data_options import epoch_progress, set_threads
    from rnnlab.forecast.experiment import run_forecast
    from rnnlab.forecast.models import is_neural

    set_threads(job.threads)
    if job.task == "direction":
        return _direction(series, job, out, console)
    if job.ablation == "features":
        return _ablation(series, job, out, console)
    with epoch_progress(enabled=console is not None) as start:
        result = run_forecast(
            series,
            job,
            progress=lambda name: start(name, job.train.epochs) if is_neural(name) else None,
        )
    report = None
    if out is not None:
        from rnnlab.atomic import write_errors
        from rnnlab.report import write_report

        with write_errors("--out", "the report in", out):  # disk full, no permission
            report = write_report(result, out)
    summary = result.to_dict()
    summary["report"] = None if report is None else str(report)
    if console is None:
        from rnnlab.commands.common import print_json

        print_json(summary)
        return 0
    _print(console, result, summary)
    return 0


def _table(title: str, columns: tuple[str, ...]):
    """A table whose cells are never cut: a number or a name wraps (folds) rather than lose
    its end to an ellipsis."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in columns:
        justify = "left" if col == "model" else "right"
        table.add_column(col, justify=justify, overflow="fold")
    return table


def _print(console, result, summary: dict) -> None:
    """Two tables that fit 80 columns (the scores; the next values and the training), the
    legend, the messages and the verdict."""
    from rnnlab.commands.common import fmt, user_text

    s, sp = result.series, result.split
    ranking = result.ranking()
    scores = _table(
        f"Test scores, {sp.n_test} one-step-ahead forecasts (best first)",
        ("model", "RMSE", "MAE", "MAPE %", "dir %", "skill", "p (DM)"),
    )
    for r in ranking:
        scores.add_row(*r.cells())
    console.print(scores)
    console.print(
        "skill = 1 − RMSE/RMSE(persistence); dir = up/down moves called right; p (DM) = "
        "Diebold-Mariano p-value that the model beats persistence."
    )
    lags = _table(
        "The lag illusion: is the forecast yesterday's value shifted?",
        ("model", "shift k", "Δ corr", "persistence in disguise"),
    )
    for r in ranking:
        if r.lag is not None:
            rho = "—" if r.lag.change_corr is None else f"{r.lag.change_corr:+.3f}"
            flag = "yes" if r.lag.persistence_in_disguise else "no"
            lags.add_row(r.name, str(r.lag.shift), rho, flag)
    if lags.row_count:
        console.print(lags)
        console.print(
            "shift k = the k in 0 to 5 whose actual x_(t−k) the forecast x̂_t is closest to (MSE); "
            "Δ corr = correlation of predicted and actual changes. " + result.lag_note()
        )
    if result.horizons is not None:
        _print_horizons(console, result)
    for name, names in summary["features"].items():
        console.print(
            f"{name} reads {len(names)} hand-made features, not the window: {', '.join(names)}."
        )
    when = summary["next_date"] or f"row {len(s) + 1}"
    nexts = _table("Next value and training", ("model", f"next ({when})", "epochs", "time"))
    for r in ranking:
        h = r.history
        epochs = "" if h is None else f"{h.best_epoch}/{h.epochs}" + (" !" if h.diverged else "")
        nexts.add_row(r.name, fmt(r.next_values[0]), epochs, f"{r.seconds:.1f}s")
    console.print(nexts)
    console.print(
        f"epochs = kept/run (! = diverged). Last value {fmt(s.values[-1])} on "
        f"{s.label(len(s) - 1)}."
    )
    for name, t in summary["training"].items():
        if t["message"]:
            console.print(f"[yellow]{name}: {user_text(t['message'], None)}[/]")
    for name, why in result.failed.items():
        console.print(f"[red]{name}: no scores, {user_text(why, None)}[/]")
    console.print(f"[bold]Verdict:[/] {result.verdict()}")
    if summary["report"]:
        console.print(f"Report: {user_text(summary['report'], None)}")
    console.print(f"Done in {result.seconds:.1f} s.")


def _print_horizons(console, result) -> None:
    """Skill per step h for a few steps (80 columns); persistence's row holds its RMSE."""
    hz = result.horizons
    steps = hz.shown_steps()
    table = _table(
        f"Skill by step ahead, {len(hz.origins)} test origins (recursive)",
        ("model", *(f"h={h}" for h in steps)),
    )
    order = [r.name for r in result.ranking() if r.name in hz.scores]
    for name in order:
        sc = hz.scores[name]
        if name == "persistence":
            table.add_row("persistence RMSE", *(f"{sc.rmse[h - 1]:.4g}" for h in steps))
            continue
        cells = ("—" if sc.skill[h - 1] is None else f"{sc.skill[h - 1]:+.4f}" for h in steps)
        table.add_row(name, *cells)
    console.print(table)
    console.print(
        "h=k: skill 1 − RMSE/RMSE(persistence) of the forecasts k steps ahead of each origin "
        "o, made from the data up to o (predictions fed back), against persistence's x_o; "
        "every step's RMSE and MAE are in --json (horizons)."
    )


def _metrics_only(out: Path | None, summary: dict, console) -> None:
    """The direction task and the ablation have no plots: metrics.json alone in ``out``."""
    if out is None:
        return
    import json

    from rnnlab.atomic import write_errors
    from rnnlab.report.html import write_text

    with write_errors("--out", "the metrics in", out):
        out.mkdir(parents=True, exist_ok=True)
        path = write_text(
            out / "metrics.json", json.dumps(summary, indent=2, allow_nan=False) + "\n"
        )
    summary["metrics"] = str(path)
    if console is not None:
        from rnnlab.commands.common import user_text

        console.print(f"Metrics: {user_text(path, None)}")


def _direction(series, job, out: Path | None, console) -> int:
    """``--task direction``: softmax classifiers of the next move against the majority class."""
    from rnnlab.commands.common import print_json
    from rnnlab.forecast.direction import run_direction

    if console is not None:
        console.print("Classifying the next move with softmax heads.")
    result = run_direction(series, job)
    summary = result.to_dict()
    if console is None:
        _metrics_only(out, summary, None)
        print_json(summary)
        return 0
    n = len(result.actual)
    shares = ", ".join(f"{c} {100 * v:.1f}%" for c, v in result.shares.items())
    table = _table(
        f"Direction of the next move, {n} test moves ({shares})",
        ("model", "acc %", "right", "p (binom)", *(f"{c} %" for c in result.classes)),
    )
    for r in sorted(result.results.values(), key=lambda r: -r.accuracy):
        d = r.to_dict(result.classes)
        p = "—" if r.p_value is None else f"{r.p_value:.3g}"
        calls = (f"{100 * v:.1f}" for v in d["called"].values())
        table.add_row(r.name, f"{100 * r.accuracy:.1f}", f"{r.correct}/{n}", p, *calls)
    console.print(table)
    console.print(
        "acc = moves called right; down %, up % etc. = share of calls per class; majority = always "
        f"'{result.majority}' (the training part's most frequent class); "
        "p (binom) = P(this many right or more | each call right with probability "
        f"{result.base_rate:.3f}, the test part's largest class share)."
    )
    console.print(f"[bold]Verdict:[/] {result.verdict()}")
    _metrics_only(out, summary, console)
    console.print(f"Done in {result.seconds:.1f} s.")
    return 0


def _ablation(series, job, out: Path | None, console) -> int:
    """``--ablation features``: the MLP with and without its hand-made features, and the RNN."""
    from rnnlab.commands.common import print_json
    from rnnlab.commands.data_options import epoch_progress
    from rnnlab.forecast.ablation import ABLATION_COLUMNS, run_ablation

    with epoch_progress(enabled=console is not None) as start:
        result = run_ablation(series, job, progress=lambda name: start(name, job.train.epochs))
    summary = result.to_dict()
    if console is None:
        _metrics_only(out, summary, None)
        print_json(summary)
        return 0
    cell = result.recurrent.split("(")[0]
    columns = (*ABLATION_COLUMNS[:-1], f"p vs {cell}")
    table = _table(f"Feature ablation, {result.n_test} one-step-ahead forecasts", columns)
    for row in result.rows.values():
        table.add_row(*row.cells())
    console.print(table)
    console.print(
        f"sees: what the model reads (values: the raw window; features: hand-made, listed in "
        f"--json). persistence RMSE {result.persistence_rmse:.4f}; p (DM) = Diebold-Mariano p "
        f"that the model beats persistence; p vs {cell} = that {result.recurrent} beats it."
    )
    console.print(f"[bold]Verdict:[/] {result.verdict()}")
    _metrics_only(out, summary, console)
    console.print(f"Done in {result.seconds:.1f} s.")
    return 0
