"""The learning curves of a long-memory run (PNG, matplotlib's Agg renderer: no screen needed).

Each cell is drawn in its colour, :func:`rnnlab.report.plots.model_color` (the same as in the
forecast report and the gradient-flow plot); the baseline and the bar are black.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the plot only reads the task; importing it would import torch
    from matplotlib.figure import Figure

    from rnnlab.tasks.base import Task


def learning_curves_figure(task: Task, results: list) -> Figure:
    """Validation loss against training step for each cell, with the baseline and the bar."""
    from rnnlab.report.plots import model_color, new_figure, plain

    fig, (ax,) = new_figure(figsize=(9, 4.5))
    for r in results:
        steps = [s for s, _, _, v in r.curve if v == v]
        losses = [v for _, _, _, v in r.curve if v == v]
        label = f"{plain(r.cell, 40)}: {r.final_loss:.3g} ({r.status}, {r.seconds:.0f} s)"
        ax.plot(steps, losses, color=model_color(r.cell), lw=1.4, label=label)
    ax.axhline(task.baseline(), color="black", ls="--", lw=1, label="baseline (no memory)")
    ax.axhline(task.threshold, color="black", ls=":", lw=1, label="solved below")
    ax.set_yscale("log")
    ax.set_xlabel("training step (a fresh batch each)")
    ax.set_ylabel("validation loss")
    ax.set_title(plain(task.describe(), 160), fontsize=9)
    ax.legend(fontsize=8)
    return fig


def plot_learning_curves(task: Task, results: list, path: Path) -> Path:
    """Write :func:`learning_curves_figure` as a PNG (its folder made if missing)."""
    from rnnlab.report.plots import save_png

    fig = learning_curves_figure(task, results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    fig.clear()
    return path
