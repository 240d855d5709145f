"""Forecasting: forecasters with fit/predict, baselines, the training loop, metrics, checkpoints.

    >>> f = RecurrentForecaster(cell="gru", window=20).fit(prices)   # doctest: +SKIP
    >>> f.predict(5)           # a pandas Series indexed by the next dates  # doctest: +SKIP

Importing this package imports torch.
"""

from rnnlab.forecast.ablation import AblationResult, FeatureMLP, run_ablation
from rnnlab.forecast.backtest import BacktestResult, backtest_origins, run_backtest
from rnnlab.forecast.base import Forecaster, WindowedForecaster
from rnnlab.forecast.baselines import LinearAR, MovingAverage, Persistence
from rnnlab.forecast.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.forecast.direction import DirectionResult, binomial_tail, run_direction
from rnnlab.forecast.experiment import ForecastConfig, ForecastResult, run_forecast
from rnnlab.forecast.inputs import as_series
from rnnlab.forecast.lag import LagCheck, lag_check
from rnnlab.forecast.metrics import Scores, score
from rnnlab.forecast.models import DEFAULT_MODELS, make_forecaster, model_names
from rnnlab.forecast.multi import ManyResult, run_many
from rnnlab.forecast.nets import MLPNet, NetConfig, RecurrentNet
from rnnlab.forecast.neural import (
    MLPForecaster,
    NeuralForecaster,
    RecurrentForecaster,
    torch_threads,
)
from rnnlab.forecast.statistical import AutoARIMA, AutoETS, AutoTheta, StatisticalForecaster
from rnnlab.forecast.training import EpochReport, TrainConfig, TrainHistory, train

__all__ = [
    "DEFAULT_MODELS",
    "AblationResult",
    "AutoARIMA",
    "AutoETS",
    "AutoTheta",
    "BacktestResult",
    "DirectionResult",
    "EpochReport",
    "FeatureMLP",
    "ForecastConfig",
    "ForecastResult",
    "Forecaster",
    "LagCheck",
    "LinearAR",
    "MLPForecaster",
    "MLPNet",
    "ManyResult",
    "MovingAverage",
    "NetConfig",
    "NeuralForecaster",
    "Persistence",
    "RecurrentForecaster",
    "RecurrentNet",
    "Scores",
    "StatisticalForecaster",
    "TrainConfig",
    "TrainHistory",
    "WindowedForecaster",
    "as_series",
    "backtest_origins",
    "binomial_tail",
    "lag_check",
    "load_checkpoint",
    "make_forecaster",
    "model_names",
    "run_ablation",
    "run_backtest",
    "run_direction",
    "run_forecast",
    "run_many",
    "save_checkpoint",
    "score",
    "torch_threads",
    "train",
]
