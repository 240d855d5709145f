"""What every forecaster does, in scikit-learn style, and the windowed pipeline most share.

    f.fit(series, val_size=0)                 -> f        (learned state ends in ``_``)
    f.predict(horizon=1, series=None)         -> (horizon,) levels after the end of ``series``
                                                 (default: the fitted one), each step fed back
    f.historical_forecasts(series, start)     -> (N − start,) one-step-ahead levels x̂_t for
                                                 t = start … N−1, each from x_0 … x_{t−1} only

``val_size`` holds the last points of ``series`` out of fitting (the scaler and the weights
never see them); neural forecasters use them to stop early. With ``warm_start = True`` a fitted
neural forecaster keeps its scaler and weights and trains on from them.
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.series import Series
from rnnlab.data.windows import Preprocessor, WindowConfig
from rnnlab.errors import RnnlabError


class Forecaster:
    """Base class: subclasses set ``name`` and implement the three methods."""

    name: str = "forecaster"

    def fit(self, series: Series, val_size: int = 0, progress=None) -> Forecaster:
        """Learn from ``series`` (its last ``val_size`` points only for validation)."""
        raise NotImplementedError

    def predict(self, horizon: int = 1, series: Series | None = None) -> np.ndarray:
        """The next ``horizon`` levels after the end of ``series`` (default: the fitted one)."""
        raise NotImplementedError

    def historical_forecasts(self, series: Series, start: int) -> np.ndarray:
        """One-step-ahead forecasts x̂_t for t = start … N−1 from the actual past."""
        raise NotImplementedError

    @property
    def min_history(self) -> int:
        """Points of history the forecaster needs before its first forecast."""
        return 1

    def _series(self, series: Series | None) -> Series:
        if series is None:
            if not hasattr(self, "series_"):
                raise RnnlabError(f"{self.name}: call fit before predict")
            return self.series_
        return series

    def _check(self, n: int, start: int, horizon: int | None = None) -> None:
        if horizon is not None and (not isinstance(horizon, int | np.integer) or horizon < 1):
            raise RnnlabError(f"--horizon: must be a whole number >= 1, got {horizon!r}")
        if start < self.min_history or start > n:
            raise RnnlabError(
                f"{self.name}: needs {self.min_history} point(s) of history before its first "
                f"forecast, got {start} of {n}"
            )


class WindowedForecaster(Forecaster):
    """Levels -> scaled model space -> inputs for target t -> ŝ_t -> level x̂_t.

    Subclasses define ``_inputs(s, targets, dates)`` (model inputs for the target indices),
    ``_fit_scaled(X, y, X_val, y_val, progress)`` and ``_predict_scaled(X) -> (n,)``.
    """

    def __init__(self, window: WindowConfig | None = None) -> None:
        self.window = window

    @property
    def config(self) -> WindowConfig:
        """The window config (the default one when None was given)."""
        return WindowConfig() if self.window is None else self.window

    @property
    def min_history(self) -> int:
        """W + lag: a full window of defined inputs."""
        return self.config.first_target

    def _inputs(self, s: np.ndarray, targets: np.ndarray, dates: np.ndarray | None):
        raise NotImplementedError

    def _fit_scaled(self, X, y: np.ndarray, X_val, y_val: np.ndarray, progress) -> None:
        raise NotImplementedError

    def _predict_scaled(self, X) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _dates(series: Series, targets: np.ndarray) -> np.ndarray | None:
        return None if series.dates is None else series.dates[targets]

    def fit(self, series: Series, val_size: int = 0, progress=None) -> WindowedForecaster:
        """Fit the scaler on the training part, then the model on its windows."""
        n = len(series)
        n_train = n - val_size
        first = self.config.first_target
        if not 0 <= val_size < n or n_train - first < 1:
            raise RnnlabError(
                f"{self.name}: {n} points with {val_size} for validation leave no training "
                f"window of {self.config.window} (need more than {first} training points)"
            )
        if not (getattr(self, "warm_start", False) and hasattr(self, "preprocessor_")):
            self.preprocessor_ = Preprocessor(self.config).fit(
                series.values[:n_train]
            )  # train only
        s = self.preprocessor_.transform(series.values)
        train_t = np.arange(first, n_train)
        val_t = np.arange(max(n_train, first), n)
        X = self._inputs(s, train_t, self._dates(series, train_t))
        X_val = self._inputs(s, val_t, self._dates(series, val_t))
        self.series_ = series  # before training: a checkpoint written during it names the data
        self._fit_scaled(X, s[train_t], X_val, s[val_t], progress)
        return self

    def historical_forecasts(self, series: Series, start: int) -> np.ndarray:
        """x̂_t = level(model(inputs from s_0 … s_{t−1})), for t = start … N−1."""
        self._check(len(series), start)
        s = self.preprocessor_.transform(series.values)
        t = np.arange(start, len(series))
        s_hat = self._predict_scaled(self._inputs(s, t, self._dates(series, t)))
        return self.preprocessor_.to_level(s_hat, series.values[t - 1])

    def predict(self, horizon: int = 1, series: Series | None = None) -> np.ndarray:
        """Recursive: predict x̂_{N}, append it as if observed, predict x̂_{N+1}, …"""
        series = self._series(series)
        self._check(len(series), len(series), horizon)
        keep = self.config.first_target
        levels = list(series.values[-keep:])
        future = series.next_dates(horizon)
        out = np.empty(horizon)
        for h in range(horizon):
            s = self.preprocessor_.transform(np.asarray(levels))
            t = np.array([len(levels)])
            s = np.append(s, np.nan)  # the slot of the target itself (not an input)
            dates = None if future is None else future[h : h + 1]
            s_hat = self._predict_scaled(self._inputs(s, t, dates))
            out[h] = float(self.preprocessor_.to_level(s_hat, levels[-1])[0])
            levels = [*levels[1:], out[h]]
        return out
