"""Honest baselines, forecasters like the others and scored on the same points.

    persistence       x̂_t = x_{t−1}                                  "tomorrow = today"
    moving average    x̂_t = (x_{t−1} + … + x_{t−k}) / k
    seasonal naive    x̂_t = x_{t−m}, m the season (5 business days, 7 days, 12 months, …);
                      h steps ahead of the last value x_N: x̂_{N+h} = x_{N+h−m·⌈h/m⌉}
    drift             x̂_t = x_{t−1} + b, b = (x_{n−1} − x_0) / (n − 1) over the n training
                      values (the line from the first to the last); x̂_{N+h} = x_N + h·b
    linear            ŝ_t = β_0 + Σ_{i=1..W} β_i·s_{t−i}               least squares on the
                      same window and target mode as the neural nets (an AR(W) model)

>>> x = [1.0, 2.0, 4.0, 8.0]
>>> Persistence().fit(x).historical_forecasts(x, 1).tolist()
[1.0, 2.0, 4.0]
>>> MovingAverage(k=2).fit(x).predict(2)
4    6.0
5    7.0
Name: moving_average, dtype: float64
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.series import Series
from rnnlab.data.windows import WindowConfig, windows
from rnnlab.errors import RnnlabError
from rnnlab.forecast.base import _WINDOW, Forecaster, WindowedForecaster, check_strategy


class Persistence(Forecaster):
    """x̂_t = x_{t−1}: on a random walk (prices, nearly) no forecaster beats it on average."""

    name = "persistence"

    def __init__(self) -> None:
        pass  # no parameters

    def _fit(self, series: Series, val_size: int, progress) -> None:
        """Nothing to learn; remembers the series for :meth:`predict`."""
        self.series_ = series

    def _historical_values(self, series: Series, start: int) -> np.ndarray:
        """x̂_t = x_{t−1} for t = start … N−1."""
        self._check(len(series), start)
        return series.values[start - 1 : -1].copy()

    def _predict_values(self, horizon: int = 1, series: Series | None = None) -> np.ndarray:
        """The last value, ``horizon`` times."""
        series = self._series(series)
        self._check(len(series), len(series), horizon)
        return np.full(horizon, series.values[-1])


class MovingAverage(Forecaster):
    """x̂_t = mean of the last ``k`` values."""

    name = "moving_average"

    def __init__(self, k: int = 7) -> None:
        self.k = k

    @property
    def min_history(self) -> int:
        """k values."""
        return self.k

    def _validate(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise RnnlabError(f"k: must be a whole number >= 1, got {self.k!r}")

    def _fit(self, series: Series, val_size: int, progress) -> None:
        """Nothing to learn; remembers the series for :meth:`predict`."""
        self.series_ = series

    def _historical_values(self, series: Series, start: int) -> np.ndarray:
        """x̂_t = (c_t − c_{t−k}) / k with the running sum c_t = x_0 + … + x_{t−1}."""
        self._check(len(series), start)
        c = np.concatenate([[0.0], np.cumsum(series.values)])  # c[t] = Σ_{i<t} x_i
        t = np.arange(start, len(series))
        return (c[t] - c[t - self.k]) / self.k

    def _predict_values(self, horizon: int = 1, series: Series | None = None) -> np.ndarray:
        """Recursive: each forecast joins the window of the next one."""
        series = self._series(series)
        self._check(len(series), len(series), horizon)
        window = list(series.values[-self.k :])
        out = np.empty(horizon)
        for h in range(horizon):
            out[h] = np.mean(window)
            window = [*window[1:], out[h]]
        return out


def season_length(dates: np.ndarray | None) -> int | None:
    """The season m a seasonal naive forecast uses, from the rhythm of ``dates``: business days
    5 (a week), daily 7, weekly 52, monthly 12, quarterly 4, hourly or finer: one day
    (30 min: 48); None when the dates say nothing (no dates, yearly, an irregular rhythm)."""
    if dates is None or len(dates) < 3:
        return None
    import pandas as pd

    from rnnlab.data.series import _offset

    offset = _offset(dates)
    if isinstance(offset, pd.offsets.BDay | pd.offsets.BusinessDay):
        return 5
    if offset is not None:
        base = offset.freqstr.split("-")[0].lstrip("0123456789")
        by_name = {"D": 7, "W": 52, "MS": 12, "ME": 12, "M": 12, "QS": 4, "QE": 4}
        if offset.freqstr in by_name or (offset.n == 1 and base in by_name):
            return by_name[base]
    gap = float(np.median(np.diff(dates.astype("datetime64[ns]").astype(np.int64)))) / 1e9
    day = 86_400.0
    if 0 < gap < day and day % gap == 0:
        return int(day // gap)  # one day of readings
    if gap == day:
        return 7
    return None


class SeasonalNaive(Forecaster):
    """x̂_t = x_{t−m}: "the same as one season ago". ``season`` m, or None for the series'
    rhythm (:func:`season_length`); ``season_`` is the m used."""

    name = "seasonal_naive"

    def __init__(self, season: int | None = None) -> None:
        self.season = season

    @property
    def min_history(self) -> int:
        """m values."""
        return getattr(self, "season_", None) or self.season or 1

    def _validate(self) -> None:
        m = self.season
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
            raise RnnlabError(f"season: must be a whole number >= 1 or None, got {m!r}")

    def _fit(self, series: Series, val_size: int, progress) -> None:
        """Finds m (from the dates when ``season`` is None); remembers the series."""
        m = self.season if self.season is not None else season_length(series.dates)
        if m is None:
            raise RnnlabError(
                f"season: the rhythm of the data ({series.frequency}) gives no season; "
                "name one (e.g. 7)"
            )
        if m >= len(series):
            raise RnnlabError(f"season: {m} needs more than {m} points, got {len(series)}")
        self.season_ = m
        self.series_ = series

    def _historical_values(self, series: Series, start: int) -> np.ndarray:
        """x̂_t = x_{t−m} for t = start … N−1."""
        self._check(len(series), start)
        m = self.season_
        return series.values[start - m : len(series) - m].copy()

    def _predict_values(self, horizon: int = 1, series: Series | None = None) -> np.ndarray:
        """The last season repeated: x̂_{N+h} = x_{N+h−m·⌈h/m⌉}."""
        series = self._series(series)
        self._check(len(series), len(series), horizon)
        last = series.values[-self.season_ :]
        return np.resize(last, horizon).astype(float)


class Drift(Forecaster):
    """x̂_t = x_{t−1} + b: persistence plus the average change b of the training part, the
    slope of the line from its first to its last value (``slope_``)."""

    name = "drift"

    def __init__(self) -> None:
        pass  # no parameters

    @property
    def min_history(self) -> int:
        """One value."""
        return 1

    def _fit(self, series: Series, val_size: int, progress) -> None:
        """b from the training part (the first ``len − val_size`` values)."""
        n = len(series) - val_size
        if not 0 <= val_size < len(series) or n < 2:
            raise RnnlabError(
                f"drift: needs 2 training points for its slope, got {max(n, 0)} "
                f"({len(series)} with {val_size} for validation)"
            )
        v = series.values
        self.slope_ = float((v[n - 1] - v[0]) / (n - 1))
        self.series_ = series

    def _historical_values(self, series: Series, start: int) -> np.ndarray:
        """x̂_t = x_{t−1} + b for t = start … N−1."""
        self._check(len(series), start)
        return series.values[start - 1 : -1] + self.slope_

    def _predict_values(self, horizon: int = 1, series: Series | None = None) -> np.ndarray:
        """x̂_{N+h} = x_N + h·b."""
        series = self._series(series)
        self._check(len(series), len(series), horizon)
        return series.values[-1] + self.slope_ * np.arange(1, horizon + 1)


class LinearAR(WindowedForecaster):
    """Least squares ŝ_t = β_0 + β·(s_{t−W} … s_{t−1}) on the training windows.

    ``coef_`` (W,) and ``intercept_`` are found by ``numpy.linalg.lstsq`` (the minimum-norm
    solution when the windows are collinear, as neighbouring prices are).

    With ``strategy="direct"`` and ``horizon`` H it is H regressions on the same windows, one
    per step h (the target of each: :meth:`WindowedForecaster._targets`): ``coef_`` (W, H),
    ``intercept_`` (H,).
    """

    name = "linear"

    def __init__(
        self,
        window: int | WindowConfig = _WINDOW.window,
        target: str = _WINDOW.target,
        scaler: str = _WINDOW.scaler,
        strategy: str = "recursive",
        horizon: int = 1,
    ) -> None:
        self.window = window  # W, or a whole WindowConfig (then target and scaler come from it)
        self.target = target
        self.scaler = scaler
        self.strategy = strategy  # "recursive" (one step, fed back) or "direct" (H outputs)
        self.horizon = horizon  # H, the steps a direct model forecasts

    def _validate(self) -> None:
        super()._validate()
        check_strategy(self.strategy, self.horizon)

    def _inputs(self, s: np.ndarray, targets: np.ndarray, dates) -> np.ndarray:
        return windows(s, targets, self.config.window)  # (n, W)

    def _fit_scaled(self, X, y, X_val, y_val, progress) -> None:
        A = np.hstack([np.ones((len(X), 1)), X])  # (n, 1 + W)
        beta, *_ = np.linalg.lstsq(A, y, rcond=None)  # (1 + W,) or (1 + W, H)
        self.coef_ = beta[1:]
        self.intercept_ = float(beta[0]) if beta.ndim == 1 else beta[0]

    def _predict_scaled(self, X: np.ndarray) -> np.ndarray:
        return self.intercept_ + X @ self.coef_  # (n,) or (n, H)
