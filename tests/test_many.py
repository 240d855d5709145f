"""Many series, one global model (:mod:`rnnlab.forecast.multi`, ``forecast --dataset a,b,c``).

Checked against hand computation: the global net's forecasts on a series are its shared module
on that series' windows with that series' own scaler; each scaler comes from its own training
part only (another series' test part, or this one's future, changes nothing it was fitted on);
the pooled skill is 1 − sqrt(Σ SSE)/sqrt(Σ SSE of persistence) over every test point. Several
steps ahead and with intervals: each global net's h-step forecasts on a series are its copy's
own (recursive: its one-step forecast of the series with its previous forecast appended), its
half-widths the conformal rank of that series' validation residuals, and the pooled per-step
skill and the pooled coverage are counted by hand from the per-series forecasts.
"""

from __future__ import annotations

import json
import math
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
        "horizons",
        "intervals",
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
    assert d["horizons"] is None
    assert d["intervals"] is None


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
        (("forecast", "--dataset", "aapl,msft", "--features", "volume"), "--features"),
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


# -- several steps ahead, intervals -----------------------------------------------------------

H = 3


@pytest.fixture(scope="module")
def ahead(series, config) -> ManyResult:
    """Three steps ahead (recursive) with 80 % split-conformal intervals."""
    return run_many(series, replace(config, horizon=H, level=(80.0,)))


def _forecasts(result: ManyResult, label: str, model: str, kind: str) -> np.ndarray:
    """(n_origins, H) forecasts of ``model`` on series ``label``, from the test origins."""
    hz = result.local[label].horizons if kind == "local" else result.ahead.horizons[kind][label]
    return hz.forecasts[model]


def test_global_h_step_forecasts_are_each_copy_origin_values(ahead, series):
    for label, s in series.items():
        member = ahead.shared["gru"].members[label]
        test_start = ahead.local[label].split.val_end
        origins = np.arange(test_start - 1, len(s) - 1)
        got = _forecasts(ahead, label, "gru", "global")
        expected = member._origin_values(s, origins, H)
        beyond = origins[:, None] + np.arange(1, H + 1) >= len(s)
        expected[beyond] = np.nan  # nothing there to score
        np.testing.assert_array_equal(got, expected)
        # step 1 is the one-step test forecast (checked by hand against the module above)
        np.testing.assert_allclose(got[:, 0], ahead.results["gru"][label].test_forecast)
    # recursive: step 2 from o is the one-step forecast of x_0 … x_o, x̂_{o+1|o}
    s, member = series["b"], ahead.shared["gru"].members["b"]
    o = ahead.local["b"].split.val_end + 4
    fed = Series(np.append(s.values[: o + 1], member._origin_values(s, [o], 1)[0, 0]))
    two = member._origin_values(fed, np.array([o + 1]), 1)[0, 0]
    i = o - (ahead.local["b"].split.val_end - 1)
    assert _forecasts(ahead, "b", "gru", "global")[i, 1] == pytest.approx(two, rel=1e-12)


def test_pooled_step_skill_by_hand(ahead):
    for model, kind in (("gru", "global"), ("gru", "local"), ("linear", "local")):
        pooled = ahead.pooled_steps(model, kind)
        assert pooled.n_series == 3
        for h in range(1, H + 1):
            sse = sse_p = n = 0.0
            skills = []
            for label, run in ahead.local.items():
                x, fc = run.series.values, _forecasts(ahead, label, model, kind)
                e_i = e_p_i = 0.0
                for row, o in enumerate(range(run.split.val_end - 1, len(x) - 1)):
                    if o + h < len(x):  # the target is in the test span
                        e_i += (x[o + h] - fc[row, h - 1]) ** 2
                        e_p_i += (x[o + h] - x[o]) ** 2  # persistence: x̂_{o+h|o} = x_o
                        n += 1
                sse, sse_p = sse + e_i, sse_p + e_p_i
                skills.append(1 - math.sqrt(e_i) / math.sqrt(e_p_i))  # same count, n cancels
            assert pooled.skill[h - 1] == pytest.approx(1 - math.sqrt(sse) / math.sqrt(sse_p))
            assert pooled.rmse[h - 1] == pytest.approx(math.sqrt(sse / n))
            assert pooled.mean_skill[h - 1] == pytest.approx(np.mean(skills))
            assert pooled.n[h - 1] == n
        # step 1 is the one-step pooling
        assert pooled.skill[0] == pytest.approx(ahead.pooled(model, kind).skill, rel=1e-12)
    frame = ahead.pooled_step_scores()
    row = frame.loc[("gru", "global", 2)]
    assert row["skill"] == pytest.approx(ahead.pooled_steps("gru", "global").skill[1])
    per_series = ahead.step_scores()
    assert len(per_series) == 3 * 4 * H  # series × (persistence, linear, gru, gru global) × h


def test_global_intervals_by_hand_and_pooled_coverage(ahead, series):
    for model, kind in (("gru", "global"), ("linear", "local")):
        inside = n = 0
        for label, s in series.items():
            split = ahead.local[label].split
            x, fc = s.values, _forecasts(ahead, label, model, kind)
            iv = ahead.ahead.intervals[kind][label]
            q = iv.conformal[model][0.8]["halfwidth"]
            if kind == "global":  # the rank of that series' own validation residuals, by hand
                member = ahead.shared[model].members[label]
                val_o = np.arange(split.train_end - 1, split.val_end - 1)
                fv = member._origin_values(s.head(split.val_end), val_o, H)
                for h in range(1, H + 1):
                    ok = val_o + h < split.val_end
                    r = np.sort(np.abs(x[val_o[ok] + h] - fv[ok, h - 1]))
                    k = math.ceil((len(r) + 1) * 0.8 - 1e-12)  # ⌈(n + 1)(1 − α)⌉
                    assert q[h - 1] == pytest.approx(r[k - 1], rel=1e-12)
            origins = np.arange(split.val_end - 1, len(x) - 1)
            step_inside = []
            for h in range(1, H + 1):
                rows = origins + h < len(x)
                hit = np.abs(x[origins[rows] + h] - fc[rows, h - 1]) <= q[h - 1]
                step_inside.append(int(hit.sum()))
                n += int(rows.sum()) if h == H else 0
            inside += step_inside[-1]
            cell = iv.conformal[model][0.8]
            assert cell["coverage"][H - 1] == pytest.approx(step_inside[-1] / (split.n_test - 2))
            pooled_width = ahead.pooled_coverage(model, kind, 80.0).width[label]
            assert pooled_width == pytest.approx([2 * v for v in q])  # per series, own units
        p = ahead.pooled_coverage(model, kind, 80.0)
        assert (p.inside[H - 1], p.n[H - 1]) == (inside, n)
        assert p.coverage[H - 1] == pytest.approx(inside / n)
    table = ahead.pooled_interval_scores()
    assert table.loc[("gru", "global", "conformal", 80.0, 1), "n"] == sum(
        run.split.n_test for run in ahead.local.values()
    )
    assert ahead.interval_scores().loc[("a", "gru", "global", "conformal", 80.0, H), "width"] > 0


def test_direct_and_pinball_global_nets_run(series, config):
    two = {"a": series["a"], "c": series["c"]}
    direct = run_many(two, replace(config, horizon=H, strategy="direct", loss="pinball"))
    net = direct.shared["gru"]
    assert net.forecaster._direct_steps() == H
    assert net.forecaster.loss == "pinball"
    for label, s in two.items():
        member = net.members[label]
        origins = np.arange(direct.local[label].split.val_end - 1, len(s) - 1)
        fc = direct.ahead.horizons["global"][label].forecasts["gru"]
        np.testing.assert_array_equal(fc[:-2], member._direct_values(s, origins[:-2], H))
    assert direct.ahead.horizons["global"]["a"].strategy == "direct"
    assert direct.pooled_steps("gru", "global").n_series == 2
    banded = run_many(two, replace(config, horizon=2, loss="pinball", level=(80.0,)))
    q = banded.pooled_coverage("gru", "global", 80.0, "quantile")  # the net's own quantiles
    assert q is not None
    assert len(q.coverage) == 1
    assert banded.pooled_coverage("gru", "global", 80.0).n == [
        sum(r.split.n_test - h for r in banded.local.values()) for h in range(2)
    ]
    d = json.loads(json.dumps(banded.to_dict(), allow_nan=False))
    assert {p["method"] for p in d["intervals"]["pooled"]} == {"conformal", "quantile"}


def test_cli_json_horizons_and_intervals(cli_here):
    argv = ("forecast", *QUICK, "--dataset", "aapl,msft", "--horizon", "3", "--level", "80")
    r = cli_here(*argv, "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    hz, iv = d["horizons"], d["intervals"]
    assert hz["steps"] == [1, 2, 3]
    assert hz["strategy"] == "recursive"
    assert set(hz["per_series"]["msft"]["global"]["gru"]) == {"rmse", "mae", "skill"}
    pooled = {(p["model"], p["kind"]): p for p in hz["pooled"]}
    assert set(pooled) == {("persistence", "local"), ("linear", "local"), ("gru", "local")} | {
        ("gru", "global")
    }
    assert len(pooled[("gru", "global")]["skill"]) == 3
    assert iv["levels"] == [80.0]
    cover = {(p["model"], p["kind"], p["method"]): p for p in iv["pooled"]}
    g = cover[("gru", "global", "conformal")]
    assert set(g["width"]) == {"aapl", "msft"}
    assert len(g["coverage"]) == 3
    assert g["coverage"][0] == g["inside"][0] / g["n"][0]
    assert set(iv["per_series"]["aapl"]["global"]["next"]["gru"]) == {"80"}
    assert len(d["next"]["aapl"]["dates"]) == 3
    assert len(d["next"]["aapl"]["values"]["global"]["gru"]) == 3
    assert "3 steps ahead" in d["verdict"]
    r = cli_here(*argv, "--strategy", "direct", "--loss", "pinball", "--tail", "260", "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["horizons"]["strategy"] == "direct"
    assert {p["method"] for p in d["intervals"]["pooled"]} == {"conformal", "quantile"}
