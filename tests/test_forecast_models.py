"""Forecasters: the recurrent net against the glass box, baselines by hand, one conformance
check on every model, metrics by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.cells import cell_names
from rnnlab.data.series import Series
from rnnlab.data.windows import WindowConfig
from rnnlab.forecast.baselines import LinearAR, MovingAverage, Persistence
from rnnlab.forecast.experiment import diebold_mariano
from rnnlab.forecast.metrics import direction, mape, score
from rnnlab.forecast.models import DEFAULT_MODELS, make_forecaster, parse_models
from rnnlab.forecast.nets import NetConfig, RecurrentNet
from rnnlab.forecast.training import TrainConfig
from rnnlab.glassbox import RNNParams, forward


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_recurrent_net_equals_glass_box(nonlinearity):
    params = RNNParams.random(hidden_size=5, input_size=1, output_size=1, seed=2, scale=0.9)
    net = RecurrentNet(NetConfig("rnn", 5, cell_options={"nonlinearity": nonlinearity})).double()
    cell = net.cells[0]
    with torch.no_grad():
        cell.wx.copy_(torch.tensor(params.wx))
        cell.wh.copy_(torch.tensor(params.wh))
        cell.b.copy_(torch.tensor(params.b))
        net.head.weight.copy_(torch.tensor(params.wout))
        net.head.bias.copy_(torch.tensor(params.bout))
    xs = np.random.default_rng(5).normal(size=(3, 12))  # 3 windows of 12 steps
    out = net(torch.tensor(xs)[:, :, None]).detach().numpy()  # (3,)
    ref = [forward(params, x, activation=nonlinearity).y[-1, 0] for x in xs]
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-14)


def test_stacked_layers_compose_cells():
    torch.manual_seed(0)
    net = RecurrentNet(NetConfig("gru", 4, layers=3, dropout=0.5)).double().eval()
    x = torch.randn(2, 7, 1, dtype=torch.float64)
    h = x
    for cell in net.cells:  # dropout is off in eval mode
        h, _ = cell(h)
    torch.testing.assert_close(net(x), net.head(h[:, -1]).squeeze(-1))
    assert [c.input_size for c in net.cells] == [1, 4, 4]


@pytest.mark.parametrize("cell", cell_names())
def test_every_registered_cell_is_a_forecaster(cell):
    net = RecurrentNet(NetConfig(cell, 3))
    assert net(torch.randn(2, 5, 1)).shape == (2,)


def test_unknown_option_or_model_is_a_user_error():
    from rnnlab.errors import RnnlabError

    with pytest.raises(RnnlabError, match="cell 'lstm' with options"):
        RecurrentNet(NetConfig("lstm", 3, cell_options={"nonlinearity": "relu"}))
    with pytest.raises(RnnlabError, match="unknown model 'tcn'"):
        parse_models("rnn,tcn")
    assert parse_models("gru,lstm,gru") == ("persistence", "gru", "lstm")


def test_baselines_by_hand():
    x = Series(np.array([1.0, 2.0, 4.0, 8.0, 16.0]))
    np.testing.assert_array_equal(Persistence().fit(x).historical_forecasts(x, 2), [2, 4, 8])
    np.testing.assert_array_equal(Persistence().fit(x).predict(3), [16, 16, 16])
    ma = MovingAverage(k=2).fit(x)
    np.testing.assert_array_equal(ma.historical_forecasts(x, 2), [1.5, 3, 6])
    np.testing.assert_array_equal(ma.predict(3), [12, 14, 13])  # (8+16)/2, (16+12)/2, (12+14)/2


def test_linear_ar_recovers_a_noiseless_ar2():
    x = np.zeros(60)
    x[:2] = [1.0, 2.0]
    for t in range(2, 60):
        x[t] = 0.5 * x[t - 1] + 0.3 * x[t - 2] + 1.0  # x_t = 0.5 x_{t-1} + 0.3 x_{t-2} + 1
    f = LinearAR(WindowConfig(window=2, target="level", scaler="minmax")).fit(
        Series(x), val_size=10
    )
    np.testing.assert_allclose(f.historical_forecasts(Series(x), 50), x[50:], rtol=1e-9)
    nxt = 0.5 * x[-1] + 0.3 * x[-2] + 1.0
    assert f.predict(1, Series(x)).iloc[0] == pytest.approx(nxt, rel=1e-9)


def _series(n=260, seed=0):
    rng = np.random.default_rng(seed)
    x = 50 + np.cumsum(rng.normal(0, 1, n)) + 3 * np.sin(np.arange(n) / 5)
    dates = np.arange("2020-01-01", n, dtype="datetime64[D]").astype("datetime64[ns]")
    return Series(x, dates, name="synthetic")


@pytest.mark.parametrize("name", [*DEFAULT_MODELS])
@pytest.mark.parametrize("target", ["level", "diff", "log-return"])
def test_conformance(name, target):
    """Every model: fit returns self; historical forecasts at t equal predict(1) from the first
    t points; multi-step predict feeds its own forecasts back; nothing sees the future."""
    s = _series()
    window = WindowConfig(window=10, target=target)
    train = TrainConfig(epochs=2, patience=0, seed=1)
    f = make_forecaster(name, window, NetConfig(hidden_size=4), train, ma_window=5)
    assert f.fit(s.head(230), val_size=30) is f
    hist = f.historical_forecasts(s, 230)
    assert hist.shape == (30,)
    assert np.all(np.isfinite(hist))
    for t in (230, 245, 259):
        one = f.predict(1, s.head(t))
        assert one.iloc[0] == pytest.approx(hist.iloc[t - 230], rel=1e-5)
    # Changing the future never changes a forecast of the past.
    future = Series(np.concatenate([s.values[:240], s.values[240:] * 3]), s.dates, name="x")
    np.testing.assert_allclose(f.historical_forecasts(future, 230)[:11], hist[:11], rtol=1e-6)
    two = f.predict(2, s)
    fed = Series(np.append(s.values, two.iloc[0]), np.append(s.dates, s.next_dates(1)), name="fed")
    assert two.iloc[1] == pytest.approx(f.predict(1, fed).iloc[0], rel=1e-5)
    assert two.index[0] == s.next_dates(1)[0]  # indexed by the next dates


def test_metrics_by_hand():
    actual = np.array([10.0, 12.0, 11.0, 11.0])
    previous = np.array([9.0, 10.0, 12.0, 11.0])
    forecast = np.array([11.0, 11.0, 12.0, 10.0])
    s = score(actual, forecast, previous, persistence_rmse=2.0)
    assert s.mae == pytest.approx(1.0)
    assert s.rmse == pytest.approx(1.0)
    assert s.mape == pytest.approx(100 * np.mean([1 / 10, 1 / 12, 1 / 11, 1 / 11]))
    # moves: up (right), up (right), down (predicted flat: wrong), no move (skipped)
    assert s.direction == pytest.approx(2 / 3)
    assert s.skill == pytest.approx(0.5)
    assert direction(actual, previous, previous) is None  # persistence predicts no move
    assert mape(np.zeros(3), np.ones(3)) is None


def test_diebold_mariano_by_hand():
    actual = np.zeros(4)
    base = np.array([1.0, 1.0, 2.0, 2.0])
    model = np.array([0.0, 1.0, 1.0, 2.0])
    d = base**2 - model**2  # [1, 0, 3, 0]
    dm = d.mean() / np.sqrt(d.var(ddof=1) / 4)
    from math import erfc, sqrt

    assert diebold_mariano(actual, base, model) == pytest.approx(0.5 * erfc(dm / sqrt(2)))
    assert diebold_mariano(actual, base, base) is None
