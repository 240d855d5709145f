"""Input that used to get through (issue 11, section 2): dates outside datetime64[ns], day-first
dates, unbounded input, extra fields on a row.

Each bad input ends in one line ``rnnlab: error: …`` naming the file, line and column (or the
option), exit 2, nothing written; each good one gives the right dates and values. The commands
run in this process, so pytest's warnings-as-errors catches any stray pandas warning too.
"""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np
import pandas as pd
import pytest

from rnnlab.data.csvfile import load_csv
from rnnlab.data.dates import dates_from_text
from rnnlab.data.series import Series, next_dates
from rnnlab.errors import RnnlabError

QUICK = ("--quick", "--models", "linear", "--no-report", "--json")
WAVE = 100 + np.sin(np.arange(80) / 3)  # 80 values: enough for a --quick linear model


def write_series(path, dates, values=WAVE, header="date,v"):
    """A two-column CSV of ``dates`` (strings) and ``values``."""
    rows = "".join(f"{d},{v!r}\n" for d, v in zip(dates, values.tolist(), strict=True))
    path.write_text(f"{header}\n{rows}")
    return path


def iso(dates) -> list[str]:
    return [str(d)[:10] for d in dates]


# 1. Dates outside 1677-09-21 … 2262-04-11 ------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "shown"),
    [(d, repr(d)) for d in ("9990-01-01", "1600-03-01", "2262-04-12")],
)
def test_dates_outside_datetime64_ns_are_refused_not_wrapped(
    cli_here, user_error, tmp_path, first, shown
):
    """Year 9990 used to be read as 1806 (exit 0). Now: one line with the file, line, column."""
    dates = np.datetime64(first) + np.arange(80)
    path = write_series(tmp_path / "far.csv", dates)
    for command in (("forecast", *QUICK), ("train", "--model", "linear", "--quick", "--out",
                                            str(tmp_path / "m"), "--json")):  # fmt: skip
        r = cli_here(command[0], "--data", str(path), *command[1:])
        user_error(r, "far.csv, line 2, column 'date'", shown, "outside the dates rnnlab can hold")
    assert not (tmp_path / "m").exists()  # nothing written


def test_a_late_date_inside_the_range_loads_and_one_past_it_does_not(tmp_path):
    ok = write_series(tmp_path / "ok.csv", ["2262-04-11T23:46:00", "2262-04-11T23:47:16"],
                      WAVE[:2])  # fmt: skip
    assert load_csv(ok).label(1) == "2262-04-11 23:47"
    bad = write_series(tmp_path / "bad.csv", ["2262-04-11T23:46:00", "2262-04-11T23:47:17"],
                       WAVE[:2])  # fmt: skip
    with pytest.raises(RnnlabError, match=r"bad.csv, line 3, column 'date': '2262-04-11T23:47:17'"):
        load_csv(bad)


def test_a_time_zone_that_moves_a_date_past_the_range_is_refused(tmp_path):
    path = write_series(tmp_path / "tz.csv", ["2262-04-10T20:00-05:00", "2262-04-11T20:00-05:00"],
                        WAVE[:2])  # fmt: skip
    with pytest.raises(RnnlabError, match=r"line 3, .*is outside"):  # 2262-04-12 01:00 UTC
        load_csv(path)


def test_a_series_ending_at_2262_04_11_forecasts_trains_and_predicts(cli_here, clean_outcome,
                                                                     tmp_path):  # fmt: skip
    """The next dates pass the end of datetime64[ns]: computed in microseconds, not an
    OutOfBoundsDatetime traceback; the checkpoint's dates round-trip and predict reads them."""
    dates = np.datetime64("2262-04-11") - np.arange(80)[::-1]
    path = write_series(tmp_path / "late.csv", dates)
    data = clean_outcome(cli_here("forecast", "--data", str(path), *QUICK, "--horizon", "3"))
    assert data["series"]["last"] == "2262-04-11"
    assert data["next_dates"] == ["2262-04-12", "2262-04-13", "2262-04-14"]
    out = tmp_path / "m"
    clean_outcome(cli_here("train", "--data", str(path), "--model", "linear", "--quick", "--out",
                           str(out), "--json"))  # fmt: skip
    history = json.loads((out / "config.json").read_text())["history"]["dates"]
    assert history[-1].startswith("2262-04-11T00:00:00")
    own = clean_outcome(cli_here("predict", "--model", str(out), "--horizon", "3", "--json"))
    again = clean_outcome(cli_here("predict", "--model", str(out), "--data", str(path),
                                   "--horizon", "3", "--json"))  # fmt: skip
    assert own["last"] == again["last"] == "2262-04-11"
    assert own["dates"] == again["dates"] == ["2262-04-12", "2262-04-13", "2262-04-14"]
    assert own["predictions"] == again["predictions"]
    assert all(np.isfinite(own["predictions"]))


def test_next_dates_past_2262_are_exact_in_microseconds():
    daily = np.datetime64("2262-04-11", "ns") - np.arange(5)[::-1].astype("timedelta64[D]")
    out = next_dates(daily, 2)  # pandas' inferred frequency: daily
    assert out.dtype == np.dtype("datetime64[us]")
    assert iso(out) == ["2262-04-12", "2262-04-13"]
    two = np.array(["2262-04-01", "2262-04-11"], dtype="datetime64[ns]")  # the median gap
    assert iso(next_dates(two, 2)) == ["2262-04-21", "2262-05-01"]
    months = np.array(["2262-01-01", "2262-02-01", "2262-03-01", "2262-04-01"], "datetime64[ns]")
    assert iso(next_dates(months, 3)) == ["2262-05-01", "2262-06-01", "2262-07-01"]
    with pytest.raises(RnnlabError, match=r"pass the year 294246.*\(horizon\)"):
        next_dates(np.array(["1700-01-01", "1990-01-01"], dtype="datetime64[ns]"), 10**4)


def test_a_checkpoint_date_past_the_range_is_refused(cli_here, clean_outcome, user_error,
                                                     tmp_path):  # fmt: skip
    """history.dates edited to year 9990: numpy would read 1806; predict refuses the field."""
    path = write_series(tmp_path / "d.csv", DAYS.strftime("%Y-%m-%d"))
    out = tmp_path / "m"
    clean_outcome(cli_here("train", "--data", str(path), "--model", "linear", "--quick", "--out",
                           str(out), "--json"))  # fmt: skip
    config = json.loads((out / "config.json").read_text())
    far = np.datetime64("9990-01-01") + np.arange(len(config["history"]["dates"]))
    config["history"]["dates"] = [str(d) for d in far]  # wrapped, they would still increase
    (out / "config.json").write_text(json.dumps(config))
    user_error(cli_here("predict", "--model", str(out), "--json"), "history.dates are not dates")


def test_checkpoint_dates_are_parsed_without_wrapping():
    """history.dates in a checkpoint's JSON: read exactly, or refused (numpy would wrap)."""
    exact = dates_from_text(["2262-04-11T23:47:16.854775807", "1677-09-21T00:12:43.145224193"])
    assert exact.astype(np.int64).tolist() == [2**63 - 1, -(2**63) + 1]
    for text in ("9990-01-01", "2262-04-12T00:00:00.000000000", "1600-01-01", "300000-01-01"):
        with pytest.raises(ValueError, match="outside the dates rnnlab can hold"):
            dates_from_text(["2021-01-01", text])
    with pytest.raises(RnnlabError, match=r"s: row 2: date 9990-01-01 is outside"):
        Series(WAVE[:2], np.array(["2021-01-01", "9990-01-01"], dtype="datetime64[us]"), name="s")


# 2. Day-first dates --------------------------------------------------------------------------


MONTHS = pd.date_range("2015-01-01", periods=80, freq="MS")  # every day is the 1st: ambiguous
DAYS = pd.date_range("2021-01-01", periods=80, freq="D")  # days up to 31: day first is plain


@pytest.mark.parametrize(("form", "fmt"), [("%d/%m/%Y", "%m/%d/%Y"), ("%d.%m.%Y", "%m.%d.%Y"),
                                           ("%d-%m-%y", "%m-%d-%y")])  # fmt: skip
def test_ambiguous_day_first_dates_are_an_error_not_a_guess(cli_here, user_error, tmp_path, form,
                                                            fmt):  # fmt: skip
    """Monthly dd/mm dates were read as mm/dd (wrong dates, "every 1 days"); now one line."""
    path = write_series(tmp_path / "monthly.csv", MONTHS.strftime(form))
    second = MONTHS[1].strftime(form)  # 01/02/2015: the first row where the orders differ
    r = cli_here("forecast", "--data", str(path), *QUICK)
    user_error(r, "monthly.csv, line 3, column 'date'", repr(second),
               "2015-02-01 (day first) or 2015-01-02 (month first)", "--dayfirst",
               f"--date-format '{fmt}'")  # fmt: skip


@pytest.mark.parametrize("how", [("--dayfirst",), ("--date-format", "%d/%m/%Y")])
def test_dayfirst_or_a_format_reads_them_right(cli_here, clean_outcome, tmp_path, how):
    path = write_series(tmp_path / "monthly.csv", MONTHS.strftime("%d/%m/%Y"))
    data = clean_outcome(cli_here("forecast", "--data", str(path), *how, *QUICK))
    assert data["series"]["first"] == "2015-01-01"
    assert data["series"]["last"] == "2021-08-01"  # 80 months
    assert data["series"]["frequency"] == "monthly"
    assert data["next_date"] == "2021-09-01"
    kwargs = {"dayfirst": True} if how[0] == "--dayfirst" else {"date_format": how[1]}
    s = load_csv(path, **kwargs)
    np.testing.assert_array_equal(s.dates, MONTHS.to_numpy())


@pytest.mark.parametrize("form", ["%d/%m/%Y", "%d.%m.%Y", "%d/%m/%y %H:%M"])
def test_unambiguous_day_first_dates_are_read_day_first(cli_here, clean_outcome, tmp_path, form):
    """Daily dd/mm dates failed at 13/01 with a false "rows before it look like …"."""
    path = write_series(tmp_path / "daily.csv", DAYS.strftime(form))
    np.testing.assert_array_equal(load_csv(path).dates, DAYS.to_numpy())
    data = clean_outcome(cli_here("forecast", "--data", str(path), *QUICK))
    assert (data["series"]["first"], data["series"]["last"]) == ("2021-01-01", "2021-03-21")
    assert data["series"]["frequency"] == "daily"
    assert data["next_date"] == "2021-03-22"


def test_month_first_dates_stay_month_first_and_iso_ignores_dayfirst(tmp_path):
    us = write_series(tmp_path / "us.csv", DAYS.strftime("%m/%d/%Y"))
    np.testing.assert_array_equal(load_csv(us).dates, DAYS.to_numpy())
    with pytest.raises(RnnlabError, match=r"us.csv, line 14, column 'date': '01/13/2021' is not a "
                                          r"day-first date \(dayfirst"):  # fmt: skip
        load_csv(us, dayfirst=True)
    iso_file = write_series(tmp_path / "iso.csv", DAYS.strftime("%Y-%m-%d"))
    np.testing.assert_array_equal(load_csv(iso_file, dayfirst=True).dates, DAYS.to_numpy())
    same = write_series(tmp_path / "same.csv", ["05/05/2021", "06/06/2021"], WAVE[:2])
    assert [load_csv(same).label(i) for i in range(2)] == ["2021-05-05", "2021-06-06"]


@pytest.mark.parametrize(
    ("cells", "kwargs", "needles"),
    [
        (["13/01/2021", "01/14/2021"], {}, ["line 3", "'01/14/2021' is month first but "
                                            "'13/01/2021' above it is not", "mixes"]),
        (["01/01/2021", "13/13/2021"], {}, ["line 3", "'13/13/2021' is not a date"]),
        (["31/02/2021", "13/03/2021"], {}, ["line 2", "'31/02/2021' is not a date"]),
        (["01/02/2021", "2021-02-01"], {"date_format": "%d/%m/%Y"},
         ["line 3", "'2021-02-01' is not a date in the format '%d/%m/%Y' (date_format)"]),
        (["01/02/2021", "01/03/2021"], {"date_format": "%Q"},
         ["'%Q' is not a date format"]),
        (["01/02/2021", "01/03/2021"], {"date_format": "%d/%m/%Y", "dayfirst": True},
         ["dayfirst not with date_format"]),
    ],
)  # fmt: skip
def test_each_bad_date_column_is_one_clear_error(tmp_path, cells, kwargs, needles):
    path = write_series(tmp_path / "d.csv", cells, WAVE[:2])
    with pytest.raises(RnnlabError) as caught:
        load_csv(path, **kwargs)
    for needle in needles:
        assert needle in str(caught.value), (needle, str(caught.value))


def test_the_date_options_need_a_csv_with_dates(cli_here, user_error, tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("v\n1\n2\n3\n")
    user_error(cli_here("forecast", "--data", str(path), "--dayfirst", *QUICK),
               "--dayfirst: ", "v.csv has no date column", "--date-column")  # fmt: skip
    user_error(cli_here("forecast", "--dataset", "aapl", "--date-format", "%Y", *QUICK),
               "--date-format: only for --data FILE.csv")  # fmt: skip


def test_train_dayfirst_then_predict(cli_here, clean_outcome, user_error, tmp_path):
    """The checkpoint keeps its dates in ISO form and records how the CSV's dates were read
    (dayfirst): predict on the CSV again reads them the same way without being told."""
    path = write_series(tmp_path / "monthly.csv", MONTHS.strftime("%d.%m.%Y"))
    out = tmp_path / "m"
    clean_outcome(cli_here("train", "--data", str(path), "--dayfirst", "--model", "linear",
                           "--quick", "--out", str(out), "--json"))  # fmt: skip
    config = json.loads((out / "config.json").read_text())
    assert (config["data"]["last"], config["data"]["frequency"]) == ("2021-08-01", "monthly")
    own = clean_outcome(cli_here("predict", "--model", str(out), "--horizon", "2", "--json"))
    assert own["dates"] == ["2021-09-01", "2021-10-01"]
    again = clean_outcome(cli_here("predict", "--model", str(out), "--data", str(path),
                                   "--dayfirst", "--horizon", "2", "--json"))  # fmt: skip
    assert again["dates"] == own["dates"]
    assert again["predictions"] == own["predictions"]
    assert config["data"]["dayfirst"] is True
    alike = clean_outcome(cli_here("predict", "--model", str(out), "--data", str(path),
                                   "--horizon", "2", "--json"))  # fmt: skip
    assert alike["predictions"] == own["predictions"]


# 3. Unbounded input --------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_endless_devices_are_refused_at_once(cli_here, user_error, tmp_path, device):
    """/dev/zero grew to 3 GB in 34 s and on; binary data is now refused from its first 64 KiB."""
    start = time.perf_counter()
    r = cli_here("train", "--data", device, "--model", "linear", "--out", str(tmp_path / "m"))
    assert time.perf_counter() - start < 10
    user_error(r, f"--data: {device}: holds NUL bytes")
    assert not (tmp_path / "m").exists()


def test_an_endless_pipe_of_text_stops_at_max_bytes(cli_here, user_error, tmp_path):
    """A FIFO whose writer never stops: refused once --max-bytes have come through."""
    fifo = tmp_path / "endless.csv"
    os.mkfifo(fifo)

    def writer() -> None:
        try:
            with open(fifo, "wb") as fh:
                fh.write(b"v\n")
                while True:
                    fh.write(b"1\n2\n" * 4096)
        except (BrokenPipeError, ValueError):
            pass  # the reader gave up: what is tested

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    r = cli_here("forecast", "--data", str(fifo), "--max-bytes", "1000000", *QUICK)
    user_error(r, f"--data: {fifo}: more than 1,000,000 bytes", "--max-bytes")
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_the_default_cap_refuses_a_big_file_before_reading_it(cli_here, user_error, tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "wb") as fh:  # sparse: 1 GiB + 1 byte on paper, nothing on the disk
        fh.truncate(2**30 + 1)
    start = time.perf_counter()
    user_error(cli_here("forecast", "--data", str(path), *QUICK),
               "big.csv: more than 1 GiB, the most rnnlab reads", "--max-bytes")  # fmt: skip
    assert time.perf_counter() - start < 5


def test_the_caps_are_exact(tmp_path, cli_here, user_error):
    path = write_series(tmp_path / "d.csv", DAYS.strftime("%Y-%m-%d")[:10], WAVE[:10])
    size = path.stat().st_size
    assert len(load_csv(path, max_bytes=size, max_rows=10)) == 10
    with pytest.raises(RnnlabError, match=rf"d.csv: more than {size - 1:,} bytes"):
        load_csv(path, max_bytes=size - 1)
    with pytest.raises(RnnlabError, match=r"d.csv: more than 9 data rows.*with max_rows\)"):
        load_csv(path, max_rows=9)
    out = tmp_path / "m"
    r = cli_here("train", "--data", str(path), "--max-rows", "9", "--model", "linear", "--out",
                 str(out))  # fmt: skip
    user_error(r, "more than 9 data rows")
    assert not out.exists()
    user_error(cli_here("forecast", "--data", str(path), "--max-rows", "0", *QUICK),
               "argument --max-rows: must be at least 1")  # fmt: skip


# 10. Extra fields on a row -------------------------------------------------------------------


def test_extra_fields_on_a_row_name_the_line(cli_here, user_error, tmp_path):
    """They were ignored silently; an unquoted thousands separator lost half the number."""
    lines = [f"{d},{v!r}" for d, v in zip(DAYS.strftime("%Y-%m-%d"), WAVE.tolist(), strict=True)]
    lines[6] = "2021-01-07,1,234.5"
    path = tmp_path / "extra.csv"
    path.write_text("date,v\n" + "\n".join(lines) + "\n")
    needles = ("extra.csv, line 8: 3 fields but the header has 2", "'234.5' would belong to no "
               "column", "unquoted ','")  # fmt: skip
    user_error(cli_here("forecast", "--data", str(path), *QUICK), *needles)
    out = tmp_path / "m"
    user_error(cli_here("train", "--data", str(path), "--model", "linear", "--out", str(out)),
               *needles)  # fmt: skip
    assert not out.exists()


def test_empty_trailing_fields_are_not_extra_values(tmp_path):
    path = tmp_path / "trailing.csv"
    path.write_text("date,v\n2021-01-01,1,\n2021-01-02,2,,\n2021-01-03,3\n")
    s = load_csv(path)
    np.testing.assert_array_equal(s.values, [1.0, 2.0, 3.0])
    assert s.label(2) == "2021-01-03"
