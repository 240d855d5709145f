"""Issue 12, section 1: argument and data errors of `forecast`, `train` and `predict` that need
no torch are refused without importing it (torch alone takes seconds to import here).

Each case runs in a fresh interpreter and reports whether torch was imported when the command
returned, and how long the command took (the interpreter's own start-up excluded).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CODE = """
import json, sys, time
import rnnlab.cli as c
t0 = time.perf_counter()
rc = c.main(sys.argv[1:])
print(json.dumps({"rc": rc, "torch": "torch" in sys.modules, "s": time.perf_counter() - t0}))
"""


def _cases(tmp):
    ckpt = tmp / "ckpt"
    ckpt.mkdir()
    return [
        (["forecast", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["forecast", "--data", str(tmp / "missing.csv")], "missing.csv: no such file"),
        (["forecast", "--column", "nope"], "has no column 'nope'"),
        (["forecast", "--models", "rnn,nope"], "unknown model 'nope'"),
        (["forecast", "--window", "0"], "--window: must be at least 1"),
        (["forecast", "--dataset", "fb", "--window", "150", "--no-report"], "too few rows"),
        (["forecast", "--dataset", "aapl", "--dayfirst"], "--dayfirst: only for --data"),
        (["train", "--out", str(tmp / "m"), "--data", str(tmp / "missing.csv")], "missing.csv"),
        (["train", "--out", str(tmp / "m"), "--cell", "nope"], "invalid choice: 'nope'"),
        (["train", "--cell", "gru"], "--out: name the checkpoint directory to write"),
        (["train", "--resume", str(tmp / "none")], "no such checkpoint directory"),
        (["predict", "--model", str(tmp / "none")], "no such checkpoint directory"),
        (["predict"], "--model: name the checkpoint directory"),
        (["predict", "--model", str(ckpt), "--data", str(tmp / "x.csv")], "x.csv: no such file"),
        (["predict", "--model", str(ckpt), "--horizon", "0"], "--horizon: must be at least 1"),
    ]


@pytest.mark.parametrize("index", range(15))
def test_cheap_errors_import_no_torch(tmp_path, index):
    argv, needle = _cases(tmp_path)[index]
    proc = subprocess.run(
        [sys.executable, "-c", CODE, *argv], capture_output=True, text=True, check=False
    )
    assert proc.stderr.startswith("rnnlab: error: "), proc.stderr
    assert needle in proc.stderr, (needle, proc.stderr)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["rc"] == 2
    assert result["torch"] is False, argv
    assert result["s"] < 2.0, result  # about 0.05 s idle here; torch alone takes 2-3 s
