"""`rnnlab compare --quick --json`: the structure, and only the directions that are robust (the
tanh RNN's reach-back decays geometrically, the Transformer's does not; the aggressive setting
blows the tanh RNN up); never a timing. One real run for the module."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout

import pytest
import torch
from test_terminal_width import assert_fits, render_at

from rnnlab.cli import main

CELLS = ["rnn", "lstm", "gru", "mingru", "transformer"]


@pytest.fixture(scope="module")
def quick():
    """(the --json object, the CompareResult behind it) of one `compare --quick --json`."""
    import rnnlab.compare as lib

    real, seen, threads = lib.run_compare, {}, torch.get_num_threads()

    def spy(*args, **kwargs):
        seen["result"] = real(*args, **kwargs)
        return seen["result"]

    lib.run_compare = spy
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            assert main(["compare", "--quick", "--json"]) == 0
    finally:
        lib.run_compare = real
        torch.set_num_threads(threads)
    return json.loads(out.getvalue()), seen["result"]


def test_structure(quick):
    d, _ = quick
    assert list(d["params"]) == CELLS
    assert all(isinstance(n, int) and n > 0 for n in d["params"].values())
    s = d["speed"]
    assert s["lengths"] == [16, 32, 64, 128]
    for c in CELLS:
        assert len(s["seconds"][c]) == 4
        assert all(t > 0 for t in s["seconds"][c])
    assert s["depth"]["rnn"] == s["lengths"]  # T dependent steps
    assert s["depth"]["transformer"] == [2, 2, 2, 2]  # its layers, whatever T
    assert s["depth"]["mingru"] == [4, 5, 6, 7]  # a parallel scan: ⌈log₂ T⌉
    assert set(d["crossover"]) == set(CELLS) - {"transformer"}
    T = d["config"]["reach_length"]
    for c in CELLS:
        assert len(d["reach"][c]["init"]) == T
        assert d["stability"][c]["no_clip"]["status"] in ("completed", "exploded", "diverged")
        for task in ("adding", "copy"):
            assert d["tasks"][task][c]["steps"] >= 1
    f = d["forecast"]
    assert set(f["test"]) == {*CELLS, "persistence"}
    assert all(f["test"][c]["p_value"] is None or 0 <= f["test"][c]["p_value"] <= 1 for c in CELLS)
    assert all(isinstance(line, str) and line for line in d["verdict"])
    assert d["verdict"][-1].startswith("On this machine: ")


def test_reach_back_decays_for_the_tanh_rnn_and_not_for_attention(quick):
    d, _ = quick
    T = d["config"]["reach_length"]
    rnn, tf = d["reach"]["rnn"], d["reach"]["transformer"]
    assert rnn["init"][T - 1] / rnn["init"][1] < 1e-3  # geometric: ×0.6 per step here
    assert rnn["init_rate"] < 0.9
    assert tf["init"][T - 1] / tf["init"][1] > 1e-2  # one softmax weight away at any lag
    assert tf["init_rate"] > 0.9
    assert "attention keeps its reach-back" in d["verdict"][-1]


def test_the_aggressive_setting_blows_up_the_tanh_rnn_and_clipping_holds_it(quick):
    d, _ = quick
    rnn = d["stability"]["rnn"]
    assert rnn["no_clip"]["status"] in ("exploded", "diverged")
    assert rnn["clip"]["status"] == "completed"
    assert d["stability"]["transformer"]["init"] == "its own (no W_hh)"


def test_tables_fit_80_columns_and_the_plot(quick, monkeypatch, capsys, tmp_path):
    import rnnlab.compare as lib

    d, result = quick
    monkeypatch.setattr(lib, "run_compare", lambda config, progress=None: result)
    png = tmp_path / "compare.png"
    code, out, _ = render_at(monkeypatch, capsys, ["compare", "--quick", "--plot", str(png)])
    assert code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Plot: {png}" in " ".join(out.split())
    whole = ["1. Speed", "2. Reach-back", "3. Stability", "4. What it buys", "Verdict"]
    assert_fits(out, 80, whole=[*whole, *CELLS, "persistence"])
    assert f"{d['reach']['rnn']['init_rate']:.2f}" in out
    assert math.isfinite(d["seconds"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_cuda_without_a_gpu_is_one_line(capsys):
    assert main(["compare", "--quick", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnlab: error: --device: cuda")
    assert err.count("\n") == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_speed_on_the_gpu():
    """The speed part on CUDA: every cell runs there and each timed call waits for its
    kernels (a GPU check for a session that has one)."""
    from rnnlab.compare.speed import measure_speed

    s = measure_speed(tuple(CELLS), 8, 2, [16, 32], 2, 0, torch.device("cuda"))
    assert s.device.startswith("cuda")
    assert all(len(v) == 2 and min(v) > 0 for v in s.seconds.values())
