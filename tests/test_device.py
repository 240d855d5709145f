"""``--device auto|cpu|cuda`` and ``device=``: where training and prediction run.

Without a GPU (CI): the plumbing, the one-line error for cuda, and that auto and cpu give the
same numbers. With one (scripts/gpu_check.sh runs this file): checkpoints move between devices.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.config import ConfigError
from rnnlab.devices import resolve_device
from rnnlab.forecast.neural import RecurrentForecaster

CUDA = torch.cuda.is_available()
no_gpu = pytest.mark.skipif(CUDA, reason="checks the error for a GPU that is not there")
gpu = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU (scripts/gpu_check.sh runs it)")


def series(n: int = 160) -> pd.Series:
    t = np.arange(n)
    values = 100 + np.sin(t / 5) + 0.01 * t
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=n, freq="D"))


def small(**kw) -> RecurrentForecaster:
    return RecurrentForecaster(cell="gru", hidden_size=4, window=8, epochs=2, patience=0, **kw)


def rnnlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnnlab", *args], capture_output=True, text=True, timeout=120
    )


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if CUDA else "cpu")
    with pytest.raises(ConfigError, match=r"^device must be one of auto, cpu, cuda; got 'gpu'"):
        resolve_device("gpu")


@no_gpu
def test_cuda_without_a_gpu_is_one_line_naming_the_field():
    with pytest.raises(ConfigError, match=r"^device cuda was asked for, but torch .* no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(ConfigError, match=r"^device cuda was asked for"):
        small(device="cuda").fit(series())


@no_gpu
@pytest.mark.parametrize(
    "args",
    [
        ["forecast", "--quick", "--models", "rnn", "--no-report"],
        ["train", "--quick", "--out", "{tmp}/ckpt"],
        ["longmemory", "--quick", "--cell", "rnn"],
    ],
)
def test_cuda_without_a_gpu_on_the_command_line(tmp_path, args):
    r = rnnlab(*(a.format(tmp=tmp_path) for a in args), "--device", "cuda")
    assert r.returncode == 2
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("rnnlab: error: --device: cuda was asked for, but torch ")
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "ckpt").exists()  # refused before any work


@no_gpu
def test_predict_on_cuda_without_a_gpu(tmp_path):
    ckpt = tmp_path / "c"
    assert rnnlab("train", "--quick", "--out", str(ckpt), "--json").returncode == 0
    r = rnnlab("predict", "--model", str(ckpt), "--device", "cuda")
    assert r.returncode == 2
    assert r.stderr.startswith("rnnlab: error: --device: cuda was asked for")


def test_cpu_and_auto_give_the_same_numbers_here_and_device_is_a_parameter():
    if CUDA:
        pytest.skip("auto is the GPU here")
    a = small(device="cpu").fit(series(), val_size=30)
    b = small().fit(series(), val_size=30)
    assert b.get_params()["device"] == "auto"
    assert "device='cpu'" in repr(a)
    pd.testing.assert_series_equal(a.predict(3), b.predict(3))
    # the fitted module and Adam's state rest on the CPU (a checkpoint loads anywhere)
    assert all(p.device.type == "cpu" for p in a.module_.parameters())


def test_longmemory_json_records_the_device():
    r = rnnlab("longmemory", "--quick", "--cell", "rnn", "--device", "cpu", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["results"]["rnn"]["config"]["device"] == "cpu"


@gpu
def test_a_checkpoint_trained_on_the_gpu_predicts_on_the_cpu_and_back(tmp_path):
    from rnnlab.forecast.checkpoint import load_checkpoint, save_checkpoint

    f = small(device="cuda").fit(series(), val_size=30)
    assert all(p.device.type == "cpu" for p in f.module_.parameters())
    on_gpu = f.predict(3)
    save_checkpoint(f, tmp_path / "g")
    g = load_checkpoint(tmp_path / "g")
    g.device = "cpu"
    np.testing.assert_allclose(g.predict(3).to_numpy(), on_gpu.to_numpy(), rtol=1e-5)
    c = small(device="cpu").fit(series(), val_size=30)
    save_checkpoint(c, tmp_path / "c")
    h = load_checkpoint(tmp_path / "c")
    h.device = "cuda"
    np.testing.assert_allclose(h.predict(3).to_numpy(), c.predict(3).to_numpy(), rtol=1e-5)
    # and it trains on from a GPU-trained checkpoint on the CPU
    g.warm_start, g.epochs = True, 1
    g.fit(series(), val_size=30)
