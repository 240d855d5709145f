"""Rolling-origin backtests: many forecast origins over the test span, each scored H steps ahead.

For the series x_0 … x_{N−1} split into train [0, T − V), validation [T − V, T) and test
[T, N) (``config.split``), the ``backtest`` = K origins o_1 < … < o_K (o: the index of the
last value seen) are spread evenly over the T − 1 … N − 2 that leave at least one target in
the data (one per test point at most; K above N − T is refused):

    o_k = T − 1 + ⌊(k − 1)(N − T − 1)/(K − 1) + ½⌋,   k = 1 … K       (o_1 = T − 1 when K = 1)

From each origin every model forecasts x̂_{o+1|o} … x̂_{o+H|o} from x_0 … x_o alone
(expanding window; its own recursive or direct method); a target past the data is not scored,
and H is cut to N − T (the first origin's targets). ``refit`` says which fit forecasts from o:

    never   the models fitted once exactly as ``run_forecast`` does, on x_0 … x_{T−1} (the last
            V points held out for early stopping), forecast from every origin
    once    one refit at the first origin on all of x_0 … x_{T−1}, the validation part
            included in the weights' data, the nets trained for the epochs early stopping chose
            in the ``never`` fit (nothing held out). A refit "at the first origin" with V held
            out would be the ``never`` fit itself, o_1 = T − 1, and statsforecast's
            ``cross_validation(refit=False)`` (fit once at the first cutoff) is ``never``
            here too; this ``once`` is the other common practice: refit on all the data
            before deploying
    every   a refit at each origin on x_0 … x_o, the last V points held out for early stopping
            (as many as the split's validation part, so the fit at o_1 is the ``never`` fit
            and is not repeated)

Scores, with persistence's h-step forecast x̂_{o+h|o} = x_o as the reference:

    per origin    RMSE_o = sqrt(mean_h e²_{o,h}),  MAE_o,  skill_o = 1 − RMSE_o/RMSE_o(pers.)
    per step h    RMSE_h = sqrt(mean_o e²_{o,h}),  MAE_h,  skill_h,  and the Diebold-Mariano
                  p that the model's squared error is lower than persistence's, with a
                  Newey-West variance of h − 1 lags and, K being small, the Harvey-Leybourne-
                  Newbold correction with Student's t (:mod:`rnnlab.forecast.dm`); the verdict
                  reads these p Holm-adjusted for testing H steps
    pooled        RMSE, MAE, skill over every scored (o, h)

With ``level``, split-conformal half-widths q_h (:func:`rnnlab.forecast.intervals.
conformal_halfwidths`) come from the residuals of the V origins before the test span (the
``calibration`` "split") or the V origins just before each origin o (its targets up to x_o:
"rolling"), always of a fit that held them out: the first fit for ``never`` and ``once`` (whose
refit holds nothing out), each origin's own refit for ``every`` (where split and rolling are
the same: its validation part is the V points before o). Each step's coverage of x̂ ± q_h and
mean width 2·q_h are pooled over the origins.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rnnlab.config import ConfigError
from rnnlab.data.series import Series
from rnnlab.errors import RnnlabError
from rnnlab.forecast.backtest_result import BacktestResult, Intervals, score_backtest
from rnnlab.forecast.base import Forecaster
from rnnlab.forecast.experiment import forecaster_for
from rnnlab.forecast.horizons import origin_forecasts
from rnnlab.forecast.inputs import as_series
from rnnlab.forecast.intervals import conformal_halfwidths
from rnnlab.settings.forecasting import ForecastConfig

__all__ = ["BacktestResult", "backtest_origins", "run_backtest"]

DEFAULT_ORIGINS = 5


def backtest_origins(test_start: int, n: int, count: int) -> np.ndarray:
    """The ``count`` origins o_k spread evenly over ``test_start`` − 1 … ``n`` − 2 (the module
    docstring's formula); a ConfigError on ``backtest`` when there are fewer."""
    possible = n - test_start  # one origin per test point
    if count > possible:
        raise ConfigError(
            "backtest",
            f"asks for {count} origins, but the test span has {possible} points (one origin "
            "each at most); ask for fewer or raise {test}",
        )
    if count == 1:
        return np.array([test_start - 1])
    k = np.arange(count)
    return test_start - 1 + np.floor(k * (possible - 1) / (count - 1) + 0.5).astype(np.int64)


@dataclass
class _Fits:
    """One model's forecasts from every origin, its half-widths, and what its fits cost."""

    forecasts: np.ndarray  # (K, H), NaN past the data
    halfwidths: dict[float, np.ndarray] | None  # level % -> (K, H)
    seconds: list[float]  # of each fit


def _make(name: str, config: ForecastConfig, train=None) -> Forecaster:
    """A fresh forecaster for ``name``, as ``run_forecast`` makes it (its strategy, loss and
    covariates too); ``train`` in place of ``config.train`` when given."""
    return forecaster_for(name, config, train)


def _once_train(f: Forecaster, config: ForecastConfig):
    """The training config of the ``once`` refit: the epochs the ``never`` fit kept, no early
    stop (nothing is held out); the config as it is for a model that does not train."""
    history = getattr(f, "history_", None)
    if history is None:
        return config.train
    epochs = history.best_epoch or config.train.epochs
    return replace(config.train, epochs=epochs, patience=0)


def run_backtest(
    series,
    config: ForecastConfig | None = None,
    progress: Callable[[str], Callable | None] | None = None,
    say: Callable[[str], None] | None = None,
) -> BacktestResult:
    """The rolling-origin backtest of ``config.models`` on ``series`` (a pandas Series or
    DataFrame of one value column, an array, or an rnnlab Series), ``config.backtest``
    origins (None config: the defaults with 5 origins).

    ``progress(label)`` may return a per-epoch callback for a fit (label: the model's name;
    ``"gru 2/5"`` for its refit at the second origin, ``"gru once"``); ``say(text)`` hears
    what the refits cost: for ``once`` before it (the first fits' seconds), for ``every``
    after the second origin's refits (measured) with an estimate for the origins left.
    """
    from rnnlab.devices import resolve_device

    config = ForecastConfig(backtest=DEFAULT_ORIGINS) if config is None else config
    if config.backtest is None:
        raise ConfigError("backtest", "is None: name the number of forecast origins (e.g. 5)")
    resolve_device(config.device)  # a GPU that is not there is said before any work
    series = as_series(series)
    start = time.perf_counter()
    n = len(series)
    split = config.split(n)
    origins = backtest_origins(split.val_end, n, config.backtest)
    horizon = min(config.horizon, split.n_test)  # a step past the test span has no target
    run = _Run(series, config, split.val_end, split.n_val, horizon, progress)
    first, failed = run.first_fits()
    if config.refit == "every":
        fits = run.every(first, origins, say)
    else:
        if config.refit == "once" and say is not None:
            say(run.once_note(first))
        fits = {name: run.fixed(name, f0, origins) for name, f0 in first.items()}
    actual = _actual(series, origins, run.horizon)
    for name, fit in list(fits.items()):
        if not (np.isfinite(fit.forecasts) | np.isnan(actual)).all():
            failed[name] = "its forecasts are not finite numbers."
            del fits[name]
    forecasts = {m: f.forecasts for m, f in fits.items()}
    intervals = None
    if config.level is not None:
        intervals = {m: Intervals.of(actual, f.forecasts, f.halfwidths) for m, f in fits.items()}
    return BacktestResult(
        series=series,
        split=split,
        config=config,
        origins=origins,
        horizon=run.horizon,
        actual=actual,
        forecasts=forecasts,
        scores=score_backtest(actual, forecasts, series.values[origins]),
        intervals=intervals,
        fit_seconds={m: f.seconds for m, f in fits.items()},
        failed=failed,
        seconds=time.perf_counter() - start,
    )


@dataclass
class _Run:
    """The fits of one backtest: the first fit of each model, then its refits."""

    series: Series
    config: ForecastConfig
    test_start: int  # T
    n_val: int  # V
    horizon: int  # H
    progress: Callable[[str], Callable | None] | None

    def _fit(self, f: Forecaster, end: int, val_size: int, label: str) -> float:
        """Fit ``f`` on x_0 … x_{end−1}, the last ``val_size`` held out; the seconds it took."""
        t0 = time.perf_counter()
        callback = None if self.progress is None else self.progress(label)
        f.fit(self.series.head(end), val_size=val_size, progress=callback)
        return time.perf_counter() - t0

    def first_fits(self) -> tuple[dict[str, tuple[Forecaster, float]], dict[str, str]]:
        """Each model fitted as ``run_forecast`` fits it (x_0 … x_{T−1}, V held out), with
        its seconds; and the models that could not be fitted, with why."""
        first, failed = {}, {}
        for name in dict.fromkeys(("persistence", *self.config.models)):
            f = _make(name, self.config)
            try:
                first[name] = (f, self._fit(f, self.test_start, self.n_val, name))
            except RnnlabError as exc:
                if name != "seasonal_naive" or self.config.season is not None:
                    raise
                failed[name] = str(exc)  # no season in the dates: said beside the scores
        return first, failed

    def once_note(self, first: dict[str, tuple[Forecaster, float]]) -> str:
        """What the ``once`` refit will cost: about one first fit per model (measured)."""
        slow = ", ".join(f"{m} {s:.1f} s" for m, (_, s) in first.items() if s >= 0.05)
        took = f"; the first fits took {slow} (with start-up)" if slow else ""
        return f"Refit once: one more fit of each model, on all the data before the test{took}."

    def _halfwidths(self, f: Forecaster, end: int) -> dict[float, np.ndarray]:
        """Per level in %: q_h (H,) from the validation part [end − V, end) of ``f``."""
        levels = self.config.level
        fractions = tuple(lv / 100 for lv in levels)
        q = conformal_halfwidths(f, self.series, end - self.n_val, end, self.horizon, fractions)
        return {lv: q[frac] for lv, frac in zip(levels, fractions, strict=True)}

    def fixed(self, name: str, first: tuple[Forecaster, float], origins: np.ndarray) -> _Fits:
        """``never``: the first fit forecasts from every origin; ``once``: a refit on all of
        x_0 … x_{T−1} does (the half-widths from the first fit's residuals either way: the
        refit holds nothing out)."""
        f0, seconds = first[0], [first[1]]
        f = f0
        if self.config.refit == "once":
            f = _make(name, self.config, _once_train(f0, self.config))
            seconds.append(self._fit(f, self.test_start, 0, f"{name} once"))
        hw = None
        if self.config.level is not None:
            if self.config.calibration == "rolling":  # the latest V origins before each o
                qs = [self._halfwidths(f0, o + 1) for o in origins.tolist()]
            else:  # split: the validation part before the test span, for every origin
                qs = [self._halfwidths(f0, self.test_start)] * len(origins)
            hw = {lv: np.stack([q[lv] for q in qs]) for lv in self.config.level}
        return _Fits(origin_forecasts(f, self.series, origins, self.horizon), hw, seconds)

    def every(
        self,
        first: dict[str, tuple[Forecaster, float]],
        origins: np.ndarray,
        say: Callable[[str], None] | None,
    ) -> dict[str, _Fits]:
        """``every``: each model refitted at each origin after the first (where the first fit
        is the fit), origin by origin; after the second origin's refits, ``say`` hears what
        they took and what the origins left will take."""
        k = len(origins)
        rows = {m: [] for m in first}
        qs = {m: [] for m in first}
        seconds = {m: [s] for m, (_, s) in first.items()}
        second: dict[str, Forecaster] = {}  # the refits at the second origin
        for i, o in enumerate(origins.tolist()):
            for name, (f0, _) in first.items():
                f = f0
                if i:
                    f = _make(name, self.config)
                    took = self._fit(f, o + 1, self.n_val, f"{name} {i + 1}/{k}")
                    seconds[name].append(took)
                    second.setdefault(name, f)
                rows[name].append(origin_forecasts(f, self.series, [o], self.horizon)[0])
                if self.config.level is not None:
                    qs[name].append(self._halfwidths(f, o + 1))
            if i == 1 and say is not None and k > 2:
                say(self._every_note(second, seconds, origins))
        out = {}
        for name in first:
            hw = None
            if self.config.level is not None:
                hw = {lv: np.stack([q[lv] for q in qs[name]]) for lv in self.config.level}
            out[name] = _Fits(np.stack(rows[name]), hw, seconds[name])
        return out

    def _every_note(
        self, second: dict[str, Forecaster], seconds: dict[str, list[float]], origins: np.ndarray
    ) -> str:
        """The refits at the second origin, measured, and what the origins left will take:
        each refit's time scaled by its training part over the second origin's, and, for the
        nets, at most (every refit running all ``epochs``) the second refits' seconds per
        epoch times the epochs."""
        train = origins + 1 - self.n_val  # training points of the refit at each origin
        scale = float(np.sum(train[2:]) / train[1])
        took = sum(s[1] for s in seconds.values())
        slow = ", ".join(f"{m} {s[1]:.2g} s" for m, s in seconds.items() if s[1] >= 0.01)
        most = 0.0
        for name, f in second.items():
            history = getattr(f, "history_", None)
            if history is not None and history.epochs:
                per_epoch = history.seconds / history.epochs
                most += per_epoch * self.config.train.epochs
            else:
                most += seconds[name][1]
        bound = ""
        if most * scale > 1.5 * took * scale:  # early stopping can make a refit much longer
            bound = f", at most {_duration(most * scale)} if no refit stops early"
        return (
            f"Refit every: the refits at origin 2 of {len(origins)} took {took:.2g} s"
            + (f" ({slow})" if slow else "")
            + f"; the {len(origins) - 2} origins left: about {_duration(scale * took)} more"
            + bound
            + "."
        )


def _duration(seconds: float) -> str:
    """12 s, 3.4 min, 2.1 h."""
    if seconds < 100:
        return f"{seconds:.2g} s"
    if seconds < 6000:
        return f"{seconds / 60:.2g} min"
    return f"{seconds / 3600:.2g} h"


def _actual(series: Series, origins: np.ndarray, horizon: int) -> np.ndarray:
    """(K, H): x_{o+h}, NaN past the end of the data."""
    n = len(series)
    t = origins[:, None] + np.arange(1, horizon + 1)[None, :]
    return np.where(t < n, series.values[np.minimum(t, n - 1)], np.nan)
