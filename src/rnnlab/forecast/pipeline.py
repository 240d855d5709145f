"""``train`` and ``predict`` as library functions: what a run trains (fresh, or resumed from a
checkpoint, with the settings the checkpoint fixes), on which data, checked to be the same
data, how the result scores on the validation tail, and what a trained model predicts next.
The commands only print.

    plan_training(settings, given)  -> TrainingPlan (forecaster, data, validation, threads,
                                       the state an interrupted run goes on from)
    check_same_data(plan, series)      an interrupted run goes on with its own data only
    run_record(plan, series)           what each mid-run checkpoint records about the run
    validation_scores(f, series, n)    RMSE against persistence on the last n points
    next_values(f, series, n)       -> NextValues: the next n values, and a quantile model's
                                       bands

Errors are :class:`~rnnlab.config.ConfigError` naming a field of
:class:`~rnnlab.settings.forecasting.TrainSettings` (``net.hidden_size comes from the
checkpoint when resuming``); the command line names its flag instead.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rnnlab.config import ConfigError
from rnnlab.data.load import fingerprint
from rnnlab.data.series import Series
from rnnlab.fielderror import FieldError
from rnnlab.forecast.base import WindowedForecaster
from rnnlab.forecast.metrics import rmse
from rnnlab.forecast.training import TrainState
from rnnlab.settings.data import DataConfig
from rnnlab.settings.forecasting import FROM_CHECKPOINT, RUN_SETTINGS, TrainSettings


@dataclass
class TrainingPlan:
    """What a ``train`` run does.

    forecaster   the model to fit (fresh, or loaded from the checkpoint to resume)
    data         the data to train on (for a resumed run, its own unless named again)
    val          the fraction of the series for validation
    threads      torch threads while training
    state        an interrupted run's state to go on from, else None
    run          that run's record (see :func:`run_record`), else None
    resumed      the checkpoint resumed, else None
    """

    forecaster: WindowedForecaster
    data: DataConfig
    val: float
    threads: int
    state: TrainState | None = None
    run: dict | None = None
    resumed: Path | None = None

    @property
    def epochs(self) -> int:
        """The most epochs this run trains (0 for a model that does not train by epochs)."""
        from rnnlab.forecast.neural import NeuralForecaster

        f = self.forecaster
        return f.train_config.epochs if isinstance(f, NeuralForecaster) else 0

    def validation_size(self, rows: int) -> int:
        """Points of a ``rows``-long series held out for validation."""
        return round(rows * self.val)


def _data_fields(given: Collection[str]) -> set[str]:
    return {g.removeprefix("data.") for g in given if g.startswith("data.")}


def plan_training(settings: TrainSettings, given: Collection[str] = ()) -> TrainingPlan:
    """The run ``settings`` describe; ``given``: the dotted fields the user set (which a
    checkpoint may refuse: a resumed model keeps its shape, an interrupted run its settings)."""
    from rnnlab.atomic import recover
    from rnnlab.devices import resolve_device
    from rnnlab.forecast.checkpoint import load_checkpoint
    from rnnlab.forecast.models import make_forecaster
    from rnnlab.forecast.neural import NeuralForecaster
    from rnnlab.forecast.resume import has_state, load_state

    resolve_device(settings.device)  # a GPU that is not there is said before any work
    if settings.resume is None:
        f = make_forecaster(
            settings.cell,
            settings.window,
            settings.net_config(),
            settings.train_config(),
            threads=settings.threads,
            device=settings.device,
            strategy=settings.strategy,
            horizon=settings.horizon,
            loss=settings.loss,
            quantiles=_quantiles(settings),
            features=settings.features,
        )
        return TrainingPlan(f, settings.data, settings.val, settings.threads)
    path = settings.resume
    fixed = [name for name in FROM_CHECKPOINT if name in given]
    if fixed:
        raise ConfigError(fixed[0], "comes from the checkpoint when resuming; drop it")
    recover(path)  # a crash between the two renames of a fallback swap
    f = load_checkpoint(path, "resume")
    if isinstance(f, NeuralForecaster):
        f.device = settings.device  # not recorded: a checkpoint trains on anywhere
    if not isinstance(f, NeuralForecaster):
        raise FieldError(
            "resume", "{0} holds a {1} model, which has nothing to train on", path, f.name
        )
    data_given = _data_fields(given)
    if has_state(path):  # an interrupted run: it goes on as it was
        state, run = load_state(path, f)
        changed = [name for name in RUN_SETTINGS if name in given]
        if changed:
            raise ConfigError(
                changed[0],
                f"{path} holds a run interrupted after epoch {state.epoch} of "
                f"{f.train_config.epochs}; it goes on with its own settings: drop the option "
                "(train it on afterwards with {resume} and {train.epochs})",
            )
        f.resume = state
        f.threads = settings.threads if "threads" in given else run.get("threads", 1)
        data = settings.data.filled(run.get("data", {}), data_given)
        return TrainingPlan(f, data, run.get("val", settings.val), f.threads, state, run, path)
    done = f.history_
    if "train.epochs" not in given:
        raise ConfigError(
            "train.epochs",
            f"{path} holds a finished model ({done.epochs} epochs, {done.status}); to train it "
            "on, say how many more epochs with {train.epochs} N",
        )
    f.train = settings.train_config()
    f.warm_start = True
    f.threads = settings.threads
    recorded = dict(f.checkpoint_["data"])
    if not ({"data", "dataset"} & data_given):
        from rnnlab.data.sources import DATASETS

        if recorded.get("source") not in DATASETS:
            raise ConfigError(
                "resume",
                f"the model was trained on {recorded.get('source')!r}; name the data again "
                "with {data} FILE.csv (and {column})",
            )
        recorded["dataset"] = recorded["source"]
    data = settings.data.filled(recorded, data_given)
    return TrainingPlan(f, data, settings.val, settings.threads, resumed=path)


def _quantiles(settings: TrainSettings) -> tuple[float, ...] | None:
    """The quantiles a pinball net outputs: the median, and α/2 and 1 − α/2 of each
    ``level`` (α = 1 − level/100); None for the mse loss."""
    from rnnlab.forecast.losses import interval_quantiles

    if settings.loss != "pinball":
        return None
    return interval_quantiles(tuple(level / 100 for level in settings.level or ()))


def check_same_data(plan: TrainingPlan, series: Series) -> None:
    """An interrupted run goes on with the very data it trained on (by SHA-256), or not at all."""
    if plan.run is not None and fingerprint(series) != plan.run.get("data_sha256"):
        raise ConfigError(
            "resume",
            f"the data differ from those the interrupted run in {plan.resumed} trained on; "
            "name the same data ({dataset}, or {data} FILE.csv {column} NAME)",
        )


def run_record(plan: TrainingPlan, series: Series) -> dict:
    """What a mid-run checkpoint records about its run, for resuming a ``train`` run: the data (the
    file's absolute path), the validation fraction, the data's SHA-256, the threads."""
    data = plan.data
    if data.data is not None:
        data = replace(data, data=data.data.resolve())
    return {
        "data": data.to_dict(),
        "val": plan.val,
        "data_sha256": fingerprint(series),
        "threads": plan.threads,
    }


def validation_scores(f: WindowedForecaster, series: Series, n_val: int) -> dict | None:
    """The model's one-step forecasts of the last ``n_val`` points (each from its actual past)
    against persistence's: RMSE of each and skill = 1 − RMSE/RMSE(persistence); None (not NaN)
    where a forecast is not a finite number. None without validation points."""
    if n_val < 1:
        return None
    start = max(len(series) - n_val, f.min_history)
    actual = series.values[start:]
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, never printed
        forecast = f.historical_forecasts(series, start)
        ours = rmse(actual, forecast)
    base = rmse(actual, series.values[start - 1 : -1])
    finite = bool(np.isfinite(ours) and np.isfinite(base))
    return {
        "points": int(actual.size),
        "rmse": ours if finite else None,
        "persistence_rmse": base if np.isfinite(base) else None,
        "skill": None if not finite or base == 0 else 1 - ours / base,
        "not_finite": int(np.count_nonzero(~np.isfinite(forecast))),
    }


@dataclass
class NextValues:
    """The next N values after the end of a series, as ``predict`` shows them.

    values      (N,) point forecasts (a quantile model's: its median)
    quantiles   the Q probabilities a quantile model outputs (sorted, 0.5 among them), else
                None
    bands       (S, Q) the levels of those quantiles at steps 1 … S: S = N for a direct
                model, 1 for a recursive one (a value fed back has no quantiles of its own);
                None without quantiles
    """

    values: np.ndarray
    quantiles: tuple[float, ...] | None = None
    bands: np.ndarray | None = None

    def intervals(self) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """(level in %, lower (S,), upper (S,)) for each pair of quantiles τ < 0.5 and 1 − τ:
        the central interval of level 1 − 2τ (0.1 and 0.9: 80 %)."""
        if self.quantiles is None or self.bands is None:
            return []
        index = {round(tau, 9): i for i, tau in enumerate(self.quantiles)}
        out = []
        for i, tau in enumerate(self.quantiles):
            j = index.get(round(1 - tau, 9))
            if tau < 0.5 and j is not None:
                out.append((round(100 * (1 - 2 * tau), 6), self.bands[:, i], self.bands[:, j]))
        return out[::-1]  # the narrowest first


def next_values(f: WindowedForecaster, series: Series, horizon: int) -> NextValues:
    """The next ``horizon`` values after the end of ``series``, and a quantile model's levels
    of its quantiles at each step it has them (:meth:`WindowedForecaster._quantile_values`:
    every step of a direct model, the first of a recursive one). A direct model of H steps
    refuses a ``horizon`` above H (a :class:`~rnnlab.fielderror.FieldError` about
    ``horizon``)."""
    values = f._predict_values(horizon, series)
    quantiles = f._quantile_levels()
    if quantiles is None:
        return NextValues(values)
    bands = f._quantile_values(series, np.array([len(series) - 1]), horizon)[0]  # (S, Q)
    return NextValues(values, quantiles, bands)
