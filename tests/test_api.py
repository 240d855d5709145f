"""The Python API as a scikit-learn, darts or pandas user meets it: pandas and NumPy in, pandas
out, keyword constructors, get_params/set_params/clone/repr, threads put back after fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.data.series import Series
from rnnlab.data.windows import WindowConfig
from rnnlab.errors import RnnlabError
from rnnlab.forecast import (
    LinearAR,
    MLPForecaster,
    MovingAverage,
    NetConfig,
    Persistence,
    RecurrentForecaster,
    TrainConfig,
)

N = 120


def _prices(freq: str = "B") -> pd.Series:
    rng = np.random.default_rng(0)
    values = 100 + np.cumsum(rng.normal(0, 1, N)) + 3 * np.sin(np.arange(N) / 4)
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=N, freq=freq), name="px")


def _gru(**params) -> RecurrentForecaster:
    small = dict(cell="gru", hidden_size=4, window=8, target="diff", epochs=2, patience=0)
    return RecurrentForecaster(**(small | params))


def _same_forecasts(a: pd.Series, b: pd.Series) -> None:
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


@pytest.mark.parametrize(("freq", "offset"), [("B", pd.offsets.BDay()), ("D", pd.offsets.Day())])
def test_pandas_series_in_pandas_series_out(freq, offset):
    """fit(pd.Series with dates) gives the same numbers as fit(rnnlab Series); predict is
    indexed by the next dates, with the series' frequency."""
    y = _prices(freq)
    f = _gru().fit(y, val_size=20)
    g = _gru().fit(Series(y.to_numpy(), y.index.to_numpy()), val_size=20)
    forecast = f.predict(5)
    _same_forecasts(forecast, g.predict(5))
    expected = pd.date_range(y.index[-1] + offset, periods=5, freq=freq)
    assert list(forecast.index) == list(expected)
    assert forecast.index.freq == offset
    assert forecast.name == "gru"
    past = f.historical_forecasts(y, 100)
    assert list(past.index) == list(y.index[100:])
    np.testing.assert_array_equal(past.to_numpy(), g._historical_values(g.series_, 100))


def test_dataframe_with_column_and_date_column():
    y = _prices()
    frame = pd.DataFrame({"day": y.index, "close": y.to_numpy(), "volume": 1.0})
    f = _gru().fit(frame, val_size=20, column="close", date_column="day")
    g = _gru().fit(y, val_size=20)
    _same_forecasts(f.predict(3), g.predict(3))
    assert f.predict(3).index.name == "day"
    # the columns named at fit are used again for a frame given to predict
    _same_forecasts(f.predict(2, frame.head(100)), g.predict(2, y.head(100)))
    # a frame with a DatetimeIndex and one column needs neither
    _same_forecasts(Persistence().fit(y.to_frame()).predict(2), Persistence().fit(y).predict(2))
    with pytest.raises(RnnlabError, match=r"2 value columns \['close', 'volume'\]; name one"):
        Persistence().fit(frame, date_column="day")
    with pytest.raises(RnnlabError, match="column='open' is not a column"):
        Persistence().fit(frame, column="open")


def test_array_and_list_have_no_dates():
    y = _prices()
    f = _gru().fit(y.to_numpy(), val_size=20)
    forecast = f.predict(3)
    pd.testing.assert_index_equal(forecast.index, pd.RangeIndex(N, N + 3))
    _same_forecasts(forecast, _gru().fit(Series(y.to_numpy()), val_size=20).predict(3))
    ma = MovingAverage(k=2).fit([1.0, 2.0, 4.0, 8.0])
    assert ma.predict(2).tolist() == [6.0, 7.0]
    assert ma.historical_forecasts([1.0, 2.0, 4.0, 8.0], 2).index.tolist() == [2, 3]


def test_pandas_data_meets_the_same_validation_as_a_csv():
    y = _prices()
    gap = y.copy()
    gap.iloc[5] = np.nan
    with pytest.raises(RnnlabError, match=r"row 6 \(2024-01-08\), column 'px': missing value"):
        Persistence().fit(gap)
    with pytest.raises(RnnlabError, match="dates unsorted"):
        Persistence().fit(y.iloc[::-1])
    with pytest.raises(RnnlabError, match="is not a finite number"):
        Persistence().fit(np.array([1.0, np.inf, 2.0]))
    with pytest.raises(RnnlabError, match="the series is constant"):
        Persistence().fit([3.0, 3.0, 3.0])
    with pytest.raises(RnnlabError, match=r"1-D array .* got shape \(3, 2\)"):
        Persistence().fit(np.ones((3, 2)))
    with pytest.raises(RnnlabError, match="values must be numbers"):
        Persistence().fit(pd.Series(["a", "b", "c"]))


def test_every_forecaster_returns_pandas():
    y = _prices()
    models = [
        Persistence(),
        MovingAverage(k=3),
        LinearAR(window=5, target="diff"),
        MLPForecaster(window=8, hidden_size=4, epochs=1),
        _gru(epochs=1),
    ]
    for f in models:
        forecast = f.fit(y, val_size=10).predict(2)
        assert isinstance(forecast, pd.Series)
        assert forecast.name == f.name
        assert forecast.index[0] == y.index[-1] + pd.offsets.BDay()
        assert isinstance(f.historical_forecasts(y, 110), pd.Series)
        assert f._predict_values(2).tolist() == forecast.tolist()  # the NumPy path: same values


def test_keyword_constructor_get_set_params_and_clone():
    sklearn_base = pytest.importorskip("sklearn.base")
    f = RecurrentForecaster(cell="lstm", hidden_size=16, window=20, lr=0.01, clip=None)
    params = f.get_params()
    assert (params["cell"], params["hidden_size"], params["clip"]) == ("lstm", 16, None)
    assert (params["threads"], params["epochs"]) == (1, TrainConfig().epochs)  # the defaults
    assert f.set_params(layers=2, threads=None) is f
    assert f.layers == 2
    g = sklearn_base.clone(f)
    assert g is not f
    assert g.get_params() == f.get_params()
    assert not hasattr(g, "module_")
    assert repr(f) == (
        "RecurrentForecaster(window=20, cell='lstm', hidden_size=16, layers=2, lr=0.01, "
        "clip=None, threads=None)"
    )  # the settings that differ from the defaults, as scikit-learn shows them
    assert repr(RecurrentForecaster()) == "RecurrentForecaster()"
    assert repr(MovingAverage(k=3)) == "MovingAverage(k=3)"
    with pytest.raises(RnnlabError, match="has no parameter 'hidden'"):
        f.set_params(hidden=3)
    net = f.set_params(epochs=1).fit(_prices(), val_size=20).net_config
    assert (net.kind, net.hidden_size, net.layers) == ("lstm", 16, 2)


def test_older_config_form_still_works():
    f = RecurrentForecaster(NetConfig("gru", 4), WindowConfig(8, "diff"), TrainConfig(epochs=2))
    g = _gru(patience=TrainConfig().patience)
    y = _prices()
    _same_forecasts(f.fit(y, val_size=20).predict(2), g.fit(y, val_size=20).predict(2))
    assert f.name == "gru"
    assert RecurrentForecaster.from_configs(f.net, f.window, f.train).get_params() == (
        g.get_params()
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden_size": 0}, "hidden_size must be"),
        ({"window": 0}, "window must be"),
        ({"epochs": "3"}, "epochs must be a whole number, got '3'"),
        ({"clip": 0}, "clip must be above 0, got 0"),  # TrainConfig's clip_norm
        ({"target": "pct"}, "target must be one of level, diff, log-return; got 'pct'"),
        ({"cell": "tcn"}, "cell must be one of .*; got 'tcn'"),
        ({"threads": 0}, "threads must be a whole number at least 1, or None; got 0"),
    ],
)
def test_bad_parameters_are_named_at_fit(params, message):
    f = RecurrentForecaster(**params)  # __init__ only stores
    with pytest.raises(RnnlabError, match=message):
        f.fit(_prices())


def test_threads_are_put_back_after_fit_and_predict():
    original = torch.get_num_threads()
    seen: list[int] = []

    def record(report) -> None:
        seen.append(torch.get_num_threads())

    torch.set_num_threads(2)  # as a user's process may have it
    try:
        f = _gru(epochs=1)  # threads=1, the default
        f.fit(_prices(), val_size=20, progress=record)
        assert torch.get_num_threads() == 2  # put back
        f.predict(2)
        assert torch.get_num_threads() == 2
        f.set_params(threads=None).fit(_prices(), progress=record)  # None: torch's own setting
    finally:
        torch.set_num_threads(original)
    assert seen == [1, 2]


# scikit-learn's estimator checks. A forecaster is fitted on one series in time order, not on a
# feature matrix X with targets y, and predict takes a horizon, not X; so the checks that fit
# on random (n_samples, n_features) arrays do not apply. Those that do are the API checks.
APPLIES = (
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
)
NOT_APPLICABLE = {
    "fit(X, y) on random 2-D arrays (dtypes, memmaps, pickling, pipelines, sample order, "
    "n_features_in_, idempotence, dict unchanged, sparse, complex, NaN/inf, empty data)": (
        "a forecaster fits one 1-D series in time order; shuffling or subsetting the rows "
        "changes the data, and n_features_in_ has no meaning"
    ),
    "check_estimators_unfitted": (
        "predict before fit raises rnnlab's one-line RnnlabError, not sklearn's NotFittedError "
        "(rnnlab does not depend on scikit-learn)"
    ),
    "check_fit_score_takes_y": "no score(X, y): forecasts are scored by rnnlab.forecast.metrics",
}


@pytest.mark.parametrize("check", APPLIES)
@pytest.mark.parametrize(
    "estimator",
    [RecurrentForecaster(epochs=1), MLPForecaster(), Persistence(), MovingAverage(), LinearAR()],
    ids=lambda e: type(e).__name__,
)
def test_sklearn_api_checks(estimator, check):
    checks = pytest.importorskip("sklearn.utils.estimator_checks")
    getattr(checks, check)(type(estimator).__name__, estimator)
