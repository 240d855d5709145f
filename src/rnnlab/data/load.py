"""The series a :class:`~rnnlab.settings.data.DataConfig` names, and its fingerprint. No torch."""

from __future__ import annotations

import hashlib

from rnnlab.data.series import Series
from rnnlab.fielderror import FieldError
from rnnlab.settings.data import DataConfig


def load_series(
    config: DataConfig, default: str | None = None, features: tuple[str, ...] | None = None
) -> Series:
    """The CSV file or the embedded dataset ``config`` names (``default`` when it names
    neither), cut to its last ``config.tail`` points. One series only: a list of names
    (``dataset`` "aapl,goog", ``column`` "a,b") is an error naming the field. ``features``:
    the past covariates to carry along (other columns of the same rows; ``calendar`` comes
    from the dates, which it then needs; :mod:`rnnlab.data.covariates`)."""
    named = series_names(config, default)
    if len(named) > 1:
        field = "column" if len(config.column_names) > 1 else "dataset"
        raise FieldError(
            field,
            "names {0} series ({1}); this command reads one (several are for forecast)",
            len(named),
            ", ".join(named),
        )
    dataset, column = next(iter(named.values()))
    return _load_one(config, dataset, column, features)


def load_many(config: DataConfig, default: str | None = None) -> dict[str, Series]:
    """Every series ``config`` names, by label (the dataset's name, or the column's when
    several columns are named), each cut to its own last ``config.tail`` points; one name
    gives one series. Every name is checked before any data is read."""
    from rnnlab.data.sources import check_dataset

    named = series_names(config, default)
    if config.data is None:
        for dataset, column in named.values():
            if dataset is not None:
                check_dataset(dataset, column)  # every name and column, before any data
    return {label: _load_one(config, d, c) for label, (d, c) in named.items()}


def series_names(
    config: DataConfig, default: str | None = None
) -> dict[str, tuple[str | None, str | None]]:
    """label -> (dataset, column) for each series ``config`` names: several datasets (each
    with ``column``), or several columns of one dataset or CSV file. A CSV column whose own
    name holds a comma (``"close, USD"``) is one name, as the file's header says."""
    datasets = config.dataset_names or (None if config.data is not None else default,)
    columns = config.column_names or (None,)
    if len(columns) > 1 and config.data is not None and _in_header(config, config.column):
        columns = (config.column,)
    if len(datasets) > 1:
        return {d: (d, config.column) for d in datasets}
    if len(columns) > 1:
        return {c: (datasets[0], c) for c in columns}
    label = datasets[0] or config.column or str(config.data)
    return {label: (datasets[0], config.column)}


def _in_header(config: DataConfig, name: str) -> bool:
    """True when the CSV's header has a column called ``name`` exactly (spaces stripped)."""
    from rnnlab.data.csvfile import read_table

    header = read_table(config.data, config.max_bytes, config.max_rows)[0]
    return name.strip() in header


def _load_one(
    config: DataConfig,
    dataset: str | None,
    column: str | None,
    features: tuple[str, ...] | None = None,
) -> Series:
    from rnnlab.data.covariates import check_features, split_features
    from rnnlab.data.csvfile import load_csv
    from rnnlab.data.sources import load_dataset

    check_features(features)
    covariates, calendar = split_features(features)

    if config.data is not None:
        series = load_csv(
            config.data,
            column,
            config.date_column,
            config.fill,
            date_format=config.date_format,
            dayfirst=config.dayfirst,
            max_bytes=config.max_bytes,
            max_rows=config.max_rows,
            covariates=covariates,
        )
    else:
        if dataset is None:
            raise FieldError(
                "dataset", "no data: give {dataset} NAME or {data} FILE.csv", lead=False
            )
        series = load_dataset(dataset, column, covariates)
    if calendar and series.dates is None:
        raise FieldError(
            "features", "names calendar, which needs dates; {0} has none", series.source
        )
    if config.tail is not None and len(series) > config.tail:
        return series.tail(config.tail, f"the last {config.tail} points only")
    return series


def fingerprint(series: Series) -> str:
    """SHA-256 of the series' values (and dates): the same data, bit for bit, or not."""
    h = hashlib.sha256(series.values.tobytes())
    if series.dates is not None:
        h.update(series.dates.astype("datetime64[ns]").tobytes())
    return h.hexdigest()
