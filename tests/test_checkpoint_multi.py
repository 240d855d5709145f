"""Checkpoints of models with several outputs: direct models (one output per step h = 1 … H)
and quantile nets (the pinball loss, Q quantiles per step) save, load and predict exactly as
they were fitted; config.json records strategy, horizon, loss and quantiles, a tampered value
is one line before any tensor is read, and older checkpoints still load as one-step models.
``rnnlab train`` makes such models and ``rnnlab predict`` shows their steps and bands."""

from __future__ import annotations

import json
import resource
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab.data.series import Series
from rnnlab.errors import RnnlabError
from rnnlab.forecast import checkpoint
from rnnlab.forecast.baselines import LinearAR
from rnnlab.forecast.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.forecast.neural import MLPForecaster, RecurrentForecaster
from rnnlab.forecast.resume import load_state

NET = {"hidden_size": 4, "epochs": 2, "batch_size": 32, "patience": 0}
MODELS = {
    "linear-direct": lambda: LinearAR(8, strategy="direct", horizon=3),
    "gru-direct": lambda: RecurrentForecaster(
        cell="gru", window=8, strategy="direct", horizon=3, **NET
    ),
    "mlp-pinball": lambda: MLPForecaster(window=10, loss="pinball", quantiles=(0.1, 0.9), **NET),
    "gru-direct-pinball": lambda: RecurrentForecaster(
        cell="gru",
        window=8,
        strategy="direct",
        horizon=3,
        loss="pinball",
        quantiles=(0.05, 0.95),
        **NET,
    ),
}
RECORDED = {  # config.json's model section: what the outputs are
    "linear-direct": {"strategy": "direct", "horizon": 3},
    "gru-direct": {"strategy": "direct", "horizon": 3, "loss": "mse", "quantiles": None},
    "mlp-pinball": {
        "strategy": "recursive",
        "horizon": 1,
        "loss": "pinball",
        "quantiles": [0.1, 0.5, 0.9],
    },
    "gru-direct-pinball": {
        "strategy": "direct",
        "horizon": 3,
        "loss": "pinball",
        "quantiles": [0.05, 0.5, 0.95],
    },
}
ORIGINS = np.array([40, 120, 179])  # the last one: the end of the data


def _series(n: int = 180, seed: int = 4) -> Series:
    x = 50 + np.cumsum(np.random.default_rng(seed).normal(size=n))
    dates = np.arange("2022-01-03", n, dtype="datetime64[D]").astype("datetime64[ns]")
    return Series(x, dates, name="toy", source="toy.csv", column="v", date_column="date")


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, tuple]:
    """Each model fitted and saved once: {name: (forecaster, checkpoint dir)}."""
    root = tmp_path_factory.mktemp("multi")
    out = {}
    for name, make in MODELS.items():
        f = make().fit(_series(), val_size=20)
        out[name] = (f, save_checkpoint(f, root / name))
    return out


def _copy(saved, name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved[name][1], tmp_path / name))


def _edit(path: Path, edit) -> None:
    config = json.loads((path / "config.json").read_text())
    edit(config["model"])
    (path / "config.json").write_text(json.dumps(config))


# -- the round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_the_round_trip_gives_the_same_steps_and_quantiles(saved, name):
    f, path = saved[name]
    model = json.loads((path / "config.json").read_text())["model"]
    assert {k: model[k] for k in RECORDED[name]} == RECORDED[name]
    g = load_checkpoint(path)
    assert type(g) is type(f)
    assert g._direct_steps() == f._direct_steps()
    assert g._quantile_levels() == f._quantile_levels()
    s = _series()
    horizon = 3
    np.testing.assert_array_equal(
        g._origin_values(s, ORIGINS, horizon), f._origin_values(s, ORIGINS, horizon)
    )
    qf, qg = f._quantile_values(s, ORIGINS, horizon), g._quantile_values(s, ORIGINS, horizon)
    if f._quantile_levels() is None:
        assert qf is None
        assert qg is None
    else:
        steps = f._direct_steps()  # every step of a direct net, the first of a recursive one
        assert qg.shape == (len(ORIGINS), steps, len(f._quantile_levels()))
        np.testing.assert_array_equal(qg, qf)
    np.testing.assert_array_equal(g.predict(horizon), f.predict(horizon))
    np.testing.assert_array_equal(g.historical_forecasts(s, 150), f.historical_forecasts(s, 150))


def test_the_nets_heads_have_one_output_per_step_and_quantile(saved):
    heads = {
        "gru-direct": saved["gru-direct"][0].module_.head.out_features,
        "mlp-pinball": saved["mlp-pinball"][0].module_.net[-1].out_features,
        "gru-direct-pinball": saved["gru-direct-pinball"][0].module_.head.out_features,
    }
    assert heads == {"gru-direct": 3, "mlp-pinball": 3, "gru-direct-pinball": 9}  # H·Q
    coef = load_checkpoint(saved["linear-direct"][1]).coef_
    assert coef.shape == (8, 3)  # one regression per step


@pytest.mark.parametrize("name", ["gru-direct", "linear-direct"])
def test_a_direct_model_refuses_more_steps_than_it_has(saved, name):
    g = load_checkpoint(saved[name][1])
    with pytest.raises(RnnlabError, match=r"3 steps directly.*asked for 4"):
        g.predict(4)


# -- older checkpoints ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gru", "linear"])
def test_an_old_checkpoint_without_the_keys_loads_as_a_one_step_mse_model(tmp_path, kind):
    """Written before strategy, horizon, loss and quantiles were recorded: a one-step model."""
    f = LinearAR(8) if kind == "linear" else RecurrentForecaster(cell="gru", window=8, **NET)
    f.fit(_series(), val_size=20)
    path = save_checkpoint(f, tmp_path / kind)
    _edit(path, lambda m: [m.pop(k, None) for k in ("strategy", "horizon", "loss", "quantiles")])
    assert not {"strategy", "horizon", "loss"} & set(
        json.loads((path / "config.json").read_text())["model"]
    )
    g = load_checkpoint(path)
    assert (g.strategy, g.horizon, getattr(g, "loss", "mse")) == ("recursive", 1, "mse")
    assert g._quantile_levels() is None
    np.testing.assert_array_equal(g.predict(4), f.predict(4))


# -- tampered values --------------------------------------------------------------------------

TAMPERED = [
    ("gru-direct", {"horizon": 0}, "model.horizon: must be at least 1 and at most 10000, got 0"),
    ("gru-direct", {"horizon": 10**9}, "model.horizon: must be at least 1 and at most 10000"),
    ("gru-direct", {"horizon": True}, "model.horizon: true is not a whole number"),
    ("gru-direct", {"horizon": 3.0}, "model.horizon: 3.0 is not a whole number"),
    ("gru-direct", {"loss": "x"}, 'model.loss: "x" is not one of mse, pinball'),
    ("gru-direct", {"strategy": 7}, "model.strategy: 7 is not one of recursive, direct"),
    (
        "gru-direct",
        {"quantiles": [0.5]},
        "model.quantiles: the mse loss outputs no quantiles; must be null",
    ),
    ("mlp-pinball", {"quantiles": [1.5]}, "model.quantiles: 1.5 is not between 0 and 1"),
    ("mlp-pinball", {"quantiles": [0.1, 0.9]}, "must increase and hold the median 0.5"),
    ("mlp-pinball", {"quantiles": [0.9, 0.5, 0.1]}, "must increase and hold the median 0.5"),
    ("mlp-pinball", {"quantiles": None}, "model.quantiles: must be a list of 1 to 99 numbers"),
    ("mlp-pinball", {"quantiles": [0.5] * 10**4}, "must be a list of 1 to 99 numbers"),
    ("linear-direct", {"loss": "pinball"}, "model.loss: the linear model is fitted by least"),
    ("linear-direct", {"strategy": "sideways"}, 'model.strategy: "sideways" is not one of'),
]


def _refused_before_any_tensor(path: Path, monkeypatch, *needles: str) -> None:
    def never(*args, **kwargs):
        raise AssertionError("a tensor was read or a module built")

    for name in ("tensor_header", "load_tensors", "_module", "_check_shapes"):
        monkeypatch.setattr(checkpoint, name, never)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, the peak so far
    with pytest.raises(RnnlabError) as err:
        load_checkpoint(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000
    message = str(err.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)


@pytest.mark.parametrize(("name", "edit", "needle"), TAMPERED)
def test_a_tampered_output_setting_is_refused_before_any_tensor(
    saved, tmp_path, monkeypatch, name, edit, needle
):
    path = _copy(saved, name, tmp_path)
    _edit(path, lambda m: m.update(edit))
    _refused_before_any_tensor(path, monkeypatch, str(path), needle)


@pytest.mark.parametrize(
    ("name", "edit", "needle"),
    [
        ("gru-direct", {"horizon": 4}, "wrong shape ['head.bias', 'head.weight']"),
        ("gru-direct", {"strategy": "recursive"}, "wrong shape ['head.bias', 'head.weight']"),
        ("mlp-pinball", {"loss": "mse", "quantiles": None}, "wrong shape"),
        ("gru-direct-pinball", {"quantiles": [0.5]}, "wrong shape ['head.bias', 'head.weight']"),
        ("linear-direct", {"horizon": 5}, "does not hold the linear model's weights, (9, 5)"),
        ("linear-direct", {"strategy": "recursive"}, "the linear model's weights, (9,) float64"),
    ],
)
def test_valid_settings_the_weights_do_not_fit_are_refused_before_loading_them(
    saved, tmp_path, monkeypatch, name, edit, needle
):
    """In range but not what the weights hold: the header (and the module on the meta
    device) say so, no tensor is loaded."""
    path = _copy(saved, name, tmp_path)
    _edit(path, lambda m: m.update(edit))

    def never(*args, **kwargs):
        raise AssertionError("a tensor was loaded")

    monkeypatch.setattr(checkpoint, "load_tensors", never)
    with pytest.raises(RnnlabError, match="does not") as err:
        load_checkpoint(path)
    assert needle in str(err.value)


# -- resume -----------------------------------------------------------------------------------


def test_an_interrupted_direct_quantile_fit_resumes_to_the_same_model(tmp_path):
    """A checkpoint written during training of a direct pinball GRU goes on, bit for bit, to
    the model the uninterrupted fit gives."""

    def make():
        return RecurrentForecaster(
            cell="gru", window=8, strategy="direct", horizon=2, loss="pinball",
            quantiles=(0.2, 0.8), **{**NET, "epochs": 3},
        )  # fmt: skip

    saved = {}

    def on_epoch(report):
        if report.state is not None and report.epoch == 1:
            saved[1] = save_checkpoint(f, tmp_path / "epoch1", report.state, {"n": 1})

    f = make()
    f.fit(_series(), val_size=20, progress=on_epoch)
    g = load_checkpoint(saved[1])
    g.resume, _ = load_state(saved[1], g)
    g.fit(_series(), val_size=20)
    for k, v in f.module_.state_dict().items():
        assert torch.equal(g.module_.state_dict()[k], v), k
    s = _series()
    np.testing.assert_array_equal(
        g._quantile_values(s, ORIGINS, 2), f._quantile_values(s, ORIGINS, 2)
    )


# -- the command line -------------------------------------------------------------------------


def test_train_a_direct_gru_and_predict_its_steps(tmp_path, cli_here, user_error):
    out = tmp_path / "gru"
    args = ("--quick", "--epochs", "1", "--json")
    r = cli_here("train", "--cell", "gru", "--strategy", "direct", "--horizon", "3",
                 "--out", str(out), *args)  # fmt: skip
    assert r.code == 0, r.err
    trained = json.loads(r.out)
    assert (trained["strategy"], trained["horizon"], trained["quantiles"]) == ("direct", 3, None)
    r = cli_here("predict", "--model", str(out), "--horizon", "3", "--json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert result["strategy"] == "direct"
    assert len(result["predictions"]) == 3
    assert result["intervals"] is None
    assert result["quantiles"] is None
    f = load_checkpoint(out)
    np.testing.assert_array_equal(result["predictions"], f.predict(3))
    r = cli_here("predict", "--model", str(out), "--horizon", "4", "--json")
    user_error(r, "--horizon: 4 values asked for;", "forecasts 3 steps at once",
               "ask for at most 3")  # fmt: skip
    text = cli_here("predict", "--model", str(out), "--horizon", "2")
    assert text.code == 0, text.err
    assert "direct: 3 steps at once" in text.out
    assert "fed back" not in text.out
    # the model's outputs come from the checkpoint when it trains on
    user_error(cli_here("train", "--resume", str(out), "--epochs", "1", "--horizon", "3"),
               "--horizon: comes from the checkpoint when resuming")  # fmt: skip
    user_error(cli_here("train", "--resume", str(out), "--epochs", "1", "--strategy", "direct"),
               "--strategy: comes from the checkpoint")  # fmt: skip


@pytest.mark.parametrize(("cell", "strategy"), [("mlp", ()), ("gru", ("--strategy", "direct"))])
def test_train_a_pinball_net_and_predict_its_bands(tmp_path, cli_here, cell, strategy):
    out = tmp_path / cell
    direct = bool(strategy)
    steps = ("--horizon", "2") if direct else ()
    r = cli_here("train", "--quick", "--epochs", "1", "--cell", cell, "--loss", "pinball",
                 "--level", "80,95", *strategy, *steps, "--out", str(out), "--json")  # fmt: skip
    assert r.code == 0, r.err
    assert json.loads(r.out)["quantiles"] == [0.025, 0.1, 0.5, 0.9, 0.975]
    r = cli_here("predict", "--model", str(out), "--horizon", "2", "--json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert result["quantiles"] == [0.025, 0.1, 0.5, 0.9, 0.975]
    bands = result["quantile_predictions"]
    assert len(bands) == 2
    assert [len(row) for row in bands if row is not None] == ([5, 5] if direct else [5])
    assert bands[0] == sorted(bands[0])
    assert (bands[1] is None) is not direct  # a recursive net: quantiles at step 1 only
    levels = [(iv["level"], iv["lower"][0], iv["upper"][0]) for iv in result["intervals"]]
    assert levels == [(80.0, bands[0][1], bands[0][3]), (95.0, bands[0][0], bands[0][4])]
    f = load_checkpoint(out)
    q = f._quantile_values(f.series_, np.array([len(f.series_) - 1]), 2)[0]
    np.testing.assert_array_equal(np.array(bands[: len(q)]), q)
    text = cli_here("predict", "--model", str(out), "--horizon", "2")
    assert text.code == 0, text.err
    assert "80% interval" in text.out
    assert "95% interval" in text.out
    assert f"{bands[0][1]:.6g} – {bands[0][3]:.6g}" in text.out
    assert ("Intervals at step 1 only" in text.out) is not direct


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--horizon", "3"), "--horizon: is the steps a direct model forecasts; add --strategy"),
        (("--strategy", "direct"), "--strategy: direct needs --horizon H"),
        (("--level", "80"), "--level: sets the quantiles the pinball loss learns; add --loss"),
        (("--cell", "linear", "--loss", "pinball"), "--loss: is for the neural models"),
    ],
)
def test_train_options_that_do_not_go_together(tmp_path, cli_here, user_error, args, needle):
    r = cli_here("train", "--quick", *args, "--out", str(tmp_path / "x"), "--json")
    user_error(r, needle)
    assert not (tmp_path / "x").exists()
