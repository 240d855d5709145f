"""Forecasters by name: the baselines, the MLP, and one recurrent forecaster per cell name.

Any name in :func:`rnnlab.cells.cell_names` is a recurrent forecaster with that cell, so a
cell registered later (minGRU, minLSTM, …) is a model here with no change to this file.
"""

from __future__ import annotations

from rnnlab.data.windows import WindowConfig
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError
from rnnlab.forecast.base import Forecaster
from rnnlab.forecast.baselines import Drift, LinearAR, MovingAverage, Persistence, SeasonalNaive
from rnnlab.forecast.nets import NetConfig
from rnnlab.forecast.training import TrainConfig
from rnnlab.settings.forecasting import BASELINES, DEFAULT_MODELS, STATISTICAL

__all__ = [
    "BASELINES",
    "DEFAULT_MODELS",
    "STATISTICAL",
    "is_neural",
    "make_forecaster",
    "model_names",
    "parse_models",
]


def model_names() -> tuple[str, ...]:
    """Every name :func:`make_forecaster` accepts."""
    from rnnlab.cells import cell_names

    return (*BASELINES, "mlp", *cell_names())


def is_neural(name: str) -> bool:
    """True for the MLP and the recurrent forecasters (the ones that train)."""
    return name not in BASELINES


def make_forecaster(
    name: str,
    window: WindowConfig | None = None,
    net: NetConfig | None = None,
    train: TrainConfig | None = None,
    ma_window: int = 7,
    threads: int | None = 1,
    device: str = "auto",
    season: int | None = None,
    strategy: str = "recursive",
    horizon: int = 1,
    loss: str = "mse",
    quantiles: tuple[float, ...] | None = None,
    features: tuple[str, ...] | None = None,
) -> Forecaster:
    """A fresh forecaster from the configs (None: the defaults), its parameters set one by one
    (``net.kind`` is replaced by ``name`` for the neural ones); ``threads`` for the neural ones,
    torch threads during fit and predict (None: leave torch's setting as it is); ``device``
    where they compute (auto, cpu or cuda); ``season`` the seasonal naive's m (None: from the
    dates); ``strategy`` and ``horizon`` how the linear and neural models forecast H steps
    (direct: H outputs); ``loss`` and ``quantiles`` what the neural ones minimise; ``features``
    the neural ones' covariates (:mod:`rnnlab.data.covariates`; the baselines ignore them)."""
    from dataclasses import replace

    from rnnlab.cells import cell_names
    from rnnlab.forecast.neural import MLPForecaster, RecurrentForecaster

    window = WindowConfig() if window is None else window
    net = NetConfig() if net is None else net
    if name == "persistence":
        return Persistence()
    if name == "moving_average":
        return MovingAverage(k=ma_window)
    if name == "seasonal_naive":
        return SeasonalNaive(season=season)
    if name == "drift":
        return Drift()
    if name == "linear":
        return LinearAR(
            window.window, window.target, window.scaler, strategy=strategy, horizon=horizon
        )
    if name in STATISTICAL:
        from rnnlab.forecast.statistical import AutoARIMA, AutoETS, AutoTheta

        kind = {"autoets": AutoETS, "autoarima": AutoARIMA, "theta": AutoTheta}[name]
        return kind(season=season)  # m: season (None: from the dates, or 1)
    steps = {"strategy": strategy, "horizon": horizon, "loss": loss, "quantiles": quantiles}
    steps["covariates"] = features  # the nets read them, the baselines never
    if name == "mlp":
        return MLPForecaster.from_configs(
            net, window, train, threads=threads, device=device, **steps
        )
    if name in cell_names():
        return RecurrentForecaster.from_configs(
            replace(net, kind=name), window, train, threads=threads, device=device, **steps
        )
    raise RnnlabError(f"unknown model {name!r}; choose from {', '.join(model_names())}")


def parse_models(text: str) -> tuple[str, ...]:
    """``"a,b,c"`` -> names, checked, duplicates removed, persistence always included (every
    skill is measured against it)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise FieldError("models", "the list of models is empty", lead=False)
    known = model_names()
    for n in names:
        if n not in known:
            raise FieldError(
                "models",
                "unknown model {0}; choose from {1}",
                repr(n),
                ", ".join(known),
                lead=False,
            )
    if "persistence" not in names:
        names.insert(0, "persistence")
    return tuple(dict.fromkeys(names))
