"""`torchrun --nproc_per_node=2 -m rnnlab train …` (DDP, gloo, two processes on this machine)
against one process with the same settings.

Why they must agree: both draw the same batch order (one seed) and take a step per global
batch of B windows; each rank differentiates N·Σ_shard (ŷ − y)²/B and DDP averages the N
gradients, which is the gradient of the batch's mean squared error: the same step as one
process. What may differ is float32 rounding (two partial sums added instead of one sum),
~1e-7 relative per step, which Adam's normalised steps keep from growing much over the 36
steps here. Tolerance: 1e-5 absolute on the weights (each |w| < 1) and 1e-5 relative on the
metrics. Measured here: 3e-8 on the weights, 5e-9 relative on the validation RMSE.

Batch size 53 on 319 training windows makes the shards uneven (27/26) and leaves a last
batch of one window, so that rank 1 joins that step with an empty shard (weight 0).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile

import pytest
import torch

ARGS = ("train", "--quick", "--epochs", "6", "--batch-size", "53", "--seed", "3", "--json")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``torchrun --nproc_per_node=2 ARGS…`` on this machine, one thread per process (its log
    directory, torchelastic_*, goes to a temporary directory removed afterwards)."""
    port = f"--master_port={_free_port()}"
    with tempfile.TemporaryDirectory() as tmp:
        return subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", port, *args],
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": tmp, **(env or {})},
            check=False,
        )


def _one_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1  # rank 0 alone prints: one JSON object
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """The uninterrupted two-process run: (checkpoint dir, its JSON)."""
    path = tmp_path_factory.mktemp("ddp") / "ckpt"
    result = _one_json(_torchrun("-m", "rnnlab", *ARGS, "--out", str(path)))
    assert result["processes"] == 2
    assert [p.name for p in path.parent.iterdir()] == ["ckpt"]  # no litter from any rank
    return path, result


@pytest.mark.slow
def test_two_process_ddp_matches_one_process(tmp_path, cli_here, ddp_run):
    from safetensors.torch import load_file

    ddp_dir, ddp = ddp_run
    one_dir = tmp_path / "one"
    r = cli_here(*ARGS, "--out", str(one_dir))
    assert r.code == 0, r.err
    one = json.loads(r.out)
    assert one["processes"] == 1

    assert ddp["training"]["epochs"] == one["training"]["epochs"] == 6
    assert ddp["training"]["best_epoch"] == one["training"]["best_epoch"]
    for key in ("final_train_loss", "best_val_loss"):
        assert ddp["training"][key] == pytest.approx(one["training"][key], rel=1e-5)
    assert ddp["validation"]["rmse"] == pytest.approx(one["validation"]["rmse"], rel=1e-5)
    wa = load_file(str(ddp_dir / "model.safetensors"))
    wb = load_file(str(one_dir / "model.safetensors"))
    assert wa.keys() == wb.keys()
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=0, atol=1e-5)
    ha = json.loads((ddp_dir / "config.json").read_text())["training"]
    hb = json.loads((one_dir / "config.json").read_text())["training"]
    assert len(ha["step_loss"]) == len(hb["step_loss"]) == 6 * 7  # ⌈319 / 53⌉ = 7 steps/epoch
    assert ha["step_loss"] == pytest.approx(hb["step_loss"], rel=1e-5)
    assert ha["clipped"] == hb["clipped"]


@pytest.mark.slow
def test_ddp_killed_mid_checkpoint_resumes_to_the_same_model(tmp_path, ddp_run, kill_in_write):
    """Rank 0 dies halfway through epoch 3's checkpoint (its 15th file, 6 per checkpoint);
    torchrun stops rank 1. Resumed under torchrun, the run ends bit for bit where the
    uninterrupted two-process run ended (the same float32 operations in the same order)."""
    from safetensors.torch import load_file

    from rnnlab.forecast.checkpoint import load_checkpoint

    path = tmp_path / "ckpt"
    proc = _torchrun(str(kill_in_write), *ARGS, "--out", str(path), env={"KILL_AT_WRITE": "15"})
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert load_checkpoint(path).history_.epochs == 2  # epoch 2's checkpoint, whole
    resumed = _one_json(_torchrun("-m", "rnnlab", "train", "--resume", str(path), "--json"))
    assert resumed["resumed_after_epoch"] == 2
    ref_path, ref = ddp_run
    for key in ("validation", "training"):
        a, b = dict(resumed[key]), dict(ref[key])
        a.pop("seconds", None)
        b.pop("seconds", None)
        assert a == b
    wa, wb = (
        load_file(str(path / "model.safetensors")),
        load_file(str(ref_path / "model.safetensors")),
    )
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # the half-written one: cleaned up


def test_launch_from_env():
    from rnnlab.errors import RnnlabError
    from rnnlab.forecast.distributed import Launch, launch_from_env

    assert launch_from_env({}) is None
    env = {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"}
    assert launch_from_env(env) == Launch(rank=1, world_size=2, local_rank=1)
    with pytest.raises(RnnlabError, match="LOCAL_RANK not set"):
        launch_from_env({"RANK": "0", "WORLD_SIZE": "2"})
    with pytest.raises(RnnlabError, match="do not fit"):
        launch_from_env({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})
