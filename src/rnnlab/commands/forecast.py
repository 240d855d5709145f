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
    from rnnlab.data.load import series_names

    if len(series_names(settings.data, DEFAULT_DATASET)) > 1:  # several series: global model
        return _many(settings, job, args.json)
    series = load_series(settings.data, DEFAULT_DATASET, settings.forecast.features)
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
    if job.features:
        line += f" Covariates {', '.join(job.features)} for the nets; the baselines ignore them."
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
    if job.backtest is not None:
        return _backtest(series, job, out, console)
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
    if result.intervals is not None:
        _print_intervals(console, result)
    for name, names in summary["features"].items():
        covariates = any(n.endswith("_(t-1)") or n.startswith("doy") for n in names)
        kind = "hand-made features and covariates" if covariates else "hand-made features"
        console.print(f"{name} reads {len(names)} {kind}, not the window: {', '.join(names)}.")
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
        f"Skill by step ahead, {len(hz.origins)} test origins ({hz.strategy})",
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
        f"o, made from the data up to o ({_HOW[hz.strategy]}), against persistence's x_o; "
        "every step's RMSE and MAE are in --json (horizons)."
    )


_HOW = {
    "recursive": "predictions fed back",
    "direct": "the linear and neural models: one output per step",
}


def _print_intervals(console, result) -> None:
    """Coverage and width of each model's intervals at each level, at step 1 and step S."""
    iv = result.intervals
    steps = sorted({1, iv.steps})
    columns = ["model", "h"]
    for level in iv.levels:
        columns += [f"{100 * level:g}% cover", "width"]
    nominal = ", ".join(f"{100 * lv:g}%" for lv in iv.levels)
    table = _table(f"Prediction intervals, test span (nominal {nominal})", tuple(columns))
    order = [r.name for r in result.ranking()]
    rows = [(n, "", iv.conformal[n]) for n in order if n in iv.conformal]
    rows += [(n, " (quantiles)", iv.quantile[n]) for n in order if n in iv.quantile]
    for name, tag, by_level in rows:
        for h in steps:
            cells = [name + tag, str(h)]
            for level in iv.levels:
                cell = by_level.get(level)
                cover = (
                    None if cell is None or h > len(cell["coverage"]) else cell["coverage"][h - 1]
                )
                width = None if cover is None else cell["width"][h - 1]
                cells.append("—" if cover is None else f"{100 * cover:.1f}")
                cells.append("—" if width is None or width == float("inf") else f"{width:.4g}")
            table.add_row(*cells)
    console.print(table)
    console.print(
        "cover = % of test targets inside the interval (beside the nominal level); width = its "
        f"mean width in the series' units. Conformal: x̂ ± q_h, {_CALIBRATED[iv.calibration]} "
        "(— : too few for the level); (quantiles): between the net's own pinball-trained "
        "quantiles. Bands for the next values: --json (intervals.next)."
    )


_CALIBRATED = {
    "split": "q_h from the validation residuals of step h",
    "rolling": "q_h at each origin from the latest step-h residuals observed by then",
}


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


def _many(settings, job, json: bool) -> int:
    """Several series (``--dataset a,b,c``, ``--column a,b,c``): every model on each series
    alone (local), each neural model also once on all of them (global); scored per series
    and pooled; metrics.json (no plots) in --out."""
    from contextlib import nullcontext

    from rnnlab.commands.common import print_json
    from rnnlab.commands.data_options import epoch_progress, set_threads
    from rnnlab.data.load import load_many
    from rnnlab.data.sources import DEFAULT_DATASET
    from rnnlab.outdir import claim_out

    named = load_many(settings.data, DEFAULT_DATASET)  # every name checked before any data
    from rnnlab.forecast.models import is_neural
    from rnnlab.forecast.multi import check_many, run_many, split_of

    check_many(job)
    splits = {label: split_of(label, s, job) for label, s in named.items()}
    console = None
    if not json:
        from rnnlab.commands.common import make_console

        console = make_console()
        _print_many_plan(console, named, splits, job)
    if settings.no_report:
        claim = nullcontext(None)
    else:
        claim = claim_out(settings.out, "--out", "the metrics in", inside=True)
    with claim as out:
        set_threads(job.threads)
        epochs = job.train.epochs
        with epoch_progress(enabled=console is not None) as start:
            result = run_many(
                named,
                job,
                progress=lambda name: start(name, epochs) if is_neural(name.split()[-1]) else None,
            )
        summary = result.to_dict()
        if console is None:
            _metrics_only(out, summary, None)
            print_json(summary)
            return 0
        _print_many(console, result)
        _metrics_only(out, summary, console)
        console.print(f"Done in {result.seconds:.1f} s.")
    return 0


def _print_many_plan(console, named: dict, splits: dict, job) -> None:
    """The series, their splits, and what is trained locally and globally."""
    from rnnlab.commands.common import user_text

    table = _table(
        f"{len(named)} series, each split in time on its own",
        ("series", "points", "first", "last", "train", "val", "test"),
    )
    table.columns[0].justify = "left"
    for label, s in named.items():
        sp = splits[label]
        table.add_row(
            user_text(label),
            str(len(s)),
            s.label(0),
            s.label(len(s) - 1),
            str(sp.n_train),
            str(sp.n_val),
            str(sp.n_test),
        )
    console.print(table)
    neural = ", ".join(job.neural()) or "no neural model"
    console.print(
        f"Each series: its own {job.window.scaler} scaler fitted on its own training part "
        f"(window {job.window.window}, target {job.window.target}). Local: every model on each "
        f"series alone ({', '.join(job.models)}). Global: one {neural} trained on the windows "
        f"of all series together (so about {len(named)}× the steps per epoch), early-stopped on "
        f"their validation windows together; up to {job.train.epochs} epochs each."
    )
    also = []
    if job.horizon > 1:
        also.append(f"1 to {job.horizon}-step forecasts from every test origin ({job.strategy})")
    if job.level is not None:
        levels = ", ".join(f"{lv:g}%" for lv in job.level)
        also.append(
            f"{levels} intervals ({job.calibration} conformal from each series' own "
            "validation residuals)"
        )
    if job.loss != "mse":
        also.append(f"the nets trained with the {job.loss} loss")
    if also:
        console.print(f"Per series, local and global: {'; '.join(also)}.")


def _print_many(console, result) -> None:
    """Skill per series and pooled for every model (local and global), per step when H > 1,
    the intervals' coverage, the global-vs-local counts, the verdict: 80 columns (the series
    in groups when there are many)."""
    from rnnlab.commands.common import user_text
    from rnnlab.forecast.experiment import SIGNIFICANCE

    rows = [key for key in result.models() if key[0] != "persistence"]
    by = {(r.series, r.model, r.kind): r for r in result.scores().itertuples()}

    def one_step(key, label: str) -> str:
        r = by.get((label, *key))
        return "—" if r is None else _skill(r.skill, r.p_value < SIGNIFICANCE)

    def one_step_tail(key) -> list[str]:
        p = result.pooled(*key)
        return [_skill(p and p.skill), _skill(p and p.mean_skill)]

    def persistence_rmse(label: str) -> str:
        r = by.get((label, "persistence", "local"))
        return "—" if r is None else f"{r.rmse:.4g}"

    rmse = f"{result.pooled('persistence', 'local').rmse:.4g}"
    _series_grid(
        console,
        "Skill against persistence, one-step test forecasts",
        result,
        _skill_rows(rows),
        lambda key, label: one_step(key, label) if key else persistence_rmse(label),
        ("pooled", "mean"),
        lambda key: one_step_tail(key) if key else [rmse, ""],
    )
    n_test = sum(result.local[label].split.n_test for label in result.series)
    console.print(
        "skill = 1 − RMSE/RMSE(persistence) on the series' own test part (* : Diebold-Mariano "
        f"p < 0.05 that it beats persistence); pooled = 1 − sqrt(Σ SSE)/sqrt(Σ SSE of "
        f"persistence) over all {n_test} test points (real units: the series with the largest "
        "moves weigh most); mean = the mean of the series' skills; global = one net trained on "
        "all series."
    )
    if result.ahead.horizons["local"]:
        _print_many_steps(console, result, rows)
    if result.ahead.levels:
        _print_many_intervals(console, result, rows)
    if result.results:
        table = _table(
            "Global against local, per series",
            ("model", "global lower RMSE", "global better, p<0.05", "local better, p<0.05"),
        )
        for m in result.results:
            c = result.comparison(m)
            of = c["of"]
            table.add_row(
                m,
                f"{c['better_on']}/{of}",
                f"{c['significant']}/{of}",
                f"{c['local_significant']}/{of}",
            )
        console.print(table)
        steps = []
        for m in result.results:
            g, local = result.steps(m)
            mean = "—" if local is None else f"{local:.0f}"
            steps.append(f"{m} global {g}, local {mean} per series on average")
        console.print(
            "p<0.05: one-sided Diebold-Mariano on the series' test part. Optimisation steps: "
            + "; ".join(steps)
            + " (the same epochs over more windows: more steps)."
        )
    for label, why in result.failed.items():
        for m, text in why.items():
            console.print(f"[red]{user_text(label)} {m}: no scores, {user_text(text, None)}[/]")
    console.print(f"[bold]Verdict:[/] {result.verdict()}")


def _many_name(key: tuple[str, str]) -> str:
    """("gru", "global") -> "gru global"; a local model by its name alone."""
    model, kind = key
    return model if kind == "local" else f"{model} {kind}"


def _skill_rows(rows: list[tuple[str, str]]) -> list[tuple[tuple[str], tuple | None]]:
    """The rows of a skill grid: each model and kind, then persistence's RMSE (key None)."""
    return [*(((_many_name(key),), key) for key in rows), (("persistence RMSE",), None)]


def _skill(value, star: bool = False) -> str:
    """A skill as +0.0123 (* : significant), — for None or NaN."""
    if value is None or value != value:
        return "—"
    return f"{value:+.4f}" + ("*" if star else "")


def _series_grid(console, title: str, result, rows, cell, tail: tuple, tail_cells) -> None:
    """A table with a row per entry of ``rows`` ((its leading cells), key), a column per
    series (``cell(key, series)``) and the ``tail`` columns (``tail_cells(key)``): as many
    series per table as fit 80 columns beside the tail columns, these with the last group."""
    from rnnlab.commands.common import user_text

    def wide(header: str, cells) -> int:  # a column's width: its widest line, 2 pads, a rule
        return max(len(line) for text in (header, *cells) for line in text.split("\n")) + 3

    lead = ("model", "h")[: len(rows[0][0])]
    body = {label: [cell(key, label) for _, key in rows] for label in result.series}
    ends = [tail_cells(key) for _, key in rows]
    used0 = 1 + sum(wide(name, [r[0][i] for r in rows]) for i, name in enumerate(lead))
    used0 += sum(wide(name, [e[i] for e in ends]) for i, name in enumerate(tail))
    groups, group, used = [], [], used0
    for label in result.series:
        w = wide(user_text(label), body[label])
        if group and used + w > 80:
            groups.append(group)
            group, used = [], used0
        group.append(label)
        used += w
    groups.append(group)
    for i, group in enumerate(groups):
        last = i == len(groups) - 1
        columns = (*lead, *(user_text(g) for g in group), *(tail if last else ()))
        suffix = f" ({i + 1}/{len(groups)})" if len(groups) > 1 else ""
        table = _table(title + suffix, columns)
        for k, (cells, _) in enumerate(rows):
            row = [*cells, *(body[label][k] for label in group)]
            table.add_row(*row, *(ends[k] if last else ()))
        console.print(table)


def _print_many_steps(console, result, rows) -> None:
    """Pooled skill per step h (a few steps), and each series' skill at the last step."""
    ahead = result.ahead
    pooled = {key: result.pooled_steps(*key) for key in [*rows, ("persistence", "local")]}
    horizon = max(len(p.n) for p in pooled.values() if p is not None)
    picks = [h for h in (1, 2, 5, 10, 20, 50, 100) if h < horizon]
    steps = sorted({*picks[:4], horizon})
    table = _table(
        f"Pooled skill by step ahead, all series ({ahead.strategy})",
        ("model", *(f"h={h}" for h in steps)),
    )
    for key in rows:
        p = pooled[key]
        table.add_row(_many_name(key), *(_skill(_at(p and p.skill, h)) for h in steps))
    base = pooled[("persistence", "local")]
    rmse = (_at(base and base.rmse, h) for h in steps)
    table.add_row("persistence RMSE", *("—" if v is None else f"{v:.4g}" for v in rmse))
    console.print(table)

    def at_last(key, label: str) -> str:
        if key is None:
            hz = ahead.horizons["local"].get(label)
            v = None if hz is None else _at(hz.scores["persistence"].rmse, horizon)
            return "—" if v is None else f"{v:.4g}"
        hz = ahead.horizons[key[1]].get(label)
        sc = None if hz is None else hz.scores.get(key[0])
        return _skill(_at(sc and sc.skill, horizon))

    def at_last_tail(key) -> list[str]:
        p = pooled[key or ("persistence", "local")]
        if key is None:
            v = _at(p and p.rmse, horizon)
            return ["—" if v is None else f"{v:.4g}", ""]
        return [_skill(_at(p and p.skill, horizon)), _skill(_at(p and p.mean_skill, horizon))]

    _series_grid(
        console,
        f"Skill against persistence, {horizon} steps ahead",
        result,
        _skill_rows(rows),
        at_last,
        ("pooled", "mean"),
        at_last_tail,
    )
    console.print(
        f"h=k: 1 − RMSE/RMSE(persistence) of the k-step forecasts from every test origin o of "
        f"each series (made from its data up to o; {_HOW[ahead.strategy]}), persistence's "
        "being x_o; pooled per step = 1 − sqrt(Σ SSE_h)/sqrt(Σ SSE_h of persistence) over all "
        "series. Every step's RMSE, MAE and skill per series: --json (horizons)."
    )


def _at(values, h: int):
    """values[h − 1], None when there is no such step (or no values)."""
    return values[h - 1] if values is not None and h <= len(values) else None


def _print_many_intervals(console, result, rows) -> None:
    """Per level: coverage % and mean width of each model's intervals on each series, and
    the pooled coverage, at step 1 and the last step."""
    ahead = result.ahead
    keys = [("persistence", "local"), *rows]
    horizon = max(
        len(p.n)
        for key in keys
        for p in (result.pooled_coverage(*key, 100 * ahead.levels[0]),)
        if p is not None
    )
    for level in (100 * lv for lv in ahead.levels):
        grid = []
        for method, tag in (("conformal", ""), ("quantile", "\n(quantiles)")):
            for key in keys:
                p = result.pooled_coverage(*key, level, method)
                if p is None:
                    continue
                for h in sorted({1, min(horizon, len(p.n))}):
                    name = _many_name(key) + tag if h == 1 else ""
                    grid.append(((name, str(h)), (p, h)))

        def cell(ph, label: str) -> str:
            p, h = ph
            widths = p.width.get(label)
            width = _at(widths, h)
            share = _series_coverage(ahead, p, label, h)
            if share is None:
                return "—"
            w = "—" if width is None or width == float("inf") else f"{width:.4g}"
            return f"{100 * share:.1f}\nw {w}"

        def pooled_cell(ph) -> list[str]:
            p, h = ph
            v = _at(p.coverage, h)
            return ["—" if v is None else f"{100 * v:.1f}"]

        _series_grid(
            console,
            f"{level:g}% intervals: coverage % and mean width w per series",
            result,
            grid,
            cell,
            ("pooled",),
            pooled_cell,
        )
    console.print(
        "cover = % of the series' test targets inside the interval, beside the nominal level; "
        "w = its mean width in that series' units; pooled = % of all series' targets inside "
        "(no pooled width: the units differ). Conformal: the forecast ± q_h, "
        f"{_CALIBRATED[ahead.calibration]} of that series (— : too few for the level); "
        "(quantiles): between the net's own pinball-trained quantiles. Every step and the "
        "bands of the next values: --json (intervals)."
    )


def _series_coverage(ahead, p, label: str, h: int) -> float | None:
    """Series ``label``'s coverage at step h of the pooled cell ``p``'s model, kind, method
    and level."""
    iv = ahead.intervals[p.kind].get(label)
    if iv is None:
        return None
    table = iv.conformal if p.method == "conformal" else iv.quantile
    by_level = table.get(p.model, {})
    cell = next((c for lv, c in by_level.items() if abs(100 * lv - p.level) < 1e-9), None)
    return None if cell is None else _at(cell["coverage"], h)


def _backtest(series, job, out: Path | None, console) -> int:
    """``--backtest N``: the rolling-origin backtest (:mod:`rnnlab.forecast.backtest`), its
    tables, and ``metrics.json`` with two plots in ``out``."""
    from rnnlab.commands.common import print_json
    from rnnlab.commands.data_options import epoch_progress
    from rnnlab.forecast.backtest import run_backtest
    from rnnlab.forecast.models import is_neural

    if console is not None:
        _print_backtest_plan(console, series, job)
    say = None if console is None else console.print
    with epoch_progress(enabled=console is not None) as start:
        result = run_backtest(
            series,
            job,
            progress=lambda label: (
                start(label, job.train.epochs) if is_neural(label.split()[0]) else None
            ),
            say=say,
        )
    summary = result.to_dict()
    files = _backtest_files(out, result, summary)
    if console is None:
        print_json(summary)
        return 0
    _print_backtest(console, result)
    if files:
        from rnnlab.commands.common import user_text

        console.print(f"Metrics and plots: {', '.join(user_text(f, None) for f in files)}")
    console.print(f"Done in {result.seconds:.1f} s.")
    return 0


def _backtest_files(out: Path | None, result, summary: dict) -> list[str]:
    """``metrics.json`` (the summary) and the two plots in ``out``; their paths, also put in
    the summary (``metrics``, ``plots``; None without ``out``)."""
    summary["metrics"], summary["plots"] = None, None
    if out is None:
        return []
    import json

    from rnnlab.atomic import write_errors
    from rnnlab.commands.common import jsonable
    from rnnlab.report.backtest import write_backtest_plots
    from rnnlab.report.html import write_text

    with write_errors("--out", "the backtest in", out):
        out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(jsonable(summary), indent=2, allow_nan=False) + "\n"
        metrics = write_text(out / "metrics.json", text)
        plots = write_backtest_plots(result, out)
    summary["metrics"] = str(metrics)
    summary["plots"] = [str(p) for p in plots.values()]
    return [summary["metrics"], *summary["plots"]]


def _print_backtest_plan(console, series, job) -> None:
    """The origins and what refit means, before the fits (a bad ``backtest`` is said here)."""
    from rnnlab.forecast.backtest import backtest_origins

    split = job.split(len(series))
    origins = backtest_origins(split.val_end, len(series), job.backtest)
    h = min(job.horizon, split.n_test)
    how = {
        "never": "the models fitted once, on the data before the test span, forecast from "
        "every origin",
        "once": "the models refitted once on all the data before the first origin (the "
        "validation part too)",
        "every": "the models refitted at every origin on all the data up to it",
    }[job.refit]
    console.print(
        f"Backtest: {len(origins)} origins from {series.label(int(origins[0]))} to "
        f"{series.label(int(origins[-1]))}, each forecasting the next {h} step(s) from the "
        f"data up to it ({job.strategy}); refit {job.refit}: {how}."
    )


def _print_backtest(console, result) -> None:
    """The backtest in 80 columns: skill and p per step, interval coverage, a few origins,
    the fits' cost, the verdict."""
    k = len(result.origins)
    steps = result.shown_steps()
    table = _table(
        f"Pooled skill by step ahead over {k} origins, with p (DM)",
        ("model", *(f"h={j}" for j in steps), "pooled"),
    )
    for name in result.ranking():
        sc = result.scores[name]
        if name == "persistence":
            cells = (f"{sc.step_rmse[j - 1]:.4g}" for j in steps)
            table.add_row("persistence\n(its RMSE)", *cells, f"{sc.rmse:.4g}")
            continue
        cells = []
        for j in steps:
            skill, p = sc.step_skill[j - 1], sc.step_p[j - 1]
            cells.append(f"{_signed(skill)}\np {'—' if p is None else f'{p:.2g}'}")
        table.add_row(name, *cells, _signed(sc.skill))
    console.print(table)
    console.print(
        "h=k: skill 1 − RMSE/RMSE(persistence) of the k-step forecasts pooled over the "
        "origins, against persistence's x_o; p: one-sided Diebold-Mariano p that the model "
        "beats persistence at that step (Newey-West variance with k − 1 lags, the "
        "Harvey-Leybourne-Newbold small-sample correction, Student's t; — : too few origins "
        "for the step); pooled: every origin and step. RMSE, MAE per step and origin, "
        "Holm-adjusted p: --json (backtest)."
    )
    if result.intervals is not None:
        _print_backtest_intervals(console, result, steps)
    _print_origins(console, result)
    costly = {m: t for m, t in result.fit_seconds.items() if sum(t) >= 0.01}
    if costly:
        fits = ", ".join(f"{m} {len(t)} × {sum(t) / len(t):.2g} s" for m, t in costly.items())
        console.print(f"Fits (count × mean time): {fits}.")
    for name, why in result.failed.items():
        from rnnlab.commands.common import user_text

        console.print(f"[red]{name}: no scores, {user_text(why, None)}[/]")
    console.print(f"[bold]Verdict:[/] {result.verdict()}")


def _signed(v: float | None) -> str:
    return "—" if v is None else f"{v:+.4f}"


def _print_backtest_intervals(console, result, steps: list[int]) -> None:
    """Coverage (%) and mean width of each model's intervals per level, at a few steps."""
    levels = result.config.level
    table = _table(
        "Interval coverage % and mean width, pooled over the origins",
        ("model", "level", *(f"h={j}" for j in steps)),
    )
    for name in result.ranking():
        iv = result.intervals[name]
        for lv in levels:
            cells = []
            for j in steps:
                width = iv.width[lv][j - 1]
                w = "—" if width is None else f"{width:.3g}"
                cells.append(f"{100 * iv.coverage[lv][j - 1]:.0f}\nw {w}")
            table.add_row(name if lv == levels[0] else "", f"{lv:g}%", *cells)
    console.print(table)
    console.print(
        "Split-conformal x̂ ± q_h, q_h from the residuals of the validation-sized window of "
        f"origins {_WHERE[result.config.calibration]}, of a fit that held them out (the "
        "first fit; with refit every, each origin's own); coverage = share of targets "
        "inside, beside the nominal level; w = mean width in the series' units (— : too few "
        "residuals for the level)."
    )


_WHERE = {"split": "before the test span", "rolling": "just before each origin (rolling)"}


def _print_origins(console, result, most: int = 6) -> None:
    """A few origins (the first and the last ones): persistence's RMSE over the next steps,
    the best model there and its skill, how many models beat persistence there."""
    k = len(result.origins)
    rows = list(range(k)) if k <= most else [*range(most // 2), *range(k - most // 2, k)]
    shown = "all" if k <= most else f"the first {most // 2} and last {most // 2} of {k}"
    table = _table(
        f"Per origin ({shown}), RMSE over the next {result.horizon} step(s)",
        ("origin", "steps", "persistence", "best other", "its skill", "beat pers."),
    )
    table.columns[0].justify = "left"
    labels, counts = result.labels(), result.origin_counts()
    others = [m for m in result.ranking() if m != "persistence"]
    for i in rows:
        base = result.scores["persistence"].origin_rmse[i]
        best = min(others, key=lambda m: result.scores[m].origin_rmse[i]) if others else None
        skills = [result.scores[m].origin_skill[i] for m in others]
        beat = sum(1 for v in skills if v is not None and v > 0)
        skill = None if best is None else result.scores[best].origin_skill[i]
        table.add_row(
            labels[i],
            str(counts[i]),
            f"{base:.4g}",
            best or "—",
            _signed(skill),
            f"{beat}/{len(others)}",
        )
    console.print(table)
    console.print(
        "persistence: its RMSE from the origin; best other: the other model with the lowest "
        "RMSE there, and its skill; beat pers.: the models with skill above 0 there."
    )
