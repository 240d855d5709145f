"""Split-conformal prediction intervals per horizon step, from validation residuals.

For step h, the n absolute residuals r_i = |x_{o+h} − x̂_{o+h|o}| of the forecasts whose
origin and target both lie in the validation part (which fit uses only to stop the nets early;
their weights and the scaler never see it) give, at level 1 − α,

    q_h = the ⌈(n + 1)(1 − α)⌉-th smallest r_i      (infinite when that rank exceeds n)

and the interval x̂ ± q_h, which covers a new exchangeable point with probability at least
1 − α (Vovk et al. 2005; Lei et al. 2018).

>>> conformal_quantile(np.array([3.0, -1.0, 2.0, 0.5]), 0.2)   # ⌈5·0.8⌉ = 4th of 0.5, 1, 2, 3
3.0
"""

from __future__ import annotations

import math

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


def conformal_by_step(
    forecaster: Forecaster,
    series: Series,
    val_start: int,
    test_start: int,
    horizon: int,
    levels: tuple[float, ...],
) -> dict:
    """Per level (a fraction, 0.8) and step h = 1 … ``horizon``: the half-width q_h from the
    forecasts made inside [val_start, test_start), and on the test span the empirical coverage
    and the mean width of x̂ ± q_h. Returns ``{level: {"q", "coverage", "width"}}`` (lists by
    step)."""
    n = len(series)
    test_o = np.arange(test_start - 1, n - 1)
    ft = origin_forecasts(forecaster, series, test_o, horizon)
    targets = test_o[:, None] + np.arange(1, horizon + 1)[None, :]
    actual = np.where(targets < n, series.values[np.minimum(targets, n - 1)], np.nan)
    out = {}
    for level, q in conformal_halfwidths(
        forecaster, series, val_start, test_start, horizon, levels
    ).items():
        out[level] = {
            "q": q.tolist(),
            "coverage": coverage(actual, ft, q),
            "width": (2 * q).tolist(),
        }
    return out
