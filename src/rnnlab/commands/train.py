"""``rnnlab train``: train one model on a series and save it as a checkpoint directory.

The last ``--val`` fraction of the series is held out for early stopping and scored against
persistence; everything before it trains. ``--resume DIR`` trains a saved model on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.commands.common import add_json_option, add_quick_option, add_seed_option
from rnnlab.commands.data_options import (
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
from rnnlab.errors import RnnlabError

_FROM_CHECKPOINT = ("model", "window", "target", "scaler", "hidden", "nonlinearity")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` command."""
    p = sub.add_parser(
        "train",
        help="train one model and save it (safetensors + JSON config)",
        description=(
            "Train one model (a cell name such as rnn, lstm, gru; or mlp, linear) on a series "
            "and write a checkpoint directory: model.safetensors and config.json. "
            "Predict with it later: rnnlab predict --model DIR."
        ),
    )
    add_data_options(p, DEFAULT_DATASET)
    p.add_argument(
        "--model",
        "--cell",
        dest="model",
        metavar="NAME",
        help="rnn (default), lstm, gru, any other cell name, mlp or linear",
    )
    add_window_options(p)
    add_net_options(p)
    add_train_options(p)
    p.add_argument("--out", type=Path, help="the checkpoint directory to write (required)")
    p.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="train a saved checkpoint on (its model, window and scaler; new --epochs)",
    )
    add_seed_option(p)
    add_quick_option(p)
    add_json_option(p)
    p.set_defaults(run=run)


def _forecaster(args: argparse.Namespace):
    from rnnlab.forecast.checkpoint import load_checkpoint
    from rnnlab.forecast.models import is_neural, make_forecaster
    from rnnlab.forecast.neural import NeuralForecaster

    if args.resume is None:
        name = args.model or "rnn"
        if not is_neural(name) and name != "linear":
            raise RnnlabError(
                f"--model: {name} has nothing to train; choose a cell name, mlp or linear"
            )
        f = make_forecaster(name, window_config(args), net_config(args, name), train_config(args))
        return f
    given = [o for o in _FROM_CHECKPOINT if getattr(args, o) is not None]
    if given:
        raise RnnlabError(f"--{given[0]}: comes from the checkpoint when resuming; drop it")
    f = load_checkpoint(args.resume)
    if not isinstance(f, NeuralForecaster):
        raise RnnlabError(
            f"--resume: {args.resume} holds a {f.name} model, which has nothing to train on"
        )
    f.train = train_config(args)
    f.warm_start = True
    f.previous_history_ = f.history_
    return f


def run(args: argparse.Namespace) -> int:
    """Load the data, fit, save, report."""

    from rnnlab.forecast.checkpoint import save_checkpoint
    from rnnlab.forecast.metrics import rmse
    from rnnlab.forecast.neural import NeuralForecaster

    set_threads(args)
    out = args.out if args.out is not None else args.resume
    if out is None:
        raise RnnlabError("--out: name the checkpoint directory to write")
    f = _forecaster(args)
    if args.resume is not None and args.data is None and args.dataset is None:
        _data_from_checkpoint(args, f.checkpoint_["data"])
    series = load_series(args, DEFAULT_DATASET)
    n_val = round(len(series) * args.val)
    if not 0 <= args.val < 0.9:
        raise RnnlabError(f"--val: must be in [0, 0.9), got {args.val}")
    epochs = f.train_config.epochs if isinstance(f, NeuralForecaster) else 0
    with epoch_progress(enabled=True) as start:
        f.fit(series, val_size=n_val, progress=start(f.name, epochs) if epochs else None)
    if getattr(f, "previous_history_", None) is not None:
        _merge(f.previous_history_, f.history_)
    path = save_checkpoint(f, out)
    result = {
        "model": f.name,
        "checkpoint": str(path),
        "dataset": series.source,
        "column": series.column,
        "rows": len(series),
        "window": f.config.to_dict(),
        "resumed_from": None if args.resume is None else str(args.resume),
    }
    if n_val and n_val >= 1:
        start_val = len(series) - n_val
        start_val = max(start_val, f.min_history)
        actual = series.values[start_val:]
        ours = rmse(actual, f.historical_forecasts(series, start_val))
        base = rmse(actual, series.values[start_val - 1 : -1])
        result["validation"] = {
            "points": int(actual.size),
            "rmse": ours,
            "persistence_rmse": base,
            "skill": None if base == 0 else 1 - ours / base,
        }
    if isinstance(f, NeuralForecaster):
        result["training"] = f.history_.summary()
    if args.json:
        from rnnlab.commands.common import print_json

        print_json(result)
        return 0
    _print(result, series)
    return 0


def _data_from_checkpoint(args: argparse.Namespace, data: dict) -> None:
    """Resume on the checkpoint's own embedded dataset when no data is named."""
    from rnnlab.data.sources import DATASETS

    if data.get("source") not in DATASETS:
        raise RnnlabError(
            f"--resume: the model was trained on {data.get('source')!r}; name the data again "
            "with --data FILE.csv (and --column)"
        )
    args.dataset = data["source"]
    args.column = args.column or data.get("column")


def _merge(old, new) -> None:
    """Resumed training: the new record follows the old one."""
    offset = old.epochs
    for key in ("train_loss", "val_loss", "grad_norm", "clipped", "step_loss"):
        setattr(new, key, getattr(old, key) + getattr(new, key))
    if new.best_epoch is not None:
        new.best_epoch += offset
    new.seconds += old.seconds


def _print(result: dict, series) -> None:
    from rnnlab.commands.common import make_console

    console = make_console()
    w = result["window"]
    console.print(
        f"Trained [bold]{result['model']}[/] on {series.name} ({len(series)} points, "
        f"{series.label(0)} … {series.label(len(series) - 1)}), window {w['window']}, "
        f"target {w['target']}."
    )
    t = result.get("training")
    if t:
        console.print(
            f"Epochs: {t['epochs']} ({t['status']}), weights of epoch {t['best_epoch']} kept; "
            f"best validation MSE {t['best_val_loss']:.4g} (scaled); "
            f"{100 * t['clip_fraction']:.0f}% of steps clipped; {t['seconds']:.1f} s."
        )
        if t["message"]:
            console.print(f"[yellow]{t['message']}[/]")
    v = result.get("validation")
    if v:
        skill = "—" if v["skill"] is None else f"{v['skill']:+.4f}"
        console.print(
            f"Validation ({v['points']} points): RMSE {v['rmse']:.4g} vs persistence "
            f"{v['persistence_rmse']:.4g}, skill {skill}."
        )
    console.print(f"Checkpoint: {result['checkpoint']} (model.safetensors + config.json)")
