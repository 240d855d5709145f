"""``rnnlab train``: train one model on a series and save it as a checkpoint directory.

The last ``--val`` fraction of the series is held out for early stopping and scored against
persistence; everything before it trains. While it trains, the checkpoint is rewritten
atomically after every epoch (``--checkpoint-every N``) with all it takes to go on, so:

    --resume DIR   on a run that was interrupted (a crash, ``kill -9``): goes on from the last
                   complete epoch, with the run's own settings and data, and ends with the
                   model and metrics the uninterrupted run gives;
                   on a finished model: trains it on for ``--epochs N`` more epochs.

Under ``torchrun`` the training is data-parallel (:mod:`rnnlab.forecast.distributed`); rank 0
alone writes the checkpoint and prints.
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
from rnnlab.outdir import directory

# Options a checkpoint fixes (refused with --resume), and the settings of a run (refused when
# an interrupted run goes on: it keeps its own). Their parser defaults are None, so that "not
# given" can be told apart; run() fills in the documented defaults (kept in args.defaults).
_FROM_CHECKPOINT = (
    "model",
    "window",
    "target",
    "scaler",
    "hidden",
    "nonlinearity",
    "layers",
    "dropout",
)
_SETTINGS = ("epochs", "patience", "lr", "batch_size", "clip", "seed", "val")
_DEFAULTED = ("layers", "dropout", "lr", "batch_size", "clip", "seed", "val", "threads")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` command."""
    p = sub.add_parser(
        "train",
        help="train one model and save it (safetensors + JSON config)",
        description=(
            "Train one model (a cell name such as rnn, lstm, gru; or mlp, linear) on a series "
            "and write a checkpoint directory: model.safetensors and config.json. "
            "Predict with it later: rnnlab predict --model DIR. The checkpoint is rewritten "
            "atomically after every epoch, so a crashed run goes on with --resume DIR and ends "
            "as if never stopped. Under torchrun (torchrun --nproc_per_node=N -m rnnlab train "
            "...) training is data-parallel (DDP) and rank 0 alone writes and prints."
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
    p.add_argument("--out", type=directory, help="the checkpoint directory to write (required)")
    p.add_argument(
        "--resume",
        type=directory,
        metavar="DIR",
        help="an interrupted run in DIR: go on from its last complete epoch with its own "
        "settings and data (the same result as if never stopped); a finished model in DIR: "
        "train it on for --epochs N more. Writes to DIR unless --out is given",
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=1,
        metavar="N",
        help="rewrite the checkpoint every N epochs while training, to resume from after a "
        "crash (default 1; 0 = only at the end)",
    )
    add_seed_option(p)
    add_quick_option(p)
    add_json_option(p)
    p.set_defaults(
        run=run,
        defaults={d: p.get_default(d) for d in _DEFAULTED},
        **dict.fromkeys(_DEFAULTED),
    )


def _forecaster(args: argparse.Namespace, given: set[str]):
    """The forecaster to fit, the state to resume from (or None) and the run it belongs to."""
    from rnnlab.atomic import recover
    from rnnlab.forecast.checkpoint import load_checkpoint
    from rnnlab.forecast.models import is_neural, make_forecaster
    from rnnlab.forecast.neural import NeuralForecaster
    from rnnlab.forecast.resume import has_state, load_state

    if args.resume is None:
        name = "rnn" if args.model is None else args.model.strip()
        if not name:
            raise RnnlabError("--model: empty; name a cell (rnn, lstm, gru, …), mlp or linear")
        if not is_neural(name) and name != "linear":
            raise RnnlabError(
                f"--model: {name} has nothing to train; choose a cell name, mlp or linear"
            )
        f = make_forecaster(name, window_config(args), net_config(args, name), train_config(args))
        return f, None, None
    fixed = [o for o in _FROM_CHECKPOINT if o in given]
    if fixed:
        raise RnnlabError(f"--{fixed[0]}: comes from the checkpoint when resuming; drop it")
    recover(args.resume)  # a crash between the two renames of a fallback swap
    f = load_checkpoint(args.resume, "--resume")
    if not isinstance(f, NeuralForecaster):
        raise RnnlabError(
            f"--resume: {args.resume} holds a {f.name} model, which has nothing to train on"
        )
    done = f.history_
    if has_state(args.resume):  # an interrupted run: it goes on as it was
        state, run_info = load_state(args.resume, f)
        changed = [o for o in _SETTINGS if o in given]
        if changed:
            raise RnnlabError(
                f"--{changed[0].replace('_', '-')}: {args.resume} holds a run interrupted after "
                f"epoch {state.epoch} of {f.train_config.epochs}; it goes on with its own "
                "settings: drop the option (train it on afterwards with --resume and --epochs)"
            )
        f.resume = state
        return f, state, run_info
    if args.epochs is None:
        raise RnnlabError(
            f"--epochs: {args.resume} holds a finished model ({done.epochs} epochs, "
            f"{done.status}); to train it on, say how many more epochs with --epochs N"
        )
    f.train = train_config(args)
    f.warm_start = True
    return f, None, None


def _restore(args: argparse.Namespace, given: set[str], run_info: dict) -> None:
    """An interrupted run goes on with its data options, validation and threads, unless the
    user names the data again (a moved CSV): the data fingerprint checks it is the same."""
    data = run_info.get("data", {})
    if args.data is None and args.dataset is None:
        args.data = None if data.get("data") is None else Path(data["data"])
        args.dataset = data.get("dataset")
    for key in ("column", "date_column", "fill"):
        if getattr(args, key) is None:
            setattr(args, key, data.get(key))
    args.quick = args.quick or bool(data.get("quick"))
    args.val = run_info.get("val", args.val)
    if "threads" not in given:
        args.threads = run_info.get("threads", args.threads)


def _fingerprint(series) -> str:
    """sha256 of the series' values (and dates): the same data, bit for bit, or not."""
    import hashlib

    h = hashlib.sha256(series.values.tobytes())
    if series.dates is not None:
        h.update(series.dates.astype("datetime64[ns]").tobytes())
    return h.hexdigest()


def run(args: argparse.Namespace) -> int:
    """Train, alone or as one rank of a torchrun launch; only rank 0 speaks."""
    from rnnlab.forecast.distributed import launch_from_env, process_group

    launch = launch_from_env()
    with process_group(launch) as rank:
        try:
            return _train(args, main=rank == 0)
        except RnnlabError:
            if rank != 0:  # rank 0 says it once
                raise SystemExit(2) from None
            raise


def _train(args: argparse.Namespace, main: bool) -> int:
    """Check the options, hold the checkpoint directory (rank 0, which writes it), train."""
    from contextlib import nullcontext

    from rnnlab.forecast.checkpoint import check_destination, checkpoint_dir
    from rnnlab.outdir import claim_out

    given = {o for o in (*_FROM_CHECKPOINT, *_SETTINGS, "threads") if getattr(args, o) is not None}
    for key, value in args.defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.resume is not None:
        checkpoint_dir(args.resume, "--resume")
    out, option = (args.out, "--out") if args.out is not None else (args.resume, "--resume")
    if out is None:
        raise RnnlabError("--out: name the checkpoint directory to write")
    if args.checkpoint_every < 0:
        raise RnnlabError(f"--checkpoint-every: must be >= 0, got {args.checkpoint_every}")
    # held from here to the end: a second run on the same directory is refused at once
    with claim_out(out, option, "the checkpoint") if main else nullcontext(out) as target:
        check_destination(target, option)
        return _fit(args, given, target, main)


def _fit(args: argparse.Namespace, given: set[str], out: Path, main: bool) -> int:
    """Load the data, fit (saving as it goes), save, report."""
    from rnnlab.forecast import distributed
    from rnnlab.forecast.checkpoint import save_checkpoint
    from rnnlab.forecast.metrics import rmse
    from rnnlab.forecast.neural import NeuralForecaster

    f, state, run_info = _forecaster(args, given)
    if run_info is not None:
        _restore(args, given, run_info)
    elif args.resume is not None and args.data is None and args.dataset is None:
        _data_from_checkpoint(args, f.checkpoint_["data"])
    set_threads(args)
    if isinstance(f, NeuralForecaster):
        f.threads = args.threads  # fit keeps torch at --threads (the library's default is 1)
    series = load_series(args, DEFAULT_DATASET)
    if not 0 <= args.val < 0.9:
        raise RnnlabError(f"--val: must be in [0, 0.9), got {args.val}")
    n_val = round(len(series) * args.val)
    fingerprint = _fingerprint(series)
    if run_info is not None and fingerprint != run_info.get("data_sha256"):
        raise RnnlabError(
            f"--resume: the data differ from those the interrupted run in {args.resume} trained "
            "on; name the same data (--dataset, or --data FILE.csv --column NAME)"
        )
    run_info = {
        "data": {
            "dataset": args.dataset,
            "data": None if args.data is None else str(Path(args.data).resolve()),
            "column": args.column,
            "date_column": args.date_column,
            "fill": args.fill,
            "quick": bool(args.quick),
        },
        "val": args.val,
        "data_sha256": fingerprint,
        "threads": args.threads,
    }
    epochs = f.train_config.epochs if isinstance(f, NeuralForecaster) else 0
    with epoch_progress(enabled=main) as start:
        bar = start(f.name, epochs) if epochs else None

        def on_epoch(report) -> None:  # the progress bar, and a checkpoint to resume from
            bar(report)
            every = args.checkpoint_every
            if main and report.state is not None and every and report.epoch % every == 0:
                save_checkpoint(f, out, report.state, run_info)

        f.fit(series, val_size=n_val, progress=on_epoch if epochs else None)
    if not main:
        return 0
    path = save_checkpoint(f, out)
    world_size = distributed.world()[1]
    result = {
        "model": f.name,
        "checkpoint": str(path),
        "dataset": series.source,
        "column": series.column,
        "rows": len(series),
        "window": f.config.to_dict(),
        "resumed_from": None if args.resume is None else str(args.resume),
        "resumed_after_epoch": None if state is None else state.epoch,
        "processes": world_size,
    }
    if n_val and n_val >= 1:
        start_val = len(series) - n_val
        start_val = max(start_val, f.min_history)
        import numpy as np

        actual = series.values[start_val:]
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, never printed
            forecast = f.historical_forecasts(series, start_val)
            ours = rmse(actual, forecast)
        base = rmse(actual, series.values[start_val - 1 : -1])
        finite = bool(np.isfinite(ours) and np.isfinite(base))
        result["validation"] = {
            "points": int(actual.size),
            "rmse": ours if finite else None,
            "persistence_rmse": base if np.isfinite(base) else None,
            "skill": None if not finite or base == 0 else 1 - ours / base,
            "not_finite": int(np.count_nonzero(~np.isfinite(forecast))),
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


def _print(result: dict, series) -> None:
    from rnnlab.commands.common import make_console, user_text

    console = make_console()
    w = result["window"]
    console.print(
        f"Trained [bold]{result['model']}[/] on {user_text(series.name)} ({len(series)} points, "
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
            console.print(f"[yellow]{user_text(t['message'], None)}[/]")
    v = result.get("validation")
    if v:
        if v["rmse"] is None:
            console.print(
                f"[yellow]Validation ({v['points']} points): {v['not_finite']} of the model's "
                "forecasts are not finite numbers (they overflow: data far outside the training "
                "range, or weights too large); no RMSE.[/]"
            )
        else:
            skill = "—" if v["skill"] is None else f"{v['skill']:+.4f}"
            console.print(
                f"Validation ({v['points']} points): RMSE {v['rmse']:.4g} vs persistence "
                f"{v['persistence_rmse']:.4g}, skill {skill}."
            )
    if result["resumed_after_epoch"] is not None:
        console.print(
            f"Resumed the interrupted run in {user_text(result['resumed_from'], None)} after epoch "
            f"{result['resumed_after_epoch']}."
        )
    if result["processes"] > 1:
        console.print(f"Data-parallel over {result['processes']} processes (torchrun).")
    checkpoint = user_text(result["checkpoint"], None)
    console.print(f"Checkpoint: {checkpoint} (model.safetensors + config.json)")
