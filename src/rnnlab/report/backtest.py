"""PNG plots of a rolling-origin backtest (matplotlib's Agg renderer, no pyplot).

backtest_error.png   each model's RMSE over the H steps after each origin, one line per model
                     (persistence dashed): where in time a model wins or loses
backtest_fan.png     the actual series over the test span, and from each origin every model's
                     forecasts of the next H steps fanned out from x_o (with levels, the
                     narrowest interval of the best model other than persistence as a band)

Colours are :func:`rnnlab.report.plots.model_color`'s, as in every other plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rnnlab.report.plots import model_color, new_figure, plain, save_png, time_axis

if TYPE_CHECKING:  # the plots only read the result; importing it would import torch
    from matplotlib.figure import Figure

    from rnnlab.forecast.backtest_result import BacktestResult

__all__ = ["error_figure", "fan_figure", "write_backtest_plots"]


def _x(result: BacktestResult) -> np.ndarray:
    """The time axis: the dates, or the row numbers."""
    s = result.series
    return np.arange(len(s)) if s.dates is None else s.dates


def error_figure(result: BacktestResult) -> Figure:
    """RMSE_o over the next H steps, per origin o, one line per model (best pooled first)."""
    fig, (ax,) = new_figure(figsize=(10, 4))
    x = _x(result)[result.origins]
    for m in result.ranking():
        style = "--" if m == "persistence" else "-"
        ax.plot(
            x,
            result.scores[m].origin_rmse,
            style,
            marker="o",
            ms=3,
            lw=1.1,
            color=model_color(m),
            label=plain(m),
        )
    ax.set_ylabel(f"RMSE over {result.horizon} step(s)")
    ax.set_title(
        f"Error by forecast origin ({len(result.origins)} origins, refit {result.config.refit})"
    )
    ax.legend(loc="best", fontsize=7, ncol=4)
    time_axis(ax, result.series.dates is not None)
    return fig


def _band_model(result: BacktestResult) -> str | None:
    """The model whose band is drawn: the best by pooled RMSE other than persistence."""
    if result.intervals is None:
        return None
    ranked = result.ranking()
    others = [m for m in ranked if m != "persistence"]
    return (others or ranked or [None])[0]


def fan_figure(result: BacktestResult) -> Figure:
    """The actual values from a little before the first origin to the end, and from each
    origin o every model's path x_o → x̂_{o+1|o} … x̂_{o+H|o} (bands: see the module)."""
    fig, (ax,) = new_figure(figsize=(10, 4.6))
    s, x, origins, h = result.series, _x(result), result.origins, result.horizon
    begin = max(0, int(origins[0]) - max(h, (len(s) - int(origins[0])) // 5))
    ax.plot(x[begin:], s.values[begin:], color=model_color("actual"), lw=1.4, label="actual")
    band = _band_model(result)
    level = None if result.config.level is None else min(result.config.level)
    for m in reversed(result.ranking()):  # the best drawn last, on top
        color = model_color(m)
        for i, o in enumerate(origins.tolist()):
            fc = result.forecasts[m][i]
            ok = np.isfinite(fc)
            t = o + 1 + np.flatnonzero(ok)
            path_x = np.concatenate([x[o : o + 1], x[t]])
            path_y = np.concatenate([s.values[o : o + 1], fc[ok]])
            label = plain(m) if i == 0 else None
            ax.plot(path_x, path_y, color=color, lw=1.0, label=label)
            if m == band and level is not None:
                q = result.intervals[m].halfwidths[level][i][ok]
                if np.all(np.isfinite(q)):
                    ax.fill_between(
                        x[t],
                        fc[ok] - q,
                        fc[ok] + q,
                        color=color,
                        alpha=0.18,
                        lw=0,
                        label=f"{plain(m)} {level:g} % interval" if i == 0 else None,
                    )
    for o in origins.tolist():
        ax.axvline(x[o], color="0.6", lw=0.5, ls=":")
    ax.set_ylabel(plain(s.column, 40))
    ax.set_title(
        f"Forecasts of {h} step(s) from each of {len(origins)} origins (dotted lines), "
        "each from the data up to it"
    )
    ax.legend(loc="best", fontsize=7, ncol=4)
    time_axis(ax, s.dates is not None)
    return fig


def write_backtest_plots(result: BacktestResult, out: Path) -> dict[str, Path]:
    """Write both plots into the directory ``out`` (each file atomically); their paths by
    name."""
    paths = {}
    for name, make in (("error", error_figure), ("fan", fan_figure)):
        fig = make(result)
        paths[name] = save_png(fig, Path(out) / f"backtest_{name}.png")
        fig.clear()
    return paths
