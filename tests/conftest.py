"""Shared fixtures: a torch reference of the glass-box RNN, and a CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

# Triton's interpreter for the whole session where there is no GPU. TRITON_INTERPRET is read
# when triton is first imported, and torch may import triton on its own (scikit-learn's checks in
# test_api.py do it); a kernel interpreted after that fails with "Cannot call @triton.jit'd
# outside of the scope of a kernel". On a GPU machine scripts/gpu_check.sh runs the kernel tests
# compiled, without this file.
if not os.path.exists("/dev/nvidiactl"):
    os.environ.setdefault("TRITON_INTERPRET", "1")

import numpy as np
import pytest
from hypothesis import settings

# CI (CI=true) replays the same examples every run, so that a red CI means a change broke
# something; a developer's run draws new examples each time and keeps looking for new bugs.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")


@dataclass
class TorchRun:
    """What the torch reference computed: loss, parameter grads, dL/dh_t, states."""

    loss: float
    grads: dict[str, np.ndarray]
    dh: np.ndarray


def torch_bptt(params, xs, h0, activation, head, targets, on, truncate=None) -> TorchRun:
    """The same RNN and loss in torch float64, differentiated by autograd.

    With ``truncate=k`` each loss term is recomputed from a *detached* h_{t−k}, so autograd sees
    exactly k steps behind it: the definition of truncated BPTT, built independently.
    """
    import torch
    import torch.nn.functional as F

    P = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for k, v in params.as_dict().items()
    }
    x = torch.tensor(np.asarray(xs, dtype=np.float64).reshape(len(xs), -1))
    T, H = x.shape[0], params.hidden_size
    act = torch.tanh if activation == "tanh" else torch.relu
    start = torch.zeros(H, dtype=torch.float64) if h0 is None else torch.tensor(h0)

    def step(h, t):  # t is 1-based
        return act(P["wx"] @ x[t - 1] + P["wh"] @ h + P["b"])

    def term(h, t, target):
        y = P["wout"] @ h + P["bout"]
        if head == "linear":
            return F.mse_loss(y, torch.tensor(np.atleast_1d(target), dtype=torch.float64))
        return F.cross_entropy(y[None], torch.tensor([int(target)]))

    loss_steps = [T] if on == "last" else list(range(1, T + 1))
    tgt = np.asarray(targets, dtype=np.float64)
    tgt = tgt.reshape(len(loss_steps), -1) if head == "linear" else tgt.reshape(-1)
    dh = np.zeros((T + 1, H))
    if truncate is None:
        hs = [start.clone().requires_grad_(True)]
        for t in range(1, T + 1):
            hs.append(step(hs[-1], t))
            hs[-1].retain_grad()
        loss = sum(term(hs[t], t, tgt[i]) for i, t in enumerate(loss_steps)) / len(loss_steps)
        loss.backward()
        for t in range(T + 1):
            dh[t] = hs[t].grad.numpy()
    else:
        with torch.no_grad():  # the full trajectory, no graph
            plain = [start]
            for t in range(1, T + 1):
                plain.append(step(plain[-1], t))
        total = 0.0
        for i, t in enumerate(loss_steps):
            s0 = max(0, t - truncate)
            h = plain[s0].detach()  # the cut: nothing flows into h_{t−k}
            chain = []
            for s in range(s0 + 1, t + 1):
                h = step(h, s)
                h.retain_grad()
                chain.append((s, h))
            part = term(h, t, tgt[i]) / len(loss_steps)
            part.backward()
            total += float(part.detach())
            for s, hh in chain:
                dh[s] += hh.grad.numpy()
        loss = torch.tensor(total, dtype=torch.float64)
    grads = {k: v.grad.numpy().copy() for k, v in P.items()}
    return TorchRun(loss=float(loss.detach()), grads=grads, dh=dh)


@pytest.fixture
def torch_reference():
    """The torch autograd reference for the glass box (see :func:`torch_bptt`)."""
    return torch_bptt


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def _run_cli(*args: str, timeout: float = 300) -> CliResult:
    proc = subprocess.run(
        [sys.executable, "-m", "rnnlab", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    """Run ``python -m rnnlab ARGS…`` in a fresh process; returns code, stdout, stderr."""
    return _run_cli


def assert_user_error(result: CliResult, *needles: str) -> None:
    """Exit 2, one line on stderr starting ``rnnlab: error:``, naming each needle; no traceback."""
    assert result.code == 2, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("rnnlab: error: "), lines[0]
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert result.out == ""


@pytest.fixture
def user_error():
    """Assert a CLI result is a clean one-line user error (see :func:`assert_user_error`)."""
    return assert_user_error


def _no_nan(token: str):
    raise AssertionError(f"{token} in the JSON output")


def assert_clean_outcome(result: CliResult) -> dict | None:
    """Either a clean one-line user error (exit 2), or success (exit 0) with exactly one JSON
    object on stdout holding no NaN or inf; never a traceback. Returns the JSON (or None)."""
    assert "Traceback" not in result.err, result.err
    if result.code == 2:
        assert_user_error(result)
        return None
    assert result.code == 0, (result.code, result.err)
    data = json.loads(result.out, parse_constant=_no_nan)
    assert isinstance(data, dict)
    assert result.out.count("\n") == 1
    return data


@pytest.fixture
def clean_outcome():
    """Assert a CLI result is a clean error or a clean JSON success (see
    :func:`assert_clean_outcome`)."""
    return assert_clean_outcome


@pytest.fixture
def cli_here(capsys):
    """Run ``rnnlab ARGS…`` inside this process (no start-up cost); returns code, stdout, stderr."""

    def run(*args: str) -> CliResult:
        from rnnlab.cli import main

        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


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


@pytest.fixture
def kill_in_write(tmp_path_factory):
    """A script: ``python SCRIPT ARGS…`` runs ``rnnlab ARGS…`` and kills itself (SIGKILL)
    halfway through the K-th file that checkpoint writes make, K from $KILL_AT_WRITE."""
    path = tmp_path_factory.mktemp("scripts") / "kill_in_write.py"
    path.write_text(KILL_IN_WRITE)
    return path
