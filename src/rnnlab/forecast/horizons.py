"""Horizons that are scored: every model forecasts 1 … H steps ahead from each origin of the
test span, recursively (each prediction fed back as if observed), from the data up to the
origin only, and is scored per step against persistence's own h-step forecast.

For the series x_0 … x_{N−1} with the test part starting at index T, the origins are
o = T−1 … N−2 (the last value seen); from origin o the model forecasts x̂_{o+1} … x̂_{o+H}
using x_0 … x_o alone. Step h is scored on the targets t = o + h that fall in the test span,
t = T+h−1 … N−1 (n_test − h + 1 forecasts; step 1 is the one-step test):

    RMSE_h  = sqrt(mean_o (x_{o+h} − x̂_{o+h|o})²)
    MAE_h   = mean_o |x_{o+h} − x̂_{o+h|o}|
    skill_h = 1 − RMSE_h / RMSE_h(persistence),   persistence's h-step forecast x̂_{o+h|o} = x_o

>>> from rnnlab.forecast.baselines import Persistence
>>> x = Series(np.array([1.0, 2.0, 4.0, 8.0]))
>>> origin_forecasts(Persistence().fit(x), x, [1, 2], 2).tolist()
[[2.0, 2.0], [4.0, nan]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.data.series import Series
from rnnlab.forecast.base import Forecaster
from rnnlab.forecast.metrics import skill


def origin_forecasts(forecaster: Forecaster, series: Series, origins, horizon: int) -> np.ndarray:
    """(len(origins), horizon): row i holds x̂_{o+1} … x̂_{o+H} for origin o = origins[i],
    forecast from ``series.values[: o + 1]`` only (the forecaster's own multi-step method:
    recursive, or direct for a model trained so); NaN where o + h is past the end of the
    series (nothing there to score)."""
    origins = np.asarray(origins, dtype=np.int64)
    out = np.asarray(forecaster._origin_values(series, origins, horizon), dtype=np.float64)
    out = out.reshape(len(origins), horizon)
    beyond = origins[:, None] + np.arange(1, horizon + 1)[None, :] >= len(series)
    out[beyond] = np.nan
    return out


@dataclass
class StepScores:
    """One model's scores per step h = 1 … H (None where undefined)."""

    rmse: list[float]
    mae: list[float]
    skill: list[float | None]

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"rmse": self.rmse, "mae": self.mae, "skill": self.skill}


@dataclass
class HorizonResult:
    """Every model's per-step scores on the test span."""

    horizon: int
    origins: np.ndarray  # the origins o (index of the last value seen)
    forecasts: dict[str, np.ndarray]  # model -> (n_origins, H)
    scores: dict[str, StepScores]
    counts: list[int]  # forecasts scored at each step
    strategy: str = "recursive"  # how the neural and linear models made their H steps

    def shown_steps(self, most: int = 5) -> list[int]:
        """A few steps for an 80-column table: 1, 2, 5, 10, 20, … and H."""
        picks = [h for h in (1, 2, 5, 10, 20, 50, 100) if h < self.horizon]
        return sorted({*picks[: most - 1], self.horizon})

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {
            "strategy": self.strategy,
            "steps": list(range(1, self.horizon + 1)),
            "origins": len(self.origins),
            "forecasts_per_step": self.counts,
            "models": {name: s.to_dict() for name, s in self.scores.items()},
        }


def score_horizons(
    series: Series,
    test_start: int,
    forecasters: dict[str, Forecaster],
    horizon: int,
    strategy: str = "recursive",
) -> HorizonResult:
    """Forecast 1 … ``horizon`` steps from every origin o = test_start−1 … N−2 with each of
    ``forecasters`` (persistence among them or not: its h-step RMSE is computed here) and
    score each step on the test span."""
    n = len(series)
    origins = np.arange(test_start - 1, n - 1)
    x = series.values
    forecasts = {
        name: origin_forecasts(f, series, origins, horizon) for name, f in forecasters.items()
    }
    scores, counts = {}, []
    base = []
    for h in range(1, horizon + 1):
        rows = origins + h < n
        counts.append(int(rows.sum()))
        err = x[origins[rows] + h] - x[origins[rows]]  # persistence: x̂_{o+h|o} = x_o
        base.append(float(np.sqrt(np.mean(err**2))) if rows.any() else float("nan"))
    for name, fc in forecasts.items():
        rmse, mae, sk = [], [], []
        for h in range(1, horizon + 1):
            rows = origins + h < n
            e = x[origins[rows] + h] - fc[rows, h - 1]
            rmse.append(float(np.sqrt(np.mean(e**2))) if rows.any() else float("nan"))
            mae.append(float(np.mean(np.abs(e))) if rows.any() else float("nan"))
            sk.append(skill(rmse[-1], base[h - 1]) if rows.any() else None)
        scores[name] = StepScores(rmse, mae, sk)
    return HorizonResult(horizon, origins, forecasts, scores, counts, strategy)
