"""What ``forecast``, ``train`` and ``predict`` share at the command line: torch's threads and
the progress bar. Their options are generated from :mod:`rnnlab.settings.forecasting`; nothing
here imports torch at import time.
"""

from __future__ import annotations

from contextlib import contextmanager

from rnnlab.settings.forecasting import MAX_HORIZON

# Upper ends of the size options (the fields' bounds in rnnlab.settings.training).
MAX_HIDDEN = 4096
MAX_LAYERS = 64
MAX_BATCH = 2**20
MAX_EPOCHS = 100_000

__all__ = ["MAX_HORIZON", "epoch_progress", "set_threads"]


def set_threads(threads) -> None:
    """torch's intra-op threads (a number, or anything with a ``threads`` attribute: the
    gradients and longmemory commands pass their parsed options); and freed large blocks kept
    for reuse (:func:`rnnlab.allocator.keep_freed_memory`) before the heavy work starts."""
    import torch

    from rnnlab.allocator import keep_freed_memory

    n = threads if isinstance(threads, int) else threads.threads
    torch.set_num_threads(n)  # 1 … the cores we may use: checked by the option
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
        TextColumn("{task.description:<14}"),
        BarColumn(bar_width=20),
        TextColumn("{task.completed:>3.0f}/{task.total:<3.0f} {task.fields[losses]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not (enabled and console.is_terminal),
    )

    def start(name: str, epochs: int):
        task = progress.add_task(name, total=epochs, losses="")

        def update(report) -> None:
            val = "" if report.val_loss is None else f" val {report.val_loss:.3g}"
            progress.update(
                task, completed=report.epoch, losses=f"loss {report.train_loss:.3g}{val}"
            )

        return update

    with progress:
        yield start
