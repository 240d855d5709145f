"""The softmax head of the glass box and `rnnlab walkthrough --head softmax`: every number
against a hand computation, probabilities summing to 1, W_out = 0 giving 1/K, the 1-class error."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnnlab.config import ConfigError
from rnnlab.errors import ShapeError
from rnnlab.glassbox import RNNParams, class_weights, forward, softmax_head
from rnnlab.settings.walkthrough import WalkthroughConfig


def test_softmax_head_against_a_hand_computation():
    h = np.array([0.3, -0.7])
    wout = np.array([[1.0, 2.0], [-0.5, 0.25], [0.0, -1.5]])
    bout = np.array([0.1, -0.2, 0.3])
    r = softmax_head(h, wout, bout, ("down", "flat", "up"))
    z = [1.0 * 0.3 + 2.0 * -0.7 + 0.1, -0.5 * 0.3 + 0.25 * -0.7 - 0.2, -1.5 * -0.7 + 0.3]
    e = [math.exp(v) for v in z]
    p = [v / sum(e) for v in e]
    np.testing.assert_allclose(r.logits, z, rtol=0, atol=1e-15)
    np.testing.assert_allclose(r.shifted, np.array(z) - max(z), rtol=0, atol=1e-15)
    np.testing.assert_allclose(r.probabilities, p, rtol=0, atol=1e-15)
    assert abs(r.probabilities.sum() - 1) < 1e-12
    assert r.predicted == "up"
    assert r.to_dict()["probabilities"]["down"] == pytest.approx(p[0], abs=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_probabilities_sum_to_one_and_match_forward(seed):
    rng = np.random.default_rng(seed)
    K, H = 2 + seed, 3
    params = RNNParams.random(H, 2, K, seed=seed, scale=3.0)
    cache = forward(params, rng.normal(size=(6, 2)), head="softmax")
    r = softmax_head(cache.h[-1], params.wout, params.bout, tuple(f"c{k}" for k in range(K)))
    assert abs(r.probabilities.sum() - 1) < 1e-12
    np.testing.assert_allclose(r.probabilities, cache.p[-1], rtol=0, atol=1e-15)
    assert np.all(np.abs(cache.p.sum(axis=1) - 1) < 1e-12)


def test_zero_output_weights_give_one_third_each():
    wout, bout = class_weights(0.0, 0.7, 3)
    r = softmax_head(np.array([0.9]), wout, bout, ("down", "flat", "up"))
    np.testing.assert_allclose(r.probabilities, [1 / 3] * 3, rtol=0, atol=1e-15)


def test_default_class_weights_lean_up_with_h():
    wout, bout = class_weights(1.1, 0.0, 3)
    np.testing.assert_array_equal(wout, [[-1.1], [0.0], [1.1]])
    np.testing.assert_array_equal(bout, [0.0, 0.0, 0.0])
    assert softmax_head(np.array([0.5]), wout, bout, ("d", "f", "u")).predicted == "u"
    assert softmax_head(np.array([-0.5]), wout, bout, ("d", "f", "u")).predicted == "d"


def test_one_class_is_refused_with_the_reason():
    with pytest.raises(ShapeError, match="softmax over one output is always"):
        softmax_head(np.array([0.5]), np.ones((1, 1)), np.zeros(1), ("up",))
    with pytest.raises(ConfigError, match="softmax over one output is always"):
        WalkthroughConfig(head="softmax", classes="up")
    with pytest.raises(ConfigError, match="classes"):
        WalkthroughConfig(classes="down,up")  # the linear head has no classes


def test_cli_softmax_json_is_the_hand_computation(cli_here):
    r = cli_here("walkthrough", "--head", "softmax", "--inputs", "0.2,0.5", "--json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    h1 = math.tanh(1.8 * 0.2)
    h2 = math.tanh(1.8 * 0.5 - 0.5 * h1)
    z = [-1.1 * h2, 0.0, 1.1 * h2]
    e = [math.exp(v - max(z)) for v in z]
    p = dict(zip(("down", "flat", "up"), (v / sum(e) for v in e), strict=True))
    head = data["head"]
    assert head["classes"] == ["down", "flat", "up"]
    for k, v in p.items():
        assert head["probabilities"][k] == pytest.approx(v, abs=1e-15)
    assert sum(head["probabilities"].values()) == pytest.approx(1, abs=1e-12)
    assert head["predicted_class"] == "up"
    assert data["prediction"] == pytest.approx(list(p.values()), abs=1e-15)


def test_cli_softmax_table_and_zero_weights(cli_here):
    r = cli_here("walkthrough", "--head", "softmax", "--wout", "0", "--inputs", "0.3,0.9")
    assert r.code == 0, r.err
    assert r.out.count("0.333333") == 3 * 3  # p_1, p_2 in the table, p_k in the head
    assert "the probabilities sum to 1" in r.out
    assert "a softmax over one output is always 1" in r.out
    r = cli_here("walkthrough")
    assert "Why a linear head: a price is one number" in r.out


def test_cli_weights_file_rows_are_classes(cli_here, tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"wx": [[1], [0.5]], "wh": [[0.5, 0], [0, 0.5]], "wout": [1, 2]}))
    r = cli_here("walkthrough", "--head", "softmax", "--weights", str(path))
    assert r.code == 2
    assert "wout has 1 row(s) but --classes names 3" in r.err
    path.write_text(
        json.dumps({"wx": [[1], [0.5]], "wh": [[0.5, 0], [0, 0.5]], "wout": [[1, 2], [0, 0]]})
    )
    r = cli_here(
        "walkthrough",
        "--head",
        "softmax",
        "--classes",
        "down,up",
        "--weights",
        str(path),
        "--inputs",
        "0.4,0.1",
        "--json",
    )
    assert r.code == 0, r.err
    assert json.loads(r.out)["head"]["classes"] == ["down", "up"]


def test_cli_one_class_error(cli, user_error):
    r = cli("walkthrough", "--head", "softmax", "--classes", "up")
    user_error(r, "--classes", "a softmax over one output is always", "linear head")


def test_softmax_walkthrough_fits_80_columns(monkeypatch, capsys):
    from test_terminal_width import assert_fits, render_at

    code, out, _ = render_at(monkeypatch, capsys, ["walkthrough", "--head", "softmax"])
    assert code == 0
    assert_fits(out, whole=("0.333333",))
