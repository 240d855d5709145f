"""What every forecaster does, in scikit-learn style, and the windowed pipeline most share.

    f = RecurrentForecaster(cell="gru", window=20)   # __init__ only stores its arguments
    f.fit(data, val_size=0)                   -> f          (learned state ends in ``_``)
    f.predict(horizon=1, data=None)           -> pd.Series  the next ``horizon`` levels after
                                                            the end of ``data`` (default: the
                                                            fitted data), each step fed back
    f.historical_forecasts(data, start)       -> pd.Series  one-step-ahead levels x̂_t for
                                                            t = start … N−1, each from
                                                            x_0 … x_{t−1} only

``data`` is a pandas Series or DataFrame, a 1-D array or list, or an rnnlab
:class:`~rnnlab.data.series.Series` (:mod:`rnnlab.forecast.inputs`). Forecasts are indexed by
their dates (or positions N, N+1, … without dates) and named after the model. The NumPy paths
the library itself runs on are ``_predict_values`` and ``_historical_values`` (rnnlab Series
in, ndarray out); the public methods wrap them.

``get_params``/``set_params``/``repr`` follow scikit-learn's rules (``sklearn.base.clone``
works) without importing scikit-learn: the parameters are the arguments of ``__init__``.

``val_size`` holds the last points of the data out of fitting (the scaler and the weights
never see them); neural forecasters use them to stop early. With ``warm_start = True`` a fitted
neural forecaster keeps its scaler and weights and trains on from them.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from rnnlab.data.covariates import (
    CovariateScaler,
    Exogenous,
    calendar_features,
    check_features,
    split_features,
)
from rnnlab.data.series import Series
from rnnlab.data.windows import Preprocessor, WindowConfig
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError
from rnnlab.forecast.inputs import as_series, to_pandas

_WINDOW = WindowConfig()  # the library's defaults, read by the keyword constructors


class Forecaster:
    """Base class: subclasses set ``name`` and implement ``_fit``, ``_predict_values`` and
    ``_historical_values`` (rnnlab Series in, ndarray out)."""

    name: str = "forecaster"
    covariates: tuple[str, ...] | None = None  # names (the neural ones' parameter); None: none

    # -- scikit-learn's estimator protocol -------------------------------------------------

    @classmethod
    def _param_names(cls) -> list[str]:
        """The arguments of ``__init__``: the parameters, in order."""
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values() if p.name != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """The parameters by name (``deep`` is scikit-learn's: none of ours is an estimator)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> Forecaster:
        """Set parameters by name; returns ``self``. Takes effect at the next ``fit``."""
        known = self._param_names()
        for name, value in params.items():
            if name not in known:
                raise RnnlabError(
                    f"{type(self).__name__} has no parameter {name!r}; it has {', '.join(known)}"
                )
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's tags (only scikit-learn calls this, so only it imports scikit-learn):
        a forecaster, fitted on one series (1-D, in time order), no target y."""
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(
            estimator_type=None,  # none of classifier, regressor, transformer, clusterer
            target_tags=TargetTags(required=False),
            input_tags=InputTags(one_d_array=True, two_d_array=False),
        )

    def __repr__(self) -> str:
        """``RecurrentForecaster(cell='gru', window=20)``: the parameters not at their default."""
        defaults = inspect.signature(type(self).__init__).parameters
        shown = []
        for name, value in self.get_params().items():
            default = defaults[name].default
            if not _same(value, default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # -- the public API: pandas and NumPy in, pandas out ------------------------------------

    def fit(
        self,
        data,
        val_size: int = 0,
        progress=None,
        *,
        column: str | None = None,
        date_column: str | None = None,
    ) -> Forecaster:
        """Learn from ``data`` (its last ``val_size`` points only for validation).

        ``column`` names the value column of a DataFrame (not needed for one value column);
        ``date_column`` its date column (else the dates come from a DatetimeIndex, if any);
        the columns the forecaster's ``covariates`` name come along as past covariates.
        """
        series = as_series(data, column, date_column, covariates=self._covariate_columns())
        self._validate()
        self.input_columns_ = (column, date_column)  # for DataFrames given to predict later
        self._fit(series, val_size, progress)
        return self

    def predict(self, horizon: int = 1, data=None) -> pd.Series:
        """The next ``horizon`` levels after the end of ``data`` (default: the fitted data),
        indexed by their dates (or positions)."""
        series = self._data(data)
        return to_pandas(self._predict_values(horizon, series), series, len(series), self.name)

    def historical_forecasts(self, data, start: int) -> pd.Series:
        """One-step-ahead forecasts x̂_t for t = start … N−1 from the actual past, indexed by
        the dates (or positions) of those points."""
        series = self._data(data)
        return to_pandas(self._historical_values(series, start), series, start, self.name)

    # -- what subclasses implement ---------------------------------------------------------

    def _validate(self) -> None:
        """Check the parameters (called by ``fit``); errors name the parameter."""

    def _fit(self, series: Series, val_size: int, progress) -> None:
        raise NotImplementedError

    def _predict_values(self, horizon: int = 1, series: Series | None = None) -> np.ndarray:
        """(horizon,) levels after the end of ``series`` (default: the fitted one)."""
        raise NotImplementedError

    def _historical_values(self, series: Series, start: int) -> np.ndarray:
        """(N − start,) one-step-ahead levels from the actual past."""
        raise NotImplementedError

    def _origin_values(self, series: Series, origins: np.ndarray, horizon: int) -> np.ndarray:
        """(len(origins), horizon): row i holds x̂_{o+1} … x̂_{o+H} for o = origins[i] (the
        index of the last value seen), forecast from ``series.values[: o + 1]`` alone. This
        default predicts from each past in turn; subclasses batch it."""
        rows = [self._predict_values(horizon, series.head(int(o) + 1)) for o in origins]
        return np.stack(rows) if rows else np.empty((0, horizon))

    @property
    def min_history(self) -> int:
        """Points of history the forecaster needs before its first forecast."""
        return 1

    def _data(self, data) -> Series:
        """``data`` as a Series (a DataFrame read with the columns named at fit), or the
        fitted series for None."""
        if data is None:
            return self._series(None)
        if isinstance(data, pd.DataFrame):
            columns = getattr(self, "input_columns_", (None, None))
            return as_series(data, *columns, covariates=self._covariate_columns())
        return as_series(data)

    def _covariate_columns(self) -> tuple[str, ...]:
        """The past covariates ``covariates`` names (checked), without ``calendar``."""
        check_features(self.covariates, "covariates")
        return split_features(self.covariates)[0]

    def _series(self, series: Series | None) -> Series:
        if series is None:
            if not hasattr(self, "series_"):
                raise RnnlabError(f"{self.name}: call fit before predict")
            return self.series_
        return series

    def _check(self, n: int, start: int, horizon: int | None = None) -> None:
        if horizon is not None and (
            isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1
        ):
            raise RnnlabError(f"horizon must be a whole number at least 1, got {horizon!r}")
        if start < self.min_history or start > n:
            raise RnnlabError(
                f"{self.name}: needs {self.min_history} point(s) of history before its first "
                f"forecast, got {start} of {n}"
            )


def _same(value, default) -> bool:
    """True when a parameter is at its default (arrays and configs compared by value)."""
    if value is default:
        return True
    try:
        return bool(type(value) is type(default) and value == default)
    except (TypeError, ValueError):  # arrays: no single truth value
        return False


class WindowedForecaster(Forecaster):
    """Levels -> scaled model space -> inputs for target t -> ŝ_t -> level x̂_t.

    ``window`` W, ``target`` and ``scaler`` are :class:`~rnnlab.data.windows.WindowConfig`'s
    fields (``window`` may also be a whole ``WindowConfig``, the older form, which then sets
    ``target`` and ``scaler`` too). Subclasses define
    ``_inputs(s, targets, dates)`` (model inputs for the target indices),
    ``_fit_scaled(X, y, X_val, y_val, progress)`` and ``_predict_scaled(X) -> (n,)``.

    A model with ``covariates`` (names, :mod:`rnnlab.data.covariates`) also takes
    ``_inputs(s, targets, dates, exog)``: ``exog`` (len(s), E) aligned with ``s``, row τ
    E_τ = [c_τ, calendar(τ+1)]. Past the origin o (the last observed index) c_τ = c_o, held.
    """

    window: int | WindowConfig
    target: str
    scaler: str

    @property
    def config(self) -> WindowConfig:
        """The window config these parameters describe (checked: errors name the parameter);
        ``window`` itself when it is a whole WindowConfig."""
        if isinstance(self.window, WindowConfig):
            return self.window
        return named(WindowConfig, window=self.window, target=self.target, scaler=self.scaler)

    def _validate(self) -> None:
        self.config  # noqa: B018 (built to check it)

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

    # -- covariates: E_τ = [c_τ, calendar(τ+1)] beside s_τ (rnnlab.data.covariates) -----------

    def _fit_covariates(self, series: Series, n_train: int) -> CovariateScaler | None:
        """The covariates' scalers, fitted on rows 0 … n_train − 1 only; None without any."""
        columns, calendar = split_features(self.covariates)
        if not (columns or calendar):
            return None
        if calendar and series.dates is None:
            raise FieldError("features", "calendar needs dates; the data has none", lead=False)
        return CovariateScaler(columns, self.config.scaler, calendar).fit(
            series.covariates, n_train
        )  # train only

    def _exogenous(self, series: Series, ahead: int) -> Exogenous | None:
        """The scaled covariates of ``series`` and the calendar of its dates and of the
        ``ahead`` dates after them (known in advance); None for a model without covariates."""
        fitted: CovariateScaler | None = getattr(self, "covariates_", None)
        if fitted is None:
            return None
        calendar = None
        if fitted.calendar:
            if series.dates is None:
                raise FieldError("features", "calendar needs dates; the data has none", lead=False)
            days = [series.dates.astype("datetime64[D]")]
            days.append(series.next_dates(ahead).astype("datetime64[D]"))
            calendar = calendar_features(np.concatenate(days))  # (N + ahead, 4)
        return Exogenous(fitted.transform(series.covariates, len(series)), calendar)

    def _model_inputs(self, s, targets, dates, exog: np.ndarray | None):
        """``_inputs``, given the exogenous rows ``exog`` (aligned with ``s``) when the model
        reads covariates; a model without them takes three arguments."""
        if exog is None:
            return self._inputs(s, targets, dates)
        return self._inputs(s, targets, dates, exog)

    def _fit(self, series: Series, val_size: int, progress) -> None:
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
            self.covariates_ = self._fit_covariates(series, n_train)  # train only
        s = self.preprocessor_.transform(series.values)
        ex = self._exogenous(series, 1)
        exog = None if ex is None else ex.rows(np.arange(n), n - 1)  # (N, E), all observed
        ahead = self._direct_steps() - 1  # a direct model's targets run H − 1 steps further
        if n_train - ahead - first < 1:
            raise RnnlabError(
                f"{self.name}: {n_train} training points leave no window of "
                f"{self.config.window} with {ahead + 1} targets after it"
            )
        train_t = np.arange(first, n_train - ahead)
        val_t = np.arange(max(n_train, first), n - ahead)
        X = self._model_inputs(s, train_t, self._dates(series, train_t), exog)
        X_val = self._model_inputs(s, val_t, self._dates(series, val_t), exog)
        y, y_val = self._targets(series.values, s, train_t), self._targets(series.values, s, val_t)
        self.series_ = series  # before training: a checkpoint written during it names the data
        self._fit_scaled(X, y, X_val, y_val, progress)

    # -- direct multi-step models: one output per step h = 1 … H ----------------------------

    def _direct_steps(self) -> int:
        """H for a direct model (``strategy`` "direct", ``horizon`` H), else 1."""
        if getattr(self, "strategy", "recursive") != "direct":
            return 1
        return int(getattr(self, "horizon", 1))

    def _targets(self, x: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        """What the model learns for the inputs of target t: ŝ_t (n,) for a one-step model;
        for a direct one (n, H), step h's target relative to the origin o = t − 1,

            level        z_{o+h|o} = x_{o+h}
            diff         z_{o+h|o} = x_{o+h} − x_o
            log-return   z_{o+h|o} = log x_{o+h} − log x_o

        scaled with the one-step scaler, so that ``to_level(ŝ_h, x_o)`` rebuilds x̂_{o+h}."""
        steps = self._direct_steps()
        if steps == 1:
            return s[t]
        o = np.asarray(t) - 1
        ahead = x[o[:, None] + np.arange(1, steps + 1)[None, :]]  # (n, H): x_{o+1} … x_{o+H}
        target = self.config.target
        if target == "level":
            z = ahead
        elif target == "diff":
            z = ahead - x[o][:, None]
        else:
            z = np.log(ahead) - np.log(x[o])[:, None]
        return self.preprocessor_.scaler_.transform(z)

    def _quantile_levels(self) -> tuple[float, ...] | None:
        """The probabilities of a quantile model's outputs (sorted), else None."""
        return None

    def _scaled_steps(self, X) -> np.ndarray:
        """(n, H) point forecasts in model space (H = 1 for a one-step model): the model's
        output, or, for a quantile model, its median output."""
        out = np.asarray(self._predict_scaled(X))
        n = out.shape[0]
        quantiles = self._quantile_levels()
        if quantiles is None:
            return out.reshape(n, -1)
        # the median of the sorted quantiles: a net may cross them, and the point forecast
        # must sit inside the band _quantile_values reports (sorted the same way)
        steps = np.sort(out.reshape(n, self._direct_steps(), len(quantiles)), axis=-1)
        return steps[:, :, quantiles.index(0.5)]

    def _direct_inputs(self, series: Series, origins: np.ndarray):
        """The model's inputs for the targets t = o + 1 of ``origins`` (o up to N − 1: the
        target may lie past the data, its slot then NaN and its date the next one)."""
        n = len(series)
        s = np.append(self.preprocessor_.transform(series.values), np.nan)  # slot of t = N
        t = np.asarray(origins, dtype=np.int64) + 1
        dates = None
        if series.dates is not None:
            dates = np.concatenate([series.dates, series.next_dates(1)])[t]
        if len(t) and (t.min() < self.min_history or t.max() > n):
            self._check(n, int(t.min()))
        ex = self._exogenous(series, 2)
        exog = None if ex is None else ex.rows(np.arange(n + 1), n - 1)  # (N + 1, E)
        return self._model_inputs(s, t, dates, exog)

    def _quantile_values(
        self, series: Series, origins: np.ndarray, horizon: int
    ) -> np.ndarray | None:
        """A quantile model's levels (n_origins, S, Q) of its Q quantiles for the steps
        h = 1 … S from each origin: S = ``horizon`` for a direct model, 1 for a recursive
        one (a step fed back has no quantiles of its own); None for a model without
        quantiles. Sorted along Q: a net may cross its quantiles, and sorting them is the
        monotone rearrangement (Chernozhukov, Fernández-Val & Galichon 2010)."""
        quantiles = self._quantile_levels()
        if quantiles is None:
            return None
        origins = np.asarray(origins, dtype=np.int64)
        steps = self._direct_steps()
        out = np.asarray(self._predict_scaled(self._direct_inputs(series, origins)))
        out = out.reshape(len(origins), steps, len(quantiles))[:, : min(horizon, steps)]
        levels = self.preprocessor_.to_level(out, series.values[origins][:, None, None])
        return np.sort(levels, axis=-1)

    def _direct_values(self, series: Series, origins: np.ndarray, horizon: int) -> np.ndarray:
        """A direct model's x̂_{o+h|o} = to_level(ŝ_h, x_o), h = 1 … ``horizon`` (at most its
        H), from one pass of the model per origin."""
        steps = self._direct_steps()
        if horizon > steps:
            raise FieldError(
                "horizon",
                "{0} forecasts {1} steps directly (strategy direct, horizon {1}); asked for {2}",
                self.name,
                steps,
                horizon,
                lead=False,
            )
        origins = np.asarray(origins, dtype=np.int64)
        if len(origins) == 0:
            return np.empty((0, horizon))
        s_hat = self._scaled_steps(self._direct_inputs(series, origins))[:, :horizon]
        return self.preprocessor_.to_level(s_hat, series.values[origins][:, None])

    def _historical_values(self, series: Series, start: int) -> np.ndarray:
        """x̂_t = level(model(inputs from s_0 … s_{t−1})), for t = start … N−1."""
        self._check(len(series), start)
        s = self.preprocessor_.transform(series.values)
        t = np.arange(start, len(series))
        ex = self._exogenous(series, 1)
        exog = None if ex is None else ex.rows(np.arange(len(series)), len(series) - 1)
        s_hat = self._scaled_steps(self._model_inputs(s, t, self._dates(series, t), exog))[:, 0]
        return self.preprocessor_.to_level(s_hat, series.values[t - 1])

    def _origin_values(self, series: Series, origins: np.ndarray, horizon: int) -> np.ndarray:
        """The recursive loop of :meth:`_predict_values`, one batch per step: the inputs of
        every origin stacked, one call of the model per step (the same arithmetic). A direct
        model forecasts every step in one pass instead."""
        if self._direct_steps() > 1:
            return self._direct_values(series, origins, horizon)
        keep = self.config.first_target
        n = len(series)
        origins = np.asarray(origins, dtype=np.int64)
        if len(origins) and origins.min() + 1 < keep:
            self._check(n, int(origins.min()) + 1)  # the usual "needs … points of history"
        levels = np.stack([series.values[o + 1 - keep : o + 1] for o in origins])  # (n_o, keep)
        out = np.empty((len(origins), horizon))
        ex = self._exogenous(series, horizon + 1)
        for h in range(horizon):
            rows = []
            for i, o in enumerate(origins):
                s = np.append(self.preprocessor_.transform(levels[i]), np.nan)  # target's slot
                t = o + 1 + h  # the target's index in the series (its date, when it has one)
                dates = None
                if series.dates is not None:
                    dates = series.dates[min(t, n - 1) : min(t, n - 1) + 1]
                # s[j] is point t − keep + j; covariates past the origin o held at c_o
                exog = None if ex is None else ex.rows(np.arange(t - keep, t + 1), o)
                rows.append(self._model_inputs(s, np.array([keep]), dates, exog))
            s_hat = self._scaled_steps(np.concatenate(rows))[:, 0]
            out[:, h] = self.preprocessor_.to_level(s_hat, levels[:, -1])
            levels = np.concatenate([levels[:, 1:], out[:, h : h + 1]], axis=1)
        return out

    def _predict_values(self, horizon: int = 1, series: Series | None = None) -> np.ndarray:
        """Recursive: predict x̂_{N}, append it as if observed, predict x̂_{N+1}, …; a direct
        model: its H outputs from the last window."""
        series = self._series(series)
        self._check(len(series), len(series), horizon)
        if self._direct_steps() > 1:
            return self._direct_values(series, np.array([len(series) - 1]), horizon)[0]
        keep = self.config.first_target
        levels = list(series.values[-keep:])
        future = series.next_dates(horizon)
        n = len(series)
        ex = self._exogenous(series, horizon + 1)
        out = np.empty(horizon)
        for h in range(horizon):
            s = self.preprocessor_.transform(np.asarray(levels))
            t = np.array([len(levels)])
            s = np.append(s, np.nan)  # the slot of the target itself (not an input)
            dates = None if future is None else future[h : h + 1]
            # s[j] is point N + h − keep + j; covariates past the end held at c_{N−1}
            exog = None if ex is None else ex.rows(np.arange(n + h - keep, n + h + 1), n - 1)
            s_hat = self._scaled_steps(self._model_inputs(s, t, dates, exog))[:, 0]
            out[h] = float(self.preprocessor_.to_level(s_hat, levels[-1])[0])
            levels = [*levels[1:], out[h]]
        return out


def check_strategy(strategy: str, horizon: int) -> None:
    """A windowed forecaster's ``strategy`` (recursive or direct) and ``horizon`` H (the
    steps a direct model forecasts, a whole number at least 1)."""
    from rnnlab.settings.forecasting import MAX_HORIZON, STRATEGIES

    if strategy not in STRATEGIES:
        raise RnnlabError(f"strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        raise RnnlabError(f"horizon must be a whole number, got {horizon!r}")
    if not 1 <= horizon <= MAX_HORIZON:
        raise RnnlabError(f"horizon must be at least 1 and at most {MAX_HORIZON}, got {horizon}")


_FIELD_TO_PARAM = {"clip_norm": "clip", "kind": "cell"}  # config fields named otherwise here


def named(config_class, **fields):
    """``config_class(**fields)``: the config checks the values (one validator, the config's);
    its errors name the field, and this says the parameter where the two differ."""
    try:
        return config_class(**fields)
    except RnnlabError as exc:
        message = str(exc)
        for field, param in _FIELD_TO_PARAM.items():
            if message.startswith(field):
                exc.args = (param + message[len(field) :],)  # same error, the parameter's name
        raise
