"""Target modes, scaling on training data only, windows, splits, features, dates, datasets."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.data.features import day_of_week, feature_names, mlp_features
from rnnlab.data.series import Series, next_dates
from rnnlab.data.sources import DATASETS, load_dataset
from rnnlab.data.splits import chronological_split
from rnnlab.data.windows import Preprocessor, WindowConfig, to_level, to_model_space, windows
from rnnlab.errors import RnnlabError


@pytest.mark.parametrize("target", ["level", "diff", "log-return"])
def test_model_space_round_trip(target):
    x = np.array([10.0, 11.0, 10.5, 12.0, 12.5])
    z = to_model_space(x, target)
    # Rebuilding each level from the true z_t and the level before it gives x_t back exactly.
    np.testing.assert_allclose(to_level(z[1:], x[:-1], target), x[1:], rtol=1e-14)
    expected = {"level": x[1], "diff": 1.0, "log-return": np.log(11 / 10)}[target]
    assert z[1] == pytest.approx(expected)


def test_log_return_needs_positive_values():
    with pytest.raises(RnnlabError, match=r"needs positive values.*row 2"):
        to_model_space(np.array([1.0, 0.0, 2.0]), "log-return")


def test_windows_are_the_past_only():
    s = np.arange(10.0)
    w = windows(s, np.array([3, 9]), 3)
    np.testing.assert_array_equal(w, [[0, 1, 2], [6, 7, 8]])


def test_scaler_never_sees_validation_or_test_data():
    """The leakage rule: the same training part gives the same scaler whatever comes after."""
    rng = np.random.default_rng(0)
    train = rng.normal(100, 5, 200)
    later_a = rng.normal(100, 5, 80)
    later_b = rng.normal(1e6, 1e5, 80)  # a wildly different future
    for target in ("level", "diff"):
        cfg = WindowConfig(window=5, target=target)
        a = Preprocessor(cfg).fit(np.concatenate([train, later_a])[:200])
        b = Preprocessor(cfg).fit(np.concatenate([train, later_b])[:200])
        assert a.scaler_ == b.scaler_
        z = to_model_space(train, target)[cfg.lag :]
        assert a.scaler_.mean == pytest.approx(z.mean())
        assert a.scaler_.std == pytest.approx(z.std())


def test_forecaster_fit_uses_training_part_only():
    from rnnlab.forecast.baselines import LinearAR

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(50, 2, 300), rng.normal(500, 50, 100)])
    f = LinearAR(WindowConfig(window=4, target="level")).fit(Series(x), val_size=100)
    assert f.preprocessor_.scaler_.mean == pytest.approx(x[:300].mean())
    assert f.preprocessor_.scaler_.std == pytest.approx(x[:300].std())


def test_split_sizes_and_too_few_rows():
    sp = chronological_split(100, 0.15, 0.15, context=10)
    assert (sp.n_train, sp.n_val, sp.n_test) == (70, 15, 15)
    assert sp.val_end == 85
    assert sp.total == 100
    # 70 rows: 10 test + 10 validation (round(10.5) = 10), 50 train = 40 context + 10 targets;
    # 69 rows leave only 9 training targets.
    with pytest.raises(RnnlabError, match=r"too few rows: 40; .* needs at least 70") as err:
        chronological_split(40, 0.15, 0.15, context=40)
    assert str(err.value).endswith("(try a smaller window)")  # the field; the CLI says --window
    with pytest.raises(RnnlabError, match=r"^val the fraction must be in \[0, 1\)"):
        chronological_split(100, 1.5, 0.1)


def test_mlp_features_by_hand():
    s = np.arange(20.0) ** 2
    dates = np.array(["2024-01-08", "2024-01-14"], dtype="datetime64[ns]")  # Mon, Sun
    f = mlp_features(s, np.array([10, 12]), dates)
    assert f.shape == (2, len(feature_names(True)))
    t = 10
    expected = [s[t - 1], s[t - 2], s[t - 3], s[t - 4], s[t - 5], np.mean(s[t - 7 : t]), 0.0, 1.0]
    np.testing.assert_allclose(f[0], expected, atol=1e-12)
    np.testing.assert_allclose(f[1, -2:], [np.sin(2 * np.pi * 6 / 7), np.cos(2 * np.pi * 6 / 7)])
    assert mlp_features(s, np.array([10]), None).shape == (1, len(feature_names(False)))


def test_day_of_week_matches_numpy_busday():
    dates = np.arange("2024-01-01", "2024-01-15", dtype="datetime64[D]")
    dow = day_of_week(dates.astype("datetime64[ns]"))
    np.testing.assert_array_equal(dow[:7], [0, 1, 2, 3, 4, 5, 6])  # 2024-01-01 was a Monday
    np.testing.assert_array_equal(np.is_busday(dates), dow < 5)


def test_next_dates_follow_the_rhythm():
    two = np.array(["2024-01-01", "2024-01-04"], dtype="datetime64[ns]")
    trading = np.concatenate([np.arange("2023-12-04", "2024-01-06", dtype="datetime64[D]")])
    trading = trading[np.is_busday(trading)].astype("datetime64[ns]")
    out = next_dates(trading, 2)
    assert [str(d)[:10] for d in out] == ["2024-01-08", "2024-01-09"]  # skips the weekend
    months = np.array(
        ["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01"], dtype="datetime64[ns]"
    )
    assert str(next_dates(months, 1)[0])[:10] == "2020-05-01"
    assert str(next_dates(two, 1)[0])[:10] == "2024-01-07"  # too few to infer: the median gap


def test_embedded_stock_data_is_the_real_series():
    s = load_dataset("aapl")
    assert len(s) == 3270
    assert s.label(0) == "2000-03-01"
    assert s.label(len(s) - 1) == "2013-03-01"
    assert s.values[0] == pytest.approx(4.186662803811)  # first adj_close row of the file
    assert s.frequency == "daily (business days)"
    close = load_dataset("ibm", "close")
    assert close.values[0] == pytest.approx(100.25)


@pytest.mark.parametrize("name", [n for n in DATASETS if n not in ("aapl", "goog", "ibm", "msft")])
def test_every_other_dataset_loads(name):
    s = load_dataset(name)
    assert len(s) > 150
    assert s.dates is not None
    assert np.all(np.diff(s.dates.astype(np.int64)) > 0)


def test_dataset_errors():
    with pytest.raises(RnnlabError, match="unknown dataset 'nope'"):
        load_dataset("nope")
    with pytest.raises(RnnlabError, match=r"no column 'price'.*adj_close"):
        load_dataset("aapl", "price")


def test_scalers_round_trip_through_their_dicts():
    from rnnlab.data.scaling import MinMaxScaler, StandardScaler, scaler_from_dict

    for scaler in (MinMaxScaler(low=-2.0, high=5.0), StandardScaler(mean=3.0, std=0.5)):
        assert scaler_from_dict(scaler.to_dict()) == scaler
    p = Preprocessor(WindowConfig(window=3, target="diff")).fit(np.array([1.0, 3.0, 4.0, 9.0]))
    q = Preprocessor.from_dict(p.to_dict())
    assert q.config == p.config
    assert q.scaler_ == p.scaler_
