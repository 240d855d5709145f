"""autoets, autoarima and theta (statsforecast's): scored on the same test points as the
other models, their one-step forecasts equal to statsforecast's own ``forward`` on each past,
every path from an origin equal to predicting from the data up to it, and blind to what
follows it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.series import Series
from rnnlab.errors import RnnlabError
from rnnlab.forecast.models import make_forecaster
from rnnlab.forecast.statistical import AutoARIMA, AutoETS, AutoTheta

KINDS = (AutoETS, AutoARIMA, AutoTheta)


def _monthly(n: int = 132, seed: int = 0) -> Series:
    """A trend, a 12-month season and noise, dated monthly (m = 12 from the dates)."""
    t = np.arange(n)
    noise = np.random.default_rng(seed).normal(0, 0.5, n)
    values = 20 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 12) + noise
    return Series(values, pd.date_range("2010-01-01", periods=n, freq="MS").values)


def _walk(n: int = 160, seed: int = 1) -> Series:
    """A random walk with drift, no dates (m = 1: the non-seasonal models)."""
    return Series(50 + np.cumsum(np.random.default_rng(seed).normal(0.1, 1.0, n)))


@pytest.fixture(scope="module")
def walk_fits():
    """Each model fitted on the walk's first 100 points, 20 of them held out."""
    series = _walk()
    return series, {k.name: k().fit(series.head(120), val_size=20) for k in KINDS}


@pytest.fixture(scope="module")
def monthly_fits():
    """ETS and ARIMA (m = 12) fitted on the monthly series' first 100 points."""
    series = _monthly()
    return series, {k.name: k().fit(series.head(120), val_size=20) for k in (AutoETS, AutoARIMA)}


def test_scored_on_the_same_test_points_as_the_others():
    from rnnlab.forecast.experiment import run_forecast
    from rnnlab.settings.forecasting import ForecastConfig

    series = _monthly()
    config = ForecastConfig(models=("linear", "autoets", "theta", "autoarima"))
    result = run_forecast(series, config)
    start = result.split.val_end
    assert set(result.results) == {"persistence", "linear", "autoets", "theta", "autoarima"}
    dates = {
        name: r.forecaster.historical_forecasts(series, start).index
        for name, r in result.results.items()
    }
    for name in ("autoets", "theta", "autoarima"):
        assert dates[name].equals(dates["persistence"])
        assert dates[name].equals(dates["linear"])
        r = result.results[name]
        assert r.forecaster.season_ == 12  # from the monthly dates
        fitted = r.forecaster.model_.model_["residuals"]  # one per point fitted
        assert r.forecaster.fit_start_ == 0
        assert len(fitted) == result.split.n_train
        public = r.forecaster.historical_forecasts(series, start)
        np.testing.assert_array_equal(r.test_forecast, public.values)
        assert np.all(np.isfinite(r.test_forecast))
        assert len(r.test_forecast) == result.split.n_test


@pytest.mark.parametrize(
    ("name", "data"),
    [("autoets", "walk"), ("autoarima", "walk"), ("theta", "walk"), ("autoets", "monthly"),
     ("autoarima", "monthly")],
)  # fmt: skip
def test_one_step_forecasts_are_statsforecasts_own(name, data, request):
    """x̂_t against a fresh statsforecast model (fitted on the same 100 points) ``forward`` on
    x_0 … x_{t−1}, the slow loop, for a few t (seasonal theta: the next test)."""
    import statsforecast.models as sf

    series, fits = request.getfixturevalue(f"{data}_fits")
    f = fits[name]
    assert f.season_ == (1 if data == "walk" else 12)  # no dates: non-seasonal
    own = {"autoets": sf.AutoETS, "autoarima": sf.AutoARIMA, "theta": sf.AutoTheta}[name]
    reference = own(season_length=f.season_).fit(series.values[:100])
    one_step = f._historical_values(series, 100)  # t = 100 … N − 1
    for t in (100, 101, 117, 131):
        expected = reference.forward(y=series.values[:t], h=1)["mean"][0]
        assert abs(one_step[t - 100] - expected) < 1e-8, (t, one_step[t - 100], expected)


def test_seasonal_theta_keeps_the_training_season():
    """Seasonal theta: the training fit's classical-decomposition indices (statsmodels' own,
    computed here again) divide the past, statsforecast's non-seasonal theta forward runs on
    it, and the index of the target multiplies the forecast back."""
    from statsforecast.theta import forecast_theta, forward_theta
    from statsmodels.tsa.seasonal import seasonal_decompose

    series = _monthly(seed=3)
    f = AutoTheta().fit(series.head(112), val_size=16)
    fit = f.model_.model_
    assert fit["decompose"]
    assert fit["decomposition_type"] == "multiplicative"
    s = seasonal_decompose(series.values[:96], model="multiplicative", period=12).seasonal
    s = np.resize(s[:12], len(series) + 5)  # periodic, in phase with the series' start
    z = series.values / s[: len(series)]
    one_step = f._historical_values(series, 96)
    paths = f._origin_values(series, np.array([100, 120]), 5)
    for row, o in enumerate((100, 120)):
        run = forward_theta({**fit, "m": 1}, z[: o + 1])
        expected = forecast_theta(run, 5)["mean"] * s[o + 1 : o + 6]
        np.testing.assert_allclose(paths[row], expected, rtol=0, atol=1e-8)
        assert abs(one_step[o + 1 - 96] - expected[0]) < 1e-8


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_origin_paths_equal_predicting_from_the_past(kind, walk_fits):
    series, fits = walk_fits
    f = fits[kind.name]
    origins = np.array([99, 110, 131, 158])
    paths = f._origin_values(series, origins, 4)  # (4, 4)
    for row, o in enumerate(origins):
        np.testing.assert_allclose(
            paths[row], f._predict_values(4, series.head(o + 1)), rtol=0, atol=1e-8
        )
    # step 1 from origin t − 1 is the one-step forecast of t (the scored one)
    np.testing.assert_allclose(
        paths[:, 0], f._historical_values(series, 100)[origins + 1 - 100], rtol=0, atol=1e-8
    )


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_the_future_after_an_origin_changes_nothing_from_it(kind):
    series = _monthly(seed=5)
    f = kind().fit(series.head(110), val_size=14)
    o = 115
    changed = series.values.copy()
    changed[o + 1 :] += np.random.default_rng(9).normal(0, 5, len(series) - o - 1)
    other = Series(changed, series.dates)
    np.testing.assert_array_equal(
        f._origin_values(series, np.array([100, o]), 6),
        f._origin_values(other, np.array([100, o]), 6),
    )
    np.testing.assert_array_equal(
        f._historical_values(series, 96)[: o + 2 - 96],
        f._historical_values(other, 96)[: o + 2 - 96],
    )  # x̂_t for t ≤ o + 1 reads x_{t−1} and before only
    assert not np.array_equal(f._historical_values(series, 96), f._historical_values(other, 96))


def test_a_bad_parameter_is_one_line_naming_it():
    for kind in KINDS:
        with pytest.raises(RnnlabError) as caught:
            kind(season=0).fit(_walk())
        assert str(caught.value) == "season: must be a whole number >= 1 or None, got 0"
    with pytest.raises(RnnlabError, match=r"^max_train: must be a whole number"):
        AutoETS(max_train=-3).fit(_walk())
    with pytest.raises(RnnlabError, match=r"^theta: statsforecast could not fit the 3 "):
        AutoTheta().fit(np.array([1.0, 3.0, 2.0, 5.0]), val_size=1)


def test_seasons_and_the_training_window():
    half_hourly = Series(
        np.sin(np.arange(300) * 2 * np.pi / 48) + np.random.default_rng(2).normal(0, 0.1, 300),
        pd.date_range("2020-01-01", periods=300, freq="30min").values,
    )
    # m = 48 from the dates: past ETS's and ARIMA's longest season (24), so left out of them
    assert AutoETS().fit(half_hourly).season_ == 1
    assert AutoTheta().fit(half_hourly).season_ == 48
    assert AutoETS(season=4).fit(half_hourly).season_ == 4  # named: as given
    f = AutoETS(max_train=150).fit(half_hourly, val_size=50)  # the last 150 of 250
    assert f.fit_start_ == 100
    assert f.min_history == 101
    assert len(f.model_.model_["residuals"]) == 150
    with pytest.raises(RnnlabError, match="needs 101 point"):
        f._historical_values(half_hourly, 100)  # before the first point fitted


def test_by_name_and_a_lazy_import():
    for name, kind in zip(("autoets", "autoarima", "theta"), KINDS, strict=True):
        f = make_forecaster(name, season=7)
        assert type(f) is kind
        assert (f.name, f.season) == (name, 7)
    code = "import sys, rnnlab.forecast; assert 'statsforecast' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
