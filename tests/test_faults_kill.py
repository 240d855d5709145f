"""kill -9 during `rnnlab train`, at a random moment and in the middle of a checkpoint write:
the checkpoint directory always holds a complete checkpoint, and `train --resume` ends with
the same model and metrics as the run that was never interrupted."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from rnnlab.forecast.checkpoint import load_checkpoint
from rnnlab.forecast.resume import has_state

# The full AAPL series (3270 rows): an epoch of 87 steps plus its checkpoint takes ~50 ms here.
ARGS = [
    *("train", "--dataset", "aapl", "--window", "20", "--hidden", "8", "--epochs", "14"),
    *("--patience", "0", "--batch-size", "32", "--seed", "7", "--json"),
]


def _main(*args: str) -> dict:
    from rnnlab.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The reference: the same run, never stopped (in this process)."""
    path = tmp_path_factory.mktemp("ref") / "ckpt"
    return path, _main(*ARGS, "--out", str(path))


def _tensors(path, name):
    from safetensors.torch import load_file

    return load_file(str(path / name))


def assert_same_run(path, result, ref_path, ref):
    """Metrics, record and every tensor equal (exactly: the same float32 operations)."""
    for key in ("validation", "training"):
        a, b = dict(result[key]), dict(ref[key])
        a.pop("seconds", None)
        b.pop("seconds", None)
        assert a == b, key
    for name in ("model.safetensors", "optimizer.safetensors"):
        a, b = _tensors(path, name), _tensors(ref_path, name)
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), (name, k)
    ca = json.loads((path / "config.json").read_text())["training"]
    cb = json.loads((ref_path / "config.json").read_text())["training"]
    assert ca == cb  # the seconds measured are in timing.json, not in config.json
    assert not has_state(path)  # finished: a plain model checkpoint again
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary litter


def _epoch_on_disk(path) -> int:
    """The epoch of the checkpoint in ``path`` (0: none yet; a swap in progress reads as 0)."""
    try:
        return json.loads((path / "state.json").read_text())["epoch"]
    except (OSError, ValueError):
        return 0


@pytest.mark.slow
def test_kill_9_at_a_random_moment_then_resume(tmp_path, uninterrupted):
    path = tmp_path / "ckpt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnlab", *ARGS, "--out", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # A random epoch among 1 … 11 of 14, then a random moment within the next epoch (~50 ms):
    # in the middle of the training steps or of the next checkpoint's write.
    target, delay = random.randint(1, 11), random.uniform(0.0, 0.06)
    end = time.monotonic() + 120
    while _epoch_on_disk(path) < target:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < end, "no checkpoint appeared"
        time.sleep(0.005)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"finished before the kill ({target}, {delay})"
    interrupted = load_checkpoint(path)  # a complete checkpoint, whatever the moment
    assert has_state(path)
    assert interrupted.history_.status == "running"
    epoch = interrupted.history_.epochs
    result = _main("train", "--resume", str(path), "--json")
    assert result["resumed_after_epoch"] == epoch >= target, (target, delay)
    assert_same_run(path, result, *uninterrupted)


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_checkpoint_write(tmp_path, uninterrupted, kill_in_write):
    path = tmp_path / "ckpt"
    # 6 files per checkpoint: the 15th file written is the third file of epoch 3's checkpoint.
    proc = subprocess.run(
        [sys.executable, str(kill_in_write), *ARGS, "--out", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KILL_AT_WRITE": "15"},
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout == ""
    # the killed run's lock file stays (no process is left to remove it) and locks nothing:
    # the kernel dropped the flock with the process; the resumed run below removes the file
    leftovers = [p for p in tmp_path.iterdir() if p.name not in ("ckpt", ".ckpt.lock")]
    assert len(leftovers) == 1  # the half-written new checkpoint, beside the old one
    assert leftovers[0].name.startswith(".ckpt.")
    assert leftovers[0].name.endswith(".tmp")
    before = load_checkpoint(path)  # epoch 2's checkpoint, whole
    assert before.history_.epochs == 2
    result = _main("train", "--resume", str(path), "--json")
    assert result["resumed_after_epoch"] == 2
    assert_same_run(path, result, *uninterrupted)
