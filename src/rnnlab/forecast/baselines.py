"""Honest baselines, forecasters like the others and scored on the same points.

    persistence       x̂_t = x_{t−1}                                  "tomorrow = today"
    moving average    x̂_t = (x_{t−1} + … + x_{t−k}) / k
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
from rnnlab.forecast.base import _WINDOW, Forecaster, WindowedForecaster


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


class LinearAR(WindowedForecaster):
    """Least squares ŝ_t = β_0 + β·(s_{t−W} … s_{t−1}) on the training windows.

    ``coef_`` (W,) and ``intercept_`` are found by ``numpy.linalg.lstsq`` (the minimum-norm
    solution when the windows are collinear, as neighbouring prices are).
    """

    name = "linear"

    def __init__(
        self,
        window: int | WindowConfig = _WINDOW.window,
        target: str = _WINDOW.target,
        scaler: str = _WINDOW.scaler,
    ) -> None:
        self.window = window  # W, or a whole WindowConfig (then target and scaler come from it)
        self.target = target
        self.scaler = scaler

    def _inputs(self, s: np.ndarray, targets: np.ndarray, dates) -> np.ndarray:
        return windows(s, targets, self.config.window)  # (n, W)

    def _fit_scaled(self, X, y, X_val, y_val, progress) -> None:
        A = np.hstack([np.ones((len(X), 1)), X])  # (n, 1 + W)
        beta, *_ = np.linalg.lstsq(A, y, rcond=None)
        self.intercept_, self.coef_ = float(beta[0]), beta[1:]

    def _predict_scaled(self, X: np.ndarray) -> np.ndarray:
        return self.intercept_ + X @ self.coef_  # (n,)
