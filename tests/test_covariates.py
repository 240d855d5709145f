"""Covariates for the neural forecasters (rnnlab.data.covariates): the input layout against
hand-built values, the scalers fitted on the training part only, and no value after the
forecast origin ever read (every later value and covariate perturbed, forecasts unchanged)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnnlab.config import ConfigError
from rnnlab.data.covariates import CovariateScaler, calendar_features
from rnnlab.data.load import load_series
from rnnlab.data.series import Series, build_series
from rnnlab.errors import RnnlabError
from rnnlab.settings.data import DataConfig
from rnnlab.settings.forecasting import ForecastConfig

torch = pytest.importorskip("torch")

from rnnlab.forecast.neural import MLPForecaster, RecurrentForecaster  # noqa: E402

ALL = ("open", "volume", "calendar")
TINY = {"hidden_size": 4, "epochs": 2, "batch_size": 16, "seed": 1}


def _series(n: int, seed: int = 0) -> Series:
    """A dated random walk with two covariates (weekdays without holidays, so that the dates
    after any point are what ``next_dates`` continues them with)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", periods=n).to_numpy()
    values = 100 + np.cumsum(rng.normal(size=n))
    covariates = {"open": rng.normal(size=n), "volume": rng.uniform(1e5, 1e7, size=n)}
    return Series(values, dates, name="toy", covariates=covariates)


def _perturbed(series: Series, after: int, seed: int = 9) -> Series:
    """``series`` with every value and covariate after index ``after`` replaced by junk."""
    rng = np.random.default_rng(seed)
    values = series.values.copy()
    values[after + 1 :] = rng.uniform(50, 150, size=len(values) - after - 1)
    covariates = {}
    for name, c in series.covariates.items():
        c = c.copy()
        c[after + 1 :] = c[after + 1 :] * 7 + rng.uniform(0, 1e6, size=len(c) - after - 1)
        covariates[name] = c
    return Series(values, series.dates, name=series.name, covariates=covariates)


def _model(kind: str, window: int = 8, **params):
    params = {"covariates": ALL, **TINY, **params}
    if kind == "mlp":
        return MLPForecaster(window=window, **params)
    return RecurrentForecaster(cell=kind, window=window, **params)


def _recorded(f):
    """Wrap ``f._predict_scaled`` to keep every input it is given."""
    seen, predict = [], f._predict_scaled

    def spy(X):
        seen.append(np.array(X))
        return predict(X)

    f._predict_scaled = spy
    return seen


def _std(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


# -- the input layout, built by hand -------------------------------------------------------


def _by_hand(series: Series, n_train: int):
    """Per row τ: s_τ, open_τ, volume_τ scaled on rows < n_train, and the calendar of τ's
    date (pandas' own day of week and day of year, not rnnlab's)."""
    x, c = series.values, series.covariates
    mean = lambda a: a[:n_train].mean()  # noqa: E731
    std = lambda a: a[:n_train].std()  # noqa: E731
    u = np.log1p(c["volume"])
    s = (x - mean(x)) / std(x)
    o = (c["open"] - mean(c["open"])) / std(c["open"])
    v = (u - mean(u)) / std(u)
    dates = pd.DatetimeIndex(series.dates)
    more = pd.bdate_range(dates[-1], periods=4)[1:]
    every = dates.append(more)
    dow = 2 * np.pi * every.day_of_week.to_numpy() / 7
    doy = 2 * np.pi * (every.day_of_year.to_numpy() - 1) / 365.25
    cal = np.stack([np.sin(dow), np.cos(dow), np.sin(doy), np.cos(doy)], axis=1)
    return s, o, v, cal


def test_the_recurrent_input_is_s_then_covariates_then_the_next_steps_calendar():
    series = _series(12)
    f = _model("gru", window=3, target="level").fit(series, val_size=3)  # train: rows 0…8
    s, o, v, cal = _by_hand(series, 9)
    seen = _recorded(f)
    f._historical_values(series, 3)
    X = seen[-1]
    assert X.shape == (9, 3, 1 + 2 + 4)  # (n, W, 1 + C + 4)
    for i, t in enumerate(range(3, 12)):
        for j, tau in enumerate(range(t - 3, t)):
            want = [s[tau], o[tau], v[tau], *cal[tau + 1]]  # the last step: the target's date
            np.testing.assert_allclose(X[i, j], want, rtol=1e-12, atol=1e-12)
    # two steps after the end: the covariates held at their last value, the calendar of the
    # dates to come, the first forecast fed back in the target's slot
    seen.clear()
    first, _ = f._predict_values(2, series)
    X1, X2 = seen[0][0], seen[1][0]
    np.testing.assert_allclose(X1[:, 0], s[9:12])
    np.testing.assert_allclose(X1[:, 1:3], np.stack([o[9:12], v[9:12]], 1))
    np.testing.assert_allclose(X1[:, 3:], cal[10:13])  # cal[12]: the next business day
    s_first = (first - series.values[:9].mean()) / series.values[:9].std()
    np.testing.assert_allclose(X2[:, 0], [s[10], s[11], s_first])
    np.testing.assert_allclose(X2[:, 1], [o[10], o[11], o[11]])  # held: c_12 = c_11
    np.testing.assert_allclose(X2[:, 2], [v[10], v[11], v[11]])
    np.testing.assert_allclose(X2[:, 3:], cal[11:14])


def test_the_mlp_appends_the_last_covariates_and_the_targets_day_of_year():
    from rnnlab.data.features import mlp_features

    series = _series(20)
    f = _model("mlp", window=7, target="level").fit(series, val_size=4)
    s, o, v, cal = _by_hand(series, 16)
    seen = _recorded(f)
    f._historical_values(series, 7)
    t = np.arange(7, 20)
    hand = mlp_features(s, t, series.dates[t])
    want = np.column_stack([hand, o[t - 1], v[t - 1], cal[t, 2], cal[t, 3]])
    np.testing.assert_allclose(seen[-1], want, rtol=1e-12, atol=1e-12)
    assert f.feature_names()[-4:] == ["open_(t-1)", "volume_(t-1)", "doy_sin", "doy_cos"]
    assert len(f.feature_names()) == seen[-1].shape[1]


def test_calendar_features_by_hand():
    days = np.array(["2024-01-01", "2024-01-06", "2024-12-31"], dtype="datetime64[D]")
    cal = calendar_features(days)  # Monday 1 Jan (day 0), Saturday (5, day 5), day 365
    dow, doy = np.array([0, 5, 1]), np.array([0, 5, 365])  # 2024-12-31 is a Tuesday
    np.testing.assert_allclose(cal[:, 0], np.sin(2 * np.pi * dow / 7), atol=1e-15)
    np.testing.assert_allclose(cal[:, 1], np.cos(2 * np.pi * dow / 7), atol=1e-15)
    np.testing.assert_allclose(cal[:, 2], np.sin(2 * np.pi * doy / 365.25), atol=1e-15)
    np.testing.assert_allclose(cal[:, 3], np.cos(2 * np.pi * doy / 365.25), atol=1e-15)


# -- leakage: nothing after the origin, nothing after the training part for the scalers -----


@pytest.mark.parametrize("kind", ["mlp", "gru"])
def test_no_value_after_the_origin_is_ever_read(kind):
    series = _series(90)
    f = _model(kind).fit(series.head(60), val_size=10)
    H = 4
    for o in (59, 72):
        junk = _perturbed(series, o)
        # one-step forecasts: x̂_t from the data up to t − 1, so every t ≤ o + 1 is unchanged
        start = 60
        ours, theirs = f._historical_values(series, start), f._historical_values(junk, start)
        k = o + 2 - start
        np.testing.assert_array_equal(ours[:k], theirs[:k])
        assert not np.allclose(ours[k:], theirs[k:])  # the perturbation is read after o
        # 1…H steps from the origin (covariates held at c_o, values fed back)
        origins = np.array([o - 3, o])
        rows = f._origin_values(series, origins, H)
        np.testing.assert_array_equal(rows, f._origin_values(junk, origins, H))
        # the loop after the end of the data that ends at o: the same forecasts
        np.testing.assert_allclose(f._predict_values(H, junk.head(o + 1)), rows[1], rtol=1e-6)


@pytest.mark.parametrize("kind", ["mlp", "gru"])
def test_the_calendar_alone(kind):
    series = _series(60)
    f = _model(kind, covariates=("calendar",))
    f.fit(Series(series.values, series.dates), val_size=10)
    assert f.covariates_.columns == ["dow_sin", "dow_cos", "doy_sin", "doy_cos"]
    assert np.all(np.isfinite(f._predict_values(3)))
    seen = _recorded(f)
    f._historical_values(series, 50)
    assert seen[-1].shape[-1] == (1 + 4 if kind == "gru" else 8 + 2)


@pytest.mark.parametrize("kind", ["mlp", "gru"])
def test_covariates_alone_after_the_origin_change_nothing_before_it(kind):
    """The covariates are read (later forecasts move) but never ahead of the origin."""
    series = _series(90)
    f = _model(kind).fit(series.head(60), val_size=10)
    o = 65
    moved = {k: c.copy() for k, c in series.covariates.items()}
    for c in moved.values():
        c[o + 1 :] *= 5
    junk = Series(series.values, series.dates, covariates=moved)
    ours, theirs = f._historical_values(series, 60), f._historical_values(junk, 60)
    np.testing.assert_array_equal(ours[: o + 2 - 60], theirs[: o + 2 - 60])
    assert not np.allclose(ours[o + 2 - 60 :], theirs[o + 2 - 60 :])


def test_the_scalers_see_the_training_part_only():
    series = _series(60)
    n_train = 40
    one = _model("gru").fit(series, val_size=20)
    two = _model("gru").fit(_perturbed(series, n_train - 1), val_size=20)
    assert one.covariates_.to_dict() == two.covariates_.to_dict()
    assert one.preprocessor_.to_dict() == two.preprocessor_.to_dict()
    c = series.covariates
    fitted = one.covariates_.scalers_
    assert fitted["open"].mean == pytest.approx(c["open"][:n_train].mean(), rel=1e-12)
    assert fitted["open"].std == pytest.approx(c["open"][:n_train].std(), rel=1e-12)
    u = np.log1p(c["volume"][:n_train])  # volume: log1p first
    assert fitted["volume"].mean == pytest.approx(u.mean(), rel=1e-12)
    assert fitted["volume"].std == pytest.approx(u.std(), rel=1e-12)
    assert one.covariates_.columns == ["open", "volume", "dow_sin", "dow_cos", "doy_sin", "doy_cos"]


# -- data: stocks, CSV, DataFrame, Series ---------------------------------------------------


def test_stock_covariates_are_ratios_to_the_close_and_split_adjusted_volume():
    from rnnlab.data.sources import DATASETS, load_dataset

    s = load_dataset("aapl", None, ("open", "high", "low", "volume"))
    raw, _ = DATASETS["aapl"].load()
    np.testing.assert_allclose(s.covariates["open"], np.log(raw["open"] / raw["close"]))
    np.testing.assert_allclose(s.covariates["low"], np.log(raw["low"] / raw["close"]))
    assert np.all(s.covariates["high"] >= 0)
    assert np.all(s.covariates["low"] <= 0)
    adjusted = raw["volume"] * raw["close"] / raw["adj_close"]
    np.testing.assert_allclose(s.covariates["volume"], adjusted)
    assert s.tail(5).covariates["open"].tolist() == s.covariates["open"][-5:].tolist()


def test_a_csv_gives_its_other_numeric_columns(tmp_path):
    path = tmp_path / "d.csv"
    rows = "".join(f"2024-01-{d:02d},{d},{d * 10},{d % 3}\n" for d in range(1, 11))
    path.write_text("date,v,a,b\n" + rows)
    s = load_series(DataConfig(data=path, column="v"), features=("b", "a", "calendar"))
    assert list(s.covariates) == ["b", "a"]
    assert s.covariates["a"].tolist() == [10.0 * d for d in range(1, 11)]
    with pytest.raises(ConfigError) as caught:
        load_series(DataConfig(data=path, column="v"), features=("c",))
    exc = caught.value
    assert exc.field == "features"
    assert "\n" not in str(exc)
    assert "'c'" in str(exc)
    assert "'a', 'b'" in str(exc)
    with pytest.raises(ConfigError, match="the forecast or date column"):
        load_series(DataConfig(data=path, column="v"), features=("v",))


def test_bad_names_are_one_line_errors_naming_features(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_series(DataConfig(dataset="aapl"), features=("opne",))
    assert caught.value.field == "features"
    assert str(caught.value) == (
        "features names 'opne', which is not a covariate of dataset 'aapl'; its covariates: "
        "open, high, low, volume, calendar"
    )
    with pytest.raises(ConfigError, match="is the column forecast"):
        load_series(DataConfig(dataset="lincoln_weather"), features=("tmax",))
    with pytest.raises(ConfigError, match="features names one twice"):
        ForecastConfig(features=("open", "calendar", "open"))
    with pytest.raises(ConfigError, match="features are not read by the ablation"):
        ForecastConfig(features=("calendar",), ablation="features")
    path = tmp_path / "nodates.csv"
    path.write_text("v\n" + "".join(f"{d}\n" for d in range(20)))
    with pytest.raises(ConfigError, match="calendar, which needs dates"):
        load_series(DataConfig(data=path), features=("calendar",))


def test_missing_values_in_a_covariate_follow_the_fill_rule():
    dates = pd.bdate_range("2024-01-01", periods=5).to_numpy()
    row = lambda i: f"row {i + 1}"  # noqa: E731
    x, a = np.arange(5.0), np.array([1.0, np.nan, 3.0, 4.0, 5.0])
    kw = {"row": row, "column": "x", "source": "t", "covariates": {"a": a}}
    with pytest.raises(ConfigError, match="row 2, column 'a': missing value"):
        build_series(x, dates, **kw)
    dropped = build_series(x, dates, fill="drop", **kw)
    assert dropped.values.tolist() == [0, 2, 3, 4]
    assert dropped.covariates["a"].tolist() == [1, 3, 4, 5]
    filled = build_series(x, dates, fill="ffill", **kw)
    assert filled.covariates["a"].tolist() == [1, 1, 3, 4, 5]
    assert filled.head(2).covariates["a"].tolist() == [1, 1]
    with pytest.raises(RnnlabError, match="covariate 'a'"):
        Series(x, covariates={"a": np.array([1, 2, np.inf, 4, 5])})


def test_the_dataframe_api_pandas_in_pandas_out():
    series = _series(80)
    frame = pd.DataFrame(
        {"price": series.values, **series.covariates}, index=pd.DatetimeIndex(series.dates)
    )
    f = RecurrentForecaster(cell="gru", window=8, covariates=ALL, **TINY)
    f.fit(frame, val_size=10, column="price")
    out = f.predict(3)
    assert isinstance(out, pd.Series)
    assert len(out) == 3
    assert out.index[0] == pd.Timestamp(series.next_dates(1)[0])
    np.testing.assert_allclose(out.to_numpy(), f._predict_values(3, series))
    past = f.historical_forecasts(frame, 70)
    np.testing.assert_allclose(past.to_numpy(), f._historical_values(series, 70))
    with pytest.raises(ConfigError, match="covariates names 'close', which is not a column"):
        RecurrentForecaster(covariates=("close",)).fit(frame, column="price")
    with pytest.raises(ConfigError, match="covariates names columns"):
        RecurrentForecaster(covariates=("open",)).fit(series.values)
    with pytest.raises(ConfigError, match="covariate 'open' is not in the data"):
        RecurrentForecaster(covariates=("open",)).fit(Series(series.values))


def test_a_constant_or_negative_covariate_is_refused_naming_it():
    series = _series(40)
    flat = Series(series.values, series.dates, covariates={"open": np.ones(40)})
    with pytest.raises(ConfigError, match="covariate 'open': the training data is constant"):
        RecurrentForecaster(window=8, covariates=("open",), **TINY).fit(flat)
    neg = Series(series.values, series.dates, covariates={"volume": -np.ones(40)})
    with pytest.raises(ConfigError, match="covariate 'volume': value -1 at row 1 is negative"):
        RecurrentForecaster(window=8, covariates=("volume",), **TINY).fit(neg)


# -- checkpoints and the command line ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["mlp", "gru"])
def test_a_checkpoint_keeps_the_covariates_and_their_scalers(kind, tmp_path):
    from rnnlab.forecast.checkpoint import load_checkpoint, save_checkpoint

    series = _series(60)
    f = _model(kind).fit(series, val_size=10)
    save_checkpoint(f, tmp_path / "ckpt")
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["model"]["covariates"] == f.covariates_.to_dict()
    g = load_checkpoint(tmp_path / "ckpt")
    assert g.covariates == ALL
    assert isinstance(g.covariates_, CovariateScaler)
    np.testing.assert_allclose(g._predict_values(3), f._predict_values(3, series), rtol=1e-6)
    np.testing.assert_allclose(g._predict_values(2, series), f._predict_values(2, series))


def test_predict_reads_the_covariates_the_checkpoint_names(tmp_path, cli_here, user_error):
    from rnnlab.forecast.checkpoint import save_checkpoint

    series = _series(60)
    f = _model("gru").fit(series, val_size=10)
    save_checkpoint(f, tmp_path / "ckpt")
    rows = pd.DataFrame({"date": pd.DatetimeIndex(series.dates), "v": series.values})
    rows = rows.assign(**series.covariates)
    rows.to_csv(tmp_path / "new.csv", index=False)
    r = cli_here("predict", "--model", str(tmp_path / "ckpt"), "--data", str(tmp_path / "new.csv"),
                 "--column", "v", "--horizon", "2", "--json")  # fmt: skip
    assert r.code == 0, r.err
    want = f._predict_values(2, series)
    np.testing.assert_allclose(json.loads(r.out)["predictions"], want, rtol=1e-9)
    rows.drop(columns="volume").to_csv(tmp_path / "less.csv", index=False)
    r = cli_here("predict", "--model", str(tmp_path / "ckpt"), "--data", str(tmp_path / "less.csv"),
                 "--column", "v", "--json")  # fmt: skip
    user_error(r, "--data: the model reads the covariates open, volume, calendar", "'volume'")


def test_forecast_with_features_on_the_command_line(cli_here, user_error):
    r = cli_here(
        "forecast", "--quick", "--features", "open,volume,calendar",
        "--models", "persistence,gru", "--json", "--no-report",
    )  # fmt: skip
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["config"]["features"] == ["open", "volume", "calendar"]
    assert set(out["test"]) == {"persistence", "gru"}
    assert np.isfinite(out["test"]["gru"]["rmse"])
    r = cli_here("forecast", "--quick", "--features", "open,vol", "--no-report", "--json")
    user_error(r, "--features", "'vol'", "open, high, low, volume, calendar")
