"""Options shared by ``forecast``, ``train`` and ``predict``: the data, the window, the net,
the training loop; and the progress bar. Nothing here imports torch at import time.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path

from rnnlab.commands.common import real, threads, whole
from rnnlab.errors import RnnlabError

# Defaults: (normal, --quick). --quick is a tiny run for tests: a short tail of the data, a
# small net, a few epochs.
DEFAULTS = {
    "window": (50, 20),
    "hidden": (32, 8),
    "epochs": (100, 3),
    "patience": (10, 0),
}
QUICK_TAIL = 400  # points of the series a --quick run keeps
# Upper ends of the size options: far above what a CPU tool trains, far below what would
# exhaust memory for one option alone (a typo such as --hidden 1000000000 is refused at once).
MAX_HIDDEN = 4096
MAX_LAYERS = 64
MAX_BATCH = 2**20
MAX_HORIZON = 10_000
MAX_EPOCHS = 100_000  # far past any early stop here; a checkpoint is written every epoch


def add_data_options(p: argparse.ArgumentParser, default_dataset: str | None) -> None:
    """--dataset, --data, --column, --date-column, --date-format, --dayfirst, --fill,
    --max-bytes, --max-rows."""
    from rnnlab.data.csvfile import MAX_BYTES, MAX_ROWS
    from rnnlab.data.series import FILLS

    g = p.add_argument_group("data")
    shown = f" (default {default_dataset})" if default_dataset else ""
    g.add_argument(
        "--dataset", metavar="NAME", help=f"an embedded series{shown}; see `rnnlab datasets`"
    )
    g.add_argument("--data", metavar="FILE.csv", type=Path, help="your own CSV file")
    g.add_argument(
        "--column",
        metavar="NAME",
        help="the column to forecast (default: the dataset's own, or the CSV's only one)",
    )
    g.add_argument(
        "--date-column",
        metavar="NAME",
        help="the CSV's date column (default: one named date, time, timestamp, …)",
    )
    g.add_argument(
        "--date-format",
        metavar="FORMAT",
        help="how the CSV's dates are written, in strftime codes (e.g. %%d/%%m/%%Y); default: "
        "ISO and other unambiguous forms, and day/month/year or month/day/year when the "
        "dates themselves show which",
    )
    g.add_argument(
        "--dayfirst",
        action="store_true",
        default=None,
        help="read dates such as 01/02/2005 as day/month/year (1 February)",
    )
    g.add_argument(
        "--fill",
        choices=FILLS,
        help="missing values: carry the last one forward, or drop the rows (default: an error)",
    )
    g.add_argument(
        "--max-bytes",
        type=whole(1),
        metavar="N",
        help=f"refuse a CSV larger than N bytes (default {MAX_BYTES}: 1 GiB)",
    )
    g.add_argument(
        "--max-rows",
        type=whole(1),
        metavar="N",
        help=f"refuse a CSV with more than N data rows (default {MAX_ROWS:,})",
    )


def load_series(args: argparse.Namespace, default_dataset: str | None):
    """The series the options name (a CSV file, or an embedded dataset); --quick keeps its
    last points."""
    from rnnlab.data.csvfile import load_csv
    from rnnlab.data.sources import load_dataset

    if args.data is not None:
        if args.dataset is not None:
            raise RnnlabError("--data: give either --data FILE.csv or --dataset NAME, not both")
        limits = {
            key: value
            for key in ("max_bytes", "max_rows")
            if (value := getattr(args, key, None)) is not None
        }
        series = load_csv(
            args.data,
            args.column,
            args.date_column,
            args.fill,
            date_format=getattr(args, "date_format", None),
            dayfirst=bool(getattr(args, "dayfirst", None)),
            **limits,
        )
        return _quick(args, series)
    for option in ("date_column", "date_format", "dayfirst", "max_bytes", "max_rows"):
        if getattr(args, option, None) is not None:
            flag = "--" + option.replace("_", "-")
            why = " (embedded data has its dates)" if option.startswith("date") else ""
            raise RnnlabError(f"{flag}: only for --data FILE.csv{why}")
    name = args.dataset or default_dataset
    if name is None:
        raise RnnlabError("no data: give --dataset NAME or --data FILE.csv")
    return _quick(args, load_dataset(name, args.column))


def _quick(args: argparse.Namespace, series):
    """With --quick, only the last QUICK_TAIL points."""
    if getattr(args, "quick", False) and len(series) > QUICK_TAIL:
        return series.tail(QUICK_TAIL, f"--quick: the last {QUICK_TAIL} points only")
    return series


def add_window_options(p: argparse.ArgumentParser) -> None:
    """--window, --target, --scaler."""
    from rnnlab.data.scaling import SCALERS
    from rnnlab.data.windows import TARGETS

    g = p.add_argument_group("what the models see")
    g.add_argument("--window", type=whole(1), metavar="W", help="past steps per input (default 50)")
    g.add_argument(
        "--target",
        choices=TARGETS,
        help="predict the next level, difference or log-return (rebuilt into a level); "
        "default diff",
    )
    g.add_argument(
        "--scaler", choices=tuple(SCALERS), help="fitted on training data (default standard)"
    )


def add_net_options(p: argparse.ArgumentParser) -> None:
    """--hidden, --layers, --dropout, --nonlinearity."""
    g = p.add_argument_group("neural nets")
    g.add_argument(
        "--hidden",
        type=whole(1, MAX_HIDDEN),
        metavar="H",
        help="hidden units per layer (default 32)",
    )
    g.add_argument(
        "--layers", type=whole(1, MAX_LAYERS), default=1, help="stacked layers (default 1)"
    )
    g.add_argument("--dropout", type=real(0, 1), default=0.0, help="between layers (default 0)")
    g.add_argument(
        "--nonlinearity",
        choices=("tanh", "relu"),
        help="the vanilla rnn's activation (default tanh)",
    )


def add_train_options(p: argparse.ArgumentParser) -> None:
    """--epochs, --lr, --batch-size, --patience, --clip, --val, --threads."""
    g = p.add_argument_group("training")
    g.add_argument(
        "--epochs",
        type=whole(1, MAX_EPOCHS),
        help="most epochs (default 100; early stopping ends sooner)",
    )
    g.add_argument(
        "--lr", type=real(0, above=True), default=1e-3, help="Adam's learning rate (default 0.001)"
    )
    g.add_argument(
        "--batch-size", type=whole(1, MAX_BATCH), default=64, help="windows per step (default 64)"
    )
    g.add_argument(
        "--patience",
        type=whole(0),
        help="epochs without a better validation loss before stopping "
        "(default 10; 0 = never stop early)",
    )
    g.add_argument(
        "--clip",
        type=real(0),
        default=1.0,
        help="clip the gradient's L2 norm to this (default 1.0; 0 = no clipping)",
    )
    g.add_argument(
        "--val",
        type=real(0, 0.9),
        default=0.15,
        help="fraction of the data for validation (default 0.15)",
    )
    g.add_argument(
        "--threads",
        type=threads,
        default=1,
        help="torch threads (default 1: fastest for small nets here)",
    )


def pick(args: argparse.Namespace, name: str):
    """An option's value: the user's, else the --quick or normal default."""
    value = getattr(args, name)
    if value is not None:
        return value
    normal, quick = DEFAULTS[name]
    return quick if getattr(args, "quick", False) else normal


def window_config(args: argparse.Namespace):
    """The :class:`WindowConfig` the options describe."""
    from rnnlab.data.windows import WindowConfig

    return WindowConfig(
        window=pick(args, "window"), target=args.target or "diff", scaler=args.scaler or "standard"
    )


def net_config(args: argparse.Namespace, kind: str = "rnn"):
    """The :class:`NetConfig` the options describe (cell options only for ``kind``)."""
    from rnnlab.forecast.nets import NetConfig

    options = {} if args.nonlinearity is None else {"nonlinearity": args.nonlinearity}
    return NetConfig(
        kind=kind,
        hidden_size=pick(args, "hidden"),
        layers=args.layers,
        dropout=args.dropout,
        cell_options=options,
    )


def train_config(args: argparse.Namespace):
    """The :class:`TrainConfig` the options describe."""
    from rnnlab.forecast.training import TrainConfig

    return TrainConfig(
        epochs=pick(args, "epochs"),
        lr=args.lr,
        batch_size=args.batch_size,
        patience=pick(args, "patience"),
        clip_norm=None if args.clip == 0 else args.clip,
        seed=args.seed,
    )


def set_threads(args: argparse.Namespace) -> None:
    """torch's intra-op threads, from --threads; and freed large blocks kept for reuse
    (:func:`rnnlab.allocator.keep_freed_memory`) before the heavy work starts."""
    import torch

    from rnnlab.allocator import keep_freed_memory

    torch.set_num_threads(args.threads)  # 1 … the cores we may use: checked by the option
    keep_freed_memory()


@contextmanager
def epoch_progress(enabled: bool):
    """A rich progress display on stderr; yields ``start(name, epochs) -> callback``.

    Shown only on a terminal (logs and pipes stay clean); the callback takes an
    :class:`~rnnlab.forecast.training.EpochReport`.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from rnnlab.commands.common import make_console

    console = make_console(stderr=True)
    progress = Progress(
        TextColumn("{task.description:<15}"),
        BarColumn(),
        TextColumn("epoch {task.completed:>3.0f}/{task.total:<3.0f} {task.fields[losses]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not (enabled and console.is_terminal),
    )

    def start(name: str, epochs: int):
        task = progress.add_task(name, total=epochs, losses="")

        def update(report) -> None:
            val = "" if report.val_loss is None else f" val {report.val_loss:.4g}"
            progress.update(
                task, completed=report.epoch, losses=f"train {report.train_loss:.4g}{val}"
            )

        return update

    with progress:
        yield start
