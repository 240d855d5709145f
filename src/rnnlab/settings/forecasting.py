"""The settings of ``forecast``, ``train`` and ``predict`` (no torch here): the forecasting job
(:class:`ForecastConfig`, what the library's ``run_forecast`` takes) and each command's whole
settings (:class:`ForecastSettings`, :class:`TrainSettings`, :class:`PredictSettings`), composed
of the data, window, net and training configs. The command line is generated from them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from rnnlab.config import ConfigError, check_fields, option
from rnnlab.data.covariates import check_features
from rnnlab.data.splits import Split, chronological_split
from rnnlab.data.windows import WindowConfig
from rnnlab.settings.cells import known_cells
from rnnlab.settings.data import DataConfig
from rnnlab.settings.devices import device_option
from rnnlab.settings.training import NetConfig, TrainConfig

# rnnlab.forecast.models.BASELINES; seasonal_naive, drift and the statistical models (Nixtla's
# statsforecast: autoets, autoarima, theta) run when named (or with all)
STATISTICAL = ("autoets", "autoarima", "theta")
BASELINES = ("persistence", "moving_average", "linear", "seasonal_naive", "drift", *STATISTICAL)
DEFAULT_MODELS = ("persistence", "moving_average", "linear", "mlp", "rnn", "lstm", "gru")
MAX_SEASON = 100_000
MAX_HORIZON = 10_000
MAX_SEED = 2**32 - 1
MAX_ORIGINS = 10_000
STRATEGIES = ("recursive", "direct")
REFITS = ("never", "once", "every")
LOSSES = ("mse", "pinball")
CALIBRATIONS = ("split", "rolling")
FEATURES = ("open", "high", "low", "volume", "calendar")
DEFAULT_OUT = Path("out") / "forecast"


def model_names() -> tuple[str, ...]:
    """Every model ``forecast --models`` takes (the registry's cells included, once loaded)."""
    return (*BASELINES, "mlp", *known_cells())


def _model_choices() -> tuple[str, ...]:
    return ("all", *model_names())


def trainable() -> tuple[str, ...]:
    """What ``train --cell`` takes: a cell name, mlp or linear (a baseline has nothing to fit)."""
    return (*known_cells(), "mlp", "linear")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _threads(default: int | None = 1):
    return option(
        default,
        "torch threads (1 is fastest for these small nets here)",
        low=1,
        high=_cores(),
        metavar="N",
    )


def _nonlinearity():
    return option(
        None,
        "the vanilla rnn's activation",
        choices=("tanh", "relu"),
        default_text="tanh",
    )


def _val():
    return option(0.15, "fraction of the data for validation (early stopping)", low=0, high=0.85)


def _strategy(help: str):
    return option("recursive", help, choices=STRATEGIES)


def _horizon(help: str, **extra):
    return option(1, help, low=1, high=MAX_HORIZON, **extra)


def _loss(help: str):
    return option("mse", help, choices=LOSSES)


def _level(help: str, default_text: str):
    """Interval levels in %, each in (0, 99.9]: forecast's and train's (one declaration)."""
    return option(
        None,
        help,
        low=0,
        above=True,
        high=99.9,
        off="none",
        metavar="PCT,…",
        default_text=default_text,
    )


def _features(lead: str):
    """Covariates by name: forecast's and train's (one declaration); ``lead``: who reads them."""
    return option(
        None,
        f"{lead}: a stock dataset's open, high, low, volume or a CSV's other numeric columns "
        "(each value up to the forecast origin only, held at the last one beyond it), and "
        "calendar (day of week and of year of each next step: known in advance); scaled on the "
        "training part only",
        off="none",
        metavar="NAMES",
        default_text="none",
    )


def _seed():
    return option(0, "seed for every random draw", low=0, high=MAX_SEED, metavar="N")


@dataclass(frozen=True)
class ForecastConfig:
    """Everything the forecasting job needs besides the data; flows unchanged into the report.

    models      the forecasters to fit and score ("all": every one; persistence always runs)
    window, net, train   what the models see, the neural models' shape, how they train
    nonlinearity         the vanilla rnn's activation (None: tanh)
    cell_options         per model name, e.g. {"rnn": {"nonlinearity": "relu"}}
    val, test            fractions of the series for validation and for the final test
    ma_window            k of the moving-average baseline
    season               m of the seasonal naive baseline (None: from the dates' rhythm)
    horizon              next values to predict after the end of the data; above 1, the test
                         span is also scored 1 … H steps ahead
    strategy             how the models forecast H steps: recursive (one step, fed back) or
                         direct (one output per step, trained on the H targets together)
    level                prediction-interval levels in % (80, 95), or None for none
    calibration          conformal half-widths: split (from the validation part) or rolling
    loss                 what the neural models minimise: mse, or pinball (quantile) loss
    backtest             rolling-origin backtest with this many origins over the test span
                         (None: the single test span)
    refit                in a backtest, when models are fitted again: never, once, every origin
    features             past covariates (and known-future calendar features) for the nets
    threads              torch threads while the neural models fit and predict (None: as is)
    device               where the neural models train: auto (a CUDA GPU when present), cpu, cuda
    """

    models: tuple[str, ...] = option(
        DEFAULT_MODELS,
        "comma-separated models, or all (any cell name works; persistence is always run)",
        choices=_model_choices,
        metavar="NAMES",
    )
    window: WindowConfig = field(default_factory=WindowConfig)
    net: NetConfig = field(default_factory=NetConfig)
    nonlinearity: str | None = _nonlinearity()
    cell_options: dict = option(factory=dict, cli=False)
    train: TrainConfig = field(default_factory=TrainConfig)
    val: float = _val()
    test: float = option(0.15, "fraction held out for the test", low=0, above=True, high=0.85)
    ma_window: int = option(7, "k of the moving-average baseline", low=1, high=100_000)
    season: int | None = option(
        None,
        "m, the season of seasonal_naive (x̂_t = x_(t−m)) and of autoets, autoarima, theta "
        "(ETS and ARIMA drop a season above 24)",
        low=1,
        high=MAX_SEASON,
        metavar="M",
        default_text="from the dates: business days 5, daily 7, monthly 12, 30 min 48, …",
    )
    horizon: int = _horizon(
        "next values to predict after the data; above 1, also 1…H-step forecasts from every "
        "test origin, scored per step against persistence"
    )
    strategy: str = _strategy(
        "how H steps are forecast: recursive (one step, fed back as if observed) or direct (one "
        "output per step h, trained on the H targets together)"
    )
    level: tuple[float, ...] | None = _level(
        "prediction intervals at these levels in %: split-conformal from the validation "
        "residuals of each step (or, with --loss pinball, the nets' own quantiles), with the "
        "coverage and width on the test span",
        "none",
    )
    calibration: str = option(
        "split",
        "how the conformal intervals are calibrated: split (one half-width per step from the "
        "validation residuals) or rolling (at each origin, from the latest residuals already "
        "observed: follows a drifting level or volatility)",
        choices=CALIBRATIONS,
    )
    loss: str = _loss(
        "what the neural models minimise: mse (mean forecast), or pinball (quantile) loss: "
        "the median, and with --level the quantiles of each interval's ends"
    )
    backtest: int | None = option(
        None,
        "a rolling-origin backtest: N forecast origins spread over the test span, each "
        "forecasting the next --horizon steps from the data up to it (expanding window); "
        "metrics per origin and pooled, Diebold-Mariano with a HAC variance",
        low=1,
        high=MAX_ORIGINS,
        off=0,
        metavar="N",
        default_text="none: the single test span",
    )
    refit: str = option(
        "never",
        "in a backtest, when the models are fitted again: never (the models fitted before the "
        "test span forecast from every origin), once (refitted at the first origin), every "
        "(refitted on all the data up to each origin)",
        choices=REFITS,
    )
    features: tuple[str, ...] | None = _features(
        "covariates for the neural models (the baselines ignore them)"
    )
    threads: int | None = _threads()
    device: str = device_option()
    task: str = option(
        "value",
        "value: forecast the next value; direction: classify the next move (down/flat/up, "
        "or down/up with --flat 0) with softmax heads, scored by accuracy against the "
        "majority class with a binomial p-value (recurrent models only; metrics.json, no plots)",
        choices=("value", "direction"),
    )
    flat: float = option(
        0.0,
        "direction task: a move |x_t − x_(t−1)| ≤ FLAT (in the series' units) is 'flat'; "
        "0: two classes, down (≤ 0) and up",
        low=0,
        high=1e300,
        metavar="FLAT",
    )

    ablation: str | None = option(
        None,
        "features: the MLP on the raw window, on each named hand-made feature alone and on all "
        "of them, against the RNN on the raw window (same split, Diebold-Mariano p; "
        "metrics.json, no plots)",
        choices=("features",),
        off="none",
        metavar="features",
        default_text="none",
    )

    def __post_init__(self) -> None:
        if isinstance(self.models, list):
            object.__setattr__(self, "models", tuple(self.models))
        check_fields(self)
        models = model_names() if "all" in self.models else self.models
        object.__setattr__(self, "models", tuple(dict.fromkeys(("persistence", *models))))
        if self.nonlinearity is not None:
            if "rnn" in self.cell_options:
                raise ConfigError("nonlinearity", "set it in cell_options['rnn'] or here")
            options = {**self.cell_options, "rnn": {"nonlinearity": self.nonlinearity}}
            object.__setattr__(self, "cell_options", options)
        if self.flat > 0 and self.task != "direction":
            raise ConfigError("flat", "is the direction task's threshold; add {task} direction")
        check_features(self.features)
        if self.features is not None and self.ablation is not None:
            raise ConfigError("features", "are not read by the ablation; drop {ablation}")
        if self.ablation is not None and self.task != "value":
            raise ConfigError("ablation", "runs on the value task; drop {task} direction")
        if self.val + self.test >= 0.9:
            raise ConfigError("val", f"+ {{test}} = {self.val + self.test:g} leaves too little")
        if self.refit != "never" and self.backtest is None:
            raise ConfigError("refit", "says when a backtest refits; add {backtest} N")
        if self.level is not None and self.val == 0:
            raise ConfigError("level", "needs validation residuals; {val} is 0")
        if self.task != "value":
            for name, off in (("strategy", "recursive"), ("loss", "mse")):
                if getattr(self, name) != off:
                    raise ConfigError(name, "is for the value task; drop {task} direction")
            for name in ("level", "backtest", "features"):
                if getattr(self, name) is not None:
                    raise ConfigError(name, "is for the value task; drop {task} direction")

    @classmethod
    def quick(cls) -> ForecastConfig:
        """A small, fast run: a short window, a small net, a few epochs."""
        return cls(window=WindowConfig.quick(), net=NetConfig.quick(), train=TrainConfig.quick())

    def split(self, rows: int) -> Split:
        """The chronological train / validation / test split of ``rows`` points."""
        context = max(self.window.first_target, self.ma_window)
        return chronological_split(rows, self.val, self.test, context=context)

    def neural(self) -> tuple[str, ...]:
        """The models that train."""
        return tuple(m for m in self.models if m not in BASELINES)

    def to_dict(self) -> dict:
        """JSON-able form (what the report records)."""
        return {
            "models": list(self.models),
            "window": self.window.to_dict(),
            "net": self.net.to_dict(),
            "cell_options": self.cell_options,
            "train": self.train.to_dict(),
            "val": self.val,
            "test": self.test,
            "ma_window": self.ma_window,
            "horizon": self.horizon,
            "strategy": self.strategy,
            "level": None if self.level is None else list(self.level),
            "calibration": self.calibration,
            "loss": self.loss,
            "backtest": self.backtest,
            "refit": self.refit,
            "features": None if self.features is None else list(self.features),
            "season": self.season,
            "task": self.task,
            "flat": self.flat,
            "ablation": self.ablation,
        }


@dataclass(frozen=True)
class ForecastSettings:
    """``rnnlab forecast``: the data, the job, the seed, and where the report goes."""

    data: DataConfig = field(default_factory=DataConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    seed: int = _seed()
    out: Path = option(
        DEFAULT_OUT, "directory for report.html, the plots and metrics.json", metavar="DIR"
    )
    no_report: bool = option(False, "write no files")

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def quick(cls) -> ForecastSettings:
        """A small, fast run: the last 400 points, a short window, a small net, 3 epochs."""
        return cls(data=DataConfig.quick(), forecast=ForecastConfig.quick())

    def job(self) -> ForecastConfig:
        """The job with the seed in its training config."""
        return replace(self.forecast, train=replace(self.forecast.train, seed=self.seed))


# Settings a checkpoint fixes (refused with --resume), and the settings of a run (refused when
# an interrupted run goes on: it keeps its own); dotted paths of TrainSettings' fields.
FROM_CHECKPOINT = (
    "cell",
    "window.window",
    "window.target",
    "window.scaler",
    "net.hidden_size",
    "nonlinearity",
    "net.layers",
    "net.dropout",
    "strategy",
    "horizon",
    "loss",
    "level",
    "features",
)
RUN_SETTINGS = (
    "train.epochs",
    "train.patience",
    "train.lr",
    "train.batch_size",
    "train.clip_norm",
    "seed",
    "val",
)


@dataclass(frozen=True)
class TrainSettings:
    """``rnnlab train``: one model, trained on a series, saved as a checkpoint directory."""

    data: DataConfig = field(default_factory=DataConfig)
    cell: str = option("rnn", "the model: a cell name, mlp or linear", choices=trainable)
    window: WindowConfig = field(default_factory=WindowConfig)
    net: NetConfig = field(default_factory=NetConfig)
    nonlinearity: str | None = _nonlinearity()
    train: TrainConfig = field(default_factory=TrainConfig)
    val: float = _val()
    strategy: str = _strategy(
        "how the model forecasts several steps: recursive (one output, fed back as if observed: "
        "predict --horizon takes any N) or direct (one output per step 1 … --horizon H, "
        "trained on those H targets together)"
    )
    horizon: int = _horizon(
        "with --strategy direct: H, the steps the model forecasts at once (predict --horizon "
        "then asks for up to H)",
        metavar="H",
        default_text="1: a one-step model",
    )
    loss: str = _loss(
        "what a neural model minimises: mse (the mean forecast) or pinball (the quantile loss: "
        "the median, and with --level the quantiles of each interval's ends)"
    )
    level: tuple[float, ...] | None = _level(
        "with --loss pinball: central intervals in % whose ends the net learns as quantiles "
        "(80: the 0.1 and 0.9 quantiles); predict prints them as bands",
        "none: the median alone",
    )
    features: tuple[str, ...] | None = _features(
        "covariates the net reads beside the series (recorded in the checkpoint; predict then "
        "reads the same columns)"
    )
    threads: int = _threads()
    device: str = device_option()
    seed: int = _seed()
    out: Path | None = option(
        None, "the checkpoint directory to write", metavar="DIR", default_text="--resume's DIR"
    )
    resume: Path | None = option(
        None,
        "an interrupted run in DIR: go on from its last complete epoch with its own settings "
        "and data (the same result as if never stopped); a finished model in DIR: train it on "
        "for --epochs N more",
        metavar="DIR",
    )
    checkpoint_every: int = option(
        1,
        "rewrite the checkpoint every N epochs while training, to resume from after a crash",
        low=0,
        high=100_000,
        metavar="N",
        default_text="1; 0: only at the end",
    )

    def __post_init__(self) -> None:
        check_fields(self)
        if self.resume is not None:  # the model's outputs come from the checkpoint
            return
        if self.strategy == "direct" and self.horizon < 2:
            raise ConfigError(
                "strategy", "direct needs {horizon} H, the steps it forecasts at once (H >= 2)"
            )
        if self.strategy != "direct" and self.horizon > 1:
            raise ConfigError(
                "horizon",
                "is the steps a direct model forecasts; add {strategy} direct (a recursive "
                "model forecasts any number of steps)",
            )
        if self.loss != "mse" and self.cell == "linear":
            raise ConfigError("loss", "is for the neural models; linear is fitted by least squares")
        check_features(self.features)
        if self.features is not None and self.cell == "linear":
            raise ConfigError("features", "are read by the neural models; linear reads the window")
        if self.level is not None and self.loss != "pinball":
            raise ConfigError(
                "level", "sets the quantiles the pinball loss learns; add {loss} pinball"
            )

    @classmethod
    def quick(cls) -> TrainSettings:
        """A small, fast run: the last 400 points, a short window, a small net, 3 epochs."""
        return cls(
            data=DataConfig.quick(),
            window=WindowConfig.quick(),
            net=NetConfig.quick(),
            train=TrainConfig.quick(),
        )

    @property
    def destination(self) -> Path:
        """Where the checkpoint goes: ``out``, else the ``resume`` directory."""
        if self.out is not None:
            return self.out
        if self.resume is not None:
            return self.resume
        raise ConfigError("out", "name the checkpoint directory to write")

    def net_config(self) -> NetConfig:
        """The net, with the cell's kind and options."""
        options = {} if self.nonlinearity is None else {"nonlinearity": self.nonlinearity}
        return replace(self.net, kind=self.cell, cell_options=options)

    def train_config(self) -> TrainConfig:
        """The training config, with the seed."""
        return replace(self.train, seed=self.seed)


@dataclass(frozen=True)
class PredictSettings:
    """``rnnlab predict``: a checkpoint, and optionally other data to predict from."""

    model: Path | None = option(None, "the checkpoint directory (required)", metavar="DIR")
    data: DataConfig = field(default_factory=DataConfig)
    horizon: int = _horizon(
        "values to predict: each fed back as an input (a recursive model), or up to the H "
        "steps a direct model forecasts at once"
    )
    device: str = device_option()

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def checkpoint(self) -> Path:
        """The checkpoint directory (``model``), which must be given."""
        if self.model is None:
            raise ConfigError("model", "name the checkpoint directory to predict with")
        return self.model

    @property
    def own_data(self) -> bool:
        """True when no data is named: predict from the end of the series it was trained on."""
        return self.data.data is None and self.data.dataset is None
