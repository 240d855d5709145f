"""Many series, one global model: each neural model trained once on the windows of every
series, against one model per series (the local models of :func:`run_forecast`).

For the series i = 1 … K, each with its own length and dates:

    split_i      = config.split(N_i)                  its own chronological split, same fractions
    scaler_i     fitted on series i's training part    (nothing of any other series, nor its
                                                        own validation and test parts)
    windows_i    its training and validation windows in its own scaled space, made exactly as
                 a forecaster's ``fit`` makes them (``_fit`` with ``_fit_scaled`` caught)
    global net   one ``_fit_scaled`` on the windows of all series, stacked; early stopping on
                 the stacked validation windows of all series
    x̂_t^(i)      the shared net on series i's window, unscaled with scaler_i (a copy of the
                 forecaster per series holding its scaler and the shared module)

Scored per series as :func:`run_forecast` scores one (one-step forecasts of its test part,
skill against its own persistence, Diebold-Mariano p) and pooled over the test points of all
series (pooled skill 1 − sqrt(Σ_i SSE_i)/sqrt(Σ_i SSE_i^persistence), and the mean of the
per-series skills): :class:`~rnnlab.forecast.multi_scores.ManyResult`.

With ``horizon`` H > 1 (``strategy`` recursive or direct), ``level`` (conformal intervals,
``calibration`` split or rolling) and ``loss`` pinball, each local run does what it does for
one series, and each global net is scored the same way on each series through that series'
copy: its 1 … H-step forecasts from every test origin (:func:`~rnnlab.forecast.horizons.
score_horizons`), its intervals from that series' validation residuals
(:func:`~rnnlab.forecast.intervals.score_intervals`). A direct or pinball global net is made by
:func:`~rnnlab.forecast.experiment.forecaster_for` as a local one is: H outputs (times the
quantiles), trained on the H targets of every series' windows. Pooled per step:
:mod:`rnnlab.forecast.multi_steps`.

With the same epochs the global net takes about K times as many optimisation steps as a local
one (it has K series' windows per epoch); ``ManyResult.steps`` says how many each took.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnlab.config import ConfigError
from rnnlab.data.series import Series
from rnnlab.data.splits import Split
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError
from rnnlab.forecast.base import WindowedForecaster
from rnnlab.forecast.experiment import (
    ForecastConfig,
    ForecastResult,
    ModelResult,
    diebold_mariano,
    forecaster_for,
    run_forecast,
)
from rnnlab.forecast.inputs import as_series
from rnnlab.forecast.lag import lag_check
from rnnlab.forecast.metrics import score
from rnnlab.forecast.models import is_neural
from rnnlab.forecast.multi_scores import ManyResult
from rnnlab.forecast.multi_steps import ManySteps, score_members

__all__ = ["GlobalModel", "ManyResult", "as_many", "check_many", "fit_global", "run_many"]

# Options of the one-series job not (yet) run on several series, with their "off" value.
ONE_SERIES_ONLY = (
    ("task", "value"),
    ("ablation", None),
    ("backtest", None),
    ("features", None),
)


def check_many(config: ForecastConfig) -> None:
    """Refuse the options that several series do not run yet; the error names the field."""
    for name, off in ONE_SERIES_ONLY:
        if getattr(config, name, off) != off:
            raise ConfigError(name, "is for one series so far (not run on several series)")


def as_many(data, date_column: str | None = None, fill: str | None = None) -> dict[str, Series]:
    """Several series by name: a pandas DataFrame (each column but ``date_column`` a series;
    dates from it or from a DatetimeIndex; a column's leading and trailing NaN are the times
    before it starts and after it ends) or a mapping name -> anything
    :func:`~rnnlab.forecast.inputs.as_series` takes."""
    if isinstance(data, pd.DataFrame):
        frame = data.set_axis([str(c) for c in data.columns], axis=1)
        if date_column is not None and date_column not in frame.columns:
            raise RnnlabError(f"date_column={date_column!r} is not a column of the frame")
        index = frame.index
        if date_column is not None:
            index = pd.DatetimeIndex(pd.to_datetime(frame[date_column]), name=date_column)
        out = {}
        for name in (c for c in frame.columns if c != date_column):
            column = pd.Series(frame[name].to_numpy(), index=index, name=name)
            known = np.flatnonzero(column.notna().to_numpy())
            if len(known) == 0:
                raise RnnlabError(f"column {name!r} holds no values")
            out[name] = as_series(column.iloc[known[0] : known[-1] + 1], fill=fill)
        return out
    if isinstance(data, Mapping):
        return {str(name): as_series(value, fill=fill) for name, value in data.items()}
    raise RnnlabError(
        "several series: a pandas DataFrame (a column each) or a dict name -> series; got a "
        f"{type(data).__name__}"
    )


def split_of(label: str, series: Series, config: ForecastConfig) -> Split:
    """The series' own chronological split; too few rows is said with the series' name."""
    try:
        return config.split(len(series))
    except ConfigError as exc:
        values = getattr(exc, "values", ())
        message = f"series {{{len(values)}}}: {exc.detail}"
        raise FieldError(exc.field, message, *values, label, lead=False) from None


def _forecaster(name: str, config: ForecastConfig):
    """A fresh forecaster for ``name``, made as :func:`run_forecast` makes it."""
    return forecaster_for(name, config)


def _stack(parts: list):
    """The windows of every series one after the other (an array, or a tuple of arrays)."""
    first = parts[0]
    if isinstance(first, tuple | list):
        return type(first)(_stack([p[k] for p in parts]) for k in range(len(first)))
    shapes = {np.shape(p)[1:] for p in parts}
    if len(shapes) > 1:
        raise RnnlabError(f"the series give inputs of different shapes {sorted(shapes)}")
    return np.concatenate(parts, axis=0)


@dataclass
class GlobalModel:
    """One neural model trained on the windows of every series.

    forecaster   the forecaster that trained (``module_``, ``history_``)
    members      per series, a copy holding that series' ``preprocessor_`` and the same
                 ``module_``: its forecasts are the shared net's on that series
    windows      per series, the number of training and validation windows it gave
    """

    name: str
    forecaster: WindowedForecaster
    members: dict[str, WindowedForecaster]
    windows: dict[str, tuple[int, int]]
    seconds: float


def fit_global(
    name: str,
    series: Mapping[str, Series],
    config: ForecastConfig,
    progress: Callable | None = None,
) -> GlobalModel:
    """Train one ``name`` net on the windows of every series (each on its own split, scaled
    by its own scaler fitted on its own training part); ``progress`` is the per-epoch
    callback."""
    if not is_neural(name):
        raise RnnlabError(f"{name}: only the neural models are trained as one global model")
    start = time.perf_counter()
    trained = _forecaster(name, config)
    trained._validate()
    members, parts, counts = {}, [], {}
    for label, s in series.items():
        split = split_of(label, s, config)
        member = copy.copy(trained)  # unfitted: shares nothing learned yet
        caught: list[tuple] = []
        # the forecaster's own _fit (scaler on the training part, windows as it makes them),
        # with the training step caught instead of run: (X, y, X_val, y_val) of this series
        member._fit_scaled = lambda X, y, X_val, y_val, *_, c=caught: c.append((X, y, X_val, y_val))
        try:
            member._fit(s.head(split.val_end), split.n_val, None)
        finally:
            del member._fit_scaled  # the class's own method again
        members[label] = member
        parts.append(caught[0])
        counts[label] = (len(caught[0][1]), len(caught[0][3]))
    X, y, X_val, y_val = (_stack([p[k] for p in parts]) for k in range(4))
    trained._fit_scaled(X, y, X_val, y_val, progress)
    for member in members.values():
        for learned in ("module_", "history_", "optimizer_state_"):
            setattr(member, learned, getattr(trained, learned, None))
    return GlobalModel(name, trained, members, counts, time.perf_counter() - start)


def run_many(
    data,
    config: ForecastConfig | None = None,
    progress: Callable[[str], Callable | None] | None = None,
) -> ManyResult:
    """Every model of ``config.models`` on each series alone (local), and each neural one
    also as one global net on all series; scored per series and pooled.

    ``data``: a pandas DataFrame (a column per series) or a dict name -> series (see
    :func:`as_many`). ``progress(name)`` may return a per-epoch callback; the names are
    "SERIES MODEL" for the local nets and "global MODEL" for the shared ones.

    >>> result = run_many({"a": prices_a, "b": prices_b}, ForecastConfig.quick())  # doctest: +SKIP
    >>> result.scores()          # one row per series, model and kind  # doctest: +SKIP
    """
    config = ForecastConfig() if config is None else config
    check_many(config)
    series = as_many(data)
    if not series:
        raise RnnlabError("no series given")
    splits = {label: split_of(label, s, config) for label, s in series.items()}
    start = time.perf_counter()

    def named(prefix: str):
        return None if progress is None else (lambda name: progress(f"{prefix} {name}"))

    local = {label: run_forecast(s, config, named(label)) for label, s in series.items()}
    shared = {
        name: fit_global(name, series, config, progress and progress(f"global {name}"))
        for name in config.neural()
    }
    results: dict[str, dict[str, ModelResult]] = {name: {} for name in shared}
    vs_local: dict[str, dict[str, float | None]] = {name: {} for name in shared}
    failed = {label: dict(run.failed) for label, run in local.items()}
    for name, g in shared.items():
        for label, s in series.items():
            run, member, test_start = local[label], g.members[label], splits[label].val_end
            forecast = member._historical_values(s, test_start)
            next_values = member._predict_values(config.horizon, s)
            if not (np.all(np.isfinite(forecast)) and np.all(np.isfinite(next_values))):
                failed[label][f"{name} (global)"] = "its forecasts are not finite numbers."
                continue
            actual, persistence = run.test_actual, run.results["persistence"]
            previous = s.values[test_start - 1 : -1]
            p = diebold_mariano(actual, persistence.test_forecast, forecast)
            results[name][label] = ModelResult(
                name=name,
                forecaster=member,
                test_forecast=forecast,
                scores=score(actual, forecast, previous, persistence.scores.rmse),
                p_value=p,
                next_values=next_values,
                seconds=g.seconds,
                lag=lag_check(s.values, test_start, forecast, p),
            )
            mine = run.results.get(name)
            vs_local[name][label] = (
                None if mine is None else diebold_mariano(actual, mine.test_forecast, forecast)
            )
    failed = {label: why for label, why in failed.items() if why}
    ahead = _ahead(series, splits, local, results, config)
    seconds = time.perf_counter() - start
    return ManyResult(series, config, local, shared, results, vs_local, failed, seconds, ahead)


def _ahead(
    series: dict[str, Series],
    splits: dict[str, Split],
    local: dict[str, ForecastResult],
    results: dict[str, dict[str, ModelResult]],
    config: ForecastConfig,
) -> ManySteps:
    """The 1 … H-step scores and the intervals of every series: the local runs' own, and the
    global nets' scored through each series' copy (:func:`score_members`)."""
    levels = None if config.level is None else tuple(lv / 100 for lv in config.level)
    ahead = ManySteps(
        series,
        {label: sp.n_test for label, sp in splits.items()},
        config.horizon,
        config.strategy,
        levels,
        config.calibration,
        {"local": {}, "global": {}},
        {"local": {}, "global": {}},
    )
    for label, s in series.items():
        if local[label].horizons is not None:
            ahead.horizons["local"][label] = local[label].horizons
        if local[label].intervals is not None:
            ahead.intervals["local"][label] = local[label].intervals
        scored = {name: by[label] for name, by in results.items() if label in by}
        if not scored:
            continue
        hz, iv = score_members(
            s,
            splits[label],
            {name: r.forecaster for name, r in scored.items()},  # the series' copies
            {name: r.test_forecast for name, r in scored.items()},
            {name: r.next_values for name, r in scored.items()},
            config.horizon,
            config.strategy,
            levels,
            config.calibration,
        )
        if hz is not None:
            ahead.horizons["global"][label] = hz
        if iv is not None:
            ahead.intervals["global"][label] = iv
    return ahead
