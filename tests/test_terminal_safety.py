"""What reaches the terminal: user names with control characters, rich markup, CJK or 20,000
characters; negative numbers as option values; what an out-of-memory error says.

A name is shown, never obeyed: ``ESC ] 0 ; … BEL`` (set the window title) and ``ESC [ 2 J``
(clear the screen) come out as the text ``\\x1b]0;…\\x07\\x1b[2J``.
"""

from __future__ import annotations

import json
import re
import struct
import time

import numpy as np
import pytest

from rnnlab.display import printable, shorten

# C0 but the line break, DEL, C1, and the bidirectional overrides: never in what is printed
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\u202eclose"
SHOWN = r"\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\u202eclose"


def _csv(path, column: str, rows: int = 90) -> None:
    x = 50 + np.cumsum(np.random.default_rng(2).normal(0, 1, rows))
    dates = np.arange("2022-01-03", rows, dtype="datetime64[D]")
    quoted = '"' + column.replace('"', '""') + '"'
    path.write_text(
        f"date,{quoted}\n" + "".join(f"{d},{v:.3f}\n" for d, v in zip(dates, x, strict=True)),
        encoding="utf-8",
    )


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def _clean(text: str) -> None:
    assert not RAW_CONTROL.findall(text), RAW_CONTROL.findall(text)


def test_printable_and_shorten():
    assert printable(HOSTILE) == SHOWN
    assert printable("收盘价 📈 prét") == "收盘价 📈 prét"  # ordinary Unicode is kept
    assert printable("a\nb\tc", keep="\n") == "a\nb\\tc"
    assert shorten("x" * 10, 10) == "x" * 10
    cut = shorten("a" * 1000 + "b" * 1000, 80)
    assert len(cut) == 80
    assert cut == "a" * 40 + "…" + "b" * 39


def test_control_characters_in_names_are_shown_not_obeyed(tmp_path, cli_here):
    """forecast, train and predict on a CSV whose file name and column name hold terminal
    escapes, C1 and a bidi override: tables and lines show them escaped; stderr stays empty;
    report.html holds no control character either."""
    data = tmp_path / "\x1b[2Jprices.csv"
    _csv(data, HOSTILE)
    out, ckpt = tmp_path / "report", tmp_path / "ck\x1b]0;x\x07pt"
    r = cli_here("forecast", "--data", str(data), "--quick", "--models", "linear",
                 "--out", str(out))  # fmt: skip
    assert (r.code, r.err) == (0, "")
    _clean(r.out)
    assert SHOWN in r.out
    assert r"\x1b[2Jprices.csv" in r.out
    page = (out / "report.html").read_text(encoding="utf-8")
    _clean(page)
    assert "\\x1b]0;pwned" in page
    r = cli_here("train", "--data", str(data), "--quick", "--model", "linear", "--out", str(ckpt))
    assert (r.code, r.err) == (0, "")
    _clean(r.out)
    assert SHOWN in r.out
    assert r"ck\x1b]0;x\x07pt" in r.out
    r = cli_here("predict", "--model", str(ckpt), "--data", str(data))
    assert (r.code, r.err) == (0, "")
    _clean(r.out)
    assert r.out.count(SHOWN) == 2  # in the model's description and in the data's name


def test_control_characters_in_an_error_line(tmp_path, cli_here, user_error):
    data = tmp_path / "p.csv"
    _csv(data, "close")
    r = cli_here("forecast", "--data", str(data), "--column", HOSTILE, "--quick")
    user_error(r, "--column")
    _clean(r.err)
    assert "\\x1b]0;pwned\\x07" in r.err  # repr or escape: shown, either way
    r = cli_here("forecast", "--data", str(tmp_path / "no\x1b[2Jsuch.csv"), "--quick")
    user_error(r, r"no\x1b[2Jsuch.csv")
    _clean(r.err)


def test_markup_in_a_name_is_shown_as_written(tmp_path, cli_here):
    data = tmp_path / "m.csv"
    _csv(data, "[/] [bold]x[/bold] [link=file:///etc]y")
    r = cli_here("forecast", "--data", str(data), "--quick", "--models", "linear")
    assert (r.code, r.err) == (0, "")
    assert r.out.startswith("m.csv [/] [bold]x[/bold] [link=file:///etc]y: 90 points")


@pytest.mark.parametrize("column", ["收盘价 📈", "\x1b[31m\x07red", "prét €"])
def test_names_the_font_cannot_draw_keep_stderr_clean(tmp_path, cli_here, column):
    """matplotlib warns "Glyph … missing from font(s)" for CJK and emoji (and control
    characters); pytest turns warnings into errors here, so this fails if one escapes."""
    data = tmp_path / "c.csv"
    _csv(data, column)
    r = cli_here("forecast", "--data", str(data), "--quick", "--models", "linear",
                 "--out", str(tmp_path / "out"), "--json")  # fmt: skip
    assert (r.code, r.err) == (0, "")
    assert json.loads(r.out)["series"]["column"] == column  # the JSON keeps the exact name
    _clean(r.out)


@pytest.mark.parametrize("length", [2_000, 20_000])
def test_absurdly_long_names_make_normal_plots_quickly(tmp_path, cli_here, length):
    """Before: 2,000 characters made a 22354×18022 px series.png (75 s); 20,000 ended in "out of
    memory; try smaller sizes". Now every name in a plot or a console line is cut in the
    middle."""
    column = "".join(chr(ord("a") + i % 26) for i in range(length))
    data, out = tmp_path / "long.csv", tmp_path / "out"
    _csv(data, column)
    start = time.perf_counter()
    r = cli_here("forecast", "--data", str(data), "--quick", "--models", "linear",
                 "--out", str(out))  # fmt: skip
    seconds = time.perf_counter() - start
    assert (r.code, r.err) == (0, "")
    assert seconds < 20, seconds  # about 1 s here
    for png in ("series.png", "test.png", "skill.png"):
        width, height = _png_size(out / png)
        assert (width <= 1200, height <= 900) == (True, True), (png, width, height)
    first = r.out.splitlines()[0]
    assert first.startswith("long.csv " + column[:20])
    assert "…" in first
    assert len(first) < 200
    assert max(len(line) for line in r.out.splitlines()) < 400


@pytest.mark.parametrize(
    ("args", "key", "expected"),
    [
        (["walkthrough", "--wh", "-1e3"], ("weights", "wh"), -1000.0),
        (["walkthrough", "--wh", "-.5"], ("weights", "wh"), -0.5),
        (["walkthrough", "--b", "-2E-1"], ("weights", "b"), -0.2),
        (["walkthrough", "--inputs", "-1,2,-3e0"], ("steps", 2, "x"), -3.0),
        (["walkthrough", "--h0", "-0.25"], ("steps", 0, "h_prev"), -0.25),
        (["walkthrough", "--scale", "-3,1"], (), None),
        (["walkthrough", "--standard", "-1e2,2"], (), None),
        (["gradients", "--steps", "5", "--no-plot", "--wh", "-0.5"], ("description",), None),
        (["gradients", "--steps", "5", "--no-plot", "--wh", "-1e0"], ("description",), None),
    ],
)
def test_negative_numbers_are_option_values(cli_here, args, key, expected):
    """argparse took `-1e3` and `-3,1` for options ("expected one argument"): only `-1` and
    `-0.5` passed its test for a negative number. `--opt -X` now gives exactly what
    `--opt=-X` gives."""
    r = cli_here(*args, "--json")
    assert (r.code, r.err) == (0, ""), r.err
    joined = cli_here(*args[:-2], f"{args[-2]}={args[-1]}", "--json")
    assert joined.code == 0
    assert joined.out == r.out
    value = json.loads(r.out)
    for k in key:
        value = value[k]
    if expected is not None:
        assert value == expected
    elif key == ("description",):
        assert f"Wh = {float(args[-1]):g}," in value


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["forecast", "--lr", "-1e3"], "argument --lr: must be above 0 and at most 1e+06"),
        (["forecast", "--hidden", "-1e3"], "argument --hidden: '-1e3' is not a whole number"),
        (["train", "--epochs", "-5", "--out", "x"], "argument --epochs: must be at least 1"),
        (["longmemory", "--length", "-1e3"], "argument --length: '-1e3' is not a whole number"),
        (["walkthrough", "--wh", "-inf"], "--wh: -inf is not a finite number"),
        (["walkthrough", "--wh", "-1x"], "--wh: '-1x' is not a number"),
    ],
)
def test_negative_numbers_reach_the_option_check(cli_here, user_error, args, needle):
    """A negative value out of range is refused by the option's own check, not by argparse
    mistaking it for an option."""
    r = cli_here(*args)
    user_error(r, needle)
    assert "expected one argument" not in r.err


def test_out_of_memory_says_what_failed_and_where(monkeypatch, cli_here, user_error):
    """A failed allocation is reported with its size and the function that asked for it; it
    does not guess that the user's sizes were the cause (before: "out of memory; try smaller
    sizes", also when a 20,000-character name made matplotlib ask for a huge canvas)."""
    import torch

    import rnnlab.commands.walkthrough as walkthrough

    # numpy's MemoryError, then torch's RuntimeError: both refused at once, nothing touched
    for alloc, size in ((np.empty, "72.8 TiB"), (torch.empty, "36.4 TiB")):
        monkeypatch.setattr(walkthrough, "_inputs", lambda *_, alloc=alloc: alloc(10**13))
        r = cli_here("walkthrough")
        user_error(r, f"out of memory: an allocation of {size} failed (in ")
        assert r.err.endswith("called from rnnlab.commands.walkthrough.run)\n")
        assert "try smaller sizes" not in r.err


def test_every_option_that_takes_a_value_takes_a_negative_number():
    """Parsing only (nothing runs): `-1e3`, `-3,1`, `-.5` and `-inf` reach every option's own
    type check, on every command; none is mistaken for an option."""
    import argparse

    from rnnlab.cli import build_parser
    from rnnlab.errors import RnnlabError

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    tried, refused = 0, []
    for command, p in sub.choices.items():
        for action in p._actions:
            if not action.option_strings or action.nargs == 0 or action.choices is not None:
                continue
            for value in ("-1e3", "-3,1", "-.5", "-inf"):
                try:
                    args = parser.parse_args([command, action.option_strings[0], value])
                except RnnlabError as exc:
                    refused.append(str(exc))
                    continue
                got = getattr(args, action.dest)
                kept = str(got) == value or got == tuple(value.split(","))  # text, or a list
                assert kept or isinstance(got, float | int), (command, action, got)
                tried += 1
    assert tried > 40  # options that keep the text or took the number
    assert len(refused) > 100  # by the option's own check: "must be at least 1, got -1e3"
    assert not [m for m in refused if "expected one argument" in m]
