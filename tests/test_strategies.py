"""Direct multi-output forecasts, the pinball loss and the intervals wired into forecast.

References: hand-built targets and per-step least squares (numpy.linalg.lstsq), the pinball
formula written out, the conformal rank computed by hand from persistence's validation errors,
and coverage counted by hand from the forecasts and half-widths.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.data.series import Series
from rnnlab.data.windows import windows
from rnnlab.errors import RnnlabError
from rnnlab.forecast.baselines import LinearAR, Persistence
from rnnlab.forecast.experiment import run_forecast
from rnnlab.forecast.horizons import origin_forecasts
from rnnlab.forecast.intervals import conformal_quantile
from rnnlab.forecast.losses import interval_quantiles, pinball, quantile_loss
from rnnlab.forecast.neural import MLPForecaster, RecurrentForecaster
from rnnlab.forecast.training import _batch_loss
from rnnlab.settings.forecasting import ForecastConfig


def _walk(n: int = 400, seed: int = 0, dated: bool = True) -> Series:
    x = 100 + np.cumsum(np.random.default_rng(seed).normal(size=n))
    dates = pd.bdate_range("2020-01-01", periods=n).to_numpy() if dated else None
    return Series(x, dates)


@pytest.mark.parametrize("target", ["level", "diff", "log-return"])
def test_direct_targets_rebuild_the_future_levels(target):
    """Each step's target, unscaled and turned into a level from x_o, is x_{o+h} itself."""
    x = _walk(120)
    f = LinearAR(5, target=target, strategy="direct", horizon=4).fit(x, val_size=20)
    t = np.arange(10, 60)
    s = f.preprocessor_.transform(x.values)
    y = f._targets(x.values, s, t)  # (n, 4)
    assert y.shape == (len(t), 4)
    rebuilt = f.preprocessor_.to_level(y, x.values[t - 1][:, None])
    expect = x.values[t[:, None] - 1 + np.arange(1, 5)[None, :]]
    np.testing.assert_allclose(rebuilt, expect, rtol=1e-12)


def test_direct_linear_is_one_least_squares_per_step():
    """coef_[:, h] is the least-squares fit of step h's target on the same training windows."""
    x = _walk(300)
    W, H, val = 8, 3, 50
    f = LinearAR(W, target="diff", strategy="direct", horizon=H).fit(x, val_size=val)
    s = f.preprocessor_.transform(x.values)
    n_train = len(x) - val
    t = np.arange(W + 1, n_train - H + 1)  # every target inside the training part
    A = np.hstack([np.ones((len(t), 1)), windows(s, t, W)])
    diffs = x.values[t[:, None] - 1 + np.arange(1, H + 1)] - x.values[t - 1][:, None]
    scaler = f.preprocessor_.scaler_
    for h in range(H):
        beta, *_ = np.linalg.lstsq(A, (diffs[:, h] - scaler.mean) / scaler.std, rcond=None)
        np.testing.assert_allclose(f.coef_[:, h], beta[1:], atol=1e-9)
        assert f.intercept_[h] == pytest.approx(beta[0], abs=1e-9)


def test_direct_forecasts_read_only_the_past_and_agree_with_predict():
    x = _walk(300)
    f = LinearAR(10, strategy="direct", horizon=5).fit(x.head(250), val_size=40)
    origins = np.array([120, 200, 299])
    before = f._origin_values(x, origins, 5)
    # the last row is predict on the whole series; every row is predict on its past
    np.testing.assert_allclose(before[-1], f._predict_values(5, x))
    for i, o in enumerate(origins):
        np.testing.assert_allclose(before[i], f._predict_values(5, x.head(int(o) + 1)))
        changed = x.values.copy()
        changed[o + 1 :] *= 3.0  # a different future
        after = f._origin_values(Series(changed, x.dates), origins[i : i + 1], 5)
        np.testing.assert_array_equal(after[0], before[i])
    with pytest.raises(RnnlabError, match="horizon"):
        f._predict_values(6, x)  # more steps than it has outputs


@pytest.mark.parametrize("model", [MLPForecaster, RecurrentForecaster])
def test_direct_nets_have_one_output_per_step(model):
    x = _walk(260)
    f = model(window=10, hidden_size=4, epochs=2, strategy="direct", horizon=3)
    f.fit(x, val_size=40)
    assert f.module_(torch.zeros(2, *f._direct_inputs(x, np.array([100])).shape[1:])).shape == (
        2,
        3,
    )
    out = origin_forecasts(f, x, np.array([100, 258, 259]), 3)
    assert out.shape == (3, 3)
    assert np.isnan(out[1, 1:]).all()  # past the data
    assert np.isnan(out[2]).all()
    assert np.isfinite(out[0]).all()
    np.testing.assert_allclose(f._origin_values(x, np.array([259]), 3)[0], f._predict_values(3, x))


def test_pinball_loss_is_the_formula():
    pred = torch.tensor([[0.0, 1.0, 3.0]])
    y = torch.tensor([2.0])
    taus = (0.1, 0.5, 0.9)
    got = pinball(pred, y, taus)[0].tolist()
    want = [max(t * (2 - p), (t - 1) * (2 - p)) for t, p in zip(taus, [0.0, 1.0, 3.0], strict=True)]
    assert got == pytest.approx(want)
    assert interval_quantiles((0.8, 0.95)) == (0.025, 0.1, 0.5, 0.9, 0.975)
    # a direct quantile net: (B, H·Q) outputs against (B, H) targets
    loss = quantile_loss(taus)(torch.zeros(4, 2 * 3), torch.ones(4, 2))
    assert loss.shape == (4, 2, 3)
    assert loss[0, 0].tolist() == pytest.approx([0.1, 0.5, 0.9])


def test_batch_loss_of_a_multi_output_net_is_the_mean_squared_error():
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 4)
    X, y = torch.randn(10, 3), torch.randn(10, 4)
    idx = torch.arange(10)
    value, number = _batch_loss(net, X, y, idx, 0, 1)
    mse = torch.nn.functional.mse_loss(net(X), y)
    assert float(value.detach()) == pytest.approx(float(mse.detach()))
    assert number == pytest.approx(float(value.detach()))


def test_quantile_net_covers_gaussian_noise_near_nominal():
    """On i.i.d. N(10, 1) noise the 10 % and 90 % outputs should sit near 10 ∓ 1.2816: the
    80 % band's coverage on 500 new points lands within 0.06 of 0.8 (the binomial standard
    error is 0.018) and its width within 15 % of 2.563."""
    rng = np.random.default_rng(1)
    x = Series(10 + rng.normal(size=3000))
    f = MLPForecaster(
        window=10,
        hidden_size=16,
        epochs=30,
        lr=3e-3,
        target="level",
        loss="pinball",
        quantiles=(0.1, 0.9),
        strategy="direct",
        horizon=2,
    ).fit(x.head(2500), val_size=500)
    bands = f._quantile_values(x, np.arange(2500, 2999), 2)
    assert bands.shape == (499, 2, 3)
    assert np.all(np.diff(bands, axis=-1) >= 0)  # sorted quantiles
    y = x.values[2501:3000]
    inside = (bands[:, 0, 0] <= y) & (y <= bands[:, 0, 2])
    assert abs(inside.mean() - 0.8) < 0.06
    assert np.mean(bands[:, 0, 2] - bands[:, 0, 0]) == pytest.approx(2 * 1.2816, rel=0.15)


def test_forecast_intervals_are_the_conformal_rank_and_counted_coverage():
    """Persistence's half-width at step h is the ⌈(n+1)·0.8⌉-th smallest |x_{o+h} − x_o| over
    the validation origins; its coverage the share of test errors within it."""
    x = _walk(500, dated=False)
    config = ForecastConfig(models=("persistence", "drift"), horizon=3, level=(80.0,))
    result = run_forecast(x, config)
    sp = result.split
    iv = result.intervals
    assert iv.steps == 3
    v = x.values
    for h in (1, 2, 3):
        o = np.arange(sp.train_end - 1, sp.val_end - 1)
        o = o[o + h < sp.val_end]
        errors = np.sort(np.abs(v[o + h] - v[o]))
        rank = math.ceil((len(errors) + 1) * 0.8)
        q = errors[rank - 1]
        assert iv.conformal["persistence"][0.8]["halfwidth"][h - 1] == pytest.approx(q)
        assert q == pytest.approx(conformal_quantile(v[o + h] - v[o], 0.2))
        t = np.arange(sp.val_end - 1, len(x) - 1)
        t = t[t + h < len(x)]
        share = np.mean(np.abs(v[t + h] - v[t]) <= q)
        assert iv.conformal["persistence"][0.8]["coverage"][h - 1] == pytest.approx(share)
    low, high = iv.next["persistence"][0.8][0]
    q1 = iv.conformal["persistence"][0.8]["halfwidth"][0]
    assert (low, high) == pytest.approx((v[-1] - q1, v[-1] + q1))
    d = result.to_dict()["intervals"]
    json.dumps(d, allow_nan=False)
    assert d["levels"] == [80.0]
    assert set(d["conformal"]) == {"persistence", "drift"}


def test_forecast_direct_strategy_from_the_config():
    x = _walk(400)
    config = ForecastConfig(models=("persistence", "linear"), horizon=4, strategy="direct")
    result = run_forecast(x, config)
    assert result.horizons.strategy == "direct"
    f = result.results["linear"].forecaster
    assert f.coef_.shape == (config.window.window, 4)
    # the step-4 forecasts are the direct model's own, from each test origin
    o = result.horizons.origins[:5]
    np.testing.assert_allclose(result.horizons.forecasts["linear"][:5], f._origin_values(x, o, 4))
    assert result.to_dict()["horizons"]["strategy"] == "direct"


def test_quantile_intervals_appear_for_pinball_nets():
    x = _walk(400)
    config = ForecastConfig.quick()
    config = ForecastConfig(
        models=("persistence", "mlp"),
        window=config.window,
        net=config.net,
        train=config.train,
        level=(80.0, 95.0),
        loss="pinball",
    )
    result = run_forecast(x, config)
    f = result.results["mlp"].forecaster
    assert f._quantile_levels() == (0.025, 0.1, 0.5, 0.9, 0.975)
    cells = result.intervals.quantile["mlp"]
    assert set(cells) == {0.8, 0.95}
    assert len(cells[0.8]["coverage"]) == 1
    assert "persistence" not in result.intervals.quantile  # no quantiles of its own


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"level": (80.0,), "val": 0.0}, "level"),
        ({"refit": "every"}, "refit"),
        ({"level": (0.0,)}, "level"),
        ({"task": "direction", "strategy": "direct"}, "strategy"),
    ],
)
def test_bad_combinations_name_the_field(options, needle):
    with pytest.raises(RnnlabError, match=needle):
        ForecastConfig(**options)


def test_bad_parameters_name_themselves():
    x = _walk(200)
    with pytest.raises(RnnlabError, match="strategy"):
        LinearAR(5, strategy="sideways").fit(x)
    with pytest.raises(RnnlabError, match="quantiles"):
        MLPForecaster(loss="pinball", quantiles=(0.1, 1.5)).fit(x)
    with pytest.raises(RnnlabError, match="loss"):
        MLPForecaster(loss="huber").fit(x)
    assert Persistence().fit(x)._origin_values(x, np.array([10]), 2).tolist() == [
        [x.values[10]] * 2
    ]


def test_pandas_in_pandas_out():
    """run_forecast takes a pandas Series with dates; its views are DataFrames indexed by
    those dates (test and next) or by model and step."""
    index = pd.bdate_range("2020-01-01", periods=300)
    y = pd.Series(_walk(300).values, index=index, name="price")
    config = ForecastConfig(models=("persistence", "drift"), horizon=2, level=(90.0,))
    result = run_forecast(y, config)
    scores = result.scores()
    assert list(scores.index) == [r.name for r in result.ranking()]
    assert scores.loc["drift", "rmse"] == pytest.approx(result.results["drift"].scores.rmse)
    test = result.test_forecasts()
    assert list(test.index) == list(index[result.split.val_end :])
    np.testing.assert_array_equal(test["actual"], y.to_numpy()[result.split.val_end :])
    steps = result.step_scores()
    assert steps.loc[("drift", 2), "skill"] == result.horizons.scores["drift"].skill[1]
    cover = result.interval_scores()
    got = cover.loc[("drift", "conformal", 90.0, 1), "coverage"]
    assert got == result.intervals.conformal["drift"][0.9]["coverage"][0]
    nxt = result.next_forecasts()
    assert list(nxt.index) == list(pd.bdate_range(index[-1], periods=3)[1:])


def test_cli_strategy_level_and_loss(capsys):
    from rnnlab.cli import main

    argv = ["forecast", "--quick", "--no-report", "--json", "--models", "persistence,linear"]
    assert main([*argv, "--horizon", "3", "--strategy", "direct", "--level", "80"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["horizons"]["strategy"] == "direct"
    assert data["config"]["level"] == [80.0]
    assert list(data["intervals"]["conformal"]["linear"]["80"]) == [
        "halfwidth",
        "coverage",
        "width",
    ]
    for bad, flag in (
        (["--level", "80", "--val", "0"], "--level"),
        (["--level", "80,120"], "--level"),
        (["--refit", "once"], "--refit"),
        (["--loss", "huber"], "--loss"),
    ):
        try:
            code = main([*argv, *bad])
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code
        assert code == 2
        err = capsys.readouterr().err.strip()
        assert flag in err
        assert "Traceback" not in err
        assert len(err.splitlines()) == 1 or err.splitlines()[-1].startswith("rnnlab: error")


def test_rolling_calibration_reads_only_observed_residuals_and_adapts():
    """Rolling q_h at test origin o is the conformal rank of the last n residuals with
    targets o' + h ≤ o (n = the validation origins); on a walk whose volatility triples at
    the test start it covers far better than one split half-width."""
    rng = np.random.default_rng(3)
    n = 1500
    steps = rng.normal(size=n)
    steps[int(0.85 * n) - 50 :] *= 3.0  # a calmer past, a wilder test span
    x = Series(100 + np.cumsum(steps))
    base = {"models": ("persistence",), "horizon": 2, "level": (80.0,)}
    split = run_forecast(x, ForecastConfig(**base))
    rolling = run_forecast(x, ForecastConfig(**base, calibration="rolling"))
    sp = rolling.split
    cover_split = split.intervals.conformal["persistence"][0.8]["coverage"][0]
    cover_rolling = rolling.intervals.conformal["persistence"][0.8]["coverage"][0]
    assert cover_rolling > cover_split + 0.15
    # the next values' q_1: the last n one-step residuals of the data, ranked by hand
    v = x.values
    window = sp.n_val
    r = np.abs(v[1:] - v[:-1])[-window:]  # persistence's one-step errors, the latest n
    q = np.sort(r)[math.ceil((window + 1) * 0.8) - 1]
    got = rolling.intervals.conformal["persistence"][0.8]["halfwidth"][0]
    assert got == pytest.approx(q)
    assert rolling.to_dict()["intervals"]["calibration"] == "rolling"


def test_a_statistical_model_that_cannot_fit_is_reported_not_fatal(monkeypatch):
    from rnnlab.forecast import statistical

    def refuse(self, series, val_size, progress):
        raise RnnlabError(f"{self.name}: statsforecast could not fit (a test)")

    monkeypatch.setattr(statistical.StatisticalForecaster, "_fit", refuse)
    result = run_forecast(_walk(200), ForecastConfig(models=("persistence", "autoets", "drift")))
    assert result.failed == {"autoets": "autoets: statsforecast could not fit (a test)"}
    assert set(result.results) == {"persistence", "drift"}


def test_crossed_quantiles_are_rearranged_so_the_point_sits_inside_the_band():
    """A net whose quantile outputs come out in the wrong order (here: its head set so) gives
    the median of the sorted outputs as its point forecast, inside the sorted band."""
    x = _walk(200)
    f = MLPForecaster(window=10, hidden_size=4, epochs=1, loss="pinball", quantiles=(0.1, 0.9))
    f.fit(x, val_size=30)
    with torch.no_grad():  # outputs (q0.1, q0.5, q0.9) = (+3, 0, −3) whatever the input
        f.module_.net[-1].weight.zero_()
        f.module_.net[-1].bias.copy_(torch.tensor([3.0, 0.0, -3.0]))
    origins = np.arange(100, 190)
    band = f._quantile_values(x, origins, 1)[:, 0]  # (n, 3), sorted
    point = f._origin_values(x, origins, 1)[:, 0]
    np.testing.assert_allclose(point, band[:, 1])
    assert np.all(band[:, 0] <= point)
    assert np.all(point <= band[:, 2])


def test_explore_and_gradients_on_multi_output_checkpoints(tmp_path):
    """explore refuses a direct or quantile model in one line; gradients measures through the
    step-1 median's row of the head and says so."""
    from rnnlab.diagnostics.probe import checkpoint_probe
    from rnnlab.explore.model import model_data
    from rnnlab.forecast.checkpoint import save_checkpoint

    x = _walk(200)
    f = RecurrentForecaster(
        cell="rnn", window=8, hidden_size=4, epochs=1, loss="pinball", quantiles=(0.1, 0.9)
    ).fit(x, val_size=30)
    path = save_checkpoint(f, tmp_path / "q")
    with pytest.raises(RnnlabError, match="outputs quantiles"):
        model_data(path)
    probe = checkpoint_probe(path)
    np.testing.assert_array_equal(probe.head, f.module_.head.weight.detach()[1].double().numpy())
    assert "step-1 point forecast (the median)" in probe.description
