"""The whole forecasting job: split, fit every model, score the test tail, predict what's next.

    series -> chronological split -> each model: fit(train + validation) -> one-step forecasts
    of every test point from the actual past -> scores in real units against persistence ->
    next value(s) after the end of the data; with horizon H > 1, 1 … H-step forecasts from
    every test origin, scored per step (:mod:`rnnlab.forecast.horizons`)

The test part is never passed to ``fit``: not to the scaler, not to the weights, not to early
stopping. Whether a model's edge over persistence is more than luck is judged with the
Diebold-Mariano test on squared errors (h = 1):

    d_t = (x_t − x̂_t^persistence)² − (x_t − x̂_t^model)²
    DM  = mean(d) / sqrt(var(d) / n),   p = P(Z > DM) for Z ~ N(0, 1)   (one-sided: model better)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from rnnlab.data.series import Series, format_date
from rnnlab.data.splits import Split
from rnnlab.errors import RnnlabError
from rnnlab.forecast.base import Forecaster
from rnnlab.forecast.horizons import HorizonResult, score_horizons
from rnnlab.forecast.intervals import IntervalResult
from rnnlab.forecast.lag import LagCheck, lag_check
from rnnlab.forecast.metrics import Scores, score
from rnnlab.forecast.models import make_forecaster
from rnnlab.forecast.training import TrainHistory
from rnnlab.settings.forecasting import STATISTICAL, ForecastConfig

__all__ = ["ForecastConfig", "ForecastResult", "ModelResult", "diebold_mariano", "run_forecast"]

SIGNIFICANCE = 0.05
SCORE_COLUMNS = ("model", "RMSE", "MAE", "MAPE %", "direction %", "skill", "p (DM)")


def _num(v: float | None, digits: int = 4) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


@dataclass
class ModelResult:
    """One model's outcome."""

    name: str
    forecaster: Forecaster
    test_forecast: np.ndarray  # (n_test,) one-step-ahead levels
    scores: Scores
    p_value: float | None  # Diebold-Mariano, one-sided, model better than persistence
    next_values: np.ndarray  # (horizon,)
    seconds: float
    lag: LagCheck | None = None  # the lag illusion's check (None for persistence itself)

    @property
    def features(self) -> list[str] | None:
        """The hand-made features the model reads, by name (the MLP's), else None."""
        names = getattr(self.forecaster, "feature_names", None)
        return None if names is None else list(names())

    @property
    def history(self) -> TrainHistory | None:
        """The training record of a neural model, else None."""
        return getattr(self.forecaster, "history_", None)

    def cells(self) -> list[str]:
        """The scores as table cells, in :data:`SCORE_COLUMNS` order (— where undefined)."""
        sc = self.scores
        pct = None if sc.direction is None else 100 * sc.direction
        p = "—" if self.p_value is None else f"{self.p_value:.3g}"
        head = [self.name, _num(sc.rmse), _num(sc.mae), _num(sc.mape, 3), _num(pct, 1)]
        return [*head, _num(sc.skill), p]


@dataclass
class ForecastResult:
    """The job's outcome: the data, the split, each model's result, in the order asked."""

    series: Series
    split: Split
    config: ForecastConfig
    results: dict[str, ModelResult]
    next_dates: np.ndarray | None
    seconds: float
    failed: dict[str, str] = field(default_factory=dict)  # model -> why it has no scores
    horizons: HorizonResult | None = None  # per-step scores when the horizon is above 1
    intervals: IntervalResult | None = None  # prediction intervals at config.level

    @property
    def test_actual(self) -> np.ndarray:
        """x_t over the test part."""
        return self.series.values[self.split.val_end :]

    def to_dict(self) -> dict:
        """The run as plain JSON-able data (the command's JSON and ``metrics.json``)."""
        s, sp = self.series, self.split
        dates = None if self.next_dates is None else [format_date(d) for d in self.next_dates]
        training = {n: r.history.summary() for n, r in self.results.items() if r.history}
        return {
            "dataset": s.source,
            "series": s.summary(),
            "split": sp.summary(s),
            "config": self.config.to_dict(),
            "test": {
                r.name: {
                    **r.scores.to_dict(),
                    "p_value": r.p_value,
                    **({} if r.lag is None else r.lag.to_dict()),
                }
                for r in self.ranking()
            },
            "lag_illusion": self.lag_note(),
            "ranking": [r.name for r in self.ranking()],
            "verdict": self.verdict(),
            "next": {name: float(r.next_values[0]) for name, r in self.results.items()},
            "next_date": None if dates is None else dates[0],
            "next_values": {name: r.next_values.tolist() for name, r in self.results.items()},
            "next_dates": dates,
            "last_value": float(s.values[-1]),
            "training": training,
            "features": {n: r.features for n, r in self.results.items() if r.features},
            "horizons": None if self.horizons is None else self.horizons.to_dict(),
            "intervals": None if self.intervals is None else self.intervals.to_dict(),
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
        }

    # -- pandas out ------------------------------------------------------------------------

    def scores(self) -> pd.DataFrame:
        """The test scores, one row per model (best first): rmse, mae, mape, direction,
        skill and the Diebold-Mariano p against persistence."""
        rows = {r.name: {**r.scores.to_dict(), "p_value": r.p_value} for r in self.ranking()}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")

    def test_forecasts(self) -> pd.DataFrame:
        """The one-step test forecasts of every model beside the actual values, indexed by the
        test points' dates (or positions)."""
        from rnnlab.forecast.inputs import forecast_index

        start = self.split.val_end
        columns = {"actual": self.test_actual}
        columns |= {name: r.test_forecast for name, r in self.results.items()}
        return pd.DataFrame(
            columns, index=forecast_index(self.series, start, len(self.test_actual))
        )

    def step_scores(self) -> pd.DataFrame | None:
        """Per model and step h (rows model, h): rmse, mae, skill; None for one step."""
        hz = self.horizons
        if hz is None:
            return None
        rows = [
            {"model": name, "h": h + 1, "rmse": sc.rmse[h], "mae": sc.mae[h], "skill": sc.skill[h]}
            for name, sc in hz.scores.items()
            for h in range(hz.horizon)
        ]
        return pd.DataFrame(rows).set_index(["model", "h"])

    def interval_scores(self) -> pd.DataFrame | None:
        """Per model, method (conformal, quantile), level (%) and step h: coverage and mean
        width on the test span; None without ``level``."""
        iv = self.intervals
        if iv is None:
            return None
        rows = []
        for method, table in (("conformal", iv.conformal), ("quantile", iv.quantile)):
            for name, by_level in table.items():
                for level, cell in by_level.items():
                    for h, cover in enumerate(cell["coverage"]):
                        width = cell["width"][h]
                        rows.append(
                            {
                                "model": name,
                                "method": method,
                                "level": 100 * level,
                                "h": h + 1,
                                "coverage": cover,
                                "width": width,
                            }
                        )
        return pd.DataFrame(rows).set_index(["model", "method", "level", "h"])

    def next_forecasts(self) -> pd.DataFrame:
        """The forecasts after the end of the data, one column per model, indexed by their
        dates (or positions)."""
        from rnnlab.forecast.inputs import forecast_index

        n = len(self.series)
        columns = {name: r.next_values for name, r in self.results.items()}
        steps = len(next(iter(columns.values())))
        return pd.DataFrame(columns, index=forecast_index(self.series, n, steps))

    def lag_note(self) -> str:
        """One sentence on the lag illusion: which models are persistence in disguise."""
        checked = [r for r in self.ranking() if r.lag is not None]
        flagged = [r.name for r in checked if r.lag.persistence_in_disguise]
        if not checked:
            return "Only persistence was run: no lag check."
        if not flagged:
            return (
                "No model is persistence in disguise: each either lines up best with the value "
                "it forecasts (shift 0) or beats persistence significantly."
            )
        return (
            f"Persistence in disguise: {', '.join(flagged)} (the forecast lines up best with the "
            f"previous value, shift 1, and does not beat persistence significantly)."
        )

    def ranking(self) -> list[ModelResult]:
        """Best first, by RMSE."""
        return sorted(self.results.values(), key=lambda r: r.scores.rmse)

    def verdict(self) -> str:
        """One honest sentence (or two) on persistence."""
        others = [r for r in self.ranking() if r.name != "persistence"]
        if not others:
            return "Only persistence was run: there is nothing to compare it with."
        best = others[0]
        skill = best.scores.skill if best.scores.skill is not None else 0.0
        if skill <= 0:
            return (
                f"No model beats persistence (tomorrow = today) on the {self.split.n_test} test "
                f"points: the best other model, {best.name}, has skill {skill:+.4f}. This is the "
                "usual outcome on prices (and other random-walk-like series), whose next change "
                "is close to unpredictable."
            )
        if best.p_value is None or best.p_value >= SIGNIFICANCE:
            p = "n/a" if best.p_value is None else f"{best.p_value:.2g}"
            return (
                f"{best.name} edges out persistence (skill {skill:+.4f}), but the difference is "
                f"not significant (Diebold-Mariano p = {p}): treat it as a tie with "
                "tomorrow = today."
            )
        return (
            f"{best.name} beats persistence: skill {skill:+.4f}, Diebold-Mariano p = "
            f"{best.p_value:.2g} on {self.split.n_test} test points."
        )


def diebold_mariano(actual: np.ndarray, baseline: np.ndarray, model: np.ndarray) -> float | None:
    """One-sided p-value that ``model`` has lower squared error than ``baseline`` (h = 1):
    :func:`rnnlab.forecast.dm.dm_pvalue`, the one implementation (var(d) with ddof = 1)."""
    from rnnlab.forecast.dm import dm_pvalue

    return dm_pvalue(actual, baseline, model, horizon=1)


def multi_step(config: ForecastConfig) -> dict:
    """The ``make_forecaster`` arguments for how the models forecast H steps and what the nets
    minimise: a direct model learns ``config.horizon`` outputs; with the pinball loss and
    ``config.level``, the nets output the quantiles of those intervals' ends and the median."""
    from rnnlab.forecast.losses import interval_quantiles

    levels = () if config.level is None else tuple(lv / 100 for lv in config.level)
    quantiles = interval_quantiles(levels) if config.loss == "pinball" and levels else None
    return {
        "strategy": config.strategy,
        "horizon": config.horizon,
        "loss": config.loss,
        "quantiles": quantiles,
    }


def forecaster_for(name: str, config: ForecastConfig, train=None) -> Forecaster:
    """A fresh forecaster for ``name`` as the job describes it (its cell options, baselines'
    settings, strategy, loss, covariates, threads and device); ``train`` in place of
    ``config.train`` when given. The one place a job's models are made."""
    net = replace(config.net, cell_options=dict(config.cell_options.get(name, {})))
    return make_forecaster(
        name,
        config.window,
        net,
        config.train if train is None else train,
        config.ma_window,
        config.threads,
        config.device,
        season=config.season,
        features=config.features,
        **multi_step(config),
    )


def run_forecast(
    series,
    config: ForecastConfig | None = None,
    progress: Callable[[str], Callable | None] | None = None,
) -> ForecastResult:
    """Fit and score every model of ``config.models`` on ``series`` (an rnnlab Series, a
    pandas Series with a DatetimeIndex, a one-column DataFrame, an array: see
    :func:`rnnlab.forecast.inputs.as_series`). The result has pandas views besides its
    JSON: ``scores()``, ``test_forecasts()``, ``step_scores()``, ``interval_scores()``,
    ``next_forecasts()``.

    ``progress(name)`` may return a per-epoch callback for that model's training.
    """
    from rnnlab.devices import resolve_device
    from rnnlab.forecast.inputs import as_series

    config = ForecastConfig() if config is None else config
    resolve_device(config.device)  # a GPU that is not there is said before any work
    series = as_series(series)
    start = time.perf_counter()
    split = config.split(len(series))
    seen = series.head(split.val_end)  # train + validation: all that fit() ever gets
    test_start = split.val_end
    actual = series.values[test_start:]
    previous = series.values[test_start - 1 : -1]
    next_dates = series.next_dates(config.horizon)
    names = list(dict.fromkeys(("persistence", *config.models)))
    forecasts: dict[str, tuple[Forecaster, np.ndarray, np.ndarray, float]] = {}
    unfit: dict[str, str] = {}
    for name in names:
        t0 = time.perf_counter()
        f = forecaster_for(name, config)
        try:
            f.fit(seen, val_size=split.n_val, progress=None if progress is None else progress(name))
        except RnnlabError as exc:
            no_season = name == "seasonal_naive" and config.season is None
            if not (no_season or name in STATISTICAL):
                raise
            # no season in the dates, or statsforecast could not fit: said beside the scores
            unfit[name] = str(exc)
            continue
        test_forecast = f._historical_values(series, test_start)  # NumPy: the scoring's input
        next_values = f._predict_values(config.horizon, series)
        forecasts[name] = (f, test_forecast, next_values, time.perf_counter() - t0)
    base_rmse = float(np.sqrt(np.mean((actual - forecasts["persistence"][1]) ** 2)))
    results, failed = {}, dict(unfit)
    for name in forecasts:
        f, test_forecast, next_values, seconds = forecasts[name]
        if not (np.all(np.isfinite(test_forecast)) and np.all(np.isfinite(next_values))):
            history = getattr(f, "history_", None)
            why = history.message if history is not None and history.message else ""
            failed[name] = f"its forecasts are not finite numbers. {why}".strip()
            continue
        p, lag = None, None
        if name != "persistence":
            p = diebold_mariano(actual, forecasts["persistence"][1], test_forecast)
            lag = lag_check(series.values, test_start, test_forecast, p)
        results[name] = ModelResult(
            name=name,
            forecaster=f,
            test_forecast=test_forecast,
            scores=score(actual, test_forecast, previous, base_rmse),
            p_value=p,
            next_values=next_values,
            seconds=seconds,
            lag=lag,
        )
    horizons = None
    steps = min(config.horizon, split.n_test)  # a step past the test span has nothing to score
    fitted = {name: r.forecaster for name, r in results.items()}
    if steps > 1:
        horizons = score_horizons(series, test_start, fitted, steps, config.strategy)
    intervals = None
    if config.level is not None:
        from rnnlab.forecast.intervals import score_intervals

        if horizons is not None:
            test_forecasts = horizons.forecasts
        else:  # one step: the test forecasts themselves, from origins test_start−1 … N−2
            test_forecasts = {name: r.test_forecast[:, None] for name, r in results.items()}
        intervals = score_intervals(
            fitted,
            series,
            split.train_end,
            test_start,
            tuple(lv / 100 for lv in config.level),
            test_forecasts,
            {name: r.next_values for name, r in results.items()},
            config.calibration,
        )
    return ForecastResult(
        series,
        split,
        config,
        results,
        next_dates,
        time.perf_counter() - start,
        failed,
        horizons,
        intervals,
    )
