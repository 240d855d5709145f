"""`forecast --task direction`: labels, the exact binomial tail, softmax classifiers against the
majority class on a predictable series and on a random walk, and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnnlab.forecast.direction import (
    binomial_tail,
    direction_classes,
    direction_labels,
    run_direction,
)
from rnnlab.forecast.inputs import as_series
from rnnlab.settings.forecasting import ForecastConfig
from rnnlab.settings.training import NetConfig, TrainConfig


def test_labels_and_classes():
    m = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert direction_classes(1.0) == ("down", "flat", "up")
    assert direction_labels(m, 1.0).tolist() == [0, 1, 1, 1, 2]
    assert direction_classes(0.0) == ("down", "up")
    assert direction_labels(m, 0.0).tolist() == [0, 0, 0, 1, 1]


@pytest.mark.parametrize(
    ("k", "n", "p"), [(0, 10, 0.3), (7, 10, 0.5), (40, 60, 0.65), (300, 500, 0.52), (11, 10, 0.5)]
)
def test_binomial_tail_is_the_sum_of_the_terms(k, n, p):
    exact = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))
    assert binomial_tail(k, n, p) == pytest.approx(exact, rel=1e-12, abs=1e-300)


def test_binomial_tail_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for k, n, p in [(40, 60, 0.65), (1500, 2900, 0.51), (5, 100, 0.02)]:
        ref = stats.binomtest(k, n, p, alternative="greater").pvalue
        assert binomial_tail(k, n, p) == pytest.approx(ref, rel=1e-9)


def _series(values):
    return as_series(np.asarray(values, dtype=float))


def _config(**kw):
    return ForecastConfig(
        models=("rnn",),
        task="direction",
        net=NetConfig(hidden_size=8),
        train=TrainConfig(epochs=15, patience=0, lr=1e-2, seed=0),
        **kw,
    )


def test_alternating_moves_are_learned():
    rng = np.random.default_rng(0)
    moves = np.where(np.arange(600) % 2 == 0, 1.0, -1.0) + 0.1 * rng.normal(size=600)
    r = run_direction(_series(100 + np.cumsum(moves)), _config())
    rnn = r.results["rnn"]
    assert rnn.accuracy > 0.95
    assert rnn.p_value < 1e-10
    assert r.base_rate == pytest.approx(max(r.shares.values()))
    assert "better than that" in r.verdict()


def test_random_walk_is_not_beaten():
    rng = np.random.default_rng(1)
    r = run_direction(_series(100 + np.cumsum(rng.normal(size=600))), _config(flat=0.3))
    assert r.classes == ("down", "flat", "up")
    assert r.results["rnn"].p_value > 0.05
    assert abs(sum(r.shares.values()) - 1) < 1e-12
    assert "no better than a constant call" in r.verdict()


def test_cli_direction_json(cli_here):
    out = cli_here("forecast", "--task", "direction", "--quick", "--models", "rnn", "--json")
    assert out.code == 0, out.err
    data = json.loads(out.out)
    assert data["task"] == "direction"
    assert data["classes"] == ["down", "up"]
    assert set(data["test"]) == {"majority", "rnn"}
    n = data["test_moves"]
    assert data["test"]["majority"]["correct"] == round(
        data["test_shares"][data["majority_class"]] * n
    )
    rnn = data["test"]["rnn"]
    assert rnn["p_value"] == pytest.approx(
        binomial_tail(rnn["correct"], n, data["no_information_rate"]), rel=1e-12
    )


def test_direction_table_fits_80_columns(monkeypatch, capsys):
    from test_terminal_width import assert_fits, render_at

    argv = ["forecast", "--task", "direction", "--quick", "--models", "rnn", "--flat", "0.3"]
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    assert_fits(out)


def test_option_combinations_are_refused(cli, user_error):
    user_error(cli("forecast", "--flat", "0.3"), "--flat", "--task direction")
    user_error(
        cli("forecast", "--ablation", "features", "--task", "direction"), "--ablation", "--task"
    )


def test_direction_and_ablation_write_metrics_json(cli_here, tmp_path):
    out = tmp_path / "d"
    argv = ["forecast", "--task", "direction", "--quick", "--models", "rnn", "--out", str(out)]
    r = cli_here(*argv)
    assert r.code == 0, r.err
    data = json.loads((out / "metrics.json").read_text())
    assert data["task"] == "direction"
    out = tmp_path / "a"
    r = cli_here("forecast", "--ablation", "features", "--quick", "--out", str(out), "--json")
    assert r.code == 0, r.err
    assert json.loads((out / "metrics.json").read_text())["ablation"] == "features"
    assert json.loads(r.out)["metrics"] == str(out / "metrics.json")
