"""Nixtla's statsforecast models as rnnlab forecasters: fitted once, then run with fixed
parameters over the actual past, scored on the same points as every other model.

    autoets    ETS(error, trend, season), chosen by AICc among A/M errors, N/A/Ad trends and
               N/A/M seasons (Hyndman et al. 2008, Forecasting with Exponential Smoothing).
               ETS(A,A,N), one of them:
                   x̂_{t|t−1} = ℓ_{t−1} + b_{t−1},   e_t = x_t − x̂_{t|t−1}
                   ℓ_t = ℓ_{t−1} + b_{t−1} + α·e_t,  b_t = b_{t−1} + β·e_t
    autoarima  φ(B)·Φ(B^m)·(1−B)^d·(1−B^m)^D·x_t = c + θ(B)·Θ(B^m)·ε_t, the orders by the
               Hyndman-Khandakar stepwise AICc search (J. Stat. Softw. 2008), exact up to
               2,000 points and m = 12, beyond that with CSS while searching and exact ML
               for the model chosen; forecasts from the Kalman filter's state
    theta      x̂_{t+1|t} = ℓ_t + (1 − 1/θ)·(A_t·(1−α)^{t+1} + B_t·(1 − (1−α)^{t+2})/α),
               ℓ_t = α·x_t + (1−α)·ℓ_{t−1}, A_t and B_t the intercept and slope of the least-
               squares line through x_0 … x_t (Fiorucci et al. 2016, Int. J. Forecast.); the
               best of the standard, optimised and dynamic variants by in-sample MSE; a
               seasonal series is first adjusted by classical-decomposition indices s_j
               (x_j / s_j, or x_j − s_j), the forecast multiplied (or added) back

Fit: on the training part only (the last ``val_size`` points held out, as ``linear`` does),
at most its last ``max_train`` points (default 5,000: the fit's cost grows with the length;
the exact AutoARIMA search took 63 s on 13,457 points of sea_temperature). Forecasts then
run the fitted model over the series from the first point fitted, ``fit_start_``, to the
origin o: x̂_{o+1} … x̂_{o+H} read x_{fit_start_} … x_o and nothing later (statsforecast's
``forward``: the parameters fixed, only the states move).

Season m: ``season``, or None for the dates' rhythm (:func:`~rnnlab.forecast.baselines.
season_length`); a series whose dates give none (no dates, yearly, irregular) gets the
non-seasonal models (m = 1), where seasonal_naive refuses. ETS and ARIMA take m up to 24
(R's ``ets`` refuses more, and AutoARIMA's seasonal search ran over 5 minutes at m = 48);
a longer season is left out of them (m = 1), while theta keeps it (its decomposition is
cheap). ``season_`` is the m used.

statsforecast is imported on first use (``import rnnlab.forecast`` stays fast); its warnings
are silenced while it runs.

>>> x = [10.0, 12.0, 11.0, 13.0, 12.0, 14.0, 13.0, 15.0, 14.0, 16.0, 15.0, 17.0]
>>> f = AutoETS().fit(x)  # no dates: m = 1
>>> f.description_
'ETS(A,A,N)'
>>> f.predict(2).round(3)
12    16.947
13    17.478
Name: autoets, dtype: float64
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np

from rnnlab.data.series import Series
from rnnlab.errors import RnnlabError
from rnnlab.forecast.base import Forecaster
from rnnlab.forecast.baselines import season_length

MAX_TRAIN = 5_000  # default: the most recent training points fitted on


@contextmanager
def _quiet():
    """statsforecast's warnings and NumPy's floating-point complaints, silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


class StatisticalForecaster(Forecaster):
    """A statsforecast model fitted on the training part, applied with fixed parameters.

    Parameters
    ----------
    season : int or None
        m, observations per season (None: from the dates, 1 when they give none).
    max_train : int or None
        Fit on at most the last ``max_train`` training points (None: all of them).

    Learned: ``model_`` (the fitted statsforecast model), ``season_`` (m used), ``fit_start_``
    (index of the first point fitted; forecasts read the series from there), ``description_``
    (the model chosen, e.g. ``ARIMA(2,1,1)``). Subclasses give ``_model(m, n)`` and
    ``_paths(y, origins, horizon)``.
    """

    max_season: int | None = None  # the longest season the model is fitted with (None: any)

    def __init__(self, season: int | None = None, max_train: int | None = MAX_TRAIN) -> None:
        self.season = season
        self.max_train = max_train

    def _validate(self) -> None:
        for name in ("season", "max_train"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise RnnlabError(f"{name}: must be a whole number >= 1 or None, got {v!r}")

    def _fit(self, series: Series, val_size: int, progress) -> None:
        """Fit on x_{fit_start_} … x_{n−val_size−1}, the last ``max_train`` training points."""
        n_train = len(series) - val_size
        if not 0 <= val_size < len(series):
            raise RnnlabError(f"{self.name}: {len(series)} points with {val_size} held out")
        m = self.season if self.season is not None else season_length(series.dates) or 1
        self.season_ = m if self.max_season is None or m <= self.max_season else 1
        self.fit_start_ = 0 if self.max_train is None else max(0, n_train - self.max_train)
        y = series.values[self.fit_start_ : n_train]
        try:
            with _quiet():
                self.model_ = self._model(self.season_, len(y)).fit(y)
        except Exception as exc:  # statsforecast's own (tiny data, no model found, …)
            raise RnnlabError(
                f"{self.name}: statsforecast could not fit the {len(y)} training points: {exc}"
            ) from exc
        self.series_ = series

    @property
    def min_history(self) -> int:
        """The first fitted point plus the few the model needs to forecast from."""
        return getattr(self, "fit_start_", 0) + self._min_points

    _min_points = 1  # points from fit_start_ on before the first forecast

    # -- the paths: every one reads x_{fit_start_} … x_o for origin o --------------------------

    def _model(self, m: int, n: int):
        """The statsforecast model for season m and n points to fit."""
        raise NotImplementedError

    def _paths(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        """(len(origins), horizon) forecasts from origins on the model's axis (y[0] is the first
        point fitted), each from y[: o + 1] alone."""
        raise NotImplementedError

    def _origin_values(self, series: Series, origins: np.ndarray, horizon: int) -> np.ndarray:
        """(n_origins, H): x̂_{o+1} … x̂_{o+H} from x_{fit_start_} … x_o, for each origin o."""
        origins = np.asarray(origins, dtype=np.int64)
        if not len(origins):
            return np.empty((0, horizon))
        self._check(len(series), int(origins.min()) + 1)
        y = series.values[self.fit_start_ : int(origins.max()) + 1]  # nothing past the last
        with _quiet():
            return self._paths(y, origins - self.fit_start_, horizon)

    def _historical_values(self, series: Series, start: int) -> np.ndarray:
        """x̂_t for t = start … N−1, each the one-step forecast from origin t − 1."""
        self._check(len(series), start)
        return self._origin_values(series, np.arange(start - 1, len(series) - 1), 1)[:, 0]

    def _predict_values(self, horizon: int = 1, series: Series | None = None) -> np.ndarray:
        """x̂_{N} … x̂_{N+H−1}: the forecasts from the last point."""
        series = self._series(series)
        self._check(len(series), len(series), horizon)
        return self._origin_values(series, np.array([len(series) - 1]), horizon)[0]


class AutoETS(StatisticalForecaster):
    """statsforecast's AutoETS. Forecasts from origin o read the state after x_o of one pass
    of the fitted recursion over the series (``states`` row o + 1; row 0 is the fitted
    initial state)."""

    name = "autoets"
    max_season = 24

    def _model(self, m: int, n: int):
        from statsforecast.models import AutoETS as Model

        return Model(season_length=m)

    @property
    def description_(self) -> str:
        e, t, s, damped = self.model_.model_["components"]
        return f"ETS({e},{t}{'d' if damped == 'D' else ''},{s})"

    def _paths(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        from statsforecast.ets import forecast_ets, forward_ets

        run = forward_ets(self.model_.model_, y)  # states (len(y) + 1, k): after x_0 … x_j
        rows = [forecast_ets({**run, "states": run["states"][: o + 2]}, horizon) for o in origins]
        return np.stack([r["mean"] for r in rows])


class AutoARIMA(StatisticalForecaster):
    """statsforecast's AutoARIMA. The forecasts from origin o are ``forward`` on
    x_{fit_start_} … x_o, one call per origin: the Kalman filter's state after x_o, carried
    h steps. (Its ``forward(fitted=True)`` is not x̂_t: it returns x_t − v_t/√F_t, the
    innovation v_t divided by its standard deviation in σ units, R's residuals; F_t → 1 only
    as the filter settles, slowly for a seasonal MA, and x̂_t then leans on x_t itself.)"""

    name = "autoarima"
    max_season = 24

    exact_up_to = 2_000  # the exact search's longest series (and m up to 12)

    def _model(self, m: int, n: int):
        """R's rule for approximations (n > 150 or m > 12) with the length raised: the exact
        search found the better model on unemployment (580 points; RMSE 0.205 against 0.612),
        and took 27-139 s on 4,000 points at m = 7 or 12, 42-118 s at m = 24."""
        from statsforecast.models import AutoARIMA as Model

        return Model(season_length=m, approximation=n > self.exact_up_to or m > 12)

    @property
    def _min_points(self) -> int:
        """More than d + D·m points (the differencing's); 1 before the fit."""
        if not hasattr(self, "model_"):
            return 1
        arma = self.model_.model_["arma"]  # p, q, P, Q, m, d, D
        return arma[5] + arma[6] * arma[4] + 1

    @property
    def description_(self) -> str:
        from statsforecast.arima import arima_string

        return arima_string(self.model_.model_).strip()

    def _paths(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        rows = [self.model_.forward(y=y[: o + 1], h=horizon)["mean"] for o in origins]
        return np.stack(rows)  # (n_origins, H)


class AutoTheta(StatisticalForecaster):
    """statsforecast's AutoTheta, with the training season fixed.

    statsforecast's ``forward`` for theta decomposes the new data again (centred moving
    averages that read ahead of each point), and its standard models draw A and B from the
    whole series: its in-sample values see the future. Here the seasonal indices s_j of the
    training fit are kept (z_j = x_j / s_j, or x_j − s_j), one pass of the fitted model over z
    gives the level ℓ, and each origin's own least-squares line (statsforecast's
    ``init_state`` on z_0 … z_o) replaces A and B before its forecast: exactly ``forward`` on
    the deseasonalised past.
    """

    name = "theta"
    _min_points = 4  # statsforecast's theta needs more than 3 points

    def _model(self, m: int, n: int):
        from statsforecast.models import AutoTheta as Model

        return Model(season_length=m)

    @property
    def description_(self) -> str:
        fit = self.model_.model_
        kind = fit.get("decomposition_type") if fit.get("decompose", False) else None
        return fit["modeltype"] + ("" if kind is None else f", {kind} season {self.season_}")

    def _seasonal(self, n: int) -> tuple[np.ndarray, bool]:
        """(n,) indices s_j on the model's axis from the training decomposition, and whether
        they are added (else multiplied; s_j = 1 when the fit did not decompose)."""
        fit = self.model_.model_
        if not fit.get("decompose", False):
            return np.ones(n), False
        m, n_fit = self.season_, fit["n"]
        index = np.empty(m)
        index[(n_fit + np.arange(m)) % m] = fit["seas_forecast"]["mean"]  # s_j = index[j % m]
        return index[np.arange(n) % m], fit["decomposition_type"] == "additive"

    def _paths(self, y: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
        from statsforecast._lib import theta as lib
        from statsforecast.theta import forecast_theta, forward_theta, switch_theta

        fit = self.model_.model_
        s, added = self._seasonal(len(y) + horizon)
        z = y - s[: len(y)] if added else y / s[: len(y)]  # the deseasonalised series
        run = forward_theta({**fit, "m": 1}, z)  # one pass, no decomposition
        states = run["states"].copy()  # (len(y), 5): level, mean, A, B, mu after z_0 … z_j
        kind = switch_theta(fit["modeltype"])
        par = fit["par"]
        level, alpha, theta = par["initial_smoothed"], par["alpha"], par["theta"]
        out = np.empty((len(origins), horizon))
        for i, o in enumerate(origins):
            if fit["modeltype"] in ("STM", "OTM"):  # A, B: the line through z_0 … z_o
                line = lib.init_state(z[: o + 1], kind, level, alpha, theta)
                states[o, 2:4] = line[2:4]
            obj = {"n": o + 1, "states": states[: o + 1], "par": par, "modeltype": fit["modeltype"]}
            f = forecast_theta(obj, horizon)["mean"]
            steps = s[o + 1 : o + 1 + horizon]
            out[i] = f + steps if added else f * steps
        return out
