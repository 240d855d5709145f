"""Seasonal naive and drift against hand-computed values, one step and h steps ahead; the
season from the dates' rhythm; the models by name on the command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.series import Series
from rnnlab.errors import RnnlabError
from rnnlab.forecast.baselines import Drift, SeasonalNaive, season_length
from rnnlab.forecast.models import make_forecaster

X = np.array([1.0, 5.0, 2.0, 6.0, 3.0, 7.0, 4.0])


def test_seasonal_naive_one_step_and_h_steps_by_hand():
    f = SeasonalNaive(season=2).fit(X)
    # x̂_t = x_{t−2} for t = 3 … 6: x_1, x_2, x_3, x_4
    np.testing.assert_array_equal(f.historical_forecasts(X, 3), [5.0, 2.0, 6.0, 3.0])
    # after x_5 = 7, x_6 = 4: 7, 4, 7, 4, 7
    np.testing.assert_array_equal(f.predict(5), [7.0, 4.0, 7.0, 4.0, 7.0])
    f3 = SeasonalNaive(season=3).fit(X)
    np.testing.assert_array_equal(f3.predict(4), [3.0, 7.0, 4.0, 3.0])  # x_4, x_5, x_6, x_4
    np.testing.assert_array_equal(f3.historical_forecasts(X, 3), [1.0, 5.0, 2.0, 6.0])


def test_seasonal_naive_with_season_1_is_persistence():
    f = SeasonalNaive(season=1).fit(X)
    np.testing.assert_array_equal(f.historical_forecasts(X, 1), X[:-1])
    np.testing.assert_array_equal(f.predict(3), [4.0, 4.0, 4.0])


def test_drift_one_step_and_h_steps_by_hand():
    x = np.array([10.0, 12.0, 11.0, 16.0, 20.0, 18.0])
    f = Drift().fit(x, val_size=2)  # training part 10, 12, 11, 16: b = (16 − 10) / 3 = 2
    assert f.slope_ == 2.0
    np.testing.assert_array_equal(f.historical_forecasts(x, 4), [18.0, 22.0])  # 16+2, 20+2
    np.testing.assert_array_equal(f.predict(3), [20.0, 22.0, 24.0])  # 18 + 2h
    g = Drift().fit(x)  # all six: b = (18 − 10) / 5 = 1.6
    np.testing.assert_allclose(g.predict(2), [19.6, 21.2])


def _dates(freq: str, n: int = 40) -> np.ndarray:
    return pd.date_range("2020-01-01", periods=n, freq=freq).values


@pytest.mark.parametrize(
    ("freq", "m"),
    [("B", 5), ("D", 7), ("MS", 12), ("ME", 12), ("W-SUN", 52), ("QS", 4), ("30min", 48),
     ("h", 24), ("5min", 288)],
)  # fmt: skip
def test_season_from_the_dates(freq, m):
    assert season_length(_dates(freq)) == m


def test_no_season_without_dates_names_the_field():
    assert season_length(None) is None
    with pytest.raises(RnnlabError, match=r"^season: .*gives no season"):
        SeasonalNaive().fit(X)
    with pytest.raises(RnnlabError, match=r"^season: must be"):
        SeasonalNaive(season=0).fit(X)


def test_season_from_a_pandas_series_with_dates():
    s = pd.Series(np.arange(30.0) % 7, index=pd.date_range("2021-01-01", periods=30, freq="D"))
    f = SeasonalNaive().fit(s)
    assert f.season_ == 7
    np.testing.assert_array_equal(f.historical_forecasts(s, 7).values, s.values[7:])  # exact


def test_by_name():
    assert isinstance(make_forecaster("drift"), Drift)
    f = make_forecaster("seasonal_naive", season=4)
    assert isinstance(f, SeasonalNaive)
    assert f.season == 4


def test_forecast_cli_runs_them(capsys):
    import json

    from rnnlab.cli import main

    argv = ["forecast", "--quick", "--models", "seasonal_naive,drift", "--no-report", "--json"]
    code = main(argv)
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["test"]) == {"persistence", "seasonal_naive", "drift"}
    assert out["config"]["season"] is None


def test_seasonal_naive_without_dates_is_reported_not_fatal():
    from rnnlab.forecast.experiment import run_forecast
    from rnnlab.settings.forecasting import ForecastConfig

    series = Series(np.sin(np.arange(300) / 3.0) + np.arange(300) * 0.01)
    result = run_forecast(series, ForecastConfig(models=("seasonal_naive", "drift")))
    assert "seasonal_naive" in result.failed
    assert "drift" in result.results
    result = run_forecast(series, ForecastConfig(models=("seasonal_naive",), season=19))
    assert result.results["seasonal_naive"].forecaster.season_ == 19
