"""Split-conformal intervals: the rank by hand, and coverage on a synthetic series with known
Gaussian noise within a stated tolerance of nominal."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.data.series import Series
from rnnlab.forecast.baselines import MovingAverage, Persistence
from rnnlab.forecast.horizons import origin_forecasts
from rnnlab.forecast.intervals import conformal_quantile, score_intervals


def conformal_by_step(f, x: Series, val_start: int, test_start: int, horizon: int, levels):
    """score_intervals (split calibration) for one model, per level: q, coverage, width."""
    origins = np.arange(test_start - 1, len(x) - 1)
    forecasts = {"m": origin_forecasts(f, x, origins, horizon)}
    nxt = {"m": f._predict_values(horizon, x)}
    result = score_intervals({"m": f}, x, val_start, test_start, levels, forecasts, nxt)
    cells = result.conformal["m"]
    return {lv: {**c, "q": c["halfwidth"]} for lv, c in cells.items()}


def test_the_rank_by_hand():
    r = np.arange(1.0, 20.0)  # n = 19: at 90 %, ⌈20·0.9⌉ = 18th smallest
    assert conformal_quantile(r, 0.1) == 18.0
    assert conformal_quantile(-r, 0.1) == 18.0  # absolute values
    assert conformal_quantile(np.array([1.0, 2.0]), 0.1) == float("inf")  # ⌈3·0.9⌉ = 3 > 2


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_coverage_on_gaussian_noise(level):
    # x_t = 10 + ε_t, ε ~ N(0, 1): the long moving average's error is nearly N(0, 1) at every
    # step, so q_h ≈ z_(1−α/2) and the test coverage is the level, up to sampling error
    rng = np.random.default_rng(7)
    x = Series(10 + rng.normal(size=6000))
    f = MovingAverage(k=200).fit(x.head(2000))
    out = conformal_by_step(f, x, 2000, 4000, 3, (level,))[level]
    tolerance = 0.025  # > 3 standard errors of a share over 2000 (correlated) points
    for h in range(3):
        assert abs(out["coverage"][h] - level) < tolerance, (h, out)
    z = {0.8: 1.2816, 0.95: 1.96}[level]
    np.testing.assert_allclose(out["q"], z, rtol=0.12)


def test_random_walk_widths_grow_like_sqrt_h():
    rng = np.random.default_rng(1)
    x = Series(np.cumsum(rng.normal(size=5000)))
    f = Persistence().fit(x.head(1000))
    out = conformal_by_step(f, x, 1000, 3000, 4, (0.9,))[0.9]
    for h in range(4):
        assert abs(out["coverage"][h] - 0.9) < 0.03
    np.testing.assert_allclose(np.array(out["q"]) / out["q"][0], np.sqrt([1, 2, 3, 4]), rtol=0.15)
