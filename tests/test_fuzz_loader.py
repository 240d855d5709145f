"""Property-based fuzzing of the CSV loader and of the split that follows it.

Any bytes, any text, any table: :func:`load_csv` returns a valid Series or raises one
:class:`RnnlabError` line, nothing else (and, pytest's warnings being errors, no numpy or pandas
warning either). Well-formed tables come back with exactly the numbers written.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab.data.csvfile import load_csv
from rnnlab.data.series import MAX_MAGNITUDE
from rnnlab.data.splits import _fits, _sizes, chronological_split
from rnnlab.errors import RnnlabError

FUZZ = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CELLS = st.one_of(
    st.sampled_from(["", "NA", "nan", "inf", "-inf", "1e308", "1e400", "-", "?", "1,234.5",
                     "1.234,5", "$12", "€3", "2020-01-01", "2020-13-45", "x", "−2", '"', "\x00"]),
    st.floats().map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.text(max_size=6),
)  # fmt: skip


def _load(path, **kwargs):
    """load_csv's whole contract: a Series of finite values, or one line of RnnlabError."""
    try:
        s = load_csv(path, **kwargs)
    except RnnlabError as exc:
        message = str(exc)
    else:
        message = None
    if message is not None:
        assert "\n" not in message
        return None
    assert len(s) >= 2
    assert np.all(np.isfinite(s.values))
    assert np.all(np.abs(s.values) <= MAX_MAGNITUDE)
    assert np.ptp(s.values) > 0
    if s.dates is not None:
        assert np.all(np.diff(s.dates.astype(np.int64)) > 0)
    return s


@FUZZ
@given(raw=st.binary(max_size=400))
def test_any_bytes(tmp_path, raw):
    path = tmp_path / "f.csv"
    path.write_bytes(raw)
    _load(path)
    _load(path, column="close", fill="ffill")


@FUZZ
@given(text=st.text(max_size=300), encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le"]))
def test_any_text(tmp_path, text, encoding):
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding, errors="surrogatepass"))
    _load(path)


@FUZZ
@given(
    header=st.lists(st.sampled_from(["date", "close", "v", "", "Date", "x y"]), min_size=1,
                    max_size=4),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=4), max_size=12),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    fill=st.sampled_from([None, "ffill", "drop"]),
)  # fmt: skip
def test_any_table(tmp_path, header, rows, sep, fill):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep).writerows([header, *rows])
    path = tmp_path / "f.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    _load(path, fill=fill)
    _load(path, column=header[-1], fill=fill)


@FUZZ
@given(
    values=st.lists(st.floats(-1e150, 1e150, allow_nan=False), min_size=2, max_size=40).filter(
        lambda v: np.ptp(v) > 1e-150
    ),
    sep=st.sampled_from([",", "\t", "|"]),
    dated=st.booleans(),
)
def test_well_formed_tables_come_back_exactly(tmp_path, values, sep, dated):
    dates = np.arange("2020-01-01", len(values), dtype="datetime64[D]")
    rows = [[str(d), repr(v)] if dated else [repr(v)] for d, v in zip(dates, values, strict=True)]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep).writerows([["date", "v"] if dated else ["v"], *rows])
    path = tmp_path / "f.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    s = _load(path)
    assert s is not None
    np.testing.assert_array_equal(s.values, values)
    if dated:
        np.testing.assert_array_equal(s.dates, dates.astype("datetime64[ns]"))


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(0, 10**6),
    val=st.floats(0, 0.9, exclude_max=True),
    test=st.floats(0, 0.9, exclude_max=True),
    context=st.integers(0, 10**12),
)
def test_the_split_fits_or_names_the_least_length_that_does(n, val, test, context):
    """Every split either fits its rules or says how many rows would: the least N above n
    that fits (for fractions a float can hold; 10¹² leading points take no 10¹² tries)."""
    try:
        split = chronological_split(n, val, test, context)
    except RnnlabError as exc:
        message = str(exc)
        if "needs at least" not in message:
            assert "leaves too little" in message or "is too small" in message
            return
        rows = message.split("needs at least ")[1].split(" ")[0]
        if "e+" in rows:  # past 10¹⁵ rows, shown rounded
            assert float(rows) >= 1e15
            return
        need = int(rows)
        assert need > n
        assert _fits(_sizes(need, val, test), context, val, test)
        if need > n + 1 and need < 10**15:  # below ~1e15, N and N - 1 are distinct floats
            assert not _fits(_sizes(need - 1, val, test), context, val, test)
        return
    assert split.total == n
    assert _fits(split, context, val, test)


@pytest.mark.parametrize(
    ("val", "test", "message"),
    [
        (0.15, 1e-300, r"needs at least 1\.5e\+300"),
        (1e-320, 0.15, r"^val a fraction of 9.99989e-321 is too small \(2 points would need inf"),
        (0.15, 0.15, "1000000000 leading point.* needs at least 1428571442"),
    ],
)
def test_tiny_fractions_and_huge_windows_are_answered_at_once(val, test, message):
    """No search through 10⁹ (or 10³⁰⁰) lengths: the answer starts from the lower bound."""
    with pytest.raises(RnnlabError, match=message):
        chronological_split(100, val, test, 10**9 if test == 0.15 and val == 0.15 else 10)
