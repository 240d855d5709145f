"""Checkpoints: the round trip gives the same predictions; loading validates and never unpickles."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnlab.data.series import Series
from rnnlab.data.windows import WindowConfig
from rnnlab.errors import RnnlabError
from rnnlab.forecast.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.forecast.models import make_forecaster
from rnnlab.forecast.nets import NetConfig
from rnnlab.forecast.training import TrainConfig


def _series(n=200):
    rng = np.random.default_rng(3)
    x = 20 + np.cumsum(rng.normal(0, 0.5, n))
    dates = np.arange("2021-03-01", n, dtype="datetime64[D]").astype("datetime64[ns]")
    return Series(x, dates, name="toy", source="toy.csv", column="v", date_column="date")


def _fit(name, **net):
    window = WindowConfig(window=12, target="log-return", scaler="minmax")
    f = make_forecaster(name, window, NetConfig(hidden_size=6, **net), TrainConfig(epochs=2))
    return f.fit(_series(), val_size=30)


@pytest.mark.parametrize(
    ("name", "net"),
    [
        ("rnn", {"cell_options": {"nonlinearity": "relu"}}),
        ("lstm", {"layers": 2}),
        ("mlp", {}),
        ("linear", {}),
    ],
)
def test_round_trip_same_predictions(tmp_path, name, net):
    f = _fit(name, **net)
    path = save_checkpoint(f, tmp_path / "ckpt")
    files = ["config.json", "model.safetensors"] + (
        [] if name == "linear" else ["optimizer.safetensors", "timing.json"]
    )
    assert sorted(p.name for p in path.iterdir()) == files
    g = load_checkpoint(path)
    if name != "linear":  # the seconds measured, in timing.json, come back
        assert g.history_.seconds == round(f.history_.seconds, 3)
    s = _series()
    np.testing.assert_allclose(g.predict(5), f.predict(5), rtol=1e-12)
    np.testing.assert_allclose(
        g.historical_forecasts(s, 150), f.historical_forecasts(s, 150), rtol=1e-12
    )
    assert g.preprocessor_.scaler_ == f.preprocessor_.scaler_
    config = json.loads((path / "config.json").read_text())
    assert config["data"]["column"] == "v"
    assert config["preprocessing"]["window"]["target"] == "log-return"
    assert set(config["versions"]) >= {"rnnlab", "torch", "numpy", "python"}


def test_loaded_recurrent_model_exposes_module_and_cells(tmp_path):
    f = _fit("rnn")
    g = load_checkpoint(save_checkpoint(f, tmp_path / "c"))
    assert isinstance(g.module_, torch.nn.Module)
    torch.testing.assert_close(g.cells[0].wh, f.cells[0].wh)
    assert g.history_.train_loss == pytest.approx(f.history_.train_loss)


def test_resume_from_checkpoint_equals_training_on_in_memory(tmp_path):
    """Weights, scaler and Adam's moments all survive the round trip: training on from a loaded
    checkpoint gives the same model as training on in memory."""
    f = _fit("gru")
    g = load_checkpoint(save_checkpoint(f, tmp_path / "c"))
    more = TrainConfig(epochs=2, seed=5)
    for model in (f, g):
        model.train, model.warm_start = more, True
        model.fit(_series(), val_size=30)
    np.testing.assert_array_equal(g.predict(3), f.predict(3))  # bit for bit: same float32 ops
    assert g.history_.step_loss == f.history_.step_loss


def test_overwrite_is_atomic_and_refuses_foreign_dirs(tmp_path):
    a, b = _fit("linear"), _fit("gru")
    path = tmp_path / "c"
    save_checkpoint(a, path)
    save_checkpoint(b, path)  # replaces the old checkpoint as a whole
    assert load_checkpoint(path).name == "gru"
    assert [p.name for p in tmp_path.iterdir()] == ["c"]  # no temporary directories left
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(RnnlabError, match="not an rnnlab checkpoint; not overwriting"):
        save_checkpoint(a, tmp_path / "other")


def _corrupt(path, edit):
    config = json.loads((path / "config.json").read_text())
    edit(config)
    (path / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda c: c.update(format_version=99), "format version 99"),
        (lambda c: c["model"]["net"].update(kind="tcn"), "needs the cell 'tcn'"),
        (lambda c: c["model"]["net"].update(hidden_size=7), "does not fit the model"),
        (lambda c: c["model"]["net"].update(extra=1), "exactly the keys"),
        (lambda c: c["preprocessing"]["scaler"].update(kind="pickle"), "unknown scaler"),
        (lambda c: c["history"].update(values=[1.0]), "history.values"),
        (lambda c: c.pop("data"), "no 'data'"),
    ],
)
def test_bad_checkpoints_are_user_errors(tmp_path, edit, needle):
    path = save_checkpoint(_fit("rnn"), tmp_path / "c")
    _corrupt(path, edit)
    with pytest.raises(RnnlabError, match=needle):
        load_checkpoint(path)


def test_missing_or_garbage_files(tmp_path):
    with pytest.raises(RnnlabError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "none")
    path = save_checkpoint(_fit("rnn"), tmp_path / "c")
    (path / "model.safetensors").write_bytes(b"\x80\x04not a tensor file")
    with pytest.raises(RnnlabError, match="not a valid safetensors file"):
        load_checkpoint(path)
    (path / "config.json").write_text("{")
    with pytest.raises(RnnlabError, match="not valid JSON"):
        load_checkpoint(path)
