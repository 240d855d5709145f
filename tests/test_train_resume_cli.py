"""`rnnlab train --resume DIR`: an interrupted run goes on with its own settings and data (and
refuses others); a finished model trains on only for the --epochs asked."""

from __future__ import annotations

import json

import numpy as np

import rnnlab.forecast.checkpoint as checkpoint
from rnnlab.forecast.checkpoint import load_checkpoint
from rnnlab.forecast.resume import has_state


def _csv(path, n=260, seed=2):
    rng = np.random.default_rng(seed)
    x = 100 + np.cumsum(rng.normal(0, 1, n))
    dates = np.arange("2019-01-01", n, dtype="datetime64[D]")
    rows = [f"{d},{v:.6f}" for d, v in zip(dates, x, strict=True)]
    path.write_text("date,value\n" + "\n".join(rows) + "\n")
    return path


def _same(a: dict, b: dict) -> None:
    for key in ("validation", "training"):
        x, y = dict(a[key]), dict(b[key])
        x.pop("seconds", None)
        y.pop("seconds", None)
        assert x == y, key


def test_interrupted_run_goes_on_with_its_own_settings(tmp_path, monkeypatch, cli_here, user_error):
    csv = _csv(tmp_path / "prices.csv")
    args = ("train", "--data", str(csv), "--window", "10", "--hidden", "4", "--epochs", "4")
    args += ("--patience", "0", "--dropout", "0.0", "--json")
    ref = cli_here(*args, "--out", str(tmp_path / "ref"))
    assert ref.code == 0, ref.err
    ref = json.loads(ref.out)

    real = checkpoint.save_checkpoint

    def crash_before_the_final_save(f, path, state=None, run=None):
        if state is None:
            raise KeyboardInterrupt  # Ctrl-C (or a crash) after the last epoch's checkpoint
        return real(f, path, state, run)

    path = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(checkpoint, "save_checkpoint", crash_before_the_final_save)
        never = tmp_path / "never"
        assert cli_here(*args, "--out", str(never), "--checkpoint-every", "0").code == 130
        assert not never.exists()  # 0: a checkpoint only at the end
        assert cli_here(*args, "--out", str(path), "--checkpoint-every", "2").code == 130
        assert load_checkpoint(path).history_.epochs == 2  # after epoch 2, not epoch 3
        assert cli_here(*args, "--out", str(path)).code == 130
    assert has_state(path)
    assert load_checkpoint(path).history_.epochs == 3
    r = cli_here("predict", "--model", str(path), "--json")  # usable meanwhile
    assert r.code == 0, r.err

    resume = ("train", "--resume", str(path))
    user_error(cli_here(*resume, "--lr", "0.01"), "--lr: ", "interrupted after epoch 3 of 4")
    user_error(cli_here(*resume, "--epochs", "9"), "--epochs: ", "goes on with its own settings")
    user_error(cli_here(*resume, "--hidden", "5"), "--hidden: comes from the checkpoint")
    original = csv.read_text()
    csv.write_text(original.replace("date,value\n2019-01-01,", "date,value\n2019-01-01,1"))
    user_error(cli_here(*resume), "--resume: the data differ")
    moved = tmp_path / "moved.csv"
    csv.rename(moved)
    moved.write_text(original)
    r = cli_here(*resume, "--data", str(moved), "--json")  # named again after a move: fine
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert result["resumed_after_epoch"] == 3
    _same(result, ref)
    assert not has_state(path)

    user_error(cli_here(*resume), "--epochs: ", "holds a finished model (4 epochs")
    r = cli_here(*resume, "--data", str(moved), "--epochs", "2", "--json")  # trains on
    assert r.code == 0, r.err
    assert json.loads(r.out)["training"]["epochs"] == 6
    assert json.loads(r.out)["resumed_after_epoch"] is None


def test_a_tampered_training_state_is_refused_before_loading(
    tmp_path, monkeypatch, cli_here, user_error
):
    import torch
    from safetensors.torch import save_file

    csv = _csv(tmp_path / "prices.csv")
    args = ("train", "--data", str(csv), "--window", "10", "--hidden", "4", "--epochs", "3")
    real = checkpoint.save_checkpoint

    def crash_before_the_final_save(f, path, state=None, run=None):
        if state is None:
            raise KeyboardInterrupt
        return real(f, path, state, run)

    path = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(checkpoint, "save_checkpoint", crash_before_the_final_save)
        assert cli_here(*args, "--out", str(path)).code == 130
    state = path / "state.safetensors"
    good = state.read_bytes()
    # a weight of an absurd shape, declared in the header: refused before any tensor is read
    tensors = {
        "weights.head.weight": torch.zeros(1, 1),
        "rng.shuffle": torch.zeros(5056, dtype=torch.uint8),
    }
    save_file(tensors, str(state))
    user_error(cli_here("train", "--resume", str(path)), "state.safetensors does not fit the model")
    save_file({"rng.shuffle": torch.zeros(3, dtype=torch.int64)}, str(state))
    user_error(cli_here("train", "--resume", str(path)), "not one of")
    state.write_bytes(good[:-7])  # truncated
    user_error(cli_here("train", "--resume", str(path)), "not a valid safetensors file")
    state.unlink()
    (tmp_path / "elsewhere.safetensors").write_bytes(good)
    state.symlink_to(tmp_path / "elsewhere.safetensors")
    user_error(cli_here("train", "--resume", str(path)), "symbolic link")
    state.unlink()
    state.write_bytes(good)
    r = cli_here("train", "--resume", str(path), "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["resumed_after_epoch"] == 2
