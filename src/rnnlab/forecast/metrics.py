"""Scores in real units on the test points, and skill against persistence.

For actual values x_t, forecasts x̂_t and the last known values x_{t−1}, over the n test points:

    MAE        = (1/n) Σ |x_t − x̂_t|
    RMSE       = sqrt((1/n) Σ (x_t − x̂_t)²)
    MAPE       = (100/n') Σ |x_t − x̂_t| / |x_t|            over the n' points with x_t ≠ 0
    direction  = share of points with sign(x̂_t − x_{t−1}) = sign(x_t − x_{t−1}),
                 over the points where the actual value moved (undefined for a forecaster
                 that never predicts a move, such as persistence)
    skill      = 1 − RMSE / RMSE_persistence                 > 0 beats "tomorrow = today"

>>> s = score(np.array([1.0, 3.0]), np.array([2.0, 2.0]), np.array([1.5, 1.5]), 1.0)
>>> s.mae, s.rmse, s.direction, s.skill
(1.0, 1.0, 0.5, 0.0)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Scores:
    """One forecaster's scores on the test points (None where undefined)."""

    rmse: float
    mae: float
    mape: float | None
    direction: float | None
    skill: float | None

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """(1/n) Σ |x_t − x̂_t|."""
    return float(np.mean(np.abs(actual - forecast)))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """sqrt((1/n) Σ (x_t − x̂_t)²)."""
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def mape(actual: np.ndarray, forecast: np.ndarray) -> float | None:
    """(100/n') Σ |x_t − x̂_t| / |x_t| over the points with x_t ≠ 0; None if there are none."""
    nonzero = actual != 0
    if not nonzero.any():
        return None
    return float(100 * np.mean(np.abs(actual - forecast)[nonzero] / np.abs(actual[nonzero])))


def direction(actual: np.ndarray, forecast: np.ndarray, previous: np.ndarray) -> float | None:
    """Share of moves whose sign the forecast got right; None if it never predicts a move."""
    moved = actual != previous
    predicted = np.sign(forecast - previous)
    if not moved.any() or not predicted.any():
        return None
    return float(np.mean(predicted[moved] == np.sign(actual - previous)[moved]))


def skill(model_rmse: float, persistence_rmse: float) -> float | None:
    """1 − RMSE / RMSE_persistence; None when persistence is exact (a flat test part)."""
    if persistence_rmse == 0:
        return None
    return 1.0 - model_rmse / persistence_rmse


def score(
    actual: np.ndarray, forecast: np.ndarray, previous: np.ndarray, persistence_rmse: float
) -> Scores:
    """All scores of one forecaster; ``previous`` holds x_{t−1} for each test point."""
    e = rmse(actual, forecast)
    return Scores(
        rmse=e,
        mae=mae(actual, forecast),
        mape=mape(actual, forecast),
        direction=direction(actual, forecast, previous),
        skill=skill(e, persistence_rmse),
    )
