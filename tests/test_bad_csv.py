"""The malformed-CSV corpus (tests/data/bad_csv/) through the real command line.

Every file ends, for ``forecast``, ``train`` and ``predict`` alike, in one line
``rnnlab: error: …`` with exit code 2, or in a correct result: never a traceback, never a NaN
in the output. The command runs in this process (``main``, the console script's own entry), so
pytest's warnings-as-errors also catches any stray numpy or pandas warning on the way.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnlab.data.csvfile import load_csv

CORPUS = Path(__file__).parent / "data" / "bad_csv"
GOOD = load_csv(CORPUS / "good.csv")

# file -> the column to ask for, and the words the one-line error must hold (None: it loads,
# and must give the same numbers as good.csv).
CASES = {
    "empty.csv": ("close", ["empty.csv", "the file is empty"]),
    "header_only.csv": ("close", ["header but no data rows"]),
    "binary_garbage.csv": ("close", ["NUL bytes", "binary file"]),
    "control_bytes.csv": ("close", ["control characters", "binary file"]),
    "gzipped.csv": ("close", ["gzip-compressed", "unpack it"]),
    "zip_archive.csv": ("close", ["zip archive", "save the sheet as CSV"]),
    "nan.csv": ("close", ["line 11", "'close'", "missing value", "--fill"]),
    "inf.csv": ("close", ["line 11", "inf is not a finite number"]),
    "text_among_numbers.csv": ("close", ["line 11", "'twelve' is not a number"]),
    "duplicated_dates.csv": ("close", ["line 11", "2021-01-09 is duplicated"]),
    "unsorted_dates.csv": ("close", ["line 12", "earlier than 2021-01-11", "unsorted"]),
    "single_row.csv": ("close", ["only 1 value", "at least 2"]),
    "huge_values.csv": ("close", ["line 2", "1e+308 is too large", "rescale"]),
    "tiny_spread.csv": ("close", ["differ by only", "underflow", "rescale"]),
    "utf16le_no_bom.csv": ("close", None),
    "utf16_bom.csv": ("close", None),
    "cp1252.csv": ("prét", None),
    "good.csv": ("close", None),
}


def test_the_corpus_is_complete():
    """Every file in the corpus has its expected outcome here (and the other way round)."""
    assert {p.name for p in CORPUS.glob("*.csv")} == set(CASES)


@pytest.fixture(scope="module")
def linear_model(tmp_path_factory):
    """A linear model trained on good.csv (a --quick window of 20), for predict."""
    from rnnlab.data.windows import WindowConfig
    from rnnlab.forecast.checkpoint import save_checkpoint
    from rnnlab.forecast.models import make_forecaster

    f = make_forecaster("linear", WindowConfig(window=20, target="diff")).fit(GOOD)
    return save_checkpoint(f, tmp_path_factory.mktemp("model") / "linear")


@pytest.mark.parametrize("name", sorted(CASES))
def test_forecast_on_corpus(cli_here, clean_outcome, user_error, name):
    column, needles = CASES[name]
    r = cli_here("forecast", "--data", str(CORPUS / name), "--column", column, "--quick",
                 "--models", "linear", "--no-report", "--json")  # fmt: skip
    data = clean_outcome(r)
    if needles is not None:
        user_error(r, *needles)
        return
    assert data is not None
    # The same numbers as the UTF-8 original: persistence's RMSE on the last 9 test points.
    x = GOOD.values
    assert data["series"]["rows"] == len(x) == 60
    assert data["split"]["test"] == 9
    expected = float(np.sqrt(np.mean((x[-9:] - x[-10:-1]) ** 2)))
    assert data["test"]["persistence"]["rmse"] == pytest.approx(expected, rel=1e-12)
    assert data["series"]["first"] == "2021-01-01"
    assert data["next_date"] == "2021-03-02"


@pytest.mark.parametrize("name", sorted(CASES))
def test_train_and_predict_on_corpus(cli_here, clean_outcome, user_error, linear_model, tmp_path,
                                     name):  # fmt: skip
    column, needles = CASES[name]
    data = ["--data", str(CORPUS / name), "--column", column]
    trained = cli_here("train", *data, "--model", "linear", "--quick", "--out",
                       str(tmp_path / "m"), "--json")  # fmt: skip
    predicted = cli_here("predict", "--model", str(linear_model), *data, "--horizon", "3", "--json")
    for r in (trained, predicted):
        clean_outcome(r)
    if needles is not None:
        user_error(trained, *needles)
        user_error(predicted, *needles)
        assert not (tmp_path / "m").exists()  # nothing written
        return
    assert json.loads(trained.out)["rows"] == 60
    assert (tmp_path / "m" / "model.safetensors").is_file()
    ours = json.loads(predicted.out)
    assert ours["last_value"] == GOOD.values[-1]
    assert ours["dates"] == ["2021-03-02", "2021-03-03", "2021-03-04"]
    assert all(np.isfinite(ours["predictions"]))


def test_nan_with_fill_is_a_correct_result(cli_here, clean_outcome):
    """The NaN row, filled forward: row 10 takes row 9's value, and nothing is NaN."""
    r = cli_here("forecast", "--data", str(CORPUS / "nan.csv"), "--fill", "ffill", "--quick",
                 "--models", "linear", "--no-report", "--json")  # fmt: skip
    data = clean_outcome(r)
    assert data["series"]["notes"] == ["filled 1 missing value(s) forward"]
    s = load_csv(CORPUS / "nan.csv", fill="ffill")
    assert s.values[9] == s.values[8] == GOOD.values[8]
    np.testing.assert_array_equal(np.delete(s.values, 9), np.delete(GOOD.values, 9))


def test_values_up_to_the_limit_give_finite_scores(cli_here, clean_outcome, tmp_path):
    """1e150 is the largest size taken (squares must fit in float64): every score is finite,
    and so is the Diebold-Mariano test, whose variance of squared errors is near 1e600."""
    x = 1e150 * (0.5 + 0.4 * np.sin(np.arange(80) / 3))
    path = tmp_path / "big.csv"
    path.write_text("v\n" + "".join(f"{v!r}\n" for v in x.tolist()))
    r = cli_here("forecast", "--data", str(path), "--target", "level", "--scaler", "minmax",
                 "--quick", "--models", "linear", "--no-report", "--json")  # fmt: skip
    data = clean_outcome(r)
    assert data["test"]["linear"]["rmse"] > 0
    assert data["test"]["linear"]["p_value"] is not None
    rmse = float(np.sqrt(np.mean((x[-12:] - x[-13:-1]) ** 2)))
    assert data["test"]["persistence"]["rmse"] == pytest.approx(rmse, rel=1e-12)


def test_a_million_rows_load(tmp_path, cli_here, clean_outcome):
    """A million dated rows load (about 2 s here); forecast --quick works on their tail."""
    n = 1_000_000
    minutes = np.arange(n)
    dates = np.datetime64("2000-01-01T00:00") + minutes.astype("timedelta64[m]")
    values = 100 + (minutes % 1000) / 100
    rows = map(
        ",".join,
        zip(np.datetime_as_string(dates).tolist(), values.astype(str).tolist(), strict=True),
    )
    path = tmp_path / "million.csv"
    path.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    r = cli_here("forecast", "--data", str(path), "--quick", "--models", "linear",
                 "--no-report", "--json")  # fmt: skip
    data = clean_outcome(r)
    assert data["series"]["rows"] == 400
    assert data["series"]["notes"] == ["the last 400 points only"]  # --quick: --tail 400
    assert data["series"]["last"] == "2001-11-25 10:39"  # minute 999 999
    assert data["last_value"] == values[-1]
    assert data["series"]["frequency"] == "every 1 min"


def test_the_real_entry_point_on_garbage(cli, user_error):
    """The installed command in its own process: one line, exit 2, no traceback."""
    user_error(cli("forecast", "--data", str(CORPUS / "binary_garbage.csv"), "--json"),
               "binary file")  # fmt: skip
    user_error(cli("train", "--data", str(CORPUS / "huge_values.csv"), "--out", "/nonexistent/x"),
               "too large")  # fmt: skip


def test_train_when_validation_forecasts_overflow(cli_here, clean_outcome, tmp_path):
    x = 100 + np.sin(np.arange(300) / 5)
    x[-5] = 1e150  # in the validation part: the linear model's log-returns explode there
    path = tmp_path / "spike.csv"
    path.write_text("v\n" + "".join(f"{v!r}\n" for v in x.tolist()))
    out = str(tmp_path / "m")
    args = ["--model", "linear", "--quick", "--target", "log-return", "--out", out, "--json"]
    r = cli_here("train", "--data", str(path), *args)
    clean_outcome(r)
    v = json.loads(r.out)["validation"]
    assert v["rmse"] is None
    assert v["skill"] is None
    assert v["not_finite"] >= 1
    assert v["persistence_rmse"] > 1e148  # the spike itself: a finite number
    text = cli_here("train", "--data", str(path), *args[:-1])
    assert text.code == 0
    assert "not finite numbers" in text.out
