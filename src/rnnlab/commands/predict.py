"""``rnnlab predict``: load a checkpoint, predict the next value (or the next N, each fed back).

Without data it predicts from the end of the series it was trained on (the checkpoint keeps
that tail); with ``--data`` or ``--dataset`` it predicts from the end of that series.
"""

from __future__ import annotations

import argparse

from rnnlab.commands.common import add_json_option, whole
from rnnlab.commands.data_options import MAX_HORIZON, add_data_options
from rnnlab.errors import RnnlabError
from rnnlab.outdir import directory


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
    p.add_argument(
        "--model", type=directory, required=True, metavar="DIR", help="checkpoint directory"
    )
    add_data_options(p, None)
    p.add_argument(
        "--horizon", type=whole(1, MAX_HORIZON), default=1, help="values to predict (default 1)"
    )
    add_json_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load, predict, print."""
    import numpy as np
    import torch

    from rnnlab.commands.data_options import load_series
    from rnnlab.data.series import format_date
    from rnnlab.forecast.checkpoint import describe, load_checkpoint

    torch.set_num_threads(1)
    f = load_checkpoint(args.model)
    series = f.series_
    if args.data is not None or args.dataset is not None:
        if args.column is None:
            args.column = f.checkpoint_["data"]["column"]
        series = load_series(args, None)
        if len(series) < f.min_history:
            raise RnnlabError(
                f"--data: {len(series)} rows; the model needs the last {f.min_history} "
                f"(window {f.config.window}) to predict"
            )
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        values = f.predict(args.horizon, series)
    if not np.all(np.isfinite(values)):
        step = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
        raise RnnlabError(
            f"--model: {args.model} predicts a value that is not a finite number at step {step} "
            "(data far outside what it was trained on, or weights too large?)"
        )
    dates = series.next_dates(args.horizon)
    labels = (
        [format_date(d) for d in dates]
        if dates is not None
        else [f"row {len(series) + h}" for h in range(1, args.horizon + 1)]
    )
    last = series.label(len(series) - 1)
    if args.json:
        from rnnlab.commands.common import print_json

        print_json(
            {
                "model": f.name,
                "checkpoint": str(args.model),
                "data": series.name,
                "last": last,
                "last_value": float(series.values[-1]),
                "horizon": args.horizon,
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
        table.add_column(col, justify="right")
    for h, (label, v) in enumerate(zip(labels, values, strict=True), start=1):
        table.add_row(str(h), label, fmt(v))
    console.print(table)
    if args.horizon > 1:
        console.print("Steps after the first feed the model's own predictions back as inputs.")
    return 0
