"""The lag illusion: the best-aligning shift, the change correlation and the "persistence in
disguise" flag, in closed form, on an AR(2) series with a real signal (not flagged) and on a
random walk (flagged), and in forecast's JSON, table and report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab.forecast.experiment import run_forecast
from rnnlab.forecast.inputs import as_series
from rnnlab.forecast.lag import lag_check
from rnnlab.settings.forecasting import ForecastConfig


def test_closed_forms():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=200))
    start = 150
    t = np.arange(start, 200)
    copy = lag_check(x, start, x[t - 1], p_value=0.5)  # persistence itself
    assert copy.shift == 1
    assert copy.mse[1] == 0
    assert copy.change_corr is None  # it predicts no change at all
    assert copy.persistence_in_disguise
    oracle = lag_check(x, start, x[t], p_value=1e-9)
    assert oracle.shift == 0
    assert oracle.change_corr == pytest.approx(1.0, abs=1e-12)
    assert not oracle.persistence_in_disguise
    three = lag_check(x, start, x[t - 3], p_value=None)
    assert three.shift == 3
    assert not three.persistence_in_disguise
    f = x[t - 1] + 0.3 * rng.normal(size=t.size)
    d = lag_check(x, start, f, p_value=None)
    for k in range(6):
        assert d.mse[k] == pytest.approx(np.mean((f - x[t - k]) ** 2), rel=1e-15)
    ref = np.corrcoef(f - x[t - 1], x[t] - x[t - 1])[0, 1]
    assert d.change_corr == pytest.approx(ref, abs=1e-12)
    assert lag_check(x, 2, x[2:10], p_value=None).mse.__len__() == 3  # shifts 0…2 only


def _run(values):
    config = ForecastConfig(models=("linear",), horizon=1)
    return run_forecast(as_series(values), config)


def test_ar2_with_a_real_signal_is_not_flagged():
    rng = np.random.default_rng(0)
    x = np.zeros(1500)
    for t in range(2, x.size):  # x_t = 0.6 x_{t−1} − 0.5 x_{t−2} + e_t: an oscillating AR(2)
        x[t] = 0.6 * x[t - 1] - 0.5 * x[t - 2] + rng.normal()
    r = _run(100 + x).results["linear"]
    assert r.p_value < 0.05
    assert r.lag.change_corr > 0.5  # it calls the changes: a real signal
    assert not r.lag.persistence_in_disguise
    # the shift alone would have misjudged it: the best forecast of this AR(2) still sits
    # closer to x_(t−1) (MSE 0.91) than to x_t (MSE 1.10, the innovations' variance)
    assert r.lag.shift == 1
    assert r.lag.mse[0] == pytest.approx(1.0, abs=0.15)


def test_random_walk_is_flagged():
    rng = np.random.default_rng(0)
    result = _run(100 + np.cumsum(rng.normal(size=1500)))
    r = result.results["linear"]
    assert r.lag.shift == 1
    assert r.p_value >= 0.05
    assert abs(r.lag.change_corr) < 0.2
    assert r.lag.persistence_in_disguise
    assert "Persistence in disguise: linear" in result.lag_note()
    data = result.to_dict()
    assert data["test"]["linear"]["persistence_in_disguise"] is True
    assert data["test"]["linear"]["shift"] == 1
    assert len(data["test"]["linear"]["shift_mse"]) == 6
    assert "shift" not in data["test"]["persistence"]
    json.dumps(data, allow_nan=False)


def test_cli_table_json_and_report(cli_here, tmp_path):
    out = tmp_path / "rep"
    r = cli_here("forecast", "--quick", "--models", "linear", "--out", str(out))
    assert r.code == 0, r.err
    assert "The lag illusion" in r.out
    assert "persistence in disguise" in r.out.lower()
    html = (out / "report.html").read_text()
    assert "The lag illusion" in html
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["test"]["linear"]) >= {"shift", "change_corr", "persistence_in_disguise"}
    assert metrics["lag_illusion"]


@pytest.mark.parametrize(
    "module",
    [
        "rnnlab.forecast.lag",
        "rnnlab.forecast.direction",
        "rnnlab.glassbox.head",
        "rnnlab.glassbox.contributions",
    ],
)
def test_docstring_examples_of_issue_14s_modules(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0
