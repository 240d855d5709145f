"""The gradient-flow plot (PNG, matplotlib's Agg backend: no screen needed).

Top: ‖∂h_T/∂h_t‖ against the lag on a log scale, with the theory line, ‖∂L/∂h_t‖ and, for
the LSTM, ‖∂c_T/∂c_t‖ and the forget-gate product. Middle (gated cells): the gate along the
sequence. Bottom (with a training run): the gradient norm per step before clipping.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.diagnostics.flow import GradientFlow


def _positive(values) -> np.ndarray:
    """Values for a log axis: None, 0, NaN and inf become NaN (gaps in the line)."""
    arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    arr[~np.isfinite(arr) | (arr <= 0)] = np.nan
    return arr


def plot_gradient_flow(flow: GradientFlow, title: str, path: Path, training=None) -> Path:
    """Write the plot; ``training`` is (plain, clipped) run results or None."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from rnnlab.report.plots import plain, quiet_glyphs, save_png

    panels = 1 + (flow.gate is not None) + (training is not None)
    fig, axes = plt.subplots(panels, 1, figsize=(9, 3.6 * panels), squeeze=False)
    axes = list(axes[:, 0])
    ax = axes.pop(0)
    k = flow.lags
    ax.plot(k, _positive(flow.grad_norm), "o-", ms=3, color="C0", label="‖∂h_T/∂h_t‖ measured")
    if flow.theory_kind is not None:
        style = "--" if flow.theory_kind == "bound" else ":"
        ax.plot(k, _positive(flow.theory), style, color="black", label=flow.theory_name)
    ax.plot(
        k, _positive(flow.loss_grad_norm), "-", color="C1", lw=1, label="‖∂L/∂h_t‖ (unit error)"
    )
    if flow.cell_state_norm is not None:
        ax.plot(k, _positive(flow.cell_state_norm), "-", color="C2", label="‖∂c_T/∂c_t‖ measured")
    if flow.gate is not None:
        path_by_lag = flow.gate.path[len(flow.gate.path) - 1 - k]
        ax.plot(k, _positive(path_by_lag), "-.", color="C3", label="direct gate path ∏ gate")
    ax.set_yscale("log")
    ax.set_xlabel("lag k = T − t (steps back)")
    ax.set_ylabel("norm")
    ax.set_title(plain(title, 160), fontsize=9)
    ax.legend(fontsize=7)
    if flow.gate is not None:
        ax = axes.pop(0)
        g = flow.gate.values  # (T, H)
        t = np.arange(1, len(g) + 1)
        ax.fill_between(t, g.min(axis=1), g.max(axis=1), color="C3", alpha=0.2, label="min … max")
        ax.plot(t, g.mean(axis=1), color="C3", label="mean over units")
        ax.set_ylim(0, 1)
        ax.set_xlabel("step t")
        ax.set_ylabel("gate value")
        ax.set_title(flow.gate.name, fontsize=9)
        ax.legend(fontsize=7)
    if training is not None:
        ax = axes.pop(0)
        for r, color in zip(training, ("C3", "C0"), strict=True):
            c = r.config.clip
            label = "no clipping" if c is None else f"clip at {c:g}"
            ax.plot(_positive(r.grad_norm), color=color, lw=0.8, label=f"{label}: {r.status}")
            if c is not None:
                ax.axhline(c, color=color, ls=":", lw=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("‖g‖ before clipping")
        ax.set_title("Exploding in practice: the gradient norm per step", fontsize=9)
        ax.legend(fontsize=7)
    with quiet_glyphs():
        fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    plt.close(fig)
    return path
