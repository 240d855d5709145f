"""Resuming an interrupted fit from a checkpoint written during training gives the model the
uninterrupted fit gives, bit for bit: weights, Adam's state, the record, the predictions."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
import torch

from rnnlab.data.series import Series
from rnnlab.data.windows import WindowConfig
from rnnlab.errors import RnnlabError
from rnnlab.forecast.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.forecast.nets import NetConfig
from rnnlab.forecast.neural import RecurrentForecaster
from rnnlab.forecast.resume import STATE_JSON, has_state, load_state
from rnnlab.forecast.training import TrainConfig

WINDOW = WindowConfig(window=10, target="diff", scaler="standard")
VAL = 40


def _series(n=240, seed=5):
    rng = np.random.default_rng(seed)
    x = 50 + np.cumsum(rng.normal(0, 1.0, n)) + 3 * np.sin(np.arange(n) / 4)
    dates = np.arange("2020-01-01", n, dtype="datetime64[D]").astype("datetime64[ns]")
    return Series(x, dates, name="toy", source="toy.csv", column="v", date_column="date")


def _fit_saving(f, path, run=None):
    """Fit ``f``, writing a checkpoint to resume from after every epoch: {epoch: dir}."""
    saved = {}

    def on_epoch(report):
        if report.state is not None:
            where = path / f"epoch{report.epoch}"
            saved[report.epoch] = save_checkpoint(f, where, report.state, run or {"n": 1})

    f.fit(_series(), val_size=VAL, progress=on_epoch)
    return saved


def _record(h):
    d = asdict(h)
    d.pop("seconds")
    return d


def assert_same_model(g, f):
    """Every weight, Adam's every moment, the record and the predictions: equal, not close."""
    for k, v in f.module_.state_dict().items():
        assert torch.equal(g.module_.state_dict()[k], v), k
    sa, sb = g.optimizer_state_["state"], f.optimizer_state_["state"]
    assert sa.keys() == sb.keys()
    for i in sa:
        for key in sa[i]:
            assert torch.equal(sa[i][key], sb[i][key]), (i, key)
    assert _record(g.history_) == _record(f.history_)
    np.testing.assert_array_equal(g.predict(3), f.predict(3))
    s = _series()
    np.testing.assert_array_equal(g.historical_forecasts(s, 200), f.historical_forecasts(s, 200))


CASES = {
    # two layers with dropout between them: the global generator must be restored too
    "lstm-dropout": (
        NetConfig(kind="lstm", hidden_size=6, layers=2, dropout=0.3),
        TrainConfig(epochs=4, batch_size=32, patience=0, seed=3),
    ),
    # a learning rate high enough that validation wanders: early stopping's counter matters
    "rnn-early-stop": (
        NetConfig(kind="rnn", hidden_size=5),
        TrainConfig(epochs=40, lr=0.05, batch_size=16, patience=2, seed=1),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_resume_from_every_epoch_equals_the_uninterrupted_fit(tmp_path, case):
    net, train = CASES[case]
    f = RecurrentForecaster(net, WINDOW, train)
    saved = _fit_saving(f, tmp_path, run={"case": case})
    stopped = f.history_.epochs
    assert sorted(saved) == list(range(1, stopped))  # none after the last epoch
    if case == "rnn-early-stop":
        assert f.history_.status == "early-stopped"
        assert stopped < train.epochs
    for epoch, path in saved.items():
        g = load_checkpoint(path)
        assert has_state(path)
        assert g.history_.status == "running"
        assert g.history_.epochs == epoch
        state, run = load_state(path, g)
        assert run == {"case": case}
        assert state.epoch == epoch
        g.resume = state
        g.fit(_series(), val_size=VAL)
        assert_same_model(g, f)


def test_a_mid_run_checkpoint_holds_the_best_weights_so_far(tmp_path):
    net, train = CASES["rnn-early-stop"]
    f = RecurrentForecaster(net, WINDOW, train)
    best = {}

    def on_epoch(report):
        if report.state is not None and report.epoch == 3:
            save_checkpoint(f, tmp_path / "c", report.state)
            best.update({k: v.clone() for k, v in report.state.best_weights.items()})

    f.fit(_series(), val_size=VAL, progress=on_epoch)
    g = load_checkpoint(tmp_path / "c")
    for k, v in best.items():
        assert torch.equal(g.module_.state_dict()[k], v)
    assert np.all(np.isfinite(g.predict(2)))  # predict works meanwhile
    save_checkpoint(f, tmp_path / "c")  # the finished model replaces it: no state files
    assert not has_state(tmp_path / "c")
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "config.json",
        "model.safetensors",
        "optimizer.safetensors",
        "timing.json",
    ]


def test_training_on_a_finished_model_can_be_interrupted_and_resumed_too(tmp_path):
    first = RecurrentForecaster(NetConfig(kind="gru", hidden_size=5), WINDOW, TrainConfig(epochs=3))
    first.fit(_series(), val_size=VAL)
    save_checkpoint(first, tmp_path / "done")
    f = load_checkpoint(tmp_path / "done")
    f.train, f.warm_start = TrainConfig(epochs=4, seed=9, patience=0), True
    saved = _fit_saving(f, tmp_path / "more")
    assert f.history_.epochs == 3 + 4  # the record goes on
    assert f.history_.train_loss[:3] == first.history_.train_loss
    g = load_checkpoint(saved[2])
    g.resume, _ = load_state(saved[2], g)
    g.fit(_series(), val_size=VAL)
    assert_same_model(g, f)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda m: m.update(epoch=99), "epoch must be a whole number"),
        (lambda m: m.update(format="pickle"), "not an rnnlab training state"),
        (lambda m: m.update(extra=1), "not an rnnlab training state"),
        (lambda m: m.update(ranks=2), "does not fit the model"),
        (lambda m: m.update(best_loss="low"), "best_loss must be a number"),
    ],
)
def test_a_bad_state_file_is_a_user_error(tmp_path, edit, needle):
    f = RecurrentForecaster(NetConfig(hidden_size=4), WINDOW, TrainConfig(epochs=3, patience=0))
    path = _fit_saving(f, tmp_path)[1]
    meta = json.loads((path / STATE_JSON).read_text())
    edit(meta)
    (path / STATE_JSON).write_text(json.dumps(meta))
    with pytest.raises(RnnlabError, match=needle):
        load_state(path, load_checkpoint(path))
