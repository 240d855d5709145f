"""The learning curves of a long-memory run (PNG, matplotlib's Agg backend: no screen needed)."""

from __future__ import annotations

from pathlib import Path

from rnnlab.tasks.base import Task


def plot_learning_curves(task: Task, results: list, path: Path) -> Path:
    """Validation loss against training step for each cell, with the baseline and the bar."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from rnnlab.report.plots import plain, save_png

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, r in enumerate(results):
        steps = [s for s, _, _, v in r.curve if v == v]
        losses = [v for _, _, _, v in r.curve if v == v]
        label = f"{r.cell}: {r.final_loss:.3g} ({r.status}, {r.seconds:.0f} s)"
        ax.plot(steps, losses, color=f"C{i}", lw=1.4, label=label)
    ax.axhline(task.baseline(), color="black", ls="--", lw=1, label="baseline (no memory)")
    ax.axhline(task.threshold, color="tab:green", ls=":", lw=1, label="solved below")
    ax.set_yscale("log")
    ax.set_xlabel("training step (a fresh batch each)")
    ax.set_ylabel("validation loss")
    ax.set_title(plain(task.describe(), 160), fontsize=9)
    ax.legend(fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    plt.close(fig)
    return path
