"""The PNG of time against T, one line per implementation and width (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

from rnnlab.atomic import replacing
from rnnlab.bench.runner import Case


def plot_time_vs_t(cases: list[Case], path: Path) -> Path:
    """Write seconds per step against T (log-log), one panel per group; atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({c.group for c in cases})
    fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 4.2), squeeze=False)
    titles = {
        "rnn": "vanilla RNN training step (B=64, I=1)",
        "gated": "gated training step (B=64, H=128, I=1)",
        "attention": "attention vs recurrence (B=64, H=128, I=1)",
        "deer": "tanh RNN forward: sequential vs parallel in time",
    }
    for ax, group in zip(axes[0], groups, strict=True):
        series: dict[str, list[Case]] = {}
        for c in cases:
            if c.group == group:
                label = f"{c.impl} H={c.H}" if group == "rnn" else c.impl
                series.setdefault(label, []).append(c)
        for label, pts in sorted(series.items()):
            pts.sort(key=lambda c: c.T)
            ax.plot([c.T for c in pts], [c.seconds for c in pts], marker="o", label=label)
        ax.set(xscale="log", yscale="log", xlabel="T (time steps)", ylabel="seconds (median)")
        ax.set_title(titles.get(group, group), fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with replacing(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path
