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

import pytest
import torch

ARGS = ("train", "--quick", "--epochs", "6", "--batch-size", "53", "--seed", "3", "--json")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_ddp_matches_one_process(tmp_path, cli_here):
    from safetensors.torch import load_file

    ddp_dir, one_dir = tmp_path / "ddp", tmp_path / "one"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    proc = subprocess.run(
        [*launcher, f"--master_port={_free_port()}", "-m", "rnnlab", *ARGS, "--out", str(ddp_dir)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1  # rank 0 alone prints: one JSON object
    ddp = json.loads(lines[0])
    assert ddp["processes"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp"]  # no litter from any rank

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
