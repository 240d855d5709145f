"""Rolling-origin backtests: no origin sees a value after it (the future perturbed, the
forecasts and the refits unchanged), each fit sees only its data, the scores by hand, the
Diebold-Mariano HAC p against statsmodels and a hand-written Newey-West, the h = 1 case
against the plain formula, and the command line (JSON keys, files, one-line errors, 80
columns)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from rnnlab.config import ConfigError
from rnnlab.data.series import Series
from rnnlab.data.windows import WindowConfig
from rnnlab.forecast.backtest import backtest_origins, run_backtest
from rnnlab.forecast.backtest_result import holm, score_backtest
from rnnlab.forecast.base import Forecaster
from rnnlab.forecast.dm import dm_pvalue, dm_statistic
from rnnlab.forecast.experiment import diebold_mariano
from rnnlab.forecast.nets import NetConfig
from rnnlab.forecast.training import TrainConfig
from rnnlab.settings.forecasting import ForecastConfig

RNG = np.random.default_rng(11)
N = 200
X = 50 + np.cumsum(RNG.normal(size=N)) + 2 * np.sin(np.arange(N) * 2 * np.pi / 7)
BASELINES = ("persistence", "moving_average", "linear", "seasonal_naive", "drift")


def _config(models=BASELINES, **kw) -> ForecastConfig:
    kw = {"backtest": 4, "horizon": 3, "refit": "never", **kw}
    return ForecastConfig(
        models=models,
        window=WindowConfig(window=10, target="diff", scaler="standard"),
        net=NetConfig(hidden_size=4),
        train=TrainConfig(epochs=2, patience=0, seed=0),
        ma_window=3,
        season=7,
        **kw,
    )


@pytest.fixture(scope="module")
def dated() -> Series:
    return Series(X.copy(), pd.date_range("2020-01-06", periods=N, freq="B").values)


def test_origins_are_spread_over_the_test_span():
    # T = 170, N = 200: o_k = 169 + ⌊(k − 1)·29/3 + ½⌋ from T − 1 = 169 to N − 2 = 198
    np.testing.assert_array_equal(backtest_origins(170, 200, 4), [169, 179, 188, 198])
    np.testing.assert_array_equal(backtest_origins(170, 200, 1), [169])
    np.testing.assert_array_equal(backtest_origins(170, 200, 30), np.arange(169, 199))
    with pytest.raises(ConfigError) as caught:
        backtest_origins(170, 200, 31)
    assert caught.value.field == "backtest"
    assert "31 origins" in str(caught.value)
    assert "--" not in str(caught.value)


@pytest.mark.parametrize("refit", ["never", "once", "every"])
def test_no_value_after_an_origin_is_used(refit, dated):
    """Every value after an origin changed wildly: that origin's forecasts and half-widths
    (and, with refit every, its refitted models') do not move; later origins' do."""
    config = _config((*BASELINES, "gru"), refit=refit, level=(80.0,))
    before = run_backtest(dated, config)
    k = 1  # the second origin: with refit every, a refit of its own
    o = int(before.origins[k])
    values = dated.values.copy()
    values[o + 1 :] = values[o + 1 :] * 3 + 1000
    after = run_backtest(Series(values, dated.dates), config)
    assert set(before.forecasts) == {*BASELINES, "gru"}
    for name, fc in before.forecasts.items():
        np.testing.assert_array_equal(fc[: k + 1], after.forecasts[name][: k + 1], err_msg=name)
        q, q2 = before.intervals[name].halfwidths[80.0], after.intervals[name].halfwidths[80.0]
        np.testing.assert_array_equal(q[: k + 1], q2[: k + 1], err_msg=name)
    moved = (
        before.forecasts["persistence"][k + 1 :, 0] != after.forecasts["persistence"][k + 1 :, 0]
    )
    assert moved.all()


def test_rolling_half_widths_use_no_value_after_the_origin(dated):
    config = _config(("drift", "linear"), level=(80.0, 95.0), calibration="rolling")
    before = run_backtest(dated, config)
    k = 2
    o = int(before.origins[k])
    values = dated.values.copy()
    values[o + 1 :] += 50.0
    after = run_backtest(Series(values, dated.dates), config)
    for name in ("persistence", "drift", "linear"):
        for lv in (80.0, 95.0):
            q, q2 = before.intervals[name].halfwidths[lv], after.intervals[name].halfwidths[lv]
            np.testing.assert_array_equal(q[: k + 1], q2[: k + 1])
            assert not np.array_equal(q, np.tile(q[0], (len(q), 1)))  # it does roll


@pytest.mark.parametrize("refit", ["never", "once", "every"])
def test_each_fit_sees_only_the_data_up_to_its_origin(refit, dated, monkeypatch):
    seen = []
    real = Forecaster.fit

    def spy(self, data, val_size=0, progress=None, **kw):
        seen.append((self.name, len(data), val_size))
        return real(self, data, val_size, progress, **kw)

    monkeypatch.setattr(Forecaster, "fit", spy)
    result = run_backtest(dated, _config(("linear",), refit=refit))
    sp = result.split
    T, V = sp.val_end, sp.n_val
    linear = [(n, v) for name, n, v in seen if name == "linear"]
    expected = {
        "never": [(T, V)],
        "once": [(T, V), (T, 0)],  # the refit: all of x_0 … x_{T−1}, nothing held out
        "every": [(T, V), *((int(o) + 1, V) for o in result.origins[1:])],
    }[refit]
    assert linear == expected
    assert all(n <= int(result.origins[-1]) + 1 for _, n, _ in seen)


def test_every_at_the_first_origin_is_the_never_fit_and_once_differs(dated):
    config = _config(("linear", "drift"))
    never = run_backtest(dated, config)
    every = run_backtest(dated, _config(("linear", "drift"), refit="every"))
    once = run_backtest(dated, _config(("linear", "drift"), refit="once"))
    for name in ("linear", "drift"):
        np.testing.assert_array_equal(every.forecasts[name][0], never.forecasts[name][0])
        assert not np.allclose(once.forecasts[name], never.forecasts[name])
        assert not np.allclose(every.forecasts[name][1:], never.forecasts[name][1:])
    assert len(once.fit_seconds["linear"]) == 2
    assert len(every.fit_seconds["linear"]) == len(every.origins)


def test_scores_by_hand_for_persistence_and_drift():
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 8.0, 7.0, 9.0, 12.0, 10.0])
    origins = np.array([5, 7, 8])  # x_o = 8, 9, 12
    b = 0.5
    H = 2
    actual = np.array([[7.0, 9.0], [12.0, 10.0], [10.0, np.nan]])
    drift = x[origins][:, None] + b * np.arange(1, H + 1)[None, :]
    drift[2, 1] = np.nan
    pers = np.repeat(x[origins][:, None], H, axis=1)
    pers[2, 1] = np.nan
    s = score_backtest(actual, {"drift": drift, "persistence": pers}, x[origins])
    # drift's errors: o=5: 7−8.5 = −1.5, 9−9 = 0; o=7: 12−9.5 = 2.5, 10−10 = 0; o=8: 10−12.5
    e = {5: [-1.5, 0.0], 7: [2.5, 0.0], 8: [-2.5]}
    ep = {5: [-1.0, 1.0], 7: [3.0, 1.0], 8: [-2.0]}  # persistence's: x_{o+h} − x_o

    def rms(v):
        return math.sqrt(sum(t * t for t in v) / len(v))

    d = s["drift"]
    assert d.origin_rmse == pytest.approx([rms(e[o]) for o in (5, 7, 8)])
    assert d.origin_mae == pytest.approx([0.75, 1.25, 2.5])
    assert d.origin_skill == pytest.approx([1 - rms(e[o]) / rms(ep[o]) for o in (5, 7, 8)])
    assert d.step_rmse == pytest.approx([rms([-1.5, 2.5, -2.5]), rms([0.0, 0.0])])
    assert d.step_mae == pytest.approx([6.5 / 3, 0.0])
    assert d.step_skill == pytest.approx([1 - rms([-1.5, 2.5, -2.5]) / rms([-1, 3, -2]), 1.0])
    pooled = [-1.5, 0.0, 2.5, 0.0, -2.5]
    assert d.rmse == pytest.approx(rms(pooled))
    assert d.mae == pytest.approx(6.5 / 5)
    assert d.skill == pytest.approx(1 - rms(pooled) / rms([-1, 1, 3, 1, -2]))
    p = s["persistence"]
    assert p.step_skill == [0.0, 0.0]
    assert p.skill == 0.0
    assert p.step_p == [None, None]  # the same errors: nothing to test
    assert d.step_p[0] == dm_pvalue(actual[:, 0], x[origins], drift[:, 0], 1, small_sample=True)


def test_run_backtest_scores_drift_by_hand(dated):
    result = run_backtest(dated, _config(("drift",), horizon=3))
    x, T, n_train = dated.values, result.split.val_end, result.split.n_train
    slope = (x[n_train - 1] - x[0]) / (n_train - 1)  # fitted on the training part only
    for i, o in enumerate(result.origins.tolist()):
        for h in range(1, 4):
            if o + h < N:
                assert result.forecasts["drift"][i, h - 1] == pytest.approx(x[o] + h * slope)
                assert result.actual[i, h - 1] == x[o + h]
            else:
                assert np.isnan(result.actual[i, h - 1])
    assert result.origins[0] == T - 1
    assert result.origins[-1] == N - 2
    e = result.actual - result.forecasts["drift"]
    ep = result.actual - x[result.origins][:, None]
    for h in range(3):
        ok = ~np.isnan(e[:, h])
        rmse = np.sqrt(np.mean(e[ok, h] ** 2))
        assert result.scores["drift"].step_rmse[h] == pytest.approx(rmse)
        skill = 1 - rmse / np.sqrt(np.mean(ep[ok, h] ** 2))
        assert result.scores["drift"].step_skill[h] == pytest.approx(skill)
        assert result.counts()[h] == ok.sum()
    ok = ~np.isnan(e)
    assert result.scores["drift"].rmse == pytest.approx(np.sqrt(np.mean(e[ok] ** 2)))


def _newey_west(d: np.ndarray, lags: int) -> float:
    """The long-run variance by hand: γ_0 + 2 Σ (1 − j/(L+1)) γ_j, times n/(n − 1)."""
    n, c = d.size, d - d.mean()
    v = c @ c / n
    for j in range(1, lags + 1):
        v += 2 * (1 - j / (lags + 1)) * (c[j:] @ c[:-j]) / n
    return v * n / (n - 1)


@pytest.mark.parametrize("h", [1, 2, 5])
def test_dm_hac_against_statsmodels_and_by_hand(h):
    import statsmodels.api as sm
    from scipy.stats import norm

    rng = np.random.default_rng(h)
    n = 80
    actual = rng.normal(size=n).cumsum()
    shocks = rng.normal(size=n + h)
    base = actual + np.convolve(shocks, np.ones(h), "valid")[:n]  # MA(h − 1) errors
    model = actual + 0.9 * np.convolve(rng.normal(size=n + h), np.ones(h), "valid")[:n]
    d = (actual - base) ** 2 - (actual - model) ** 2
    fit = sm.OLS(d, np.ones(n)).fit(
        cov_type="HAC", cov_kwds={"maxlags": h - 1, "use_correction": True}, use_t=False
    )
    p = dm_pvalue(actual, base, model, horizon=h)
    assert p == pytest.approx(norm.sf(fit.tvalues[0]), rel=1e-9)
    by_hand = d.mean() / math.sqrt(_newey_west(d, h - 1) / n)
    assert dm_statistic(d, h - 1) == pytest.approx(by_hand, rel=1e-9)


@pytest.mark.parametrize(("n", "h"), [(4, 3), (12, 1), (30, 5)])
def test_dm_small_sample_correction(n, h):
    """Harvey, Leybourne & Newbold (1997): DM·sqrt((n + 1 − 2h + h(h − 1)/n)/n) against
    Student's t with n − 1 degrees of freedom."""
    from scipy.stats import t as student

    rng = np.random.default_rng(n)
    actual = rng.normal(size=n)
    base, model = actual + rng.normal(size=n), actual + 0.5 * rng.normal(size=n)
    d = (actual - base) ** 2 - (actual - model) ** 2
    dm = dm_statistic(d, h - 1)
    factor = math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    p = dm_pvalue(actual, base, model, h, small_sample=True)
    assert p == pytest.approx(student.sf(dm * factor, n - 1), rel=1e-9)
    assert p > dm_pvalue(actual, base, model, h)  # bolder without: the normal's thin tails
    assert dm_pvalue(actual[:4], base[:4], model[:4], 5, small_sample=True) is None  # 4+1−10+5


def test_holm_is_statsmodels_holm():
    from statsmodels.stats.multitest import multipletests

    p = [0.03, None, 0.2, 0.5, 0.01, 0.04]
    given = [v for v in p if v is not None]
    expected = iter(multipletests(given, method="holm")[1])
    assert holm(p) == [None if v is None else pytest.approx(next(expected)) for v in p]
    assert holm([None, None]) == [None, None]


def test_dm_at_h1_is_the_plain_formula():
    rng = np.random.default_rng(0)
    actual = rng.normal(size=60).cumsum()
    base, model = actual + rng.normal(size=60), actual + 0.8 * rng.normal(size=60)
    d = (actual - base) ** 2 - (actual - model) ** 2
    dm = d.mean() / math.sqrt(np.var(d, ddof=1) / d.size)  # the formula experiment.py had
    assert diebold_mariano(actual, base, model) == pytest.approx(
        0.5 * math.erfc(dm / math.sqrt(2)), rel=1e-9
    )
    # statsmodels' default (no small-sample correction) is var with ddof = 0: DM larger by
    # sqrt(n/(n − 1)); this implementation keeps ddof = 1, the test's long-standing value
    plain = d.mean() / math.sqrt(np.var(d) / d.size)
    assert plain / dm == pytest.approx(math.sqrt(60 / 59))
    assert diebold_mariano(actual, base, base) is None


def test_pandas_in_pandas_out_and_json():
    index = pd.date_range("2021-03-01", periods=N, freq="D")
    result = run_backtest(pd.Series(X, index=index), _config(("drift", "linear"), level=(80.0,)))
    by_origin = result.per_origin()
    assert isinstance(by_origin.index, pd.DatetimeIndex)
    assert by_origin.index.name == "origin"
    assert by_origin.index[0] == index[result.origins[0]]
    assert by_origin[("drift", "rmse")].tolist() == result.scores["drift"].origin_rmse
    by_step = result.per_step()
    assert by_step.index.tolist() == [1, 2, 3]
    assert ("linear", "coverage 80") in by_step.columns
    data = result.to_dict()
    json.dumps(data, allow_nan=False)
    bt = data["backtest"]
    assert bt["models"]["persistence"]["per_step"]["p_value"] == [None, None, None]
    assert bt["forecasts"]["drift"][-1][1] is None  # past the data
    with pytest.raises(ConfigError) as caught:
        run_backtest(X, _config(backtest=None))
    assert caught.value.field == "backtest"


def test_cli_json_files_and_errors(cli_here, user_error, tmp_path):
    out = tmp_path / "bt"
    argv = ["forecast", "--quick", "--backtest", "3", "--horizon", "3"]
    argv += ["--models", "persistence,drift,linear", "--json", "--out", str(out)]
    r = cli_here(*argv)
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert {"dataset", "series", "split", "config", "backtest", "metrics", "plots"} <= set(data)
    bt = data["backtest"]
    for key in ("origins", "origin_rows", "horizon", "refit", "steps", "models", "verdict"):
        assert key in bt
    assert len(bt["origins"]) == 3
    assert bt["steps"] == [1, 2, 3]
    assert set(bt["models"]) == {"persistence", "drift", "linear"}
    assert set(bt["models"]["linear"]) >= {"pooled", "per_step", "per_origin", "fits"}
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "backtest_error.png",
        "backtest_fan.png",
        "metrics.json",
    ]
    assert json.loads((out / "metrics.json").read_text())["backtest"] == bt
    r = cli_here("forecast", "--quick", "--backtest", "100000", "--json", "--no-report")
    user_error(r, "--backtest")
    r = cli_here("forecast", "--quick", "--backtest", "500", "--json", "--no-report")
    user_error(r, "--backtest", "500 origins", "--test")


def test_the_tables_fit_80_columns(monkeypatch, capsys):
    from test_terminal_width import assert_fits, json_of, render_at

    argv = ["forecast", "--quick", "--backtest", "8", "--horizon", "7", "--no-report"]
    argv += ["--models", "moving_average,drift,linear", "--level", "80,95", "--refit", "every"]
    data = json_of(capsys, argv)["backtest"]
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    sc = data["models"]["linear"]
    whole = ["h=1", "h=7", "moving_average", data["verdict"], data["origins"][0]]
    whole += [f"{sc['per_step']['skill'][0]:+.4f}", f"{sc['pooled']['skill']:+.4f}"]
    assert_fits(out, whole=tuple(whole))


def test_verdict_names_every_model_that_beats_persistence_after_holm():
    """On a steady trend drift and the linear model both beat persistence at every step: the
    verdict is about the best and names the other too."""
    from rnnlab.data.series import Series as RSeries
    from rnnlab.forecast.backtest import run_backtest
    from rnnlab.settings.forecasting import ForecastConfig as Config

    t = np.arange(600, dtype=float)
    x = RSeries(10 + 0.5 * t + np.random.default_rng(0).normal(scale=0.3, size=600))
    config = Config(models=("persistence", "drift", "linear"), backtest=40, horizon=2)
    result = run_backtest(x, config)
    best = next(m for m in result.ranking() if m != "persistence")
    other = "linear" if best == "drift" else "drift"
    text = result.verdict()
    assert text.startswith(f"{best} beats persistence")
    assert f"Also significantly better than persistence (Holm): {other} at h=1" in text
