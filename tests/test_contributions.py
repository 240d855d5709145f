"""∂L/∂Wh split by lag (`rnnlab gradients --contributions`): each term of the scalar RNN
against its closed form, the sum against bptt and torch autograd (float64, 1e-12), the share
from lags ≥ K, and the command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnnlab.glassbox import RNNParams, forward, wh_contributions


def _closed_form(wx, wh, wout, xs, target):
    """Term k = δ_{T−k}·h_{T−k−1} of the scalar tanh RNN with L = (y_T − target)², written
    from the forward values only: δ_T = 2(y_T − target)·W_out·(1 − h_T²) and
    δ_{T−k} = δ_T · Π_{j=T−k..T−1} Wh·(1 − h_j²)."""
    h = [0.0]
    for x in xs:
        h.append(math.tanh(wx * x + wh * h[-1]))
    T = len(xs)
    delta_T = 2 * (wout * h[T] - target) * wout * (1 - h[T] ** 2)
    terms = []
    for k in range(T):
        prod = 1.0
        for j in range(T - k, T):
            prod *= wh * (1 - h[j] ** 2)
        terms.append(delta_T * prod * h[T - k - 1])
    return terms


@pytest.mark.parametrize("wh", [0.5, -0.9, 1.5])
def test_scalar_terms_match_the_closed_form(wh):
    rng = np.random.default_rng(3)
    xs = rng.normal(size=30)
    p = RNNParams.scalar(wx=1.0, wh=wh, wout=0.8)
    c = wh_contributions(p, forward(p, xs), targets=[0.25], long_lag=10)
    expected = _closed_form(1.0, wh, 0.8, xs, 0.25)
    got = c.terms.reshape(-1)
    scale = max(abs(v) for v in expected)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15 * scale)
    assert c.terms[-1, 0, 0] == 0  # lag T−1 multiplies h_0 = 0
    norms = np.abs(expected)
    assert c.share_long == pytest.approx(norms[10:].sum() / norms.sum(), rel=1e-12)


def test_sum_equals_bptt_and_autograd(torch_reference):
    rng = np.random.default_rng(0)
    p = RNNParams.random(4, 2, 1, seed=1)
    xs = rng.normal(size=(25, 2))
    c = wh_contributions(p, forward(p, xs), targets=[0.3])
    ref = torch_reference(p, xs, None, "tanh", "linear", [0.3], "last")
    np.testing.assert_allclose(c.total, c.bptt_wh, rtol=0, atol=1e-15)
    np.testing.assert_allclose(c.total, ref.grads["wh"], rtol=0, atol=1e-12)
    assert c.loss == pytest.approx(ref.loss, abs=1e-12)


def test_the_total_is_not_tiny_but_the_long_range_part_is():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=50)
    p = RNNParams.scalar(wx=1.0, wh=0.5, wout=1.0)
    c = wh_contributions(p, forward(p, xs), targets=[0.0], long_lag=10)
    assert abs(c.total[0, 0]) > 1e-2  # the article's "frozen" Wh gets a real gradient
    assert c.share_long < 1e-3  # what lags ≥ 10 contribute is what vanishes
    assert np.all(c.norms[10:] <= 0.5**10 * c.norms.max())
    assert "not tiny" in c.verdict()
    assert "long-range part" in c.verdict()


def test_long_lag_bounds():
    p = RNNParams.scalar(wx=1.0, wh=0.5)
    cache = forward(p, [1.0, 2.0, 3.0])
    assert wh_contributions(p, cache, [0.0], long_lag=0).share_long == pytest.approx(1.0)
    assert wh_contributions(p, cache, [0.0], long_lag=99).share_long == 0.0
    with pytest.raises(ValueError, match="long_lag"):
        wh_contributions(p, cache, [0.0], long_lag=-1)


def test_lag_order_of_delta_and_h_prev():
    rng = np.random.default_rng(5)
    p = RNNParams.random(3, 1, 1, seed=2)
    cache = forward(p, rng.normal(size=(7, 1)))
    c = wh_contributions(p, cache, [0.0])
    np.testing.assert_array_equal(c.h_prev, cache.h[:-1][::-1])  # h_{T−1}, …, h_0
    for k in range(7):
        np.testing.assert_array_equal(c.terms[k], np.outer(c.delta[k], c.h_prev[k]))


def test_cli_scalar_json(cli_here):
    r = cli_here("gradients", "--wh", "0.5", "--contributions", "--no-plot", "--json")
    assert r.code == 0, r.err
    c = json.loads(r.out)["contributions"]
    assert len(c["terms"]) == 50
    assert sum(c["terms"]) == pytest.approx(c["sum"], abs=1e-15)
    assert c["max_difference"] <= 1e-12
    assert c["sum"] == pytest.approx(c["autograd"], abs=1e-12)
    for k in range(50):  # term k = δ_(T−k)·h_(T−k−1)
        assert c["terms"][k] == pytest.approx(c["delta"][k] * c["h_prev"][k], rel=1e-12, abs=0)
    assert c["share_long"] < 1e-6
    assert c["long_lag"] == 10
    assert "not tiny" in c["verdict"]


def test_cli_matrix_sum_is_autograd(cli_here):
    argv = ["gradients", "--contributions", "--hidden", "6", "--long-lag", "3", "--no-plot"]
    r = cli_here(*argv, "--json")
    assert r.code == 0, r.err
    c = json.loads(r.out)["contributions"]
    np.testing.assert_allclose(np.sum(c["terms"], axis=0), c["sum"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(c["sum"], c["autograd"], rtol=0, atol=1e-12)
    norms = np.array(c["term_norms"])
    assert c["share_long"] == pytest.approx(norms[3:].sum() / norms.sum(), rel=1e-12)


def test_cli_refusals(cli, user_error):
    user_error(cli("gradients", "--cell", "lstm", "--contributions"), "--contributions", "lstm")
    user_error(
        cli("gradients", "--wh", "0.5", "--contributions", "--input", "zero"),
        "--contributions",
        "--input",
    )


def test_contributions_fit_80_columns(monkeypatch, capsys):
    from test_terminal_width import assert_fits, render_at

    argv = ["gradients", "--wh", "0.5", "--contributions", "--no-plot"]
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    assert_fits(out)
