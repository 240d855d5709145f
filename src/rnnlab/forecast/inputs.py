"""What a forecaster accepts and what it returns: pandas and NumPy in, pandas out.

    rnnlab Series                 used as it is
    pandas Series                 values; dates from a DatetimeIndex (or PeriodIndex), else none
    pandas DataFrame              ``column=`` (not needed for one value column); dates from
                                  ``date_column=`` or a DatetimeIndex; ``covariates=`` other
                                  numeric columns to carry along (past covariates)
    1-D array or list             values, no dates

Everything goes through :func:`rnnlab.data.series.build_series`, the one set of rules every
source obeys (missing values, inf, unsorted or duplicated dates, a constant series), so a
pandas user gets the same one-line :class:`~rnnlab.errors.RnnlabError` as a CSV user.

Forecasts come back as a pandas Series indexed by their dates (a DatetimeIndex carrying the
series' frequency) or, without dates, by their positions N, N+1, … after the data.

>>> import pandas as pd
>>> s = as_series(pd.Series([1.0, 2.0, 4.0], index=pd.date_range("2024-01-01", periods=3)))
>>> s.values.tolist(), s.frequency
([1.0, 2.0, 4.0], 'daily')
>>> to_pandas(np.array([8.0, 16.0]), s, 3, "x")
2024-01-04     8.0
2024-01-05    16.0
Freq: D, Name: x, dtype: float64
"""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd

from rnnlab.data.series import Series, _offset, build_series, format_date
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError


def as_series(
    data,
    column: str | None = None,
    date_column: str | None = None,
    fill: str | None = None,
    covariates: tuple[str, ...] = (),
) -> Series:
    """``data`` (see the module docstring) as a validated :class:`Series`.

    ``fill`` is ``build_series``'s: None (missing values are an error), "ffill" or "drop".
    ``covariates``: columns of a DataFrame to carry along (an rnnlab Series carries its own).
    """
    if isinstance(data, Series):
        if column is not None or date_column is not None:
            raise RnnlabError("column= and date_column= are for pandas DataFrames, not a Series")
        return data
    if isinstance(data, pd.DataFrame):
        return _from_frame(data, column, date_column, fill, tuple(covariates))
    if covariates:
        raise FieldError(
            "covariates",
            "names columns ({0}) of a pandas DataFrame; got a {1}",
            ", ".join(covariates),
            type(data).__name__,
        )
    if column is not None or date_column is not None:
        raise RnnlabError(
            f"column= and date_column= name columns of a pandas DataFrame; got a "
            f"{type(data).__name__}"
        )
    if isinstance(data, pd.Series):
        name = "value" if data.name is None else str(data.name)
        return _build(data.to_numpy(), data.index, name, "pandas Series", None, fill)
    if isinstance(data, np.ndarray | list | tuple):
        x = np.asarray(data)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]  # one column: (N, 1) -> (N,)
        if x.ndim != 1:
            raise RnnlabError(
                f"expected a 1-D array (one value per time step), got shape {x.shape}"
            )
        return _build(x, None, "value", "array", None, fill)
    raise RnnlabError(
        "expected a pandas Series or DataFrame, a 1-D array or list, or an rnnlab Series; got "
        f"a {type(data).__name__}"
    )


def _from_frame(frame: pd.DataFrame, column, date_column, fill, covariates=()) -> Series:
    columns = [str(c) for c in frame.columns]
    for option, name in (("column", column), ("date_column", date_column)):
        if name is not None and name not in columns:
            raise RnnlabError(f"{option}={name!r} is not a column; the frame has {columns}")
    for name in covariates:
        if name not in columns or name in (column, date_column):
            raise FieldError(
                "covariates",
                "names {0}, which {1}; the frame has {2}",
                repr(name),
                "is not a column" if name not in columns else "is the value or date column",
                columns,
            )
    if column is None:
        rest = [c for c in columns if c not in (date_column, *covariates)]
        if len(rest) != 1:
            raise RnnlabError(f"the frame has {len(rest)} value columns {rest}; name one: column=")
        column = rest[0]
    frame = frame.set_axis(columns, axis=1)
    index = frame.index if date_column is None else pd.Index(frame[date_column])
    extra = {
        name: _numbers(frame[name].to_numpy(), "pandas DataFrame", name) for name in covariates
    }
    return _build(
        frame[column].to_numpy(), index, column, "pandas DataFrame", date_column, fill, extra
    )


def _dates(index: pd.Index | None, date_column: str | None) -> np.ndarray | None:
    """datetime64[ns] from a date index or column (NaT where missing), or None for none."""
    if index is None or (date_column is None and not _is_dated(index)):
        return None
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp()
    if not isinstance(index, pd.DatetimeIndex):
        try:
            index = pd.DatetimeIndex(pd.to_datetime(index))
        except (ValueError, TypeError) as exc:
            raise RnnlabError(f"date_column={date_column!r}: not dates ({exc})") from None
    if index.tz is not None:
        index = index.tz_localize(None)  # wall-clock time; forecasts come back without a zone
    return index.to_numpy(dtype="datetime64[ns]")


def _is_dated(index: pd.Index) -> bool:
    return isinstance(index, pd.DatetimeIndex | pd.PeriodIndex)


def _numbers(values, source: str, column: str) -> np.ndarray:
    """A column as float64 (NaN where missing), or a one-line error naming it."""
    if not (np.issubdtype(np.asarray(values).dtype, np.number) or values.dtype == object):
        raise RnnlabError(
            f"{source}, column {column!r}: values must be numbers, got {values.dtype}"
        )
    try:
        return np.asarray(values, dtype=np.float64)  # None (object dtype) becomes NaN: missing
    except (TypeError, ValueError):
        raise RnnlabError(f"{source}, column {column!r}: values must be numbers") from None


def _build(values, index, column: str, source: str, date_column, fill, extra=None) -> Series:
    x = _numbers(values, source, column)
    dates = _dates(index, date_column)
    date_name = date_column or (None if index is None else (index.name or _UNNAMED))

    def row(i: int) -> str:
        label = "" if index is None else f" ({_label(index[i])})"
        return f"{source}, row {i + 1}{label}"

    return build_series(
        x,
        dates,
        row=row,
        column=column,
        source=source,
        name=column,
        date_column=None if dates is None else str(date_name),
        fill=fill,
        covariates=extra,
    )


_UNNAMED = "index"  # what errors call a date index without a name


def _label(key) -> str:
    if isinstance(key, pd.Timestamp) and not pd.isna(key):
        return format_date(key.to_datetime64())
    return str(key)


def forecast_index(series: Series, start: int, n: int) -> pd.Index:
    """The index of points ``start … start+n−1`` of ``series`` continued past its end: their
    dates (with the series' frequency when it has one), else their positions."""
    if series.dates is None:
        return pd.RangeIndex(start, start + n)
    inside = series.dates[start : start + n]
    future = series.next_dates(start + n - len(series)) if start + n > len(series) else None
    dates = inside if future is None else np.concatenate([inside, future])
    name = None if series.date_column == _UNNAMED else series.date_column
    index = pd.DatetimeIndex(dates, name=name)
    offset = _offset(series.dates) if len(series) >= 2 else None
    if offset is not None and n > 0:
        # Checked by pandas: set only where every gap is one step (a past with holidays in its
        # business days has no single frequency, and keeps none).
        with contextlib.suppress(ValueError):
            index.freq = offset
    return index


def to_pandas(values: np.ndarray, series: Series, start: int, name: str) -> pd.Series:
    """``values`` for points ``start …`` of ``series`` (past its end for forecasts)."""
    return pd.Series(values, index=forecast_index(series, start, len(values)), name=name)
