"""Scored horizons: 1 … H-step forecasts from every test origin use the data up to the origin
only (the future is perturbed and the earlier forecasts must not move), persistence's per-step
RMSE by hand, the batched recursion equal to predict, step 1 equal to the one-step test, and
the table in 80 columns."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab.data.series import Series
from rnnlab.data.windows import WindowConfig
from rnnlab.forecast.experiment import run_forecast
from rnnlab.forecast.horizons import origin_forecasts, score_horizons
from rnnlab.forecast.models import make_forecaster
from rnnlab.forecast.nets import NetConfig
from rnnlab.forecast.training import TrainConfig
from rnnlab.settings.forecasting import ForecastConfig

RNG = np.random.default_rng(3)
N = 160
X = 50 + np.cumsum(RNG.normal(size=N)) + 2 * np.sin(np.arange(N) * 2 * np.pi / 7)
WINDOW = WindowConfig(window=10, target="diff", scaler="standard")
NET = NetConfig(hidden_size=4)
TRAIN = TrainConfig(epochs=2, patience=0, seed=0)
MODELS = ("persistence", "moving_average", "linear", "seasonal_naive", "drift", "mlp", "lstm")


def _fitted(name: str, series: Series):
    f = make_forecaster(name, WINDOW, NET, TRAIN, ma_window=3, season=7)
    return f.fit(series.head(120), val_size=20)


@pytest.fixture(scope="module")
def dated() -> Series:
    import pandas as pd

    dates = pd.date_range("2020-01-06", periods=N, freq="B").values
    return Series(X.copy(), dates)


@pytest.mark.parametrize("name", MODELS)
def test_no_value_after_an_origin_is_used(name, dated):
    f = _fitted(name, dated)
    origins = np.arange(119, N - 1)
    before = origin_forecasts(f, dated, origins, 5)
    cut = 135  # every value after index 135 changed wildly
    values = dated.values.copy()
    values[cut + 1 :] = values[cut + 1 :] * 3 + 1000
    after = origin_forecasts(f, Series(values, dated.dates), origins, 5)
    early = origins <= cut
    assert early.sum() == 17
    ok = ~np.isnan(before[early])
    np.testing.assert_array_equal(before[early][ok], after[early][ok])
    assert not np.allclose(before[~early][:, :1], after[~early][:, :1])  # later ones move


def test_persistence_per_step_rmse_by_hand():
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 8.0])
    s = Series(x)
    f = make_forecaster("persistence").fit(s.head(3))
    hz = score_horizons(s, 3, {"persistence": f}, 3)  # test = x_3, x_4, x_5; origins 2, 3, 4
    np.testing.assert_array_equal(hz.origins, [2, 3, 4])
    # h=1: (5−2, 4−5, 8−4) = (3, −1, 4); h=2: (4−2, 8−5) = (2, 3); h=3: (8−2) = 6
    np.testing.assert_allclose(hz.scores["persistence"].rmse, [np.sqrt(26 / 3), np.sqrt(6.5), 6])
    np.testing.assert_allclose(hz.scores["persistence"].mae, [8 / 3, 2.5, 6])
    assert hz.scores["persistence"].skill == [0.0, 0.0, 0.0]
    assert hz.counts == [3, 2, 1]
    drift = make_forecaster("drift").fit(s.head(3))  # b = (2 − 1) / 2 = 0.5
    hz = score_horizons(s, 3, {"drift": drift}, 2)
    # h=2 from origin 2: 2 + 1 = 3 (target 4), from origin 3: 5 + 1 = 6 (target 8)
    np.testing.assert_allclose(hz.forecasts["drift"][:2, 1], [3.0, 6.0])
    np.testing.assert_allclose(hz.scores["drift"].rmse[1], np.sqrt((1 + 4) / 2))
    np.testing.assert_allclose(hz.scores["drift"].skill[1], 1 - np.sqrt(2.5) / np.sqrt(6.5))


@pytest.mark.parametrize("name", ["linear", "lstm"])
def test_batched_recursion_equals_predict(name):
    s = Series(X.copy())
    f = _fitted(name, s)
    origins = np.array([119, 130, 150])
    batched = origin_forecasts(f, s, origins, 4)
    for row, o in zip(batched, origins, strict=True):
        np.testing.assert_allclose(row, f._predict_values(4, s.head(o + 1)), rtol=1e-5)


def test_step_one_is_the_one_step_test_and_json(dated):
    config = ForecastConfig(
        models=("linear", "drift", "seasonal_naive"), window=WINDOW, horizon=6, ma_window=3
    )
    result = run_forecast(dated, config)
    hz = result.to_dict()["horizons"]
    assert hz["steps"] == [1, 2, 3, 4, 5, 6]
    assert hz["origins"] == result.split.n_test
    for name, r in result.results.items():
        assert hz["models"][name]["rmse"][0] == pytest.approx(r.scores.rmse, rel=1e-12)
    json.dumps(hz, allow_nan=False)
    one = run_forecast(dated, ForecastConfig(models=("linear",), window=WINDOW, horizon=1))
    assert one.to_dict()["horizons"] is None


def test_horizon_past_the_test_span_is_cut_to_it(dated):
    config = ForecastConfig(models=("drift",), window=WINDOW, horizon=500, ma_window=3)
    result = run_forecast(dated, config)
    assert result.horizons.horizon == result.split.n_test
    assert result.horizons.counts[-1] == 1


def test_the_table_fits_80_columns(monkeypatch, capsys):
    from test_terminal_width import assert_fits, render_at

    argv = ["forecast", "--quick", "--horizon", "7", "--no-report"]
    argv += ["--models", "linear,seasonal_naive,drift"]
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    assert_fits(out, whole=("h=1", "h=2", "h=5", "h=7", "seasonal_naive", "persistence RMSE"))
