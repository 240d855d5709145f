"""PNG plots of a forecast run (matplotlib's Agg renderer: no screen needed).

series.png     the whole series, the train / validation / test parts shaded
test.png       the test tail: actual values and every model's one-step forecasts, with a
               zoom on its last points (where lines that lag by one day show themselves);
               dates under every panel
training.png   train and validation loss per epoch for each neural model
skill.png      skill against persistence, one bar per model; a bar far off the others' scale
               is cut at the axis edge and its value written there

Every model has one colour, :func:`model_color`, in these plots and in the gradient-flow and
learning-curve plots (:mod:`rnnlab.diagnostics.plot`, :mod:`rnnlab.tasks.plot`), so ``gru`` is
the same orange wherever it appears. Each plot has a ``*_figure`` function that builds the
matplotlib ``Figure`` (to look at, to test, to show in a notebook) and a ``plot_*`` function
that writes it as a PNG. The figures are made without pyplot: nothing here changes the
caller's matplotlib backend or leaves figures open.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rnnlab.display import NAME_LIMIT, name

if TYPE_CHECKING:  # the plots only read the result; importing it would import torch
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from rnnlab.forecast.experiment import ForecastResult

ZOOM = 60  # test points in the zoomed panel

# model (or cell) name -> colour, for every plot. The baselines keep quiet colours, the neural
# models bright ones; "actual" is the data itself.
COLORS = {
    "actual": "black",
    "persistence": "tab:gray",
    "moving_average": "tab:olive",
    "linear": "tab:brown",
    "seasonal_naive": "darkkhaki",
    "drift": "slategray",
    "mlp": "tab:pink",
    "rnn": "tab:red",
    "irnn": "tab:green",
    "lstm": "tab:blue",
    "gru": "tab:orange",
    "mingru": "tab:purple",
    "minlstm": "tab:cyan",
    "transformer": "goldenrod",
}
# a name not above (a cell registered by the user's code): a colour picked by a checksum of the
# name, so that it is the same in every plot and every run
EXTRA_COLORS = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#005f73",
    "#9b2226", "#3a0ca3",
)  # fmt: skip

# skill chart: a bar is "far off" when its size is more than FAR times that of the next smaller
# one (sizes under SKILL_FLOOR count as SKILL_FLOOR); the axis then shows the others only
# (see far_off)
FAR = 4.0
SKILL_FLOOR = 0.02


def model_color(model: str) -> str:
    """The colour of a model (or cell) in every plot: :data:`COLORS`, else a fixed pick from
    :data:`EXTRA_COLORS` by a checksum of the name."""
    if model in COLORS:
        return COLORS[model]
    return EXTRA_COLORS[zlib.crc32(model.encode("utf-8", "surrogatepass")) % len(EXTRA_COLORS)]


def new_figure(*args, figsize=(10, 4), **subplots) -> tuple[Figure, np.ndarray]:
    """A ``Figure`` (no pyplot: no global state, no backend switch) and its axes as a 1-D
    array; ``args`` and ``subplots`` go to ``Figure.subplots``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(*args, squeeze=False, **subplots)
    return fig, axes.ravel()


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


def _save(fig, path: Path) -> Path:
    """Write a figure made by :func:`new_figure` and let it go."""
    save_png(fig, path)
    fig.clear()
    return path


def _x(result: ForecastResult) -> np.ndarray:
    s = result.series
    return np.arange(len(s)) if s.dates is None else s.dates


def time_axis(ax: Axes, dated: bool) -> None:
    """Tick labels under ``ax`` whatever panel it is: dates (slanted, ``2013-02-15``) for a
    dated series, else the row number. (``Figure.autofmt_xdate`` would hide them on every
    panel but the bottom one.)"""
    if not dated:
        ax.set_xlabel("row")
    ax.tick_params(axis="x", labelbottom=True)
    if dated:
        from matplotlib import dates as mdates

        locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.AutoDateFormatter(locator))
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")


def series_figure(result: ForecastResult) -> Figure:
    """The series with the split marked."""
    fig, (ax,) = new_figure(figsize=(10, 3.6))
    x, s, sp = _x(result), result.series, result.split
    ax.plot(x, s.values, color=model_color("actual"), lw=0.8)
    parts = (
        ("train", 0, sp.train_end, "#4c72b0"),
        ("validation", sp.train_end, sp.val_end, "#dd8452"),
        ("test", sp.val_end, len(s), "#55a868"),
    )
    for label, a, b, color in parts:
        if b > a:
            ax.axvspan(x[a], x[b - 1], color=color, alpha=0.12, label=f"{label} ({b - a})")
    ax.set_title(f"{plain(s.name)}: chronological split")
    ax.set_ylabel(plain(s.column, 40))
    ax.legend(loc="upper left", fontsize=8)
    time_axis(ax, s.dates is not None)
    return fig


def plot_series(result: ForecastResult, path: Path) -> Path:
    """Write :func:`series_figure` as a PNG."""
    return _save(series_figure(result), path)


def test_figure(result: ForecastResult) -> Figure:
    """Test predictions against the actual values: the whole test part and, when it is longer
    than :data:`ZOOM` points, its last points; dates under both panels."""
    x = _x(result)[result.split.val_end :]
    actual = result.test_actual
    zoom = len(actual) > ZOOM
    fig, axes = new_figure(2 if zoom else 1, 1, figsize=(10, 7.4 if zoom else 4))
    panels = [(axes[0], slice(None))] + ([(axes[1], slice(-ZOOM, None))] if zoom else [])
    ranked = result.ranking()
    for ax, sl in panels:
        ax.plot(x[sl], actual[sl], color=model_color("actual"), lw=1.6, label="actual")
        for r in ranked:
            color = model_color(r.name)
            ax.plot(x[sl], r.test_forecast[sl], lw=0.9, color=color, label=plain(r.name))
        ax.set_ylabel(plain(result.series.column, 40))
        time_axis(ax, result.series.dates is not None)
    axes[0].set_title(f"Test part: one-step-ahead forecasts ({len(actual)} points)")
    if zoom:
        axes[1].set_title(f"The last {ZOOM} test points")
    axes[0].legend(loc="upper left", fontsize=7, ncol=4)
    return fig


test_figure.__test__ = False  # pytest: not a test, despite its name


def plot_test(result: ForecastResult, path: Path) -> Path:
    """Write :func:`test_figure` as a PNG."""
    return _save(test_figure(result), path)


def training_figure(result: ForecastResult) -> Figure | None:
    """Train (solid) and validation (dashed) loss per epoch, log scale; None if nothing
    trained."""
    trained = [r for r in result.results.values() if r.history is not None and r.history.epochs]
    if not trained:
        return None
    from matplotlib.ticker import MaxNLocator

    fig, (ax,) = new_figure(figsize=(10, 4))
    for r in trained:
        h, color, label = r.history, model_color(r.name), plain(r.name)
        epochs = np.arange(1, h.epochs + 1)
        ax.plot(epochs, h.train_loss, color=color, label=f"{label} train")
        if h.val_loss:
            ax.plot(
                epochs[: len(h.val_loss)],
                h.val_loss,
                "--",
                color=color,
                label=f"{label} validation",
            )
        if h.best_epoch:
            ax.axvline(h.best_epoch, color=color, lw=0.5, alpha=0.5)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (scaled units)")
    ax.set_title("Training curves (thin vertical lines: the epoch whose weights were kept)")
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_training(result: ForecastResult, path: Path) -> Path | None:
    """Write :func:`training_figure` as a PNG; None (nothing written) if nothing trained."""
    fig = training_figure(result)
    return None if fig is None else _save(fig, path)


def far_off(values: list[float]) -> float:
    """The size the skill axis shows. From the largest size down, the first gap where a size is
    more than :data:`FAR` times the next (sizes under :data:`SKILL_FLOOR` count as that) puts
    the sizes above it "far off", the axis showing the next; fewer than half the bars may be
    far off. NaN and ±inf are always far off. No such gap: the largest size."""
    sizes = sorted((abs(v) for v in values if math.isfinite(v)), reverse=True)
    for i in range((len(sizes) - 1) // 2):
        if sizes[i] > FAR * max(sizes[i + 1], SKILL_FLOOR):
            return sizes[i + 1]
    return sizes[0] if sizes else 0.0


def skill_figure(skills: Mapping[str, float]) -> Figure:
    """One bar per model (top to bottom in the mapping's order), in the model's colour. A bar
    far off the others' scale (:func:`far_off`) does not set the axis: it runs to the axis
    edge, where its name and value are written."""
    names, values = list(skills), [float(v) for v in skills.values()]
    fig, (ax,) = new_figure(figsize=(8, 0.45 * len(names) + 1.4))
    if not names:
        return fig
    shown = far_off(values)
    far = [not abs(v) <= shown for v in values]  # NaN too
    near = [v for v, f in zip(values, far, strict=True) if not f]
    lo, hi = min(*near, -0.01), max(*near, 0.01)
    span = hi - lo
    if any(f and v < 0 for f, v in zip(far, values, strict=True)):
        lo -= 0.35 * span  # room for the note on the cut bar
    if any(f and not v < 0 for f, v in zip(far, values, strict=True)):  # NaN: on the right
        hi += 0.35 * span
    lo, hi = lo - 0.18 * span, hi + 0.18 * span  # room for the values at the bars' ends
    y = np.arange(len(names))[::-1]  # the first name on top
    colors = [model_color(n) for n in names]
    drawn = [0.0 if math.isnan(v) else min(max(v, lo), hi) for v in values]  # cut at the edge
    bars = ax.barh(y, drawn, color=colors)
    ax.set_yticks(y, [plain(n, 40) for n in names])
    labels = ["" if f else f"{v:+.4f}" for v, f in zip(values, far, strict=True)]
    ax.bar_label(bars, labels=labels, fontsize=8, padding=3)
    for yi, n, v, f in zip(y, names, values, far, strict=True):
        if not f:
            continue
        edge = lo if v < 0 else hi  # NaN: the right edge
        ax.annotate(
            f"{plain(n, 40)} {_number(v)}",
            xy=(edge, yi),
            xytext=(48 if v < 0 else -48, 0),
            textcoords="offset points",
            ha="left" if v < 0 else "right",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.5", "lw": 0.6},
            arrowprops={"arrowstyle": "->", "color": "black", "lw": 1},
            annotation_clip=False,
        )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(lo, hi)
    cut = " (a bar past the edge is cut, its value written)" if any(far) else ""
    ax.set_xlabel(f"skill against persistence{cut}")
    ax.set_title("Skill = 1 − RMSE / RMSE(persistence)")
    return fig


def _number(v: float) -> str:
    """A skill for the note on a cut bar: 4 decimals, or 4 significant digits when large."""
    if math.isnan(v):
        return "(not a number)"
    return f"{v:+.4f} (off the scale)" if abs(v) < 10 else f"{v:+.4g} (off the scale)"


def plot_skill(result: ForecastResult, path: Path) -> Path:
    """Skill = 1 − RMSE / RMSE_persistence per model (> 0 beats persistence), best first."""
    skills = {r.name: r.scores.skill for r in result.ranking() if r.scores.skill is not None}
    return _save(skill_figure(skills), path)


def interval_model(result: ForecastResult) -> str | None:
    """The model whose intervals the plot shows: the best by test RMSE other than persistence
    (persistence when it ran alone); None without intervals."""
    if result.intervals is None:
        return None
    names = [r.name for r in result.ranking() if r.name in result.intervals.conformal]
    others = [n for n in names if n != "persistence"]
    return (others or names or [None])[0]


def intervals_figure(result: ForecastResult) -> Figure | None:
    """One model's conformal bands at each level: its one-step forecasts over the last
    :data:`ZOOM` test points, and its next values after the data, each step with its own
    half-width q_h; None without intervals."""
    model = interval_model(result)
    if model is None:
        return None
    iv = result.intervals
    x = _x(result)
    s = result.series
    n = len(s)
    r = result.results[model]
    tail = slice(max(result.split.val_end, n - ZOOM), n)
    fig, axes = new_figure(1, 1, figsize=(10, 4))
    ax = axes[0]
    color = model_color(model)
    ax.plot(x[tail], s.values[tail], color=model_color("actual"), lw=1.6, label="actual")
    test = r.test_forecast[tail.start - result.split.val_end :]
    ax.plot(x[tail], test, color=color, lw=0.9, label=plain(model))
    ahead = np.asarray(r.next_values[: iv.steps])
    future = np.arange(n, n + len(ahead)) if s.dates is None else result.next_dates[: len(ahead)]
    ax.plot(future, ahead, color=color, lw=1.2, ls="--", label=f"{plain(model)}, next values")
    for i, level in enumerate(sorted(iv.levels, reverse=True)):
        q = np.asarray(iv.conformal[model][level]["halfwidth"], dtype=np.float64)
        if not np.all(np.isfinite(q)):
            continue  # a level the validation part is too short for
        shade = 0.15 + 0.15 * i
        label = f"{100 * level:g} % interval"
        ax.fill_between(x[tail], test - q[0], test + q[0], color=color, alpha=shade, lw=0)
        ax.fill_between(future, ahead - q, ahead + q, color=color, alpha=shade, lw=0, label=label)
    ax.set_ylabel(plain(s.column, 40))
    time_axis(ax, s.dates is not None)
    ax.set_title(
        f"{plain(model)}: split-conformal intervals (one step ahead over the test tail; "
        f"1…{iv.steps} steps after the data)"
    )
    ax.legend(loc="upper left", fontsize=7, ncol=3)
    return fig


def plot_intervals(result: ForecastResult, path: Path) -> Path | None:
    """Write :func:`intervals_figure` as a PNG (None without intervals)."""
    fig = intervals_figure(result)
    return None if fig is None else _save(fig, path)
