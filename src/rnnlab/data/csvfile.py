"""A user's CSV file -> a validated :class:`~rnnlab.data.series.Series`, or one clear error.

Handled quietly: a UTF-8 byte-order mark, ``,`` ``;`` tab or ``|`` separators (sniffed from the
header), thousands separators (``1,234.5``; ``1.234,5`` in ``;`` files, where the comma is the
decimal mark), spaces and currency signs around numbers, the usual missing-value markers
(empty, ``NA``, ``NaN``, ``null``, ``-``, ``.``) and time zones (converted to UTC).

Explained, with the line number of the file: a missing or empty file, a missing column (listing
the columns that exist), a value that is not a number, a missing value (unless ``--fill``), inf,
an unparseable, duplicated or unsorted date, a constant series.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from rnnlab.data.series import Series, build_series
from rnnlab.errors import RnnlabError

MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "#n/a", ".", "?"})
DATE_NAMES = ("date", "datetime", "time", "timestamp", "day")
_SEPARATORS = (",", ";", "\t", "|")
_NOISE = str.maketrans("", "", " \u00a0\u202f'$€£¥_")  # spaces, ' and _ grouping, currency
_GROUPED = {
    ",": re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"),
    ".": re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$"),
}


def sniff_separator(header: str) -> str:
    """The separator that occurs most often outside quotes in the header (``,`` if none)."""
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {sep: outside.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def read_table(path: Path) -> tuple[list[str], list[list[str]], list[int], str]:
    """Header, rows of strings, each row's line number in the file, and the separator."""
    if not path.exists():
        raise RnnlabError(f"--data: {path}: no such file")
    if path.is_dir():
        raise RnnlabError(f"--data: {path}: is a directory, not a CSV file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = path.read_text(encoding="latin-1")
        except OSError as exc:  # pragma: no cover - the first read would have failed too
            raise RnnlabError(f"--data: {path}: cannot read it ({exc})") from None
    except OSError as exc:
        raise RnnlabError(f"--data: {path}: cannot read it ({exc.__class__.__name__})") from None
    if not text.strip():
        raise RnnlabError(f"--data: {path}: the file is empty")
    lines = text.splitlines(keepends=True)
    sep = sniff_separator(next(line for line in lines if line.strip()))
    reader = csv.reader(lines, delimiter=sep)
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    try:
        for fields in reader:
            if not fields or all(not f.strip() for f in fields):
                continue  # a blank line
            if header is None:
                header = [f.strip() for f in fields]
                continue
            rows.append(fields)
            numbers.append(reader.line_num)
    except csv.Error as exc:
        raise RnnlabError(f"{path}, line {reader.line_num}: not valid CSV ({exc})") from None
    assert header is not None
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise RnnlabError(f"{path}: the column {name!r} appears twice in the header")
        seen.add(name)
    if not rows:
        raise RnnlabError(f"{path}: the file has a header but no data rows")
    return header, rows, numbers, sep


def _decimal_mark(cells: list[str], sep: str) -> str:
    """'.' or ',': the last of the two in a number that has both; ',' in ';' files; else '.'."""
    for c in cells:
        if "." in c and "," in c:
            return "." if c.rfind(".") > c.rfind(",") else ","
    if sep == ";" and any("," in c for c in cells):
        return ","
    return "."


def parse_numbers(cells: list[str], where: list[str], sep: str) -> np.ndarray:
    """Strings -> float64 (NaN where missing); ``where[i]`` names cell i in errors."""
    cleaned = [c.strip().translate(_NOISE).replace("\u2212", "-") for c in cells]
    mark = _decimal_mark(cleaned, sep)
    group = "," if mark == "." else "."
    out = np.empty(len(cleaned))
    for i, c in enumerate(cleaned):
        if c.lower() in MISSING:
            out[i] = np.nan
            continue
        if group in c:
            if not _GROUPED[group].match(c):
                raise RnnlabError(
                    f"{where[i]}: {cells[i].strip()!r} is not a number (a {group!r} that is "
                    "not a thousands separator)"
                )
            c = c.replace(group, "")
        try:
            out[i] = float(c.replace(",", ".") if mark == "," else c)
        except ValueError:
            raise RnnlabError(f"{where[i]}: {cells[i].strip()!r} is not a number") from None
    return out


def parse_dates(cells: list[str], where: list[str]) -> np.ndarray:
    """Strings -> datetime64[ns] (UTC, time zones removed); NaT where empty."""
    import pandas as pd

    text = pd.Series([c.strip() for c in cells], dtype=object)
    empty = text.str.lower().isin(MISSING).to_numpy()
    try:
        parsed = pd.to_datetime(text.where(~empty), errors="coerce", utc=True)
    except (ValueError, TypeError, OverflowError):
        parsed = pd.to_datetime(text.where(~empty), errors="coerce", utc=True, format="mixed")
    dates = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    bad = np.flatnonzero(np.isnat(dates) & ~empty)
    if bad.size:
        i = int(bad[0])
        good = np.flatnonzero(~np.isnat(dates))
        hint = f" (rows before it look like {cells[int(good[0])].strip()!r})" if good.size else ""
        raise RnnlabError(f"{where[i]}: {cells[i].strip()!r} is not a date{hint}")
    return dates


def load_csv(
    path: str | Path,
    column: str | None = None,
    date_column: str | None = None,
    fill: str | None = None,
) -> Series:
    """Read one numeric column (and optionally a date column) of a CSV file into a Series.

    Without ``column``, the one column besides the date is taken; without ``date_column``, a
    column named date, datetime, time, timestamp or day (any case) is taken as the dates.
    """
    path = Path(path)
    header, rows, lines, sep = read_table(path)
    listing = ", ".join(repr(h) for h in header)
    if date_column is None:
        date_column = next((h for h in header if h.lower() in DATE_NAMES), None)
    elif date_column not in header:
        raise RnnlabError(
            f"--date-column: {path} has no column {date_column!r}; its columns: {listing}"
        )
    if column is None:
        others = [h for h in header if h != date_column]
        if len(others) != 1:
            raise RnnlabError(
                f"--column: {path} has {len(others)} columns besides the date; name one "
                f"with --column (its columns: {listing})"
            )
        column = others[0]
    elif column not in header:
        raise RnnlabError(f"--column: {path} has no column {column!r}; its columns: {listing}")
    if column == date_column:
        raise RnnlabError(f"--column: {column!r} is the date column; choose a column of numbers")

    def cells(name: str) -> list[str]:
        j = header.index(name)
        out = []
        for fields, line in zip(rows, lines, strict=True):
            if j >= len(fields):
                raise RnnlabError(
                    f"{path}, line {line}: {len(fields)} field(s) but {name!r} is column {j + 1} "
                    f"of {len(header)} (is the separator {sep!r} right?)"
                )
            out.append(fields[j])
        return out

    where_value = [f"{path}, line {n}, column {column!r}" for n in lines]
    values = parse_numbers(cells(column), where_value, sep)
    dates = None
    if date_column is not None:
        where_date = [f"{path}, line {n}, column {date_column!r}" for n in lines]
        dates = parse_dates(cells(date_column), where_date)
    return build_series(
        values,
        dates,
        row=lambda i: f"{path}, line {lines[i]}",
        column=column,
        source=str(path),
        name=f"{path.name} {column}",
        date_column=date_column,
        fill=fill,
    )
