"""Pieces every command shares: the common options, number parsing, JSON and table output.

Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np

from rnnlab.errors import RnnlabError


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """``--json``: one JSON object on stdout and nothing else."""
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout instead of tables"
    )


def add_seed_option(parser: argparse.ArgumentParser, default: int = 0) -> None:
    """``--seed N``: the one seed behind every random draw."""
    parser.add_argument(
        "--seed", type=int, default=default, help=f"seed for every random draw (default {default})"
    )


def add_quick_option(parser: argparse.ArgumentParser) -> None:
    """``--quick``: a tiny run that tests and checks can call."""
    parser.add_argument("--quick", action="store_true", help="a tiny, fast run (for tests)")


def parse_number(text: str, option: str) -> float:
    """One finite float, or an error naming the option."""
    try:
        value = float(text.strip().replace("\u2212", "-"))
    except ValueError:
        raise RnnlabError(f"{option}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise RnnlabError(f"{option}: {text.strip()} is not a finite number")
    return value


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


def make_console(stderr: bool = False):
    """A rich Console that never squeezes a table: at least 160 columns when not a terminal."""
    from rich.console import Console

    c = Console(highlight=False, stderr=stderr)
    if not c.is_terminal:
        c = Console(highlight=False, stderr=stderr, width=max(c.width, 160))
    return c
