"""Property-based fuzzing of every option of every command (found from the parser itself, so a
new option is fuzzed too): any value gives exit 0 or 2, never a traceback; an error is one line
``rnnlab: error: …``; with --json, stdout is one JSON object without NaN or inf.

Cheap commands run for real (forecast and train on a linear model, predict, walkthrough). For
the expensive ones (gradients, longmemory, bench) the call that starts the real work is
replaced by one that stops the run and hands back its config: every option is then either
refused in one line or reaches the library inside its stated bounds.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rnnlab.cli import COMMANDS, build_parser
from rnnlab.commands.common import MAX_SEED, MAX_WEIGHT, max_threads
from rnnlab.commands.data_options import MAX_HIDDEN

# Values from the shell are text without NUL bytes (argv cannot hold them).
_garbage = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8
)
VALUES = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1",
            "2",
            "3",
            "-0",
            "0.5",
            "1.5",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "1e308",
            "1e-320",
            "1000000000",
            "99999999999999999999",
            "",
            " ",
            "abc",
            "1_000",
            "−3",
            "0x10",
            "none",
            "torch",
            "linear",
            "persistence",
            "a\nb",
            ".",
            "..",
            "/",
        ]
    ),
    st.integers(-(10**12), 10**12).map(str),
    st.floats().map(repr),
    _garbage,
)
# Model and cell names drawn from an alphabet that spells no neural model (whose training the
# fuzzing would then pay for): garbage, or the cheap models above.
NAMES = st.text(alphabet=",; ._-0123456789xyzQ", max_size=10)
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class WorkReachedError(Exception):
    """The run got past every check to the expensive part, with these arguments."""


def value_options(command: str) -> list[str]:
    """Every --option of ``command`` that takes a value."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(
        next(o for o in a.option_strings if o.startswith("--"))
        for a in sub.choices[command]._actions
        if a.option_strings and a.nargs != 0 and a.dest != "help"
    )


def test_every_command_is_fuzzed():
    assert set(COMMANDS) == set(BASE) | {"datasets"}
    assert value_options("datasets") == []
    assert "--hidden" in value_options("forecast")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A scratch working directory with a small CSV and a linear checkpoint; torch's thread
    count restored afterwards (--threads changes it)."""
    from rnnlab.data.csvfile import load_csv
    from rnnlab.data.windows import WindowConfig
    from rnnlab.forecast.checkpoint import save_checkpoint
    from rnnlab.forecast.models import make_forecaster

    monkeypatch.chdir(tmp_path)
    x = 50 + np.cumsum(np.random.default_rng(0).normal(0, 1, 150))
    dates = np.arange("2022-01-03", 150, dtype="datetime64[D]")
    (tmp_path / "s.csv").write_text(
        "date,v\n" + "".join(f"{d},{v:.3f}\n" for d, v in zip(dates, x, strict=True))
    )
    f = make_forecaster("linear", WindowConfig(window=10)).fit(load_csv(tmp_path / "s.csv"))
    save_checkpoint(f, tmp_path / "lin")
    threads = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(threads)


BASE = {
    "walkthrough": [],
    "forecast": ["--data", "s.csv", "--quick", "--models", "linear", "--no-report"],
    "train": ["--data", "s.csv", "--quick", "--model", "linear", "--out", "m"],
    "predict": ["--model", "lin"],
    "gradients": ["--no-plot"],
    "longmemory": ["--quick", "--cell", "rnn"],
    "bench": ["--smoke"],
    "compare": ["--quick"],
    "explore": ["--out", "e.html"],
}


def _stop(monkeypatch, target: str) -> None:
    def stop(*args, **kwargs):
        raise WorkReachedError(args)

    monkeypatch.setattr(target, stop)


def _argv(command: str, pairs: list[tuple[str, str]]) -> list[str]:
    argv = [command, *BASE[command], "--json"]
    for option, value in pairs:
        if option in argv:  # the fuzzed value replaces the base one
            i = argv.index(option)
            del argv[i : i + 2]
        argv.append(f"{option}={value}")  # `=`: a value may start with '-'
    return argv


def _pairs(command: str):
    names = {"--models", "--model", "--cell"} if command != "predict" else set()
    return st.lists(
        st.sampled_from(value_options(command)).flatmap(
            lambda o: st.tuples(st.just(o), NAMES if o in names else VALUES)
        ),
        min_size=1,
        max_size=3,
    )


@pytest.mark.parametrize("command", ["walkthrough", "forecast", "train", "predict", "explore"])
def test_cheap_commands_run_for_real(command, workdir, cli_here, clean_outcome):
    @SETTINGS
    @given(pairs=_pairs(command))
    def check(pairs):
        result = cli_here(*_argv(command, pairs))
        event(f"exit {result.code}")
        clean_outcome(result)

    check()


def test_datasets_takes_no_values(cli_here, user_error):
    user_error(cli_here("datasets", "--json", "--seed", "1"), "unrecognized arguments: --seed")


def _accepted_gradients(args) -> None:
    config = args[0]
    assert 1 <= config.hidden <= MAX_HIDDEN
    assert 2 <= config.steps <= 10_000
    assert abs(config.scale) <= MAX_WEIGHT
    assert config.wh is None or abs(config.wh) <= MAX_WEIGHT


def _accepted_longmemory(args) -> None:
    _, config = args
    assert config.lr > 0
    assert math.isfinite(config.lr)
    assert 0 < config.budget < math.inf
    assert config.batch_size * config.hidden >= 1
    assert 0 <= config.seed <= MAX_SEED
    assert 1 <= torch.get_num_threads() <= max_threads()


def _accepted_bench(args) -> None:
    config = args[0]
    assert 1 <= config.threads <= max_threads()
    assert 0 <= config.seed <= MAX_SEED


def _accepted_compare(args) -> None:
    config = args[0]
    assert 1 <= config.hidden <= 512
    assert 2 <= config.min_length <= config.max_length
    assert 0 < config.task_budget < math.inf
    assert 0 <= config.seed <= MAX_SEED
    assert 1 <= torch.get_num_threads() <= max_threads()


@pytest.mark.parametrize(
    ("command", "target", "accepted"),
    [
        ("gradients", "rnnlab.diagnostics.probe.random_probe", _accepted_gradients),
        ("longmemory", "rnnlab.tasks.runner.build_net", _accepted_longmemory),
        ("bench", "rnnlab.bench.run_bench", _accepted_bench),
        ("compare", "rnnlab.compare.run_compare", _accepted_compare),
    ],
)
def test_expensive_commands_check_before_the_work(
    command, target, accepted, workdir, monkeypatch, cli_here, clean_outcome
):
    _stop(monkeypatch, target)

    @SETTINGS
    @given(pairs=_pairs(command))
    def check(pairs):
        try:
            result = cli_here(*_argv(command, pairs))
        except WorkReachedError as reached:
            event("reached the work")
            accepted(reached.args[0])
        else:
            event(f"exit {result.code}")
            clean_outcome(result)

    check()


_weight_values = st.recursive(
    st.one_of(
        st.floats(), st.integers(-(10**30), 10**30), st.text(max_size=3), st.none(), st.booleans()
    ),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=9,
)


@SETTINGS
@given(
    weights=st.dictionaries(
        st.sampled_from(["wx", "wh", "b", "wout", "bout", "x"]), _weight_values, max_size=6
    ),
    inputs=st.sampled_from(["0,0", "1;2", "1,2;3,4"]),
)
def test_any_walkthrough_weights_file(tmp_path, cli_here, clean_outcome, weights, inputs):
    """--weights FILE.json holding any JSON object: the walkthrough, or one line saying what
    in the file is wrong (NaN and inf written by json.dumps included)."""
    path = tmp_path / "w.json"
    path.write_text(json.dumps(weights))
    clean_outcome(cli_here("walkthrough", "--weights", str(path), "--inputs", inputs, "--json"))


def test_line_breaks_in_names_stay_on_one_line(workdir, cli_here, user_error):
    """A file or column name with a line break: the message still is one line (⏎ for it)."""
    r = cli_here("forecast", "--data", "no\nsuch.csv", "--no-report")
    user_error(r, "no such file", "no ⏎ such.csv")
    (workdir / "two.csv").write_text('date,"a\nb"\n2020-01-01,1\n2020-01-02,2\n')
    user_error(cli_here("forecast", "--data", "two.csv", "--column", "c"), r"'a\nb'")


def test_a_double_dash_value_is_a_value(cli_here, user_error):
    user_error(cli_here("longmemory", "--quick", "--cell=--"), "--cell: unknown cell '--'")
    user_error(cli_here("walkthrough", "--inputs=--"), "--inputs")


def test_found_by_fuzzing_an_empty_model_and_endless_epochs(cli_here, user_error, tmp_path):
    # `--model=` used to train the default rnn, and `--epochs 10^20` to run until stopped
    out = str(tmp_path / "m")
    user_error(cli_here("train", "--quick", "--out", out, "--cell="), "--cell: invalid choice: ''")
    user_error(cli_here("train", "--quick", "--out", out, "--model="), "--model: invalid choice")
    user_error(cli_here("train", "--quick", "--out", out, "--epochs=10" + "0" * 19), "--epochs")
