"""Embedded real series, read from files that a PyPI package ships (no network at run time).

All come from ``bokeh_sampledata`` (the Bokeh project's sample-data wheel; loader code
BSD-3-Clause, each dataset under its own terms, recorded in the wheel's
``licenses/datasets.json``). The files are read directly with pandas; nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnlab.data.series import Series, build_series
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError

PACKAGE = "bokeh_sampledata"
TICKERS = ("AAPL", "GOOG", "IBM", "MSFT", "FB")
STOCK_COLUMNS = ("adj_close", "close", "open", "high", "low", "volume")


@dataclass(frozen=True)
class Dataset:
    """What ``rnnlab datasets`` lists about one embedded series."""

    name: str
    title: str
    source: str
    license: str
    file: str
    columns: tuple[str, ...]
    default_column: str
    fill: str | None  # how the loader fills the source's own gaps (None: it has none)
    notes: str
    load: Callable[[], tuple[dict[str, np.ndarray], np.ndarray]]


def _path(file: str):
    try:
        from bokeh_sampledata import package_path
    except ImportError:
        raise RnnlabError(
            f"the embedded datasets need the {PACKAGE} package; pip install {PACKAGE}"
        ) from None
    return package_path(file)


def _stocks(ticker: str) -> Callable[[], tuple[dict[str, np.ndarray], np.ndarray]]:
    def load():
        import pandas as pd

        df = pd.read_csv(_path("stocks.csv.gz"))
        df = df[df["Ticker"] == ticker]
        df.columns = [c.lower().replace(" ", "_") for c in df.columns]
        cols = {c: df[c].to_numpy(dtype=np.float64) for c in STOCK_COLUMNS}
        return cols, pd.to_datetime(df["date"]).to_numpy(dtype="datetime64[ns]")

    return load


def _sea_temperature():
    import pandas as pd

    df = pd.read_csv(_path("sea_surface_temperature.csv.gz"))
    df["date"] = pd.to_datetime(df.iloc[:, 0], utc=True).dt.tz_localize(None)
    # The source repeats one time stamp (2017-03-21 16:30, 4.276 and 4.289): keep their mean.
    mean = df.groupby("date", sort=True)[df.columns[1]].mean()
    return {"temperature": mean.to_numpy(dtype=np.float64)}, mean.index.to_numpy()


def _unemployment():
    import pandas as pd

    df = pd.read_csv(_path("unemployment1948.csv"))
    months = [c for c in df.columns if c not in ("Year", "Annual")]
    long = df.melt(id_vars="Year", value_vars=months, var_name="month", value_name="rate")
    long["date"] = pd.to_datetime(long["Year"].astype(str) + "-" + long["month"], format="%Y-%b")
    long = long.sort_values("date")
    return {"rate": long["rate"].to_numpy(dtype=np.float64)}, long["date"].to_numpy()


def _lincoln():
    import pandas as pd

    df = pd.read_csv(_path("lincoln_weather.csv"))
    cols = {"tmax": df["TMAX"].to_numpy(dtype=np.float64)}
    cols["tmin"] = df["TMIN"].to_numpy(dtype=np.float64)
    return cols, pd.to_datetime(df["DATE"]).to_numpy()


def _glucose():
    import pandas as pd

    df = pd.read_csv(_path("CGM.csv.gz"))
    df["date"] = pd.to_datetime(df["datetime"])
    # The source repeats 3 time stamps with two close readings each: keep their mean.
    mean = df.groupby("date", sort=True)["glucose"].mean()
    return {"glucose": mean.to_numpy(dtype=np.float64)}, mean.index.to_numpy()


_QUANDL = (
    "Quandl WIKI Prices (archived copy), via bokeh_sampledata; open/high/low/close unadjusted, "
    "adj_close split- and dividend-adjusted"
)
DATASETS: dict[str, Dataset] = {
    t.lower(): Dataset(
        name=t.lower(),
        title=f"{t} daily stock prices",
        source=_QUANDL,
        license="public domain (Quandl WIKI)",
        file="stocks.csv.gz",
        columns=STOCK_COLUMNS,
        default_column="adj_close",
        fill=None,
        notes="trading days only (no weekends or holidays)",
        load=_stocks(t),
    )
    for t in TICKERS
}
DATASETS["sea_temperature"] = Dataset(
    name="sea_temperature",
    title="Sea surface temperature (°C), NERACOOS buoy B01, Western Maine Shelf",
    source="NERACOOS station B01 (dataset B01_sbe37_all), via bokeh_sampledata",
    license="free to use and redistribute (NERACOOS)",
    file="sea_surface_temperature.csv.gz",
    columns=("temperature",),
    default_column="temperature",
    fill=None,
    notes="every 30 minutes, 2 gaps; one repeated time stamp averaged",
    load=_sea_temperature,
)
DATASETS["unemployment"] = Dataset(
    name="unemployment",
    title="US unemployment rate (%), monthly",
    source="US Bureau of Labor Statistics, via bokeh_sampledata",
    license="public domain (US government)",
    file="unemployment1948.csv",
    columns=("rate",),
    default_column="rate",
    fill=None,
    notes="the monthly rates as the source lists them",
    load=_unemployment,
)
DATASETS["lincoln_weather"] = Dataset(
    name="lincoln_weather",
    title="Daily max/min temperature (°F), Lincoln, Nebraska, 2016",
    source="NOAA station USW00094996 (historical Bokeh sample), via bokeh_sampledata",
    license="public domain",
    file="lincoln_weather.csv",
    columns=("tmax", "tmin"),
    default_column="tmax",
    fill="ffill",
    notes="one missing day filled forward",
    load=_lincoln,
)
DATASETS["glucose"] = Dataset(
    name="glucose",
    title="Blood glucose (mg/dL), continuous monitor, every 5 minutes",
    source="one person's CGM readings given to the Bokeh project, via bokeh_sampledata",
    license="public domain",
    file="CGM.csv.gz",
    columns=("glucose",),
    default_column="glucose",
    fill=None,
    notes="mostly every 5 minutes, with some gaps; 3 repeated time stamps averaged",
    load=_glucose,
)
DEFAULT_DATASET = "aapl"


def dataset_names() -> tuple[str, ...]:
    """The names ``load_dataset`` (and the ``dataset`` setting) accepts."""
    return tuple(DATASETS)


def stock_covariates(cols: dict[str, np.ndarray], names: tuple[str, ...]) -> dict:
    """A stock's past covariates, comparable over time with the split-adjusted target:

        open, high, low    log(x_τ / close_τ)                  the row's own ratio to its close
        volume             volume_τ · close_τ / adj_close_τ    shares in split-adjusted units

    open, high, low and close are unadjusted prices: AAPL's fell by half at the 2:1 splits of
    2000 and 2005, where adj_close (the target) runs on. Their ratio to the same row's close is
    untouched by a split or dividend (the adjustment multiplies both by the same factor), so it
    is what an adjusted price would give, without the price level, which the target carries
    already, and which leaves the training range on a trending series (a scaler fitted on
    AAPL's 2000-2010 prices maps its 2012 prices far beyond anything the net saw); the ratios
    (the gap from open to close, the day's range) keep one scale throughout. Volume counts
    shares, which a 2:1 split doubles: times close/adj_close it counts adjusted shares (the
    forecaster takes its log1p, :mod:`rnnlab.data.covariates`).
    """
    out = {}
    for n in names:
        if n == "volume":
            out[n] = cols["volume"] * cols["close"] / cols["adj_close"]
        else:
            out[n] = np.log(cols[n] / cols["close"])  # log(x_τ / close_τ)
    return out


STOCK_COVARIATES = ("open", "high", "low", "volume")  # adj_close and close are the prices


def _check_covariates(name: str, column: str, wanted: tuple[str, ...]) -> None:
    """Each of ``wanted`` a covariate dataset ``name`` has (besides ``column``)."""
    info = DATASETS[name]
    allowed = STOCK_COVARIATES if info.file == "stocks.csv.gz" else info.columns
    allowed = tuple(c for c in allowed if c != column)
    for n in wanted:
        if n not in allowed:
            why = "is the column forecast" if n == column else "is not a covariate"
            raise FieldError(
                "features",
                "names {0}, which {1} of dataset {2}; its covariates: {3}",
                repr(n),
                why,
                repr(name),
                ", ".join((*allowed, "calendar")),
            )


def load_dataset(
    name: str = DEFAULT_DATASET, column: str | None = None, covariates: tuple[str, ...] = ()
) -> Series:
    """One embedded series by name, its default column unless ``column`` names another;
    ``covariates``: other columns of the same rows to carry along (a stock's open, high, low,
    volume, as :func:`stock_covariates` makes them comparable with the target)."""
    info = check_dataset(name, column)
    column = info.default_column if column is None else column
    _check_covariates(name, column, tuple(covariates))
    columns, dates = info.load()
    if info.file == "stocks.csv.gz":
        extra = stock_covariates(columns, tuple(covariates))
    else:
        extra = {n: columns[n] for n in covariates}
    return build_series(
        columns[column],
        dates,
        row=lambda i: f"dataset {name}, row {i + 1}",
        column=column,
        source=name,
        name=f"{name} {column}",
        date_column="date",
        fill=info.fill,
        covariates=extra,
    )


def check_dataset(name: str, column: str | None = None) -> Dataset:
    """The embedded dataset ``name``, checked to have ``column`` (None: its default), without
    reading its data; errors name the field (dataset, column)."""
    if name not in DATASETS:
        raise FieldError(
            "dataset",
            "unknown dataset {0}; choose one of {1}",
            repr(name),
            ", ".join(DATASETS),
            lead=False,
        )
    info = DATASETS[name]
    column = info.default_column if column is None else column
    if column not in info.columns:
        raise FieldError(
            "column",
            "dataset {0} has no column {1}; its columns: {2}",
            repr(name),
            repr(column),
            ", ".join(info.columns),
            lead=False,
        )
    return info
