"""A validated univariate time series: values, optional dates, and where they came from.

Every source (embedded dataset, user CSV) ends here, through :func:`build_series`, so the rules
are the same for all: finite values, not constant, dates (when present) strictly increasing,
missing values an error unless the user chose how to fill them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rnnlab.data.dates import to_ns
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError

FILLS = ("ffill", "drop")
# Values are squared on the way (variances, mean squared errors): |x| up to 1e150 keeps every
# square below float64's 1.8e308, and a spread of at least 1e-150 keeps it above underflow.
MAX_MAGNITUDE = 1e150
MIN_SPREAD = 1e-150


@dataclass(frozen=True)
class Series:
    """One column of numbers in time order.

    Attributes
    ----------
    values : ndarray (N,) float64
        Finite values, oldest first.
    dates : ndarray (N,) datetime64[ns], or None
        Strictly increasing time stamps; ``None`` when the data has no date column.
    name : str
        What the values are, for titles (``"aapl adj_close"``).
    source : str
        The embedded dataset's name or the CSV path.
    column : str
        The column the values came from.
    date_column : str or None
        The column the dates came from.
    notes : tuple of str
        What was done to the data on the way (rows dropped, values filled, the tail kept).
    covariates : dict of str -> ndarray (N,) float64
        Other columns of the same rows, by name (past covariates of the neural forecasters,
        :mod:`rnnlab.data.covariates`): finite like the values, sliced with them. Empty: none.
    """

    values: np.ndarray
    dates: np.ndarray | None = None
    name: str = "series"
    source: str = ""
    column: str = "value"
    date_column: str | None = None
    notes: tuple[str, ...] = field(default=())
    covariates: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim != 1:
            raise RnnlabError(f"{self.name}: a series is one column, got shape {values.shape}")
        if not np.all(np.isfinite(values)):
            i = int(np.flatnonzero(~np.isfinite(values))[0])
            raise RnnlabError(f"{self.name}: value {values[i]} at row {i + 1} is not finite")
        if np.any(np.abs(values) > MAX_MAGNITUDE):
            i = int(np.flatnonzero(np.abs(values) > MAX_MAGNITUDE)[0])
            raise RnnlabError(f"{self.name}: value {values[i]:g} at row {i + 1} {_TOO_BIG}")
        object.__setattr__(self, "values", values)
        if self.dates is not None:
            dates = to_ns(np.asarray(self.dates), lambda i: f"{self.name}: row {i + 1}")
            if dates.shape != values.shape:
                raise RnnlabError(f"{self.name}: {dates.size} dates for {values.size} values")
            if dates.size > 1 and not np.all(dates[1:] > dates[:-1]):
                raise RnnlabError(f"{self.name}: dates must be strictly increasing")
            object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "covariates", self._checked(self.covariates, values.size))

    def _checked(self, covariates: dict, n: int) -> dict[str, np.ndarray]:
        """Each covariate as (N,) float64, finite and not too large, like the values."""
        out = {}
        for key, column in dict(covariates).items():
            c = np.asarray(column, dtype=np.float64)
            if not isinstance(key, str) or c.shape != (n,):
                raise RnnlabError(
                    f"{self.name}: covariate {key!r} must be named and hold one value per row "
                    f"({n}), got shape {c.shape}"
                )
            bad = np.flatnonzero(~np.isfinite(c) | (np.abs(c) > MAX_MAGNITUDE))
            if bad.size:
                i = int(bad[0])
                raise RnnlabError(
                    f"{self.name}: covariate {key!r}: value {c[i]:g} at row {i + 1} is not a "
                    f"finite number up to {MAX_MAGNITUDE:g} in size"
                )
            out[key] = c
        return out

    def _rows(self, rows: slice) -> dict[str, np.ndarray]:
        return {k: v[rows] for k, v in self.covariates.items()}

    def __len__(self) -> int:
        return int(self.values.size)

    def head(self, n: int) -> Series:
        """The first ``n`` points (the past only: what a model may be fitted on)."""
        dates = None if self.dates is None else self.dates[:n]
        return Series(
            self.values[:n],
            dates,
            self.name,
            self.source,
            self.column,
            self.date_column,
            self.notes,
            self._rows(slice(None, n)),
        )

    def tail(self, n: int, note: str | None = None) -> Series:
        """The last ``n`` points (with ``note`` added to the notes)."""
        dates = None if self.dates is None else self.dates[-n:]
        notes = self.notes if note is None else (*self.notes, note)
        return Series(
            self.values[-n:],
            dates,
            self.name,
            self.source,
            self.column,
            self.date_column,
            notes,
            self._rows(slice(-n, None)),
        )

    def label(self, i: int) -> str:
        """Point ``i`` for people: its date (time of day when it has one), else ``row i+1``."""
        if self.dates is None:
            return f"row {i + 1}"
        return format_date(self.dates[i])

    def next_dates(self, n: int) -> np.ndarray | None:
        """The dates of the next ``n`` points after the end, from the series' own rhythm."""
        if self.dates is None:
            return None
        return next_dates(self.dates, n)

    @property
    def frequency(self) -> str:
        """The rhythm of the dates in words (``"business days"``, ``"monthly"``, ``"30 min"``)."""
        return "none (no dates)" if self.dates is None else describe_frequency(self.dates)

    def summary(self) -> dict:
        """What a report records about the series: name, column, rows, first and last labels,
        frequency, notes (JSON-able)."""
        return {
            "name": self.name,
            "column": self.column,
            "rows": len(self),
            "first": self.label(0),
            "last": self.label(len(self) - 1),
            "frequency": self.frequency,
            "notes": list(self.notes),
        }


_TOO_BIG = (
    f"is too large: rnnlab takes values up to {MAX_MAGNITUDE:g} in size (their squares must "
    "fit in float64); rescale the column"
)


def format_date(d: np.datetime64) -> str:
    """``2013-03-01``, or ``2016-02-15 00:30`` when the time of day matters."""
    text = str(np.datetime_as_string(d, unit="m"))
    return text[:10] if text.endswith("T00:00") else text.replace("T", " ")


def _offset(dates: np.ndarray):
    """A pandas offset that continues the dates, or None to step by the median gap."""
    import pandas as pd

    tail = pd.DatetimeIndex(dates[-60:])
    if len(tail) >= 3:
        with warnings.catch_warnings():  # pandas 3.1 warns that a string becomes an offset
            warnings.simplefilter("ignore")
            freq = pd.infer_freq(tail)
        if freq is not None:
            return pd.tseries.frequencies.to_offset(freq)  # a string or already an offset
    gaps = np.diff(dates.astype("datetime64[ns]").astype(np.int64))
    day = 86_400 * 10**9
    if gaps.size and np.median(gaps) == day and np.all(tail.day_of_week < 5):
        return pd.offsets.BDay()  # weekdays only, one day apart: trading days
    return None


def next_dates(dates: np.ndarray, n: int) -> np.ndarray:
    """Continue ``dates`` by ``n`` steps: pandas' inferred frequency, business days for trading
    data (weekdays, holidays skipped in the past), else the median gap.

    Returns ``datetime64[us]``: the next dates may pass 2262-04-11, where ``datetime64[ns]``
    (the series' own dates) ends; microseconds reach the year 294246.
    """
    import pandas as pd

    last = pd.Timestamp(dates[-1])
    offset = _offset(dates)
    too_far = FieldError(
        "horizon",
        "the next {0} date(s) after {1} pass the year 294246, the last that numpy's "
        "datetime64[us] holds; ask for fewer ({horizon})",
        n,
        format_date(dates[-1]),
        lead=False,
    )
    if offset is not None:
        try:
            out = pd.date_range(last.as_unit("us"), periods=n + 1, freq=offset, unit="us")[1:]
        except (OverflowError, ValueError):  # pandas' OutOfBoundsDatetime is a ValueError
            raise too_far from None
        return out.values.astype("datetime64[us]")
    gaps = np.diff(dates.astype("datetime64[ns]").astype(np.int64))
    step = int(np.median(gaps)) if gaps.size else 86_400 * 10**9  # ns
    start = int(dates[-1].astype("datetime64[ns]").astype(np.int64))
    us = [(start + step * k) // 1000 for k in range(1, n + 1)]  # Python ints: no overflow
    if us[-1] > np.iinfo(np.int64).max:
        raise too_far
    return np.array(us, dtype=np.int64).astype("datetime64[us]")


def describe_frequency(dates: np.ndarray) -> str:
    """The rhythm of ``dates`` in words."""
    import pandas as pd

    if dates.size < 2:
        return "unknown"
    offset = _offset(dates)
    if isinstance(offset, pd.offsets.BDay | pd.offsets.BusinessDay):
        return "daily (business days)"
    if offset is not None:
        words = {"D": "daily", "W": "weekly", "MS": "monthly", "ME": "monthly", "M": "monthly"}
        words.update({"QS": "quarterly", "QE": "quarterly", "YS": "yearly", "YE": "yearly"})
        base = offset.freqstr.split("-")[0]  # "MS", "W-SUN", "30min"
        if base in words:
            return words[base]
    seconds = float(np.median(np.diff(dates.astype(np.int64)))) / 1e9
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"every {seconds / size:g} {unit}"
    return f"every {seconds:g} s"


def build_series(
    values: np.ndarray,
    dates: np.ndarray | None,
    *,
    row: Callable[[int], str],
    column: str,
    source: str,
    name: str | None = None,
    date_column: str | None = None,
    fill: str | None = None,
    covariates: dict[str, np.ndarray] | None = None,
) -> Series:
    """Validate parsed values (NaN = missing) and dates (NaT = missing) into a :class:`Series`.

    ``row(i)`` names row ``i`` for error messages (``"data.csv, line 7"``). Missing values are
    an error unless ``fill`` is ``"ffill"`` (carry the last value forward) or ``"drop"``.
    ``covariates`` (name -> values of the same rows) obey the same rules: a row dropped for
    one column is dropped for all.
    """
    x = np.asarray(values, dtype=np.float64)
    columns = {column: x}
    for key, c in (covariates or {}).items():
        columns[key] = np.asarray(c, dtype=np.float64)
        if columns[key].shape != x.shape:
            raise RnnlabError(f"{source}, column {key!r}: {columns[key].size} values, not {x.size}")
    where = f"column {column!r}"
    if x.size == 0:
        raise RnnlabError(f"{source}: no data rows")
    for key, c in columns.items():
        inf = np.flatnonzero(np.isinf(c))
        if inf.size:
            raise RnnlabError(
                f"{row(int(inf[0]))}, column {key!r}: {c[inf[0]]} is not a finite number"
            )
        big = np.flatnonzero(np.abs(c) > MAX_MAGNITUDE)  # NaN (missing) compares False
        if big.size:
            raise RnnlabError(f"{row(int(big[0]))}, column {key!r}: {c[big[0]]:g} {_TOO_BIG}")
    if dates is not None:
        dates = to_ns(np.asarray(dates), row)
        nat = np.flatnonzero(np.isnat(dates))
        if nat.size:
            raise RnnlabError(f"{row(int(nat[0]))}: the date in {date_column!r} is missing")
    if dates is not None and dates.size > 1:
        gaps = dates[1:] - dates[:-1]
        bad = np.flatnonzero(gaps <= np.timedelta64(0, "ns"))
        if bad.size:
            i = int(bad[0])
            this, before = format_date(dates[i + 1]), format_date(dates[i])
            what = (
                f"date {this} is duplicated (the row before has it too)"
                if gaps[i] == np.timedelta64(0, "ns")
                else f"date {this} is earlier than {before} on the row before (dates unsorted)"
            )
            raise RnnlabError(
                f"{row(i + 1)}: {what}; the rows must be sorted by {date_column!r}, one per date"
            )
    notes: list[str] = []
    absent = {key: np.isnan(c) for key, c in columns.items()}
    missing = np.any(list(absent.values()), axis=0)  # rows with a missing value in any column
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        where = f"column {next(k for k, g in absent.items() if g[first])!r}"
        count = int(sum(g.sum() for g in absent.values()))
        if fill is None:
            raise FieldError(
                "fill",
                "{0}, {1}: missing value ({2} in all); use {fill} ffill to carry the last value "
                "forward or {fill} drop to drop the rows",
                row(first),
                where,
                count,
                lead=False,
            )
        if fill not in FILLS:
            raise FieldError("fill", "must be one of {0}; got {1}", ", ".join(FILLS), repr(fill))
        if fill == "drop" or missing[0]:
            if fill == "ffill":
                where = f"column {next(k for k, g in absent.items() if g[0])!r}"
                raise FieldError(
                    "fill",
                    "{0}, {1}: the first value is missing, so there is nothing to fill forward "
                    "from; use {fill} drop",
                    row(0),
                    where,
                    lead=False,
                )
            keep = ~missing
            columns = {key: c[keep] for key, c in columns.items()}
            dates = None if dates is None else dates[keep]
            notes.append(f"dropped {int(missing.sum())} row(s) with a missing value")
        else:
            for key, c in columns.items():
                idx = np.where(absent[key], 0, np.arange(c.size))
                columns[key] = c[np.maximum.accumulate(idx)]  # x_t = the last value seen by t
            notes.append(f"filled {count} missing value(s) forward")
        x = columns[column]
        where = f"column {column!r}"
        if x.size == 0:
            raise RnnlabError(f"{source}, {where}: every value is missing")
    if x.size < 2:
        raise RnnlabError(
            f"{source}, {where}: only {x.size} value; a series needs at least 2 (a forecast "
            "many more)"
        )
    spread = float(x.max() - x.min())
    if 0 < spread < MIN_SPREAD:
        raise RnnlabError(
            f"{source}, {where}: the values differ by only {spread:g}; below "
            f"{MIN_SPREAD:g} their squares underflow float64; rescale the column"
        )
    if np.all(x == x[0]):
        raise RnnlabError(
            f"{source}, {where}: the series is constant (every value is {x[0]:g}); "
            "there is nothing to forecast"
        )
    return Series(
        values=x,
        dates=dates,
        name=name or f"{source} {column}",
        source=source,
        column=column,
        date_column=date_column,
        notes=tuple(notes),
        covariates={key: c for key, c in columns.items() if key != column},
    )
