"""kill -9 during `rnnlab train`, at a random moment and in the middle of a checkpoint write:
the checkpoint directory always holds a complete checkpoint, and `train --resume` ends with
the same model and metrics as the run that was never interrupted."""

from __future__ import annotations

import contextlib
import io
import json
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from rnnlab.forecast.checkpoint import load_checkpoint
from rnnlab.forecast.resume import has_state

# The full AAPL series (3270 rows): an epoch of ~85 steps plus its checkpoint takes ~0.1 s here,
# long enough to kill the process in the middle of training.
ARGS = [
    *("train", "--dataset", "aapl", "--window", "20", "--hidden", "8", "--epochs", "14"),
    *("--patience", "0", "--batch-size", "32", "--seed", "7", "--json"),
]

KILL_IN_WRITE = """
import os, signal, sys
import rnnlab.atomic as atomic
real, calls = atomic.write_file, [0]
def write_file(path, data):  # the K-th file written: half of it, then SIGKILL
    calls[0] += 1
    if calls[0] == int(os.environ["KILL_AT_WRITE"]):
        with open(path, "wb") as fh:
            fh.write(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    real(path, data)
atomic.write_file = write_file
from rnnlab.cli import main
sys.exit(main(sys.argv[1:]))
"""


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
    ca.pop("seconds")
    cb.pop("seconds")
    assert ca == cb
    assert not has_state(path)  # finished: a plain model checkpoint again
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary litter


def _wait_for(path, proc, timeout=60.0):
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < end, "no checkpoint appeared"
        time.sleep(0.01)


@pytest.mark.slow
def test_kill_9_at_a_random_moment_then_resume(tmp_path, uninterrupted):
    path = tmp_path / "ckpt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnlab", *ARGS, "--out", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(path / "state.json", proc)  # at least one epoch's checkpoint exists
    delay = random.uniform(0.0, 0.8)  # the rest of the run takes ~1.5 s here
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"finished before the kill ({delay:.2f} s)"
    interrupted = load_checkpoint(path)  # a complete checkpoint, whatever the moment
    assert has_state(path)
    assert interrupted.history_.status == "running"
    epoch = interrupted.history_.epochs
    result = _main("train", "--resume", str(path), "--json")
    assert result["resumed_after_epoch"] == epoch, delay
    assert_same_run(path, result, *uninterrupted)


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_checkpoint_write(tmp_path, uninterrupted):
    path = tmp_path / "ckpt"
    # 5 files per checkpoint: the 13th file written is the third file of epoch 3's checkpoint.
    proc = subprocess.run(
        [sys.executable, "-c", KILL_IN_WRITE, *ARGS, "--out", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "KILL_AT_WRITE": "13"},
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout == ""
    leftovers = [p for p in tmp_path.iterdir() if p.name != "ckpt"]
    assert len(leftovers) == 1  # the half-written new checkpoint, beside the old one
    assert leftovers[0].name.startswith(".ckpt.")
    assert leftovers[0].name.endswith(".tmp")
    before = load_checkpoint(path)  # epoch 2's checkpoint, whole
    assert before.history_.epochs == 2
    result = _main("train", "--resume", str(path), "--json")
    assert result["resumed_after_epoch"] == 2
    assert_same_run(path, result, *uninterrupted)
