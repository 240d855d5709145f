"""The compare PNG: speed against T (log-log) and reach-back by lag (log), one colour per cell
(:func:`rnnlab.report.plots.model_color`, as in every other plot).

Both panels read the JSON object (:meth:`rnnlab.compare.CompareResult.to_dict`), so the
plot shows exactly the numbers the tables print.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def compare_figure(d: dict) -> Figure:
    """Left: ms per training step against T. Right: ‖∂ŷ/∂x_t‖ against the lag k, at
    initialisation (solid) and after training (dashed, when measured)."""
    from rnnlab.report.plots import model_color, new_figure, plain

    fig, (speed, reach) = new_figure(1, 2, figsize=(11, 4.5))
    s = d["speed"]
    for c, secs in s["seconds"].items():
        label = f"{plain(c, 30)} ({d['params'][c]:,} params)"
        speed.plot(s["lengths"], [1e3 * t for t in secs], "o-", color=model_color(c), label=label)
    speed.set_xscale("log", base=2)
    speed.set_yscale("log")
    speed.set_xlabel("T (sequence length)")
    speed.set_ylabel("ms per training step")
    where = f"{s['threads']} thread(s)" if s["device"] == "cpu" else s["device"]
    speed.set_title(f"1. Speed: B = {s['batch']}, H = {s['hidden']}, {where}")
    speed.legend(fontsize=8)
    for c, r in d["reach"].items():
        g = r["init"]
        reach.plot(range(1, len(g)), g[1:], color=model_color(c), lw=1.4, label=plain(c, 30))
        if r["trained"] is not None:
            t = r["trained"]
            reach.plot(range(1, len(t)), t[1:], color=model_color(c), lw=1, ls="--")
    reach.set_yscale("log")
    reach.set_xlabel("lag k = T − t")
    reach.set_ylabel("‖∂ŷ/∂x_t‖ (mean of 32 sequences)")
    trained = any(r["trained"] is not None for r in d["reach"].values())
    reach.set_title(
        "2. Reach-back at initialisation" + (" (dashed: after training)" if trained else "")
    )
    reach.legend(fontsize=8)
    return fig


def plot_compare(d: dict, path: Path) -> Path:
    """Write :func:`compare_figure` as a PNG (its folder made if missing)."""
    from rnnlab.report.plots import save_png

    fig = compare_figure(d)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    fig.clear()
    return path
