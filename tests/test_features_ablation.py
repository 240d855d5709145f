"""The MLP's hand-made features by name (forecast JSON, train, config.json) and the feature
ablation (`forecast --ablation features`): columns against the series, the same split for
every variant, Diebold-Mariano p-values recomputed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.features import GROUPS, RAW, feature_names, mlp_features, select_features
from rnnlab.data.windows import WindowConfig
from rnnlab.forecast.ablation import FeatureMLP, run_ablation
from rnnlab.forecast.experiment import diebold_mariano
from rnnlab.forecast.inputs import as_series
from rnnlab.settings.forecasting import ForecastConfig
from rnnlab.settings.training import NetConfig, TrainConfig


def test_raw_window_and_groups_are_the_right_columns():
    s = np.arange(40, dtype=float) ** 1.5
    t = np.array([20, 25, 39])
    X, names = select_features(s, t, None, (RAW,), 10)
    assert names[0] == "s_(t-10)"
    assert names[-1] == "s_(t-1)"
    np.testing.assert_array_equal(X, np.stack([s[t - k] for k in range(10, 0, -1)], axis=1))
    dates = np.array(["2024-01-01", "2024-01-02", "2024-01-07"], dtype="datetime64[D]")
    every = mlp_features(s, t, dates)
    all_names = feature_names(True)
    for group, cols in GROUPS.items():
        X, names = select_features(s, t, dates, (group,), 10)
        assert names == list(cols)
        np.testing.assert_array_equal(X, every[:, [all_names.index(c) for c in cols]])
    X, _ = select_features(s, t, dates, ("yesterday",), 10)
    np.testing.assert_array_equal(X[:, 0], s[t - 1])  # yesterday's value
    X, _ = select_features(s, t, dates, ("mean_7",), 10)
    np.testing.assert_allclose(X[:, 0], [s[k - 7 : k].mean() for k in t], rtol=1e-15)
    X, _ = select_features(s, t, dates, ("day_of_week",), 10)  # Monday, Tuesday, Sunday
    np.testing.assert_allclose(X[:, 0], np.sin(2 * np.pi * np.array([0, 1, 6]) / 7), atol=1e-15)
    with pytest.raises(ValueError, match="need a series with dates"):
        select_features(s, t, None, ("day_of_week",), 10)


def test_feature_mlp_is_a_forecaster_with_its_parameter():
    f = FeatureMLP(features=("mean_7",), epochs=1)
    assert f.get_params()["features"] == ("mean_7",)
    assert "features=('mean_7',)" in repr(f)


def _config():
    return ForecastConfig(
        models=("rnn",),
        window=WindowConfig(window=10),
        net=NetConfig(hidden_size=4),
        train=TrainConfig(epochs=2, patience=0, seed=0),
    )


def test_ablation_scores_every_variant_on_one_split():
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2020-01-01", periods=300)
    series = as_series(pd.Series(50 + np.cumsum(rng.normal(size=300)), index=idx))
    r = run_ablation(series, _config())
    names = ["mlp(window)", *(f"mlp({g})" for g in GROUPS), "mlp(all)", "rnn(window)"]
    assert list(r.rows) == names
    split = _config().split(len(series))
    actual = series.values[split.val_end :]
    persistence = series.values[split.val_end - 1 : -1]
    rnn = r.rows["rnn(window)"].forecast
    for row in r.rows.values():
        assert row.forecast.shape == actual.shape
        assert row.p_value == diebold_mariano(actual, persistence, row.forecast)
        if row.name != "rnn(window)":
            assert row.p_rnn_better == diebold_mariano(actual, row.forecast, rnn)
    assert r.rows["rnn(window)"].p_rnn_better is None
    assert r.rows["mlp(all)"].features == feature_names(True)
    assert r.rows["mlp(window)"].features[-1] == "s_(t-1)"
    assert r.persistence_rmse == pytest.approx(np.sqrt(np.mean((actual - persistence) ** 2)))
    assert "raw window" in r.verdict()
    json.dumps(r.to_dict(), allow_nan=False)


def test_no_dates_no_day_of_week_variant():
    rng = np.random.default_rng(1)
    r = run_ablation(as_series(50 + np.cumsum(rng.normal(size=250))), _config())
    assert "mlp(day_of_week)" not in r.rows
    assert r.rows["mlp(all)"].features == feature_names(False)


def test_features_named_in_forecast_train_and_checkpoint(cli_here, tmp_path):
    out = cli_here("forecast", "--quick", "--models", "mlp", "--no-report", "--json")
    assert out.code == 0, out.err
    assert json.loads(out.out)["features"] == {"mlp": feature_names(True)}
    out = cli_here("train", "--cell", "mlp", "--quick", "--out", str(tmp_path / "m"), "--json")
    assert out.code == 0, out.err
    assert json.loads(out.out)["features"] == feature_names(True)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["model"]["features"] == feature_names(True)
    out = cli_here("predict", "--model", str(tmp_path / "m"), "--json")
    assert out.code == 0, out.err  # the key is known to the loader


def test_ablation_cli_fits_80_columns(monkeypatch, capsys):
    from test_terminal_width import assert_fits, render_at

    argv = ["forecast", "--ablation", "features", "--quick", "--models", "rnn"]
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    assert_fits(out, whole=("mlp(day_of_week)", "rnn(window)"))
