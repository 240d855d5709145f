"""Many series, one global model (:mod:`rnnlab.forecast.multi`, ``forecast --dataset a,b,c``).

Checked against hand computation: the global net's forecasts on a series are its shared module
on that series' windows with that series' own scaler; each scaler comes from its own training
part only (another series' test part, or this one's future, changes nothing it was fitted on);
the pooled skill is 1 − sqrt(Σ SSE)/sqrt(Σ SSE of persistence) over every test point.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.data.series import Series
from rnnlab.forecast import ForecastConfig, ManyResult, run_many
from rnnlab.forecast.multi import fit_global, split_of

W = 10  # window
QUICK = ("--quick", "--no-report", "--models", "persistence,linear,gru")


def _walk(n: int, seed: int, scale: float, start: str) -> Series:
    """A random walk with a little momentum, on business days from ``start``."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 1.0, n)
    steps[1:] += 0.3 * steps[:-1]
    dates = pd.bdate_range(start, periods=n).to_numpy()
    return Series(100 * scale + scale * np.cumsum(steps), dates, name=f"walk{seed}")


@pytest.fixture(scope="module")
def config() -> ForecastConfig:
    quick = ForecastConfig.quick()
    return replace(
        quick,
        models=("persistence", "linear", "gru"),
        window=replace(quick.window, window=W),
        net=replace(quick.net, hidden_size=8),
        train=replace(quick.train, epochs=2),
    )


@pytest.fixture(scope="module")
def series() -> dict[str, Series]:
    """Three series of different lengths, scales and dates (b starts a year later)."""
    return {
        "a": _walk(260, 1, 1.0, "2010-01-04"),
        "b": _walk(200, 2, 30.0, "2011-01-03"),
        "c": _walk(230, 3, 0.1, "2010-06-01"),
    }


@pytest.fixture(scope="module")
def result(series, config) -> ManyResult:
    return run_many(series, config)


def _by_hand(module, s: Series, n_train: int, start: int) -> tuple[np.ndarray, float, float]:
    """x̂_t for t = start … N−1 from ``module``, the series' diffs standardised with the mean
    and std of its training part: (forecasts, mean, std)."""
    x = s.values
    z_train = np.diff(x[:n_train])  # z_t = x_t − x_{t−1} on the training part only
    mean, std = z_train.mean(), z_train.std()
    s_all = np.concatenate([[np.nan], (np.diff(x) - mean) / std])  # s_t = (z_t − mean) / std
    t = np.arange(start, len(x))
    X = np.stack([s_all[i - W : i] for i in t])[:, :, None]  # (n, W, 1)
    with torch.no_grad():
        s_hat = module.eval()(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    return x[t - 1] + (mean + std * s_hat), mean, std  # x̂_t = x_{t−1} + ẑ_t


def test_global_forecasts_are_the_shared_module_on_each_series_own_windows(result, series):
    module = result.shared["gru"].forecaster.module_
    for label, s in series.items():
        split = result.local[label].split
        member = result.shared["gru"].members[label]
        assert member.module_ is module  # one net for all series
        expected, mean, std = _by_hand(module, s, split.n_train, split.val_end)
        got = result.results["gru"][label].test_forecast
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9 * std)
        scaler = member.preprocessor_.scaler_
        assert (scaler.mean, scaler.std) == pytest.approx((mean, std), rel=1e-12)
    # the windows of every series were pooled: as many as their training targets together
    counts = result.shared["gru"].windows
    for label in series:
        split = result.local[label].split
        assert counts[label] == (split.n_train - (W + 1), split.n_val)


def test_one_series_global_is_the_local_model(series, config):
    """With one series the global net sees exactly the local one's windows: same forecasts."""
    one = run_many({"a": series["a"]}, config)
    local = one.local["a"].results["gru"].test_forecast
    np.testing.assert_allclose(one.results["gru"]["a"].test_forecast, local, rtol=1e-12)


def _perturbed(s: Series, start: int, factor: float) -> Series:
    values = s.values.copy()
    values[start:] = values[start:] * factor + 5.0
    return Series(values, s.dates, name=s.name)


def test_each_scaler_and_the_fit_see_training_parts_only(series, config):
    base = fit_global("gru", series, config)
    test_b = split_of("b", series["b"], config).val_end
    other = fit_global("gru", {**series, "b": _perturbed(series["b"], test_b, 3.0)}, config)
    test_a = split_of("a", series["a"], config).val_end
    k = test_a + 7
    future = fit_global("gru", {**series, "a": _perturbed(series["a"], k, 0.5)}, config)
    weights = base.forecaster.module_.state_dict()
    for changed in (other, future):  # the fit (weights and every scaler) is the same
        for name, tensor in changed.forecaster.module_.state_dict().items():
            assert torch.equal(tensor, weights[name]), name
        for label in series:
            assert changed.members[label].preprocessor_.to_dict() == (
                base.members[label].preprocessor_.to_dict()
            )
    a = base.members["a"]._historical_values(series["a"], test_a)
    np.testing.assert_array_equal(other.members["a"]._historical_values(series["a"], test_a), a)
    moved = future.members["a"]._historical_values(_perturbed(series["a"], k, 0.5), test_a)
    n_before = k - test_a + 1  # x̂_t for t ≤ k uses x_{t−1}, before the change, only
    np.testing.assert_array_equal(moved[:n_before], a[:n_before])
    assert not np.allclose(moved[n_before:], a[n_before:])


def test_pooled_skill_by_hand(result):
    for model, kind in (("gru", "global"), ("gru", "local"), ("linear", "local")):
        sse = sse_p = 0.0
        skills = []
        for label, run in result.local.items():
            r = run.results[model] if kind == "local" else result.results[model][label]
            x = run.test_actual
            e = np.sum((x - r.test_forecast) ** 2)
            e_p = np.sum((x - run.results["persistence"].test_forecast) ** 2)
            sse, sse_p = sse + e, sse_p + e_p
            skills.append(1 - np.sqrt(e / len(x)) / np.sqrt(e_p / len(x)))
        p = result.pooled(model, kind)
        assert p.skill == pytest.approx(1 - np.sqrt(sse) / np.sqrt(sse_p), rel=1e-12)
        assert p.mean_skill == pytest.approx(np.mean(skills), rel=1e-12)
        assert p.n_test == sum(len(run.test_actual) for run in result.local.values())
        assert p.n_series == 3


def test_scores_frame_and_json(result):
    df = result.scores()
    assert set(df["series"]) == {"a", "b", "c"}
    assert len(df) == 3 * 4  # persistence, linear, gru local; gru global
    g = df[(df["kind"] == "global") & (df["series"] == "b")].iloc[0]
    assert g["skill"] == pytest.approx(result.results["gru"]["b"].scores.skill)
    d = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert d["global_vs_local"]["gru"]["of"] == 3
    assert d["series"]["b"]["first"] == "2011-01-03"


def test_a_dataframe_of_series_with_different_starts(series, config):
    """Columns of one frame; b's rows before it starts are NaN and are not part of it."""
    frame = pd.DataFrame(
        {label: pd.Series(s.values, index=pd.DatetimeIndex(s.dates)) for label, s in series.items()}
    )
    many = run_many(frame, replace(config, models=("persistence", "linear")))
    assert {k: len(s) for k, s in many.series.items()} == {k: len(s) for k, s in series.items()}
    assert list(many.scores()["series"].unique()) == ["a", "b", "c"]


def test_cli_json(cli_here):
    r = cli_here("forecast", *QUICK, "--dataset", "aapl,msft", "--tail", "260", "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert set(d) == {
        "series",
        "config",
        "definitions",
        "scores",
        "pooled",
        "global_vs_local",
        "next",
        "training",
        "failed",
        "verdict",
        "seconds",
    }
    assert list(d["series"]) == ["aapl", "msft"]
    assert {(s["series"], s["model"], s["kind"]) for s in d["scores"]} >= {
        ("aapl", "gru", "global"),
        ("msft", "gru", "local"),
        ("msft", "linear", "local"),
    }
    assert {(p["model"], p["kind"]) for p in d["pooled"]} == {
        ("persistence", "local"),
        ("linear", "local"),
        ("gru", "local"),
        ("gru", "global"),
    }
    assert set(d["next"]["aapl"]["global"]) == {"gru"}


def test_cli_csv_columns_and_metrics_file(cli_here, tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    dates = pd.bdate_range("2020-01-01", periods=n).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"date": dates, "a": 50 + np.cumsum(rng.normal(size=n))})
    frame["b, usd"] = 80 + np.cumsum(rng.normal(size=n))
    path = tmp_path / "f.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    models = ("--models", "persistence,linear")
    r = cli_here("forecast", "--quick", *models, "--data", str(path), "--column", "a,b, usd")
    assert r.code == 2  # 'b' and 'usd' are no columns
    assert "--column" in r.err
    argv = ("forecast", "--quick", *models, "--data", str(path), "--json", "--no-report")
    r = cli_here(*argv, "--column", "b, usd")
    assert r.code == 0, r.err
    assert json.loads(r.out)["series"]["column"] == "b, usd"  # one column, its name has a comma
    frame.rename(columns={"b, usd": "b"}).to_csv(path, index=False)
    argv = ("forecast", "--quick", *models, "--data", str(path), "--column", "a,b")
    r = cli_here(*argv, "--out", str(out), "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert list(d["series"]) == ["a", "b"]
    assert json.loads((out / "metrics.json").read_text())["series"] == d["series"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("forecast", "--dataset", "aapl,nope"), "--dataset: unknown dataset 'nope'"),
        (("forecast", "--dataset", "aapl,,msft"), "--dataset: has an empty name"),
        (("forecast", "--dataset", "aapl,aapl"), "--dataset: names aapl twice"),
        (("forecast", "--dataset", "aapl,msft", "--column", "nope"), "--column"),
        (("forecast", "--dataset", "aapl,msft", "--column", "open,close"), "--column"),
        (("forecast", "--dataset", "aapl,msft", "--backtest", "3"), "--backtest"),
        (("forecast", "--dataset", "aapl,msft", "--task", "direction"), "--task"),
        (("forecast", "--dataset", "aapl,msft", "--ablation", "features"), "--ablation"),
        (("forecast", "--dataset", "aapl,msft", "--horizon", "3"), "--horizon"),
        (("train", "--dataset", "aapl,msft", "--out", "never"), "--dataset: names 2 series"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli_here, user_error, argv, needle):
    extra = "--no-report" if argv[0] == "forecast" else "--json"
    user_error(cli_here(*argv, "--quick", extra), needle)


def test_library_errors_name_fields(series, config):
    from rnnlab.config import ConfigError

    with pytest.raises(ConfigError, match=r"^backtest is for one series"):
        run_many(series, replace(config, backtest=3))
    short = {"a": series["a"], "tiny": _walk(20, 9, 1.0, "2020-01-01")}
    with pytest.raises(ConfigError, match=r"series tiny: too few rows: 20") as caught:
        run_many(short, config)
    assert caught.value.field == "window"


def test_split_names_doctest():
    import doctest

    import rnnlab.settings.data

    assert doctest.testmod(rnnlab.settings.data).failed == 0
