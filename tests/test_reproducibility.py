"""The same seed twice, in two fresh processes (with different hash seeds): identical numbers,
every one of them; only the wall-clock seconds may differ. Another seed: other numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

TRAIN = ("train", "--quick", "--cell", "rnn", "--layers", "2", "--dropout", "0.2", "--json")


def _run(*args: str, hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run(
        [sys.executable, "-m", "rnnlab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _without(obj, keys: set[str]):
    """``obj`` with the given keys dropped at every depth (timings, paths)."""
    if isinstance(obj, dict):
        return {k: _without(v, keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [_without(v, keys) for v in obj]
    return obj


@pytest.mark.slow
def test_train_twice_with_the_same_seed(tmp_path, cli_here):
    from safetensors.torch import load_file

    a = _run(*TRAIN, "--seed", "11", "--out", str(tmp_path / "a"), hash_seed="1")
    b = _run(*TRAIN, "--seed", "11", "--out", str(tmp_path / "b"), hash_seed="2")
    assert _without(a, {"seconds", "checkpoint"}) == _without(b, {"seconds", "checkpoint"})
    wa, wb = (
        load_file(str(tmp_path / "a" / "model.safetensors")),
        load_file(str(tmp_path / "b" / "model.safetensors")),
    )
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    # the files that define the model, byte for byte; only the measured seconds differ
    files = ["config.json", "model.safetensors", "optimizer.safetensors", "timing.json"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == files
    for name in files[:-1]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    r = cli_here(*TRAIN, "--seed", "12", "--out", str(tmp_path / "c"))  # the seed matters
    assert r.code == 0, r.err
    c = json.loads(r.out)
    assert c["validation"]["rmse"] != a["validation"]["rmse"]
    assert c["training"]["final_train_loss"] != a["training"]["final_train_loss"]


@pytest.mark.slow
def test_forecast_quick_twice_with_the_same_seed():
    args = ("forecast", "--quick", "--no-report", "--json", "--seed", "4")
    a = _run(*args, hash_seed="1")
    b = _run(*args, hash_seed="2")
    assert len(a["test"]) == 7  # persistence, moving_average, linear, mlp, rnn, lstm, gru
    assert _without(a, {"seconds"}) == _without(b, {"seconds"})
