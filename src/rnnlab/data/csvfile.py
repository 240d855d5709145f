"""A user's CSV file -> a validated :class:`~rnnlab.data.series.Series`, or one clear error.

Handled quietly: UTF-8 with or without a byte-order mark, UTF-16 and UTF-32 with one, UTF-16
without one (every other byte NUL), Windows-1252 and Latin-1 when the bytes are not UTF-8;
``,`` ``;`` tab or ``|`` separators (sniffed from the header), thousands separators
(``1,234.5``; ``1.234,5`` in ``;`` files, where the comma is the decimal mark), spaces and
currency signs around numbers, the usual missing-value markers (empty, ``NA``, ``NaN``,
``null``, ``-``, ``.``), time zones (converted to UTC), day/month/year dates when some day is
over 12 (:mod:`rnnlab.data.dates`), empty fields past the header's columns.

Explained, with the line number of the file: a missing or empty file, a binary file (NUL or
control bytes, a gzip or zip archive), a file past ``max_bytes`` or ``max_rows`` (a pipe or
``/dev/zero`` never ends), a row with more values than the header has columns, a missing
column (listing the columns that exist), a value that is not a number, a missing value (unless
``fill``), inf, a value too large to square in float64, an unparseable, ambiguous
(day/month or month/day), out-of-range, duplicated or unsorted date, a single row, a constant
series.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rnnlab.config import ConfigError
from rnnlab.data.dates import MISSING, parse_dates
from rnnlab.data.series import Series, build_series
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError

DATE_NAMES = ("date", "datetime", "time", "timestamp", "day")
_SEPARATORS = (",", ";", "\t", "|")
MAX_BYTES = 2**30  # the most read of a file: 1 GiB (a pipe or /dev/zero never ends)
MAX_ROWS = 10_000_000  # and of data rows (a million load in about 2 s)
_HEAD = 65536  # bytes read first, to refuse a binary file before reading on
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


# Byte-order marks, longest first (a UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_ARCHIVES = {
    b"\x1f\x8b": "gzip-compressed; unpack it first",
    b"PK\x03\x04": "a zip archive (an Excel .xlsx?); save the sheet as CSV",
}
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # never in text (tabs, newlines excepted)


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like ASCII text in UTF-16 (every other
    byte NUL), else None."""
    head = head[: len(head) // 2 * 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    for zeros, other, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.9 * len(zeros) and other.count(0) <= 0.1 * len(other):
            return name
    return None


def _encodings(raw: bytes, path: Path) -> list[str]:
    """The encoding a byte-order mark or UTF-16's NULs name (none: try the usual ones); an
    archive, or NUL bytes in anything but UTF-16/32, is an error."""
    for magic, what in _ARCHIVES.items():
        if raw.startswith(magic):
            raise _file_error(path, "the file is {1}", what)
    encodings = [enc for bom, enc in _BOMS if raw.startswith(bom)][:1]
    if not encodings and b"\x00" in raw:
        utf16 = _utf16_without_bom(raw[:4096])
        if utf16 is None:
            raise _file_error(path, "holds NUL bytes: a binary file, not CSV text")
        encodings = [utf16]
    return encodings


def _file_error(path: Path, message: str, *values: object) -> FieldError:
    """Trouble with the file itself: ``PATH: message`` (``{1}``… in ``message`` are
    ``values``); the command line puts the ``data`` field's flag before it."""
    return FieldError("data", "{0}: " + message, path, *values, lead=False)


def _size(n: int) -> str:
    """Bytes for people: ``1 GiB``, ``512 KiB``, else ``10,000,000 bytes``."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"


def read_bytes(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's bytes, refused past ``max_bytes``: a regular file by its size before any read,
    anything else (a pipe, a device) as soon as it passes the limit. Binary data is refused
    from its first 64 KiB, so ``/dev/zero`` or ``/dev/urandom`` end at once."""
    too_big = _file_error(
        path,
        "more than {1}, the most rnnlab reads (raise the limit with {max_bytes})",
        _size(max_bytes),
    )
    try:
        with path.open("rb") as fh:
            info = os.fstat(fh.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                raise too_big
            chunks = [fh.read(min(_HEAD, max_bytes + 1))]
            _encodings(chunks[0], path)  # binary: refused before reading on
            total = len(chunks[0])
            while chunks[-1] and total <= max_bytes:  # a pipe may give less than asked
                chunks.append(fh.read(min(2**24, max_bytes + 1 - total)))
                total += len(chunks[-1])
    except OSError as exc:
        raise _file_error(path, "cannot read it ({1})", exc.strerror) from None
    if total > max_bytes:
        raise too_big
    return b"".join(chunks)


def decode(raw: bytes, path: Path) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), UTF-16/32 (with a mark, or
    UTF-16 without one), else Windows-1252, else Latin-1. Binary data is an error."""
    encodings = _encodings(raw, path)
    for enc in encodings or ["utf-8", "cp1252", "latin-1"]:
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _file_error(path, "not valid {1} text", encodings[0].upper())
    head = text[:65536]
    if len(_CONTROL.findall(head)) > 0.05 * len(head):
        raise _file_error(path, "mostly control characters: a binary file, not CSV text")
    return text


def read_table(
    path: Path, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> tuple[list[str], list[list[str]], list[int], str]:
    """Header, rows of strings, each row's line number in the file, and the separator.

    A row with more fields than the header is an error unless the extra fields are empty (a
    spreadsheet's trailing separators): its values would belong to no column.
    """
    if not path.exists():
        raise _file_error(path, "no such file")
    if path.is_dir():
        raise _file_error(path, "is a directory, not a CSV file")
    text = decode(read_bytes(path, max_bytes), path)
    if not text.strip():
        raise _file_error(path, "the file is empty")
    sep = sniff_separator(next(line for line in io.StringIO(text) if line.strip()))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    try:
        for fields in reader:
            if not "".join(fields).strip():
                continue  # a blank line
            if header is None:
                header = [f.strip() for f in fields]
                continue
            if len(fields) > len(header) and "".join(fields[len(header) :]).strip():
                raise RnnlabError(
                    f"{path}, line {reader.line_num}: {len(fields)} fields but the header has "
                    f"{len(header)}, so {fields[len(header)].strip()!r} would belong to no column "
                    f"(a value with an unquoted {sep!r} in it?)"
                )
            if len(rows) == max_rows:
                raise _file_error(
                    path,
                    "more than {1} data rows, the most rnnlab reads (raise the limit with "
                    "{max_rows})",
                    f"{max_rows:,}",
                )
            rows.append(fields)
            numbers.append(reader.line_num)
    except csv.Error as exc:
        raise RnnlabError(f"{path}, line {reader.line_num}: not valid CSV ({exc})") from None
    if header is None:
        raise _file_error(path, "no header (only blank lines and separators)")
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


def parse_numbers(cells: list[str], where: Callable[[int], str], sep: str) -> np.ndarray:
    """Strings -> float64 (NaN where missing); ``where(i)`` names cell i in errors."""
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
                    f"{where(i)}: {cells[i].strip()!r} is not a number (a {group!r} that is "
                    "not a thousands separator)"
                )
            c = c.replace(group, "")
        try:
            out[i] = float(c.replace(",", ".") if mark == "," else c)
        except ValueError:
            raise RnnlabError(f"{where(i)}: {cells[i].strip()!r} is not a number") from None
    return out


def load_csv(
    path: str | Path,
    column: str | None = None,
    date_column: str | None = None,
    fill: str | None = None,
    *,
    date_format: str | None = None,
    dayfirst: bool = False,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    covariates: tuple[str, ...] = (),
) -> Series:
    """Read one numeric column (and optionally a date column) of a CSV file into a Series;
    ``covariates`` names other numeric columns to carry along (past covariates).

    Without ``column``, the one column besides the date is taken; without ``date_column``, a
    column named date, datetime, time, timestamp or day (any case) is taken as the dates.
    ``date_format`` (strftime) or ``dayfirst`` say how to read the dates (see
    :mod:`rnnlab.data.dates`); more than ``max_bytes`` bytes or ``max_rows`` rows is an error.
    """
    path = Path(path)
    column = None if column is None else column.strip()  # as the header's names are
    date_column = None if date_column is None else date_column.strip()
    if date_format is not None and dayfirst:
        raise ConfigError("dayfirst", "not with {date_format} (the format says where the day is)")
    header, rows, lines, sep = read_table(path, max_bytes, max_rows)
    listing = ", ".join(repr(h) for h in header)
    if date_column is None:
        date_column = next((h for h in header if h.lower() in DATE_NAMES), None)
    elif date_column not in header:
        raise FieldError(
            "date_column",
            "{0} has no column {1}; its columns: {2}",
            path,
            repr(date_column),
            listing,
            lead=False,
        )
    if column is None:
        others = [h for h in header if h != date_column]
        if len(others) != 1:
            raise FieldError(
                "column",
                "{0} has {1} columns besides the date; name one with {column} (its columns: {2})",
                path,
                len(others),
                listing,
                lead=False,
            )
        column = others[0]
    elif column not in header:
        raise FieldError(
            "column",
            "{0} has no column {1}; its columns: {2}",
            path,
            repr(column),
            listing,
            lead=False,
        )
    if column == date_column:
        raise FieldError(
            "column",
            "{0} is the date column; choose a column of numbers",
            repr(column),
            lead=False,
        )

    for name in covariates:
        if name not in header or name in (column, date_column):
            others = ", ".join(repr(h) for h in header if h not in (column, date_column))
            raise FieldError(
                "features",
                "names {0}, which {1} of {2}; its other columns: {3}",
                repr(name),
                "is not a column" if name not in header else "is the forecast or date column",
                path,
                others or "none",
            )

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

    def numbers(name: str) -> np.ndarray:
        return parse_numbers(
            cells(name), lambda i: f"{path}, line {lines[i]}, column {name!r}", sep
        )

    values = numbers(column)
    extra = {name: numbers(name) for name in covariates}  # past covariates, as the values
    dates = None
    if date_column is not None:
        dates = parse_dates(
            cells(date_column),
            lambda i: f"{path}, line {lines[i]}, column {date_column!r}",
            date_format,
            dayfirst,
        )
    elif date_format is not None or dayfirst:
        raise FieldError(
            "date_format" if date_format is not None else "dayfirst",
            "{0} has no date column (name it with {date_column}); its columns: {1}",
            path,
            listing,
            lead=False,
        )
    return build_series(
        values,
        dates,
        row=lambda i: f"{path}, line {lines[i]}",
        column=column,
        source=str(path),
        name=f"{path.name} {column}",
        date_column=date_column,
        fill=fill,
        covariates=extra,
    )
