"""Pieces every command shares: the common options, number parsing, JSON and table output
(through a console that shows user text safely).

Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.display import NAME_LIMIT, has_control, printable, shorten
from rnnlab.errors import RnnlabError


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """``--json``: one JSON object on stdout and nothing else."""
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout instead of tables"
    )


MAX_SEED = 2**32 - 1  # numpy's legacy seeds and most tools take 32 bits; torch takes them too


def add_seed_option(parser: argparse.ArgumentParser, default: int = 0) -> None:
    """``--seed N``: the one seed behind every random draw."""
    parser.add_argument(
        "--seed",
        type=whole(0, MAX_SEED),
        default=default,
        help=f"seed for every random draw, 0 … 2^32 − 1 (default {default})",
    )


MAX_WEIGHT = 1e6  # |a weight, scale or bias given as an option|: they live in float32 weights


def _finite(text: str, limit: float | None = None) -> float:
    """One finite float (``−`` read as ``-``), at most ``limit`` in size; ValueError saying
    what is wrong."""
    try:
        value = float(text.strip().replace("\u2212", "-"))
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text.strip()} is not a finite number")
    if limit is not None and abs(value) > limit:
        raise ValueError(f"{text.strip()} is out of range (at most {limit:g} in size)")
    return value


def parse_number(text: str, option: str, limit: float | None = None) -> float:
    """One finite float (no bigger than ``limit`` in size), or an error naming the option."""
    try:
        return _finite(text, limit)
    except ValueError as exc:
        raise RnnlabError(f"{option}: {exc}") from None


def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: a whole number in [low, high] (no upper end when ``high`` is None).

    Bounds are checked while the options are parsed, before any data is read or torch is
    imported; the error names the option (``argument --hidden: …``).
    """

    def parse(text: str) -> int:
        try:
            value = int(text.strip().replace("\u2212", "-"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text.strip()!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"at least {low}" + ("" if high is None else f" and at most {high}")
            raise argparse.ArgumentTypeError(f"must be {span}, got {value}")
        return value

    return parse


def real(
    low: float | None = None,
    high: float | None = None,
    *,
    above: bool = False,
    below: bool = True,
    limit: float | None = None,
) -> Callable[[str], float]:
    """An argparse ``type``: a finite number, at least ``low`` (more than it when ``above``)
    and less than ``high`` (at most it when ``below`` is False), no bigger than ``limit``."""

    def parse(text: str) -> float:
        try:
            value = _finite(text, limit)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        too_low = low is not None and (value <= low if above else value < low)
        too_high = high is not None and (value >= high if below else value > high)
        if too_low or too_high:
            parts = [] if low is None else [f"{'more than' if above else 'at least'} {low:g}"]
            parts += [] if high is None else [f"{'less than' if below else 'at most'} {high:g}"]
            raise argparse.ArgumentTypeError(f"must be {' and '.join(parts)}, got {text.strip()}")
        return value

    return parse


def max_threads() -> int:
    """The cores this process may run on (the most ``--threads`` accepts)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def threads(text: str) -> int:
    """An argparse ``type`` for ``--threads``: 1 … the cores this process may use."""
    return whole(1, max_threads())(text)


def output_file(path: Path, option: str) -> Path:
    """Check, before a long run, that a file can be written at ``path`` (a new or existing
    file, not a directory, in a directory that exists or can be made)."""
    if path.is_dir():
        raise RnnlabError(f"{option}: {path} is a directory; give a file name")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise RnnlabError(f"{option}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        read_only = os.statvfs(parent).f_flag & os.ST_RDONLY  # EROFS, not EACCES
        why = "read-only file system" if read_only else "permission denied"
        raise RnnlabError(f"{option}: cannot write in {parent} ({why})")
    return path


def parse_numbers(text: str, option: str, sep: str = ",") -> list[float]:
    """A separated list of finite floats, or an error naming the option and the item."""
    items = text.split(sep)
    if not text.strip():
        raise RnnlabError(f"{option}: the list is empty")
    values = []
    for i, item in enumerate(items, start=1):
        if not item.strip():
            raise RnnlabError(f"{option}: item {i} is empty")
        try:
            values.append(parse_number(item, option))
        except RnnlabError as exc:
            raise RnnlabError(f"{exc} (item {i})") from None
    return values


def parse_pair(text: str, option: str, names: tuple[str, str]) -> tuple[float, float]:
    """Two numbers ``A,B`` (for example ``MIN,MAX``)."""
    values = parse_numbers(text, option)
    if len(values) != 2:
        raise RnnlabError(f"{option}: expected {names[0]},{names[1]}, got {len(values)} value(s)")
    return values[0], values[1]


def jsonable(obj: Any) -> Any:
    """NumPy arrays and scalars as plain lists and numbers, recursively."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def print_json(obj: dict) -> None:
    """Write exactly one JSON object to stdout. NaN or inf is a bug here, never printed."""
    sys.stdout.write(json.dumps(jsonable(obj), allow_nan=False) + "\n")
    sys.stdout.flush()


def fmt(value: Any, digits: int = 6) -> str:
    """A number with ``digits`` significant digits; arrays as ``[a, b]``; −0 shown as 0."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        v = float(arr)
        return f"{(v + 0.0):.{digits}g}" if v != 0 else "0"
    return "[" + ", ".join(fmt(row, digits) for row in arr) + "]"


def user_text(text: object, limit: int | None = NAME_LIMIT) -> str:
    """A user's name (a column, a file, a checkpoint's description) for a console line or a
    table cell: control characters as escapes, at most ``limit`` characters (cut in the
    middle; None: the whole text), and rich markup escaped (a column ``[bold]x`` or ``[/]`` is
    shown as written, not obeyed)."""
    from rich.markup import escape

    text = printable(str(text))
    return escape(text if limit is None else shorten(text, limit))


def make_console(stderr: bool = False):
    """A rich Console that never squeezes a table (at least 160 columns when not a terminal)
    and never writes a control character it did not make itself: the one place where every
    table, line and progress label of every command goes through :func:`rnnlab.display.printable`.
    """
    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def render_str(self, text: str, **kwargs):  # before layout: widths come out right
            return super().render_str(printable(text, keep="\n\t"), **kwargs)

        def render(self, renderable, options=None):  # every segment, whatever made it
            for seg in super().render(renderable, options):
                if seg.control is None and has_control(seg.text, keep="\n"):
                    seg = Segment(printable(seg.text, keep="\n"), seg.style)
                yield seg

    c = SafeConsole(highlight=False, stderr=stderr)
    if not c.is_terminal:
        c = SafeConsole(highlight=False, stderr=stderr, width=max(c.width, 160))
    return c
