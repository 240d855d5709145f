"""End to end: `rnnlab forecast --quick`, `train` + `predict`, `datasets`, and CLI errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rnnlab.data.sources import load_dataset

MODELS = {"persistence", "moving_average", "linear", "mlp", "rnn", "lstm", "gru"}


@pytest.mark.slow
def test_quick_forecast_json_contract_and_report(cli, tmp_path):
    out = tmp_path / "report"
    r = cli("forecast", "--quick", "--json", "--out", str(out))
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["dataset"] == "aapl"
    assert set(data["test"]) == MODELS
    assert set(data["next"]) == MODELS
    for scores in data["test"].values():
        assert {"rmse", "mae", "mape", "direction", "skill"} <= set(scores)
    # Persistence on the quick run's test tail (the last 60 of the last 400 points), by hand.
    x = load_dataset("aapl").values[-400:]
    rmse = float(np.sqrt(np.mean((x[340:] - x[339:-1]) ** 2)))
    assert data["test"]["persistence"]["rmse"] == pytest.approx(rmse, rel=1e-12)
    assert data["test"]["persistence"]["skill"] == 0
    assert data["test"]["persistence"]["direction"] is None
    assert data["next"]["persistence"] == pytest.approx(x[-1])
    assert data["next_date"] == "2013-03-04"
    for _name, scores in data["test"].items():
        assert scores["skill"] == pytest.approx(1 - scores["rmse"] / rmse)
    assert data["report"] == str(out / "report.html")
    files = {p.name for p in out.iterdir()}
    assert files == {
        "report.html",
        "metrics.json",
        "series.png",
        "test.png",
        "training.png",
        "skill.png",
    }
    html = (out / "report.html").read_text()
    assert data["verdict"].split(":")[0] in html
    assert "<img src='test.png'" in html
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"] == data["test"]
    assert metrics["verdict"] == data["verdict"]


@pytest.mark.slow
def test_train_then_predict(cli, tmp_path):
    from rnnlab.forecast.checkpoint import load_checkpoint

    ckpt = tmp_path / "gru"
    r = cli("train", "--quick", "--cell", "gru", "--dataset", "ibm", "--out", str(ckpt), "--json")
    assert r.code == 0, r.err
    trained = json.loads(r.out)
    assert trained["model"] == "gru"
    assert trained["training"]["epochs"] == 3
    r = cli("predict", "--model", str(ckpt), "--horizon", "3", "--json")
    assert r.code == 0, r.err
    pred = json.loads(r.out)
    assert pred["dates"] == ["2013-03-04", "2013-03-05", "2013-03-06"]
    expected = load_checkpoint(ckpt).predict(3)
    np.testing.assert_allclose(pred["predictions"], expected, rtol=1e-12)
    r = cli("train", "--resume", str(ckpt), "--epochs", "2", "--quick", "--json")
    assert r.code == 0, r.err
    resumed = json.loads(r.out)
    assert resumed["training"]["epochs"] == 5
    assert resumed["resumed_from"] == str(ckpt)
    assert load_checkpoint(ckpt).history_.epochs == 5
    r = cli("predict", "--model", str(ckpt))  # the table
    assert r.code == 0
    assert "gru trained on ibm adj_close" in r.out
    assert "2013-03-04" in r.out


def test_datasets_json_lists_real_series_without_torch():
    code = (
        "import sys, io, json, contextlib; from rnnlab.cli import main; buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf): main(['datasets', '--json'])\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'out': json.loads(buf.getvalue())}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(proc.stdout)
    assert data["torch"] is False
    rows = {d["name"]: d for d in data["out"]["datasets"]}
    assert rows["aapl"]["rows"] == 3270
    assert rows["aapl"]["first"] == "2000-03-01"
    non_financial = [d for d in rows.values() if "stock" not in d["title"]]
    assert len(non_financial) >= 2
    for d in rows.values():
        assert d["source"]
        assert d["license"]
        assert d["frequency"]


def test_cli_user_errors(cli, user_error, tmp_path):
    user_error(
        cli("forecast", "--dataset", "fb", "--window", "150", "--no-report"), "too few rows: 196"
    )
    user_error(cli("predict", "--model", str(tmp_path)), "config.json is missing")
    user_error(cli("forecast", "--models", "rnn,nope", "--no-report"), "--models", "'nope'")


def test_training_a_quick_model_on_keeps_its_tail(cli_here, tmp_path):
    """A --quick model learned the last 400 points; trained on with --resume (and no --quick)
    it goes on with those 400, as its checkpoint records, unless --tail says otherwise."""
    from rnnlab.forecast.checkpoint import load_checkpoint
    from rnnlab.settings.data import QUICK_TAIL

    ckpt = tmp_path / "m"
    r = cli_here("train", "--quick", "--cell", "mlp", "--dataset", "ibm", "--out", str(ckpt))
    assert r.code == 0, r.err
    assert load_checkpoint(ckpt).checkpoint_["data"]["tail"] == QUICK_TAIL
    r = cli_here("train", "--resume", str(ckpt), "--epochs", "1", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["rows"] == QUICK_TAIL
    r = cli_here("train", "--resume", str(ckpt), "--epochs", "1", "--tail", "0", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["rows"] == 3270  # all of ibm


def test_train_with_covariates_saves_them_and_predict_reads_them(cli_here, tmp_path, user_error):
    """train --features: the net reads the covariates, the checkpoint records them (names and
    scalers), predict reads the same columns and gives the model's own forecast, and a
    resumed run reads them again; the linear model and a resumed run refuse the option."""
    from rnnlab.forecast.checkpoint import load_checkpoint

    ckpt = tmp_path / "gru"
    args = ("train", "--quick", "--cell", "gru", "--dataset", "aapl", "--out", str(ckpt))
    r = cli_here(*args, "--features", "volume,calendar", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["covariates"] == ["volume", "calendar"]
    f = load_checkpoint(ckpt)
    assert f.covariates == ("volume", "calendar")
    assert f.covariates_.names == ("volume",)
    assert f.covariates_.calendar
    r = cli_here("predict", "--model", str(ckpt), "--horizon", "3", "--json")
    assert r.code == 0, r.err
    np.testing.assert_allclose(json.loads(r.out)["predictions"], f.predict(3), rtol=1e-12)
    r = cli_here("predict", "--model", str(ckpt), "--horizon", "2")  # the table names them
    assert r.code == 0, r.err
    assert "covariates volume, calendar" in r.out
    r = cli_here("train", "--resume", str(ckpt), "--epochs", "1", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["covariates"] == ["volume", "calendar"]
    assert load_checkpoint(ckpt).history_.epochs == 4
    user_error(cli_here("train", "--resume", str(ckpt), "--epochs", "1", "--features", "open"),
               "--features: comes from the checkpoint")  # fmt: skip
    linear = ("train", "--quick", "--cell", "linear", "--out", str(tmp_path / "l"))
    user_error(cli_here(*linear, "--features", "open"), "--features: are read by the neural")
