"""``rnnlab train``: train one model on a series and save it as a checkpoint directory.

The last ``--val`` fraction of the series is held out for early stopping and scored against
persistence; everything before it trains. While it trains, the checkpoint is rewritten
atomically after every epoch (``--checkpoint-every N``) with all it takes to go on, so:

    --resume DIR   on a run that was interrupted (a crash, ``kill -9``): goes on from the last
                   complete epoch, with the run's own settings and data, and ends with the
                   model and metrics the uninterrupted run gives;
                   on a finished model: trains it on for ``--epochs N`` more epochs.

Its options are :class:`~rnnlab.settings.forecasting.TrainSettings`' fields; what a resumed
run may change, and the checks on its data, are :mod:`rnnlab.forecast.pipeline`'s. Under
``torchrun`` the training is data-parallel (:mod:`rnnlab.forecast.distributed`); rank 0 alone
writes the checkpoint and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.commands.common import add_json_option
from rnnlab.config import (
    ConfigError,
    add_options,
    add_quick_option,
    cli_error,
    from_args,
    given_fields,
)
from rnnlab.errors import RnnlabError
from rnnlab.settings.forecasting import TrainSettings, trainable

GROUPS = {
    "data": "data",
    "window": "what the model sees",
    "net": "neural nets",
    "train": "training",
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` command: its options are :class:`TrainSettings`' fields."""
    p = sub.add_parser(
        "train",
        help="train one model and save it (safetensors + JSON config)",
        description=(
            "Train one model (a cell name such as rnn, lstm, gru; or mlp, linear) on a series "
            "and write a checkpoint directory: model.safetensors and config.json. "
            "Predict with it later: rnnlab predict --model DIR (a model trained with "
            "--strategy direct --horizon H forecasts H steps at once; one with --loss pinball "
            "--level 80 adds its 80% interval). The checkpoint is rewritten "
            "atomically after every epoch, so a crashed run goes on with --resume DIR and ends "
            "as if never stopped. Under torchrun (torchrun --nproc_per_node=N -m rnnlab train "
            "...) training is data-parallel (DDP) and rank 0 alone writes and prints."
        ),
    )
    add_options(p, TrainSettings, quick=TrainSettings.quick(), groups=GROUPS)
    p.add_argument(  # the old spelling of --cell, still read (hidden: --model names a checkpoint)
        "--model", dest="old_model", choices=trainable(), help=argparse.SUPPRESS
    )
    add_quick_option(p, TrainSettings)
    add_json_option(p)
    p.set_defaults(run=run, settings=TrainSettings)


def run(args: argparse.Namespace) -> int:
    """Train, alone or as one rank of a torchrun launch; only rank 0 speaks."""
    fixed = {}
    if args.old_model is not None:
        if args.cell is not None:
            raise RnnlabError("--model: give the cell once, with --cell")
        fixed["cell"] = args.old_model
    settings = from_args(TrainSettings, args, quick=args.quick, **fixed)
    given = given_fields(TrainSettings, args) | ({"cell"} if fixed else set())
    try:
        out = settings.destination
        series = None
        if settings.resume is None:  # the data first: a bad file is refused before torch
            from rnnlab.data.load import load_series
            from rnnlab.data.sources import DEFAULT_DATASET

            series = load_series(settings.data, DEFAULT_DATASET, settings.features)
        else:
            from rnnlab.checkpoint_info import checkpoint_dir

            checkpoint_dir(settings.resume, "--resume")
        from rnnlab.forecast.distributed import launch_from_env, process_group

        with process_group(launch_from_env()) as rank:
            try:
                return _train(settings, given, out, series, args.json, main=rank == 0)
            except RnnlabError:
                if rank != 0:  # rank 0 says it once
                    raise SystemExit(2) from None
                raise
    except ConfigError as exc:  # the library names the field; the user typed its flag
        raise cli_error(TrainSettings, exc) from None


def _train(settings: TrainSettings, given, out: Path, series, json: bool, main: bool) -> int:
    """Hold the checkpoint directory (rank 0, which writes it), plan, say it, train, save."""
    from contextlib import nullcontext

    from rnnlab.commands.data_options import epoch_progress, set_threads
    from rnnlab.data.load import load_series
    from rnnlab.data.sources import DEFAULT_DATASET
    from rnnlab.forecast import checkpoint, distributed
    from rnnlab.forecast.pipeline import (
        check_same_data,
        plan_training,
        run_record,
        validation_scores,
    )
    from rnnlab.outdir import claim_out

    option = "--out" if settings.out is not None else "--resume"
    # held from here to the end: a second run on the same directory is refused at once
    with claim_out(out, option, "the checkpoint") if main else nullcontext(out) as target:
        checkpoint.check_destination(target, option)
        plan = plan_training(settings, given)
        if series is None or plan.resumed is not None:  # with the covariates the model reads
            features = getattr(plan.forecaster, "covariates", None)
            series = load_series(plan.data, DEFAULT_DATASET, features)
        check_same_data(plan, series)
        n_val = plan.validation_size(len(series))
        f, run = plan.forecaster, run_record(plan, series)
        f.reading_ = plan.data.reading  # recorded in the checkpoint: read the CSV alike again
        console = None
        if main and not json:
            from rnnlab.commands.common import make_console

            console = make_console()
            _print_plan(console, plan, series, n_val)
        set_threads(plan.threads)
        epochs = plan.epochs
        with epoch_progress(enabled=main) as start:
            bar = start(f.name, epochs) if epochs else None

            def on_epoch(report) -> None:  # the progress bar, and a checkpoint to resume from
                bar(report)
                every = settings.checkpoint_every
                if main and report.state is not None and every and report.epoch % every == 0:
                    checkpoint.save_checkpoint(f, target, report.state, run)

            f.fit(series, val_size=n_val, progress=on_epoch if epochs else None)
        if not main:
            return 0
        path = checkpoint.save_checkpoint(f, target)
    result = {
        "model": f.name,
        "checkpoint": str(path),
        "dataset": series.source,
        "column": series.column,
        "rows": len(series),
        "window": f.config.to_dict(),
        "features": f.feature_names() if hasattr(f, "feature_names") else None,
        "covariates": list(c) if (c := getattr(f, "covariates", None)) else None,
        "strategy": "direct" if f._direct_steps() > 1 else "recursive",
        "horizon": f._direct_steps(),  # the steps it forecasts at once (1: one step, fed back)
        "loss": getattr(f, "loss", None),  # the nets'; None for linear (least squares)
        "quantiles": None if (q := f._quantile_levels()) is None else list(q),
        "resumed_from": None if plan.resumed is None else str(plan.resumed),
        "resumed_after_epoch": None if plan.state is None else plan.state.epoch,
        "processes": distributed.world()[1],
    }
    validation = validation_scores(f, series, n_val)
    if validation is not None:
        result["validation"] = validation
    if epochs:
        result["training"] = f.history_.summary()
    if console is None:
        from rnnlab.commands.common import print_json

        print_json(result)
        return 0
    _print(console, result)
    return 0


def _print_plan(console, plan, series, n_val: int) -> None:
    """The data and what will be trained, before the slow part."""
    from rnnlab.commands.common import user_text

    f, s = plan.forecaster, series
    console.print(
        f"[bold]{user_text(s.name)}[/]: {len(s)} points, {s.label(0)} to {s.label(len(s) - 1)}"
        + "".join(f"; {n}" for n in s.notes)
    )
    what = f"Training {f.name}: {len(s) - n_val} points to train, {n_val} to validate"
    w = f.config
    if hasattr(f, "feature_names"):  # the MLP reads hand-made features, not the window
        from rnnlab.data.features import SPAN, feature_names

        names = feature_names(series.dates is not None)
        what += f"; features {', '.join(names)} (from the last {SPAN} values), target {w.target}"
    else:
        what += f"; window {w.window}, target {w.target}"
    if covariates := getattr(f, "covariates", None):
        what += f"; covariates {', '.join(covariates)}"
    if f._direct_steps() > 1:
        what += f"; direct: {f._direct_steps()} steps at once"
    if (quantiles := f._quantile_levels()) is not None:
        what += f"; pinball loss, quantiles {', '.join(f'{q:g}' for q in quantiles)}"
    if plan.epochs:
        t = f.train_config
        stop = "no early stop" if t.patience == 0 else f"early stop after {t.patience} flat"
        what += f"; up to {t.epochs} epochs ({stop}), {plan.threads} thread(s)"
    if plan.state is not None:
        what += f"; going on after epoch {plan.state.epoch}"
    console.print(what + ".")


def _print(console, result: dict) -> None:
    from rnnlab.commands.common import user_text

    t = result.get("training")
    loss = "pinball loss" if result["loss"] == "pinball" else "MSE"
    if t:
        console.print(
            f"Epochs: {t['epochs']} ({t['status']}), weights of epoch {t['best_epoch']} kept; "
            f"best validation {loss} {t['best_val_loss']:.4g} (scaled); "
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
