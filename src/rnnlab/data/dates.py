"""Dates from a CSV column: never a day swapped with a month, never a year wrapped around.

Day-first or month-first? ``01/02/2005`` is 1 February in most of the world and January 2 in
the US. A column of dates ``A/B/YEAR`` (separator ``/``, ``.`` or ``-``, the year last) is
read the one way every row allows: month first when some B is over 12, day first when some A
is; when every A and B is at most 12 both readings are valid and nothing in the file says which
is meant, so it is an error naming the row, unless the user says which (``dayfirst``, or an
explicit strftime ``date_format``). A column that mixes the two orders is an error too.

The range: a Series holds ``datetime64[ns]``, whose int64 nanoseconds since 1970 span
1677-09-21 00:12:43 … 2262-04-11 23:47:16. A date outside is refused with its row; numpy and
pandas would wrap it silently (year 9990 becomes 1806). :func:`outside_ns` finds them in any
unit, :func:`dates_from_text` parses ISO text (a checkpoint's) without wrapping.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import numpy as np

from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError

MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "#n/a", ".", "?"})
EARLIEST = np.datetime64(np.iinfo(np.int64).min + 1, "ns")  # (the minimum int64 is NaT)
LATEST = np.datetime64(np.iinfo(np.int64).max, "ns")
RANGE = "1677-09-21 00:12 … 2262-04-11 23:47"
_NS_PER = {"W": 604_800 * 10**9, "D": 86_400 * 10**9, "h": 3_600 * 10**9, "m": 60 * 10**9,
           "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}  # fmt: skip
# A/B/YEAR, then optionally a time of day: "31/01/2021", "01.02.2005", "1-2-05 10:30".
_NUMERIC = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?=$|[ T])(.*)$")


def outside_ns(dates: np.ndarray) -> np.ndarray:
    """A mask (N,) bool: the dates, in any datetime64 unit, that ``datetime64[ns]`` cannot hold
    (NaT is not outside). Compared as whole numbers of the dates' own unit: numpy's casts wrap
    around (and its floor near the int64 minimum overflows)."""
    d = np.asarray(dates)
    unit, count = np.datetime_data(d.dtype)
    if unit in ("Y", "M"):  # calendar units: to days first (exact)
        d = d.astype("datetime64[D]")
        unit, count = "D", 1
    if unit not in _NS_PER:  # ps, fs, as span less than ns does
        return np.zeros(d.shape, dtype=bool)
    k = _NS_PER[unit] * count
    lowest, highest = -((2**63 - 1) // k), (2**63 - 1) // k  # ceil(-(2^63-1)/k), floor(…)
    v = d.view(np.int64)
    return ((v < lowest) | (v > highest)) & ~np.isnat(d)


def to_ns(dates: np.ndarray, where: Callable[[int], str]) -> np.ndarray:
    """Dates in any datetime64 unit -> ``datetime64[ns]``, or an error naming the first one
    outside the range (``where(i)`` names date ``i``)."""
    d = np.asarray(dates)
    if d.dtype.kind in "US":  # text: numpy picks the unit the strings need
        d = d.astype("datetime64")
    elif d.dtype.kind != "M":
        d = d.astype("datetime64[ns]")
    if d.dtype == np.dtype("datetime64[ns]"):
        return d  # (no copy: Series.head and .tail run often)
    bad = np.flatnonzero(outside_ns(d))
    if bad.size:
        i = int(bad[0])
        shown = np.datetime_as_string(d[i], unit="D")
        raise RnnlabError(f"{where(i)}: date {shown} {_OUTSIDE}")
    return d.astype("datetime64[ns]")


_OUTSIDE = f"is outside the dates rnnlab can hold ({RANGE}, datetime64[ns])"


def dates_from_text(texts: list[str]) -> np.ndarray:
    """ISO date strings -> ``datetime64[ns]``; ValueError for a date outside the range (numpy
    itself would wrap it around)."""
    seconds = np.array(texts, dtype="datetime64[s]")  # ± 2.9e11 years: no wrap
    exact = np.array(texts, dtype="datetime64[ns]")  # may wrap: compared just below
    same = np.floor_divide(exact.view(np.int64), 10**9) == seconds.view(np.int64)
    wrapped = np.flatnonzero(~same & ~np.isnat(seconds))
    if wrapped.size:
        raise ValueError(f"{texts[int(wrapped[0])]!r} {_OUTSIDE}")
    return exact


def _iso(match: re.Match, dayfirst: bool) -> str:
    """An A/B/YEAR cell rewritten as YEAR-MM-DD (and its time of day)."""
    a, _, b, year, rest = match.groups()
    day, month = (a, b) if dayfirst else (b, a)
    if len(year) == 2:  # as strftime's %y: 69…99 -> 19xx, 00…68 -> 20xx
        year = str((1900 if int(year) >= 69 else 2000) + int(year))
    return f"{year}-{int(month):02d}-{int(day):02d}{rest}"


def _order(
    cells: list[str], matches: dict[int, re.Match], where: Callable[[int], str], dayfirst: bool
) -> bool:
    """True to read the A/B/YEAR cells day first, False month first; an error when the cells
    do not say which (and ``dayfirst`` is False), or mix the two orders."""
    index = np.array(list(matches))
    a = np.array([int(m.group(1)) for m in matches.values()])
    b = np.array([int(m.group(3)) for m in matches.values()])
    day_first = (a >= 1) & (a <= 31) & (b >= 1) & (b <= 12)  # each cell: valid as A=day?
    month_first = (a >= 1) & (a <= 12) & (b >= 1) & (b <= 31)
    if dayfirst:
        if not day_first.all():
            i = int(index[np.flatnonzero(~day_first)[0]])
            raise FieldError(
                "dayfirst",
                "{0}: {1} is not a day-first date ({dayfirst}: day/month/year)",
                where(i),
                repr(cells[i].strip()),
                lead=False,
            )
        return True
    neither = np.flatnonzero(~day_first & ~month_first)
    if neither.size:
        i = int(index[neither[0]])
        raise RnnlabError(f"{where(i)}: {cells[i].strip()!r} is not a date (no month in it)")
    if day_first.all() and month_first.all():
        differ = np.flatnonzero(a != b)
        if not differ.size:
            return False  # 05/05/2021: both orders give the same dates
        i = int(index[differ[0]])
        m = matches[i]
        sep, year = m.group(2), "%Y" if len(m.group(4)) == 4 else "%y"
        fmt = f"%m{sep}%d{sep}{year}"
        raise FieldError(
            "dayfirst",
            "{0}: {1} reads as {2} (day first) or {3} (month first), and every date in the "
            "column reads both ways; say which: {dayfirst}, or {date_format} '{4}'",
            where(i),
            repr(cells[i].strip()),
            _iso(m, True)[:10],
            _iso(m, False)[:10],
            fmt,
            lead=False,
        )
    if day_first.all() or month_first.all():
        return bool(day_first.all())
    # Some cells are day first only, others month first only.
    i, j = int(np.flatnonzero(~month_first)[0]), int(np.flatnonzero(~day_first)[0])
    first, later = (index[i], index[j]) if i < j else (index[j], index[i])
    later_order = "month" if i < j else "day"
    raise FieldError(
        "date_format",
        "{0}: {1} is {2} first but {3} above it is not: the column mixes day-first and "
        "month-first dates; give {date_format}",
        where(int(later)),
        repr(cells[later].strip()),
        later_order,
        repr(cells[first].strip()),
        lead=False,
    )


def _beyond_ns(text: str, date_format: str | None) -> bool:
    """Whether a cell pandas read as NaT is a real date outside the datetime64[ns] range.
    pandas 3 parses such a date at a coarser unit (then ``outside_ns`` finds it); pandas 2
    gives NaT, as for a cell that is no date at all: this tells the two apart."""
    import datetime as dt

    import pandas as pd

    try:
        if date_format is not None:
            stamp = pd.Timestamp(dt.datetime.strptime(text, date_format))
        else:
            stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return False
    if stamp is pd.NaT:
        return False
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return bool(outside_ns(np.array([stamp.to_datetime64()]))[0])


def parse_dates(
    cells: list[str],
    where: Callable[[int], str],
    date_format: str | None = None,
    dayfirst: bool = False,
) -> np.ndarray:
    """Strings -> datetime64[ns] (UTC, time zones removed); NaT where empty.

    ``date_format`` (strftime, e.g. ``%d/%m/%Y``) reads every cell with that format;
    ``dayfirst`` reads A/B/YEAR cells as day/month/year. ``where(i)`` names cell ``i``.
    """
    import pandas as pd

    stripped = [c.strip() for c in cells]
    empty = np.array([c.lower() in MISSING for c in stripped], dtype=bool)
    if date_format is not None:
        text = pd.Series(stripped, dtype=object).where(~empty)
        try:
            parsed = pd.to_datetime(text, errors="coerce", utc=True, format=date_format)
        except ValueError as exc:  # a bad directive such as %Q
            raise FieldError(
                "date_format", "{0} is not a date format ({1})", repr(date_format), exc, lead=False
            ) from None
        hint = f" in the format {date_format!r}"
    else:
        found = ((i, _NUMERIC.match(c)) for i, c in enumerate(stripped) if not empty[i])
        matches = {i: m for i, m in found if m is not None}
        if matches:
            first = _order(cells, matches, where, dayfirst)
            stripped = [
                _iso(matches[i], first) if i in matches else c for i, c in enumerate(stripped)
            ]
        text = pd.Series(stripped, dtype=object).where(~empty)
        with warnings.catch_warnings():  # "Could not infer format": the cells are checked below
            warnings.simplefilter("ignore", UserWarning)
            try:
                parsed = pd.to_datetime(text, errors="coerce", utc=True)
            except (ValueError, TypeError, OverflowError):
                parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
        hint = ""
    dates = parsed.dt.tz_localize(None).to_numpy()
    bad = np.flatnonzero(np.isnat(dates) & ~empty)
    if bad.size:
        i = int(bad[0])
        if _beyond_ns(stripped[i], date_format):  # pandas 2 reads such a date as NaT
            raise RnnlabError(f"{where(i)}: {cells[i].strip()!r} {_OUTSIDE}")
        if not hint:
            good = np.flatnonzero(~np.isnat(dates))
            if good.size:
                where_good = "rows before it" if good[0] < i else "other rows"
                hint = f" ({where_good} look like {cells[int(good[0])].strip()!r})"
        if date_format is not None:
            raise FieldError(
                "date_format",
                "{0}: {1} is not a date{2} ({date_format})",
                where(i),
                repr(cells[i].strip()),
                hint,
                lead=False,
            )
        raise RnnlabError(f"{where(i)}: {cells[i].strip()!r} is not a date{hint}")
    out = np.flatnonzero(outside_ns(dates))
    if out.size:
        i = int(out[0])
        raise RnnlabError(f"{where(i)}: {cells[i].strip()!r} {_OUTSIDE}")
    if dates.dtype == np.dtype("datetime64[ns]"):
        # pandas 2 converts a time zone near the range's ends in nanoseconds and wraps around
        # (2262-04-11T20:00-05:00 came back as a 1677 date): such cells are read again alone
        ns = dates.view(np.int64)
        edge = ~np.isnat(dates) & ((ns < -(2**63) + _EDGE) | (ns > 2**63 - 1 - _EDGE))
        for i in np.flatnonzero(edge):
            if _beyond_ns(stripped[int(i)], date_format):
                raise RnnlabError(f"{where(int(i))}: {cells[int(i)].strip()!r} {_OUTSIDE}")
    return dates.astype("datetime64[ns]")


_EDGE = 2 * 86_400 * 10**9  # two days in ns: more than any time zone's offset
