"""``report.html`` + its PNG plots + ``metrics.json``, written into one directory.

Every file is written atomically (a temporary file in the same directory, then a rename), so a
reader never sees half a report. The HTML references the PNGs by relative path: the directory
can be moved or zipped as a whole.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from rnnlab.display import name, printable
from rnnlab.fielderror import FieldError
from rnnlab.forecast.experiment import SCORE_COLUMNS, ForecastResult
from rnnlab.report.plots import (
    plot_intervals,
    plot_series,
    plot_skill,
    plot_test,
    plot_training,
)

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.verdict { background: #fff6d9; border-left: 4px solid #e0b000; padding: 0.6em 1em; }
.note { color: #555; font-size: 0.9em; } img { max-width: 100%; }
"""


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically (:func:`rnnlab.atomic.replacing`)."""
    from rnnlab.atomic import replacing

    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def esc(text: str) -> str:
    """Text for the page: HTML-escaped, control characters as escapes (HTML forbids them)."""
    return html.escape(printable(text))


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def render_html(result: ForecastResult, summary: dict, images: dict[str, str]) -> str:
    """The report page."""
    s, sp, cfg = result.series, result.split, result.config
    metrics = _table(list(SCORE_COLUMNS), [r.cells() for r in result.ranking()])
    when = summary["next_date"] or f"row {len(s) + 1}"
    nxt = _table(
        ["model", f"next value ({when})"],
        [[name, f"{v:.6g}"] for name, v in summary["next"].items()],
    )
    train_rows = [
        [n, str(t["epochs"]), str(t["best_epoch"]), t["status"], f"{100 * t['clip_fraction']:.0f}%"]
        for n, t in summary["training"].items()
    ]
    training = _table(["model", "epochs", "best epoch", "status", "steps clipped"], train_rows)
    messages = "".join(
        f"<p class='verdict'>{esc(n)}: {esc(t['message'])}</p>"
        for n, t in summary["training"].items()
        if t["message"]
    )
    failed = "".join(f"<p class='verdict'>{esc(n)}: {esc(m)}</p>" for n, m in result.failed.items())
    img = "".join(
        f"<h2>{esc(title)}</h2><img src='{esc(file)}' alt='{esc(title)}'>"
        for title, file in images.items()
    )
    lag_rows = [
        [
            r.name,
            str(r.lag.shift),
            "—" if r.lag.change_corr is None else f"{r.lag.change_corr:+.3f}",
            "yes" if r.lag.persistence_in_disguise else "no",
        ]
        for r in result.ranking()
        if r.lag is not None
    ]
    lags = ""
    if lag_rows:
        head = ["model", "shift k", "Δ corr", "persistence in disguise"]
        lags = (
            "<h2>The lag illusion</h2>"
            + _table(head, lag_rows)
            + "<p class='note'>shift k = the k in 0 to 5 whose actual value x_(t−k) the forecast "
            "x̂_t is closest to (mean squared difference); Δ corr = correlation between "
            "predicted and actual changes. " + esc(result.lag_note()) + "</p>"
        )
    features = "".join(
        f"<p class='note'>{esc(n)} reads {len(f)} hand-made features, not the window: "
        f"{esc(', '.join(f))}.</p>"
        for n, f in summary["features"].items()
    )
    intervals = _intervals_html(result)
    w = cfg.window
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rnnlab forecast: {esc(name(s.name))}</title>
<style>{CSS}</style></head><body>
<h1>rnnlab forecast: {esc(name(s.name, 200))}</h1>
<p>{len(s)} points, {esc(s.label(0))} … {esc(s.label(len(s) - 1))} ({esc(s.frequency)}).
Chronological split: train {sp.n_train}, validation {sp.n_val}, test {sp.n_test}
(test {esc(s.label(sp.val_end))} … {esc(s.label(len(s) - 1))}). Window {w.window},
target mode <b>{esc(w.target)}</b>, {esc(w.scaler)} scaler fitted on the training part only.</p>
<p class="verdict">{esc(result.verdict())}</p>
<h2>Test scores (one-step-ahead, real units, best first)</h2>
{metrics}
<p class="note">skill = 1 − RMSE / RMSE(persistence); direction = share of test days whose
up/down move the model called right (— for a model that never predicts a move);
p (DM) = one-sided Diebold-Mariano p-value that the model's squared error is lower than
persistence's.</p>
{features}
{lags}
{intervals}
<h2>Next value</h2>
{nxt}
<h2>Training</h2>
{training}{messages}{failed}
{img}
<p class="note">Generated by rnnlab in {result.seconds:.1f} s. Full numbers: metrics.json.</p>
</body></html>
"""


def _intervals_html(result: ForecastResult) -> str:
    """The intervals' coverage and width per model, level and step (empty without them)."""
    iv = result.intervals
    if iv is None:
        return ""
    head = ["model", "method", "step h"]
    for level in iv.levels:
        head += [f"{100 * level:g} % coverage", f"{100 * level:g} % width"]
    rows = []
    for method, table in (("conformal", iv.conformal), ("quantile", iv.quantile)):
        for model, by_level in table.items():
            for h in range(len(next(iter(by_level.values()))["coverage"])):
                row = [model, method, str(h + 1)]
                for level in iv.levels:
                    cell = by_level.get(level)
                    cover = None if cell is None else cell["coverage"][h]
                    width = None if cell is None else cell["width"][h]
                    row.append("—" if cover is None else f"{100 * cover:.1f} %")
                    row.append("—" if width is None or not math.isfinite(width) else f"{width:.4g}")
                rows.append(row)
    return (
        "<h2>Prediction intervals (test span)</h2>"
        + _table(head, rows)
        + "<p class='note'>conformal: x̂ ± q_h, q_h from the validation residuals of step h; "
        "quantile: between the net's own quantile outputs (pinball loss). Coverage = share of "
        "test targets inside; width = mean interval width, in the series' units.</p>"
    )


def write_report(result: ForecastResult, out: str | Path) -> Path:
    """Write the plots, ``metrics.json`` and ``report.html`` into ``out``; returns the HTML path."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise FieldError("out", "{0} exists and is not a directory", out, lead=False) from None
    except OSError as exc:
        raise FieldError("out", "cannot create {0} ({1})", out, exc.strerror, lead=False) from None
    images = {
        "The series and its split": plot_series(result, out / "series.png").name,
        "Test part: forecasts against actual values": plot_test(result, out / "test.png").name,
        "Skill against persistence": plot_skill(result, out / "skill.png").name,
    }
    curves = plot_training(result, out / "training.png")
    if curves is not None:
        images["Training curves"] = curves.name
    bands = plot_intervals(result, out / "intervals.png")
    if bands is not None:
        images["Prediction intervals"] = bands.name
    report = out / "report.html"
    summary = result.to_dict()
    summary["report"] = str(report)
    write_text(out / "metrics.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")
    write_text(report, render_html(result, summary, images))
    return report
