"""The gradient-flow plot (PNG, matplotlib's Agg renderer: no screen needed).

Top: ‖∂h_T/∂h_t‖ against the lag on a log scale, with the theory line, ‖∂L/∂h_t‖ and, for
the LSTM, ‖∂c_T/∂c_t‖ and the forget-gate product. Middle (gated cells): the gate along the
sequence. Bottom (with a training run): the gradient norm per step before clipping.

What the cell measured is drawn in the cell's colour (:func:`rnnlab.report.plots.model_color`,
the colour it has in every plot), told apart by line style; the theory is black.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rnnlab.diagnostics.flow import GradientFlow


def _positive(values) -> np.ndarray:
    """Values for a log axis: None, 0, NaN and inf become NaN (gaps in the line)."""
    arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    arr[~np.isfinite(arr) | (arr <= 0)] = np.nan
    return arr


def gradient_flow_figure(
    flow: GradientFlow, title: str, training=None, cell: str | None = None
) -> Figure:
    """The figure; ``training`` is (plain, clipped) run results or None; ``cell`` the cell's
    name for its colour (None: the trained cell's, else the colour of an unnamed cell)."""
    from rnnlab.report.plots import model_color, new_figure, plain

    if cell is None and training:
        cell = training[0].cell
    color = model_color("" if cell is None else cell)
    panels = 1 + (flow.gate is not None) + (training is not None)
    fig, axes = new_figure(panels, 1, figsize=(9, 3.6 * panels))
    axes = list(axes)
    ax = axes.pop(0)
    k = flow.lags
    ax.plot(k, _positive(flow.grad_norm), "o-", ms=3, color=color, label="‖∂h_T/∂h_t‖ measured")
    if flow.theory_kind is not None:
        style = "--" if flow.theory_kind == "bound" else ":"
        ax.plot(k, _positive(flow.theory), style, color="black", label=flow.theory_name)
    ax.plot(
        k,
        _positive(flow.loss_grad_norm),
        "-",
        color=color,
        lw=0.9,
        alpha=0.5,
        label="‖∂L/∂h_t‖ (unit error)",
    )
    if flow.cell_state_norm is not None:
        ax.plot(k, _positive(flow.cell_state_norm), "s--", ms=2, color=color, label="‖∂c_T/∂c_t‖")
    if flow.gate is not None:
        path_by_lag = flow.gate.path[len(flow.gate.path) - 1 - k]
        ax.plot(k, _positive(path_by_lag), "-.", color=color, label="direct gate path ∏ gate")
    ax.set_yscale("log")
    ax.set_xlabel("lag k = T − t (steps back)")
    ax.set_ylabel("norm")
    ax.set_title(plain(title, 160), fontsize=9)
    ax.legend(fontsize=7)
    if flow.gate is not None:
        ax = axes.pop(0)
        g = flow.gate.values  # (T, H)
        t = np.arange(1, len(g) + 1)
        ax.fill_between(t, g.min(axis=1), g.max(axis=1), color=color, alpha=0.2, label="min … max")
        ax.plot(t, g.mean(axis=1), color=color, label="mean over units")
        ax.set_ylim(0, 1)
        ax.set_xlabel("step t")
        ax.set_ylabel("gate value")
        ax.set_title(flow.gate.name, fontsize=9)
        ax.legend(fontsize=7)
    if training is not None:
        ax = axes.pop(0)
        for r, (run_color, lw) in zip(training, ((color, 0.9), ("black", 0.7)), strict=True):
            c = r.config.clip
            label = "no clipping" if c is None else f"clip at {c:g}"
            ax.plot(_positive(r.grad_norm), color=run_color, lw=lw, label=f"{label}: {r.status}")
            if c is not None:
                ax.axhline(c, color=run_color, ls=":", lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("‖g‖ before clipping")
        ax.set_title("Exploding in practice: the gradient norm per step", fontsize=9)
        ax.legend(fontsize=7)
    return fig


def plot_gradient_flow(
    flow: GradientFlow, title: str, path: Path, training=None, cell: str | None = None
) -> Path:
    """Write :func:`gradient_flow_figure` as a PNG (its folder made if missing)."""
    from rnnlab.report.plots import save_png

    fig = gradient_flow_figure(flow, title, training, cell)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    fig.clear()
    return path
