"""``rnnlab predict``: load a checkpoint, predict the next value (or the next N, each fed back).

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
            "end of the data (--horizon N: the next N, each prediction fed back as an input)."
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
    from rnnlab.forecast.checkpoint import describe, load_checkpoint

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
    horizon = settings.horizon
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        values = f.predict(horizon, series)
    if not np.all(np.isfinite(values)):
        step = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
        raise RnnlabError(
            f"--model: {settings.model} predicts a value that is not a finite number at step "
            f"{step} (data far outside what it was trained on, or weights too large?)"
        )
    dates = series.next_dates(horizon)
    labels = (
        [format_date(d) for d in dates]
        if dates is not None
        else [f"row {len(series) + h}" for h in range(1, horizon + 1)]
    )
    last = series.label(len(series) - 1)
    if json:
        from rnnlab.commands.common import print_json

        print_json(
            {
                "model": f.name,
                "checkpoint": str(settings.model),
                "data": series.name,
                "last": last,
                "last_value": float(series.values[-1]),
                "horizon": horizon,
                "dates": None if dates is None else labels,
                "predictions": values.tolist(),
            }
        )
        return 0
    from rich.table import Table

    from rnnlab.commands.common import fmt, make_console, user_text

    console = make_console()
    console.print(f"Model: {user_text(describe(f), 200)}.")
    console.print(f"Data: {user_text(series.name)}, last value {fmt(series.values[-1])} on {last}.")
    table = Table()
    for col in ("step", "date" if dates is not None else "row", "prediction"):
        table.add_column(col, justify="right", overflow="fold")
    for h, (label, v) in enumerate(zip(labels, values, strict=True), start=1):
        table.add_row(str(h), label, fmt(v))
    console.print(table)
    if horizon > 1:
        console.print("Steps after the first feed the model's own predictions back as inputs.")
    return 0
