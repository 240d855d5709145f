"""User CSVs: what is handled quietly, and one clear error (with the line) for each bad input."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.data.csvfile import load_csv
from rnnlab.errors import RnnlabError


def write(tmp_path, text: str, name: str = "data.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_plain_file_with_auto_date_column(tmp_path):
    path = write(tmp_path, "Date,close\n2020-01-01,1.5\n2020-01-02,2.5\n2020-01-03,2\n")
    s = load_csv(path)
    np.testing.assert_array_equal(s.values, [1.5, 2.5, 2.0])
    assert s.date_column == "Date"
    assert s.column == "close"
    assert [s.label(i) for i in range(3)] == ["2020-01-01", "2020-01-02", "2020-01-03"]


def test_bom_semicolons_decimal_comma_and_thousands(tmp_path):
    text = (
        "\ufeffdate;price;volume\n2020-01-01;1.234,5;7\n2020-01-02;1.300,25;8\n2020-01-03;999,5;9\n"
    )
    s = load_csv(write(tmp_path, text), column="price")
    np.testing.assert_array_equal(s.values, [1234.5, 1300.25, 999.5])
    text = 'day,price\n2020-01-01,"1,234.5"\n2020-01-02,"$2,000"\n2020-01-03,−3\n'
    s = load_csv(write(tmp_path, text, "b.csv"))
    np.testing.assert_array_equal(s.values, [1234.5, 2000.0, -3.0])


def test_no_date_column_and_time_zones(tmp_path):
    s = load_csv(write(tmp_path, "value\n1\n2\n3\n"))
    assert s.dates is None
    assert s.label(0) == "row 1"
    text = "timestamp,v\n2020-01-01T00:00:00+01:00,1\n2020-01-01T01:00:00+01:00,2\n"
    s = load_csv(write(tmp_path, text, "tz.csv"))
    assert s.label(0) == "2019-12-31 23:00"  # converted to UTC


@pytest.mark.parametrize(
    ("text", "kwargs", "needles"),
    [
        ("", {}, ["the file is empty"]),
        ("date,close\n", {}, ["no data rows"]),
        ("date,a,b\n2020-01-01,1,2\n", {}, ["2 columns besides the date", "'a', 'b'"]),
        (
            "date,close\n2020-01-01,1\n",
            {"column": "price"},
            ["no column 'price'", "'date', 'close'"],
        ),
        (
            "d,close\n2020-01-01,1\n",
            {"date_column": "when"},
            ["has no column 'when'", "'d', 'close'"],
        ),
        (
            "date,close\n2020-01-01,1\n2020-01-02,abc\n",
            {},
            ["line 3", "'close'", "'abc' is not a number"],
        ),
        ('date,close\n2020-01-01,"1,5"\n', {}, ["line 2", "'1,5' is not a number"]),
        (
            "date,close\n2020-01-01,1\n2020-01-02,\n2020-01-03,3\n",
            {},
            ["line 3", "missing value", "use fill ffill"],
        ),
        ("date,close\n2020-01-01,\n2020-01-02,2\n", {"fill": "ffill"}, ["first value is missing"]),
        ("date,close\n2020-01-01,1\n2020-01-02,inf\n", {}, ["line 3", "not a finite number"]),
        ("date,close\n2020-01-01,1\nnot a day,2\n", {}, ["line 3", "'not a day' is not a date"]),
        ("date,close\n2020-01-01,1\n2020-01-01,2\n", {}, ["line 3", "2020-01-01 is duplicated"]),
        (
            "date,close\n2020-01-02,1\n2020-01-01,2\n",
            {},
            ["line 3", "earlier than 2020-01-02", "sorted"],
        ),
        ("date,close\n2020-01-01,4\n2020-01-02,4\n", {}, ["constant", "every value is 4"]),
        ("date,close\n2020-01-01,1\n2020-01-02\n", {}, ["line 3", "1 field(s)", "separator"]),
        ("date,close\n2020-01-01,1\n,2\n", {}, ["line 3", "the date in 'date' is missing"]),
        ("date,close,close\n2020-01-01,1,2\n", {"column": "close"}, ["appears twice"]),
    ],
)
def test_each_bad_input_is_one_clear_error(tmp_path, text, kwargs, needles):
    path = write(tmp_path, text)
    with pytest.raises(RnnlabError) as err:
        load_csv(path, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(RnnlabError, match="no such file"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(RnnlabError, match="is a directory"):
        load_csv(tmp_path)


def test_fill_forward_and_drop(tmp_path):
    path = write(tmp_path, "date,close\n2020-01-01,1\n2020-01-02,NA\n2020-01-03,3\n2020-01-04,\n")
    s = load_csv(path, fill="ffill")
    np.testing.assert_array_equal(s.values, [1, 1, 3, 3])
    assert s.notes == ("filled 2 missing value(s) forward",)
    s = load_csv(path, fill="drop")
    np.testing.assert_array_equal(s.values, [1, 3])
    assert [s.label(i) for i in range(2)] == ["2020-01-01", "2020-01-03"]


def test_cli_error_is_one_line_exit_2(cli, user_error, tmp_path):
    path = write(tmp_path, "date,close\n2020-01-01,1\n2020-01-02,x\n")
    user_error(cli("forecast", "--data", str(path), "--quick", "--no-report"), "line 3", "'x'")
    user_error(cli("forecast", "--data", str(tmp_path / "no.csv"), "--no-report"), "no such file")
