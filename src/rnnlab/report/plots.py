"""PNG plots of a forecast run (matplotlib, Agg backend: no screen needed).

series.png     the whole series, the train / validation / test parts shaded
test.png       the test tail: actual values and every model's one-step forecasts, with a
               zoom on its last points (where lines that lag by one day show themselves)
training.png   train and validation loss per epoch for each neural model
skill.png      skill against persistence, one bar per model
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rnnlab.display import NAME_LIMIT, name
from rnnlab.forecast.experiment import ForecastResult

ZOOM = 60  # test points in the zoomed panel
COLORS = {"actual": "black", "persistence": "tab:gray", "moving_average": "tab:olive"}


def _figure(*args, **kwargs):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt, plt.subplots(*args, **kwargs)


def plain(text: str, limit: int = NAME_LIMIT) -> str:
    """User text (a column name, a path) for matplotlib, shown as written: control characters
    as escapes (matplotlib has no glyph for them), at most ``limit`` characters (a
    2,000-character title made a 22354×18022 px PNG with ``bbox_inches="tight"``), and ``$``
    escaped (it would start mathtext, and ``$x^$`` would not parse)."""
    return name(text, limit).replace("$", r"\$")


@contextmanager
def quiet_glyphs() -> Iterator[None]:
    """Drawing without matplotlib's "Glyph N (…) missing from font(s) DejaVu Sans" warnings:
    a name in Chinese or with an emoji is drawn with boxes for the characters the font lacks,
    and a successful run keeps stderr clean. Wrap every call that draws (savefig,
    tight_layout)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font", UserWarning)
        yield


def save_png(fig, path: Path, **savefig) -> Path:
    """Write a figure atomically (:func:`rnnlab.atomic.replacing`)."""
    from rnnlab.atomic import replacing

    with replacing(path) as tmp, quiet_glyphs():
        fig.savefig(tmp, format="png", **{"dpi": 110, "bbox_inches": "tight", **savefig})
    return path


def _x(result: ForecastResult) -> np.ndarray:
    s = result.series
    return np.arange(len(s)) if s.dates is None else s.dates


def plot_series(result: ForecastResult, path: Path) -> Path:
    """The series with the split marked."""
    plt, (fig, ax) = _figure(figsize=(10, 3.6))
    x, s, sp = _x(result), result.series, result.split
    ax.plot(x, s.values, color="black", lw=0.8)
    parts = (
        ("train", 0, sp.train_end, "tab:blue"),
        ("validation", sp.train_end, sp.val_end, "tab:orange"),
    )
    parts += (("test", sp.val_end, len(s), "tab:green"),)
    for label, a, b, color in parts:
        if b > a:
            ax.axvspan(x[a], x[b - 1], color=color, alpha=0.12, label=f"{label} ({b - a})")
    ax.set_title(f"{plain(s.name)}: chronological split")
    ax.set_ylabel(plain(s.column, 40))
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    save_png(fig, path)
    plt.close(fig)
    return path


def plot_test(result: ForecastResult, path: Path) -> Path:
    """Test predictions against the actual values: the whole test part and its last points."""
    x = _x(result)[result.split.val_end :]
    actual = result.test_actual
    zoom = len(actual) > ZOOM
    plt, (fig, axes) = _figure(2 if zoom else 1, 1, figsize=(10, 7 if zoom else 3.8), squeeze=False)
    axes = axes[:, 0]
    panels = [(axes[0], slice(None))] + ([(axes[1], slice(-ZOOM, None))] if zoom else [])
    for ax, sl in panels:
        ax.plot(x[sl], actual[sl], color="black", lw=1.6, label="actual")
        for r in result.ranking():
            ax.plot(x[sl], r.test_forecast[sl], lw=0.9, color=COLORS.get(r.name), label=r.name)
        ax.set_ylabel(plain(result.series.column, 40))
    axes[0].set_title(f"Test part: one-step-ahead forecasts ({len(actual)} points)")
    if zoom:
        axes[1].set_title(f"The last {ZOOM} test points")
    axes[0].legend(loc="upper left", fontsize=7, ncol=4)
    fig.autofmt_xdate()
    save_png(fig, path)
    plt.close(fig)
    return path


def plot_training(result: ForecastResult, path: Path) -> Path | None:
    """Train (solid) and validation (dashed) loss per epoch, log scale; None if nothing trained."""
    trained = [r for r in result.results.values() if r.history is not None and r.history.epochs]
    if not trained:
        return None
    plt, (fig, ax) = _figure(figsize=(10, 4))
    for i, r in enumerate(trained):
        h, color = r.history, f"C{i}"
        epochs = np.arange(1, h.epochs + 1)
        ax.plot(epochs, h.train_loss, color=color, label=f"{r.name} train")
        if h.val_loss:
            ax.plot(
                epochs[: len(h.val_loss)],
                h.val_loss,
                "--",
                color=color,
                label=f"{r.name} validation",
            )
        if h.best_epoch:
            ax.axvline(h.best_epoch, color=color, lw=0.5, alpha=0.5)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (scaled units)")
    ax.set_title("Training curves (thin vertical lines: the epoch whose weights were kept)")
    ax.legend(fontsize=7, ncol=2)
    save_png(fig, path)
    plt.close(fig)
    return path


def plot_skill(result: ForecastResult, path: Path) -> Path:
    """Skill = 1 − RMSE / RMSE_persistence per model (> 0 beats persistence)."""
    ranked = [r for r in result.ranking() if r.scores.skill is not None]
    plt, (fig, ax) = _figure(figsize=(8, 0.45 * len(ranked) + 1.2))
    skills = [r.scores.skill for r in ranked]
    colors = ["tab:green" if s > 0 else "tab:red" if s < 0 else "tab:gray" for s in skills]
    bars = ax.barh([r.name for r in ranked][::-1], skills[::-1], color=colors[::-1])
    ax.bar_label(bars, labels=[f"{v:+.4f}" for v in skills[::-1]], fontsize=8, padding=3)
    ax.axvline(0, color="black", lw=0.8)
    lo = min(min(skills), -0.01)
    ax.set_xlim(max(lo * 1.25, -1.0), max(max(skills) * 1.25, 0.12 * abs(lo), 0.01))
    ax.set_xlabel("skill against persistence (bars below −1 are cut)")
    ax.set_title("Skill = 1 − RMSE / RMSE(persistence)")
    save_png(fig, path)
    plt.close(fig)
    return path
