"""The series a :class:`~rnnlab.settings.data.DataConfig` names, and its fingerprint. No torch."""

from __future__ import annotations

import hashlib

from rnnlab.data.series import Series
from rnnlab.fielderror import FieldError
from rnnlab.settings.data import DataConfig


def load_series(config: DataConfig, default: str | None = None) -> Series:
    """The CSV file or the embedded dataset ``config`` names (``default`` when it names
    neither), cut to its last ``config.tail`` points."""
    from rnnlab.data.csvfile import load_csv
    from rnnlab.data.sources import load_dataset

    if config.data is not None:
        series = load_csv(
            config.data,
            config.column,
            config.date_column,
            config.fill,
            date_format=config.date_format,
            dayfirst=config.dayfirst,
            max_bytes=config.max_bytes,
            max_rows=config.max_rows,
        )
    else:
        name = config.dataset or default
        if name is None:
            raise FieldError(
                "dataset", "no data: give {dataset} NAME or {data} FILE.csv", lead=False
            )
        series = load_dataset(name, config.column)
    if config.tail is not None and len(series) > config.tail:
        return series.tail(config.tail, f"the last {config.tail} points only")
    return series


def fingerprint(series: Series) -> str:
    """SHA-256 of the series' values (and dates): the same data, bit for bit, or not."""
    h = hashlib.sha256(series.values.tobytes())
    if series.dates is not None:
        h.update(series.dates.astype("datetime64[ns]").tobytes())
    return h.hexdigest()
