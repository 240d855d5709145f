"""Split-conformal prediction intervals per horizon step, from validation residuals.

For step h, the n absolute residuals r_i = |x_{o+h} − x̂_{o+h|o}| of the forecasts whose
origin and target both lie in the validation part (which fit uses only to stop the nets early;
their weights and the scaler never see it) give, at level 1 − α,

    q_h = the ⌈(n + 1)(1 − α)⌉-th smallest r_i      (infinite when that rank exceeds n)

and the interval x̂ ± q_h, which covers a new exchangeable point with probability at least
1 − α (Vovk et al. 2005; Lei et al. 2018). Forecast errors of a series are not exchangeable
(their spread drifts with the level and the volatility), so the guarantee is no more than a
hope on real data: :func:`score_intervals` reports the coverage the test span actually got
beside the nominal level, and the mean width, so that a user sees how far the hope held.

A net trained with the pinball loss has its own interval, between its α/2 and 1 − α/2
quantile outputs; it is scored the same way beside the conformal one (for every step of a
direct net, for step 1 of a recursive one).

>>> conformal_quantile(np.array([3.0, -1.0, 2.0, 0.5]), 0.2)   # ⌈5·0.8⌉ = 4th of 0.5, 1, 2, 3
3.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rnnlab.data.series import Series
from rnnlab.forecast.base import Forecaster
from rnnlab.forecast.horizons import origin_forecasts


def conformal_quantile(residuals: np.ndarray, alpha: float) -> float:
    """The ⌈(n+1)(1−α)⌉-th smallest |residual| (inf when that rank is past n)."""
    r = np.sort(np.abs(np.asarray(residuals, dtype=np.float64)))
    k = math.ceil((r.size + 1) * (1 - alpha) - 1e-12)  # the float 0.8·5 must stay 4
    return float("inf") if k > r.size or k < 1 else float(r[k - 1])


def conformal_halfwidths(
    forecaster: Forecaster,
    series: Series,
    val_start: int,
    test_start: int,
    horizon: int,
    levels: tuple[float, ...],
) -> dict[float, np.ndarray]:
    """Per level (a fraction, 0.8): the half-widths q_h, h = 1 … ``horizon`` (an array), from
    the forecasts made from the origins o = val_start−1 … test_start−2 of the targets
    o + h < test_start (the data from ``test_start`` on are never read)."""
    x = series.values
    val_o = np.arange(val_start - 1, test_start - 1)
    fv = origin_forecasts(forecaster, series.head(test_start), val_o, horizon)
    out = {}
    for level in levels:
        q = np.empty(horizon)
        for h in range(1, horizon + 1):
            rows = val_o + h < test_start
            q[h - 1] = conformal_quantile(x[val_o[rows] + h] - fv[rows, h - 1], 1 - level)
        out[level] = q
    return out


def coverage(actual: np.ndarray, forecast: np.ndarray, q: np.ndarray) -> list[float | None]:
    """Per step (column): the share of |actual − forecast| ≤ q_h over the rows where both are
    numbers (NaN marks a target past the data); None for a step with none."""
    err = np.abs(actual - forecast)
    out: list[float | None] = []
    for h in range(forecast.shape[1]):
        ok = np.isfinite(err[:, h])
        out.append(float(np.mean(err[ok, h] <= q[h])) if ok.any() else None)
    return out


METHODS = {
    "split": "split-conformal from the validation residuals of each step",
    "rolling": "conformal from the latest residuals of each step observed at each origin "
    "(a sliding calibration window as long as the validation part)",
}


def _label(level: float) -> str:
    """80.0 -> "80", 97.5 -> "97.5": the JSON key of a level in %."""
    return f"{100 * level:g}"


@dataclass
class IntervalResult:
    """Every model's intervals on the test span, per level and step.

    levels      the levels as fractions (0.8, 0.95)
    steps       S, the steps scored (1 … S)
    conformal   model -> level -> {"halfwidth", "coverage", "width"} (lists by step)
    quantile    model -> level -> {"coverage", "width"} (pinball-trained nets only)
    next        model -> level -> [[low, high] per step]: the bands of the next values
    """

    levels: tuple[float, ...]
    steps: int
    calibration: str = "split"  # or "rolling": see score_intervals
    conformal: dict[str, dict[float, dict]] = field(default_factory=dict)
    quantile: dict[str, dict[float, dict]] = field(default_factory=dict)
    next: dict[str, dict[float, list]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able form: levels in % as keys ("80"), None where undefined (an infinite
        half-width when the validation part is too short for the level)."""

        def clean(v):
            if isinstance(v, dict):
                return {(_label(k) if isinstance(k, float) else k): clean(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v

        return {
            "levels": [100 * lv for lv in self.levels],
            "steps": list(range(1, self.steps + 1)),
            "method": METHODS[self.calibration],
            "calibration": self.calibration,
            "conformal": clean(self.conformal),
            "quantile": clean(self.quantile),
            "next": clean(self.next),
        }


def score_intervals(
    forecasters: dict[str, Forecaster],
    series: Series,
    val_start: int,
    test_start: int,
    levels: tuple[float, ...],
    test_forecasts: dict[str, np.ndarray],
    next_values: dict[str, np.ndarray],
    calibration: str = "split",
) -> IntervalResult:
    """Conformal (and, for quantile nets, quantile) intervals of each model at ``levels``
    (fractions), scored on the test span.

    ``test_forecasts[name]`` holds (n_origins, S) forecasts from the test origins
    o = test_start−1 … N−2 (NaN past the data), as :mod:`rnnlab.forecast.horizons` makes
    them; ``next_values[name]`` the forecasts after the end of the data (their bands go in
    ``next``, for the first S steps).

    ``calibration`` "split": one q_h from the validation part for the whole test span;
    "rolling": at each origin o, q_h(o) from the last n residuals of step h already observed
    at o (targets o' + h ≤ o), n the number of validation origins: the calibration window
    slides with the data, so the band follows a level or a volatility that drifts (no value
    after o is read). ``halfwidth`` is then the latest q_h (the one the next values get) and
    ``width`` the mean width over the test origins.
    """
    n = len(series)
    x = series.values
    origins = np.arange(test_start - 1, n - 1)
    steps = next(iter(test_forecasts.values())).shape[1]
    targets = origins[:, None] + np.arange(1, steps + 1)[None, :]
    actual = np.where(targets < n, x[np.minimum(targets, n - 1)], np.nan)
    result = IntervalResult(tuple(levels), steps, calibration=calibration)
    for name, f in forecasters.items():
        ft = test_forecasts[name]
        if calibration == "rolling":
            cells, latest = _rolling(f, series, val_start, test_start, ft, actual, levels)
        else:
            latest = conformal_halfwidths(f, series, val_start, test_start, steps, levels)
            cells = {
                level: {
                    "halfwidth": q.tolist(),
                    "coverage": coverage(actual, ft, q),
                    "width": (2 * q).tolist(),
                }
                for level, q in latest.items()
            }
        result.conformal[name] = cells
        ahead = np.asarray(next_values[name])[:steps]
        result.next[name] = {
            level: [[float(v - w), float(v + w)] for v, w in zip(ahead, q, strict=False)]
            for level, q in latest.items()
        }
        bands = getattr(f, "_quantile_values", lambda *a: None)(series, origins, steps)
        if bands is not None:
            result.quantile[name] = _quantile_scores(f, bands, actual, levels)
    return result


def _rolling(f, series: Series, val_start: int, test_start: int, ft, actual, levels):
    """Rolling calibration (see :func:`score_intervals`): per level, the test cells and the
    latest half-widths q_h (for the next values)."""
    x = series.values
    n = len(series)
    steps = ft.shape[1]
    val_o = np.arange(val_start - 1, test_start - 1)
    window = len(val_o)  # n: as many residuals as split calibration has origins
    fv = origin_forecasts(f, series.head(test_start), val_o, steps)
    all_o = np.arange(val_start - 1, n - 1)  # validation then test origins, in time order
    forecasts = np.concatenate([fv, ft])
    hit = all_o[:, None] + np.arange(1, steps + 1)[None, :]
    residuals = np.where(hit < n, x[np.minimum(hit, n - 1)], np.nan) - forecasts
    first_test = len(val_o)
    cells, latest = {}, {}
    for level in levels:
        q_test = np.full((len(all_o) - first_test, steps), np.inf)
        q_next = np.empty(steps)
        for h in range(1, steps + 1):
            r = residuals[:, h - 1]
            for j in range(first_test, len(all_o) + 1):  # the last j: origin N − 1
                seen = r[max(0, j - h + 1 - window) : j - h + 1]  # targets o' + h ≤ o
                q = conformal_quantile(seen[np.isfinite(seen)], 1 - level)
                if j < len(all_o):
                    q_test[j - first_test, h - 1] = q
                else:
                    q_next[h - 1] = q
        err = np.abs(actual - ft)
        cover, width = [], []
        for h in range(steps):
            ok = np.isfinite(err[:, h])
            cover.append(float(np.mean(err[ok, h] <= q_test[ok, h])) if ok.any() else None)
            width.append(float(np.mean(2 * q_test[ok, h])) if ok.any() else None)
        cells[level] = {"halfwidth": q_next.tolist(), "coverage": cover, "width": width}
        latest[level] = q_next
    return cells, latest


def _quantile_scores(f, bands: np.ndarray, actual: np.ndarray, levels) -> dict:
    """Coverage and mean width of a quantile net's central intervals (its α/2 and 1 − α/2
    outputs) on the rows and steps it has bands for."""
    taus = f._quantile_levels()
    out = {}
    for level in levels:
        alpha = 1 - level
        ends = (round(alpha / 2, 10), round(1 - alpha / 2, 10))
        if not all(t in taus for t in ends):
            continue  # the net was trained for other quantiles
        lo, hi = (bands[:, :, taus.index(t)] for t in ends)
        y = actual[:, : bands.shape[1]]
        cover, width = [], []
        for h in range(bands.shape[1]):
            ok = np.isfinite(y[:, h])
            inside = (lo[ok, h] <= y[ok, h]) & (y[ok, h] <= hi[ok, h])
            cover.append(float(np.mean(inside)) if ok.any() else None)
            width.append(float(np.mean(hi[ok, h] - lo[ok, h])) if ok.any() else None)
        out[level] = {"coverage": cover, "width": width}
    return out
