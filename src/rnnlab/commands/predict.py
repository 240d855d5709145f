"""``rnnlab predict``: load a checkpoint, predict the next value (or the next N: each fed back,
or, for a direct model of H steps, its first N ≤ H outputs; a quantile model adds its bands).

Without data it predicts from the end of the series it was trained on (the checkpoint keeps
that tail); with ``--data`` or ``--dataset`` it predicts from the end of that series, read as
the checkpoint records (its column, and how its CSV's dates were read) unless told otherwise.
Its options are :class:`~rnnlab.settings.forecasting.PredictSettings`' fields.
"""

from __future__ import annotations

import argparse

from rnnlab.commands.common import add_json_option
from rnnlab.config import ConfigError, add_options, cli_error, from_args, given_fields
from rnnlab.errors import RnnlabError
from rnnlab.settings.forecasting import PredictSettings


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``predict`` command."""
    p = sub.add_parser(
        "predict",
        help="load a trained model and predict the next value(s)",
        description=(
            "Load a checkpoint written by `rnnlab train` and predict the next value after the "
            "end of the data (--horizon N: the next N, each prediction fed back as an input; "
            "a direct model forecasts up to its H steps at once). A model trained with "
            "--loss pinball also shows its quantiles' intervals."
        ),
    )
    add_options(p, PredictSettings, groups={"data": "data (default: the model's own)"})
    add_json_option(p)
    p.set_defaults(run=run, settings=PredictSettings)


def run(args: argparse.Namespace) -> int:
    """Check the directory and read the data (no torch yet), load, predict, print."""
    from rnnlab.checkpoint_info import checkpoint_dir, recorded_covariates, recorded_data

    settings = from_args(PredictSettings, args)
    try:
        path = checkpoint_dir(settings.checkpoint, "--model")
    except ConfigError as exc:
        raise cli_error(PredictSettings, exc) from None
    series = None
    if not settings.own_data:
        from rnnlab.data.load import load_series

        given = {g.removeprefix("data.") for g in given_fields(PredictSettings, args)}
        recorded = {k: v for k, v in recorded_data(path).items() if k != "dataset"}
        try:
            data = settings.data.filled(recorded, given)
        except ConfigError as exc:
            raise cli_error(PredictSettings, exc) from None
        features = recorded_covariates(path)  # the model's covariates: read along the values
        try:
            series = load_series(data, features=features)
        except ConfigError as exc:
            if exc.field != "features":
                raise
            names = ", ".join(features or ())
            raise RnnlabError(f"--data: the model reads the covariates {names}; {exc}") from None
    return _predict(settings, series, args.json)


def _predict(settings: PredictSettings, series, json: bool) -> int:
    import numpy as np
    import torch

    from rnnlab.data.series import format_date
    from rnnlab.forecast.checkpoint import load_checkpoint
    from rnnlab.forecast.pipeline import next_values

    torch.set_num_threads(1)
    f = load_checkpoint(settings.checkpoint)
    if hasattr(f, "device"):  # the neural models; a checkpoint loads on any device
        f.device = settings.device
    if series is None:
        series = f.series_
    elif len(series) < f.min_history:
        raise RnnlabError(
            f"--data: {len(series)} rows; the model needs the last {f.min_history} "
            f"(window {f.config.window}) to predict"
        )
    horizon, steps = settings.horizon, f._direct_steps()
    if horizon > steps > 1:
        raise RnnlabError(
            f"--horizon: {horizon} values asked for; {settings.model} forecasts {steps} steps "
            f"at once (trained with --strategy direct --horizon {steps}): ask for at most {steps}"
        )
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        result = next_values(f, series, horizon)
    bad = ~np.isfinite(result.values)
    if result.bands is not None:  # the quantiles too: JSON has no inf or NaN
        bad[: len(result.bands)] |= ~np.isfinite(result.bands).all(axis=1)
    if bad.any():
        raise RnnlabError(
            f"--model: {settings.model} predicts a value that is not a finite number at step "
            f"{int(np.flatnonzero(bad)[0]) + 1} (data far outside what it was trained on, or "
            "weights too large?)"
        )
    dates = series.next_dates(horizon)
    labels = (
        [format_date(d) for d in dates]
        if dates is not None
        else [f"row {len(series) + h}" for h in range(1, horizon + 1)]
    )
    if json:
        _print_json(settings, f, series, result, dates is not None, labels)
    else:
        _print_table(f, series, result, dates is not None, labels)
    return 0


def _padded(rows, n: int) -> list:
    """``rows`` as lists, then None up to ``n``: the steps without quantiles."""
    out = [row.tolist() if hasattr(row, "tolist") else row for row in rows]
    return out + [None] * (n - len(out))


def _print_json(settings: PredictSettings, f, series, result, dated: bool, labels) -> None:
    """One JSON object: the predictions, and a quantile model's quantiles per step and its
    central intervals (null at steps it has none for, and for a model without quantiles)."""
    from rnnlab.commands.common import print_json

    n = len(result.values)
    intervals = None
    if result.quantiles is not None:
        intervals = [
            {"level": level, "lower": _padded(low, n), "upper": _padded(high, n)}
            for level, low, high in result.intervals()
        ]
    print_json(
        {
            "model": f.name,
            "checkpoint": str(settings.model),
            "data": series.name,
            "last": series.label(len(series) - 1),
            "last_value": float(series.values[-1]),
            "horizon": n,
            "strategy": "direct" if f._direct_steps() > 1 else "recursive",
            "dates": labels if dated else None,
            "predictions": result.values.tolist(),
            "quantiles": None if result.quantiles is None else list(result.quantiles),
            "quantile_predictions": None if result.bands is None else _padded(result.bands, n),
            "intervals": intervals,
        }
    )


def _print_table(f, series, result, dated: bool, labels) -> None:
    """The model, the data's last value, then one row per step: the prediction and, for a
    quantile model, each central interval as low – high."""
    from rich.table import Table

    from rnnlab.commands.common import fmt, make_console, user_text
    from rnnlab.forecast.checkpoint import describe

    console = make_console()
    console.print(f"Model: {user_text(describe(f), 200)}.")
    last = series.label(len(series) - 1)
    console.print(f"Data: {user_text(series.name)}, last value {fmt(series.values[-1])} on {last}.")
    intervals = result.intervals()
    table = Table()
    for col in ("step", "date" if dated else "row", "prediction"):
        table.add_column(col, justify="right", overflow="fold")
    for level, _, _ in intervals:
        table.add_column(f"{level:g}% interval", justify="right", overflow="fold")
    for h, (label, v) in enumerate(zip(labels, result.values, strict=True), start=1):
        bands = [
            f"{fmt(low[h - 1])} – {fmt(high[h - 1])}" if h <= len(low) else "—"
            for _, low, high in intervals
        ]
        table.add_row(str(h), label, fmt(v), *bands)
    console.print(table)
    direct, n = f._direct_steps() > 1, len(result.values)
    if n > 1 and not direct:
        console.print("Steps after the first feed the model's own predictions back as inputs.")
    if intervals and n > 1 and not direct:
        console.print(
            "Intervals at step 1 only: a value fed back has no quantiles of its own (a model "
            "trained with --strategy direct has them at every step)."
        )
    if result.quantiles is not None:
        console.print(
            "The prediction is the median; the intervals lie between the model's quantiles "
            f"{', '.join(f'{q:g}' for q in result.quantiles if q != 0.5)} (pinball loss)."
            if intervals
            else "The prediction is the median (pinball loss)."
        )
