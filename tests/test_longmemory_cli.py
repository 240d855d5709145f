"""``rnnlab longmemory``: a quick run completes and reports, JSON contract, plot, errors."""

from __future__ import annotations

import json
import math

import pytest

from rnnlab.tasks import AddingProblem, CopyTask


def test_quick_adding_run_reports_every_cell(cli_here, tmp_path):
    plot = tmp_path / "curves.png"
    r = cli_here("longmemory", "--quick", "--cell", "rnn,gru,irnn", "--plot", str(plot), "--json")
    assert r.code == 0
    d = json.loads(r.out)
    assert (d["task"], d["length"]) == ("adding", 10)
    assert d["baseline"] == AddingProblem(10).baseline()
    assert list(d["results"]) == ["rnn", "gru", "irnn"]
    for name, res in d["results"].items():
        assert {"final_loss", "solved", "seconds"} <= set(res)
        assert res["steps"] == 40
        assert res["solved"] == (res["final_loss"] < 0.01)
        assert res["final_loss"] == res["curve"][-1]["val_loss"]
        assert res["config"]["cell"] == name
        assert res["fraction_of_baseline"] == pytest.approx(res["final_loss"] / d["baseline"])
    assert d["results"]["irnn"]["config"]["lr"] == 1e-4
    assert d["results"]["rnn"]["config"]["forget_bias"] is None
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_lstm_forget_bias_default_and_override(cli_here):
    def bias(*args: str):
        r = cli_here("longmemory", "--quick", "--max-steps", "1", "--json", *args)
        return json.loads(r.out)["results"]["lstm"]["config"]["forget_bias"]

    assert bias("--cell", "lstm") == 1.0
    assert bias("--cell", "lstm", "--torch-forget-bias") is None  # was --forget-bias torch
    assert bias("--cell", "lstm,gru", "--forget-bias", "3") == 3.0


def test_chrono_reaches_lstm_and_gru_only(cli_here, user_error):
    r = cli_here(
        "longmemory", "--quick", "--max-steps", "1", "--json", "--chrono", "--cell", "rnn,lstm,gru"
    )
    configs = {k: v["config"] for k, v in json.loads(r.out)["results"].items()}
    assert [configs[k]["chrono"] for k in ("rnn", "lstm", "gru")] == [False, True, True]
    assert configs["lstm"]["forget_bias"] is None  # chrono sets it
    user_error(cli_here("longmemory", "--quick", "--chrono", "--cell", "rnn"), "--chrono")
    user_error(
        cli_here("longmemory", "--quick", "--chrono", "--forget-bias", "2", "--cell", "lstm"),
        "--chrono",
    )


def test_quick_copy_run_and_its_baseline(cli_here):
    r = cli_here("longmemory", "--quick", "--task", "copy", "--length", "6", "--cell", "lstm")
    assert r.code == 0
    assert "copy task, T = 6" in r.out
    assert f"{CopyTask(6).baseline():.4f}" in r.out
    assert f"{10 * math.log(8) / 26:.4f}" in r.out
    r = cli_here("longmemory", "--quick", "--task", "copy", "--cell", "gru", "--json")
    d = json.loads(r.out)
    assert d["baseline"] == pytest.approx(10 * math.log(8) / (10 + 20), rel=1e-15)
    assert d["threshold"] == pytest.approx(0.1 * d["baseline"], rel=1e-15)


def test_clipping_statistics_are_reported(cli_here):
    r = cli_here("longmemory", "--quick", "--cell", "rnn", "--clip", "0.5", "--json")
    clip = json.loads(r.out)["results"]["rnn"]["clipping"]
    assert clip["clip"] == 0.5
    assert clip["steps"] == 40
    assert 0 <= clip["fired"] <= 40
    assert clip["fraction"] == clip["fired"] / 40


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--cell", "rnn,tcn"], ["--cell", "unknown cell 'tcn'"]),
        (["--cell", ","], ["--cell", "empty"]),
        (["--clip", "-1"], ["--clip", "must be above 0"]),
        (["--clip", "x"], ["--clip", "not a number"]),
        (["--length", "1"], ["--length", "at least 2"]),
        (["--lr", "0"], ["--lr"]),
        (["--task", "parity"], ["--task", "invalid choice"]),
        (["--threads", "0"], ["--threads"]),
        (["--cell", "rnn,gru", "--forget-bias", "1"], ["--forget-bias", "no lstm"]),
    ],
)
def test_bad_input_is_one_clear_line(cli_here, user_error, args, needles):
    user_error(cli_here("longmemory", "--quick", *args), *needles)


@pytest.mark.parametrize(
    "argv",
    [
        ["longmemory", "--cell", "nope"],
        ["longmemory", "--hidden", "4096", "--batch-size", "4096"],  # the B·T·H guard
        ["longmemory", "--cell", "gru", "--forget-bias", "2"],
        ["gradients", "--wh", "0.5", "--cell", "lstm"],
        ["gradients", "--steps", "10000", "--hidden", "4096"],  # the T·H² guard
        ["walkthrough", "--wx", "x"],
    ],
)
def test_cheap_errors_are_cheap(argv):
    """An argument error exits before torch is imported, in well under a second (it took
    6–17 s when torch came first)."""
    import subprocess
    import sys
    import time

    code = (
        "import sys; from rnnlab.cli import main; code = main(sys.argv[1:]); "
        "sys.stderr.write(f'torch imported: {\"torch\" in sys.modules}'); sys.exit(code)"
    )
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("rnnlab: error: ")
    assert proc.stderr.endswith("torch imported: False")
    assert seconds < 2.0, seconds  # about 0.3 s here; torch alone takes 2.7 s


def test_library_config_names_fields_and_resolves_cell_defaults():
    from rnnlab.config import ConfigError
    from rnnlab.settings.longmemory import LongMemoryConfig
    from rnnlab.settings.tasks import RunConfig

    runs = {r.cell: r for r in LongMemoryConfig(cells=("rnn", "lstm", "irnn", "gru")).runs()}
    assert (runs["irnn"].lr, runs["rnn"].lr) == (1e-4, 1e-3)
    assert (runs["lstm"].forget_bias, runs["gru"].forget_bias) == (1.0, None)
    assert RunConfig(cell="lstm", torch_forget_bias=True).resolved().forget_bias is None
    assert RunConfig(cell="lstm", chrono=True).resolved().forget_bias is None
    with pytest.raises(ConfigError, match=r"^run.forget_bias sets the LSTM's .* cells names no"):
        LongMemoryConfig(cells=("gru",), run=RunConfig(forget_bias=2.0))
    with pytest.raises(ConfigError, match=r"^chrono sets the forget-gate bias itself; drop forget"):
        RunConfig(cell="lstm", chrono=True, forget_bias=2.0)
    with pytest.raises(ConfigError, match=r"^run.batch_size B·T·H = 4096·200·4096"):
        LongMemoryConfig(run=RunConfig(hidden=4096, batch_size=4096))


def test_old_spellings_still_work(cli_here):
    r = cli_here("longmemory", "--quick", "--cell", "rnn", "--clip", "none", "--no-stop")
    assert r.code == 0, r.err
    assert "clip none" in r.out
    r = cli_here("longmemory", "--quick", "--cell", "rnn", "--clip", "0", "--json", "--stop")
    assert json.loads(r.out)["results"]["rnn"]["config"]["clip"] is None
    assert r.err == ""  # no plan or progress on a stderr that is no terminal


def test_the_plan_and_worst_case_time_come_first(monkeypatch, capsys):
    """On a terminal, stderr says what will run and for how long at most, before torch is
    even imported; the default run: three cells × 600 s."""
    from rich.console import Console

    import rnnlab.commands.longmemory as longmemory
    from rnnlab.settings.longmemory import LongMemoryConfig

    console = Console(width=80, force_terminal=True, color_system=None, record=True)
    longmemory._plan(LongMemoryConfig(), console)
    text = " ".join(console.export_text().split())
    assert text == (
        "Training rnn, lstm, gru on the adding problem, T = 200, one after the other: each "
        "until solved, 100000 steps or 10 min per cell: at most 30 min in all."
    )
    seen = []
    monkeypatch.setattr(longmemory, "_plan", lambda config, console: seen.append(config))
    monkeypatch.setattr(
        longmemory, "make_console", lambda stderr=False: Console(force_terminal=True)
    )

    def stop(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("rnnlab.tasks.make_task", stop)
    from rnnlab.cli import main

    assert main(["longmemory", "--quick"]) == 130
    assert seen[0] == LongMemoryConfig.quick()  # the plan, then the work
    capsys.readouterr()


def test_help_is_generated_from_the_fields(cli_here):
    from rnnlab.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices["longmemory"]  # type: ignore[union-attr]
    text = " ".join(sub.format_help().split())
    assert "--hidden H hidden units (default 128; --quick 8)" in text
    assert "--lr LR learning rate (default 1e-3; irnn 1e-4, after Le et al. 2015)" in text
    assert "--quick a small, fast run: T = 10, H = 8, 40 steps per cell" in text
    assert "(for tests)" not in text
