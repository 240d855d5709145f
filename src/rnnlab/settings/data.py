"""Which series a command reads: :class:`DataConfig` (an embedded dataset or a CSV file, and
how to read the CSV). No torch here: a bad name or a missing file is refused in a blink.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from rnnlab.config import ConfigError, check_fields, option
from rnnlab.data.csvfile import MAX_BYTES, MAX_ROWS
from rnnlab.data.series import FILLS
from rnnlab.fielderror import FieldError

QUICK_TAIL = 400  # points of the series a --quick run keeps
CSV_ONLY = ("date_column", "date_format", "dayfirst", "max_bytes", "max_rows")  # for --data only


@dataclass(frozen=True)
class DataConfig:
    """The series: an embedded ``dataset`` or a CSV file (``data``), one ``column`` of it.

    dataset : str | None    an embedded series (None: the command's default, or with ``data``);
                            several as "aapl,goog,ibm" (for ``forecast`` only)
    data : Path | None      a CSV file instead
    column : str | None     the column to forecast (None: the dataset's own, the CSV's only one);
                            several as "a,b,c" (a CSV column whose own name has a comma stays one)
    date_column, date_format, dayfirst: how the CSV's dates are found and read
    fill : str | None       missing values: "ffill", "drop", or None (an error)
    max_bytes, max_rows     the most of a CSV that is read
    tail : int | None       keep only the last ``tail`` points (None: all)
    """

    dataset: str | None = option(
        None,
        "an embedded series; see `rnnlab datasets` (forecast: several as a,b,c)",
        metavar="NAME",
        default_text="aapl; predict: the model's own data",
    )
    data: Path | None = option(None, "your own CSV file", metavar="FILE.csv")
    column: str | None = option(
        None,
        "the column to forecast (forecast: several as a,b,c)",
        metavar="NAME",
        default_text="the dataset's own, or the CSV's only one",
    )
    date_column: str | None = option(
        None,
        "the CSV's date column",
        metavar="NAME",
        default_text="one named date, time, timestamp, …",
    )
    date_format: str | None = option(
        None,
        "how the CSV's dates are written, in strftime codes (e.g. %d/%m/%Y)",
        metavar="FORMAT",
        default_text="ISO and other unambiguous forms, and day/month/year or month/day/year "
        "when the dates themselves show which",
    )
    dayfirst: bool = option(False, "read dates such as 01/02/2005 as day/month/year (1 February)")
    fill: str | None = option(
        None,
        "missing values: carry the last one forward, or drop the rows",
        choices=FILLS,
        default_text="an error",
    )
    max_bytes: int = option(
        MAX_BYTES, "refuse a CSV larger than N bytes", low=1, metavar="N", default_text="1 GiB"
    )
    max_rows: int = option(MAX_ROWS, "refuse a CSV with more than N data rows", low=1, metavar="N")
    tail: int | None = option(
        None, "keep only the last N points of the series", low=1, metavar="N", off=0
    )

    def __post_init__(self) -> None:
        check_fields(self)
        if self.data is not None and self.dataset is not None:
            raise ConfigError("data", "give either {data} FILE.csv or {dataset} NAME, not both")
        if len(self.dataset_names) > 1 and len(self.column_names) > 1:
            raise ConfigError(
                "column", "several series are named by {dataset} or by {column}, not both"
            )
        if self.data is None:
            defaults = {f.name: f.default for f in fields(self)}
            for name in CSV_ONLY:
                if getattr(self, name) != defaults[name]:
                    why = " (embedded data has its dates)" if name.startswith("date") else ""
                    raise ConfigError(name, f"only for {{data}} FILE.csv{why}")

    @property
    def dataset_names(self) -> tuple[str, ...]:
        """The embedded series ``dataset`` names, in order ("aapl,goog" -> aapl, goog; none: ())."""
        return split_names(self.dataset, "dataset")

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns ``column`` names, in order ("a,b" -> a, b; none: ())."""
        return split_names(self.column, "column")

    @classmethod
    def quick(cls) -> DataConfig:
        """The --quick run's data: the last 400 points."""
        return cls(tail=QUICK_TAIL)

    def filled(self, recorded: dict, given: Collection[str]) -> DataConfig:
        """This config with each field the user did not give (``given``: field names) taken
        from ``recorded`` (a run's or a checkpoint's record of its data) where it has one; the
        file and the dataset only when the user named neither, the CSV's reading options only
        for a CSV."""
        values = {}
        names_data = "data" in given or "dataset" in given
        for f in fields(self):
            if f.name in given or f.name not in recorded:
                continue
            if f.name in ("data", "dataset") and names_data:
                continue
            values[f.name] = recorded[f.name]
        if "tail" not in given and recorded.get("quick"):  # a run recorded before --tail
            values["tail"] = QUICK_TAIL
        if isinstance(values.get("data"), str):
            values["data"] = Path(values["data"])
        merged = {**{f.name: getattr(self, f.name) for f in fields(self)}, **values}
        if merged["data"] is None:  # reading options belong to a CSV only
            for name in CSV_ONLY:
                if name not in given:
                    merged[name] = {f.name: f.default for f in fields(self)}[name]
        return DataConfig(**merged)

    @property
    def reading(self) -> dict:
        """How the data were read (what a checkpoint records, so that a resumed run reads the
        same points the same way again): date_format, dayfirst, max_bytes, max_rows, fill and
        tail (a ``quick`` run's last 400 points stay its data when it is trained on)."""
        keys = ("date_format", "dayfirst", "max_bytes", "max_rows", "fill", "tail")
        return {k: getattr(self, k) for k in keys}

    def to_dict(self) -> dict:
        """JSON-able form (the path as text)."""
        d = asdict(self)
        d["data"] = None if self.data is None else str(self.data)
        return d


def split_names(text: str | None, field: str) -> tuple[str, ...]:
    """``"a, b,c"`` -> ("a", "b", "c"): the names of several series, each stripped; one name
    is itself; None is (). An empty or repeated name is an error naming ``field``.

    >>> split_names("aapl, goog", "dataset")
    ('aapl', 'goog')
    """
    if text is None:
        return ()
    if "," not in text:
        return (text,)
    names = tuple(name.strip() for name in text.split(","))
    if "" in names:
        raise FieldError(field, "has an empty name in {0} (commas separate names)", repr(text))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FieldError(field, "names {0} twice", ", ".join(repeated))
    return names
