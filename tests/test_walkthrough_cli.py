"""`rnnlab walkthrough`: the toy, the JSON contract, scales, matrices and every bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest


def test_default_is_the_classic_toy(cli):
    r = cli("walkthrough")
    assert r.code == 0, r.err
    assert "The same Wx, Wh and b serve every step" in r.out
    assert "Prediction of the next value (y_2, the output after the last input): 0" in r.out


def test_json_contract_and_values(cli):
    r = cli("walkthrough", "--inputs", "0.2,0.5", "--wx", "1.8", "--wh", "-0.5", "--json")
    assert r.code == 0, r.err
    data = json.loads(r.out)  # stdout holds one JSON object and nothing else
    assert [s["t"] for s in data["steps"]] == [1, 2]
    assert set(data["steps"][0]) == {"t", "x", "h_prev", "wx_x", "wh_h", "pre_activation", "h", "y"}
    h1 = math.tanh(1.8 * 0.2)
    h2 = math.tanh(1.8 * 0.5 - 0.5 * h1)
    assert data["steps"][1]["h_prev"] == pytest.approx(h1, abs=1e-15)
    assert data["steps"][1]["wh_h"] == pytest.approx(-0.5 * h1, abs=1e-15)
    assert data["steps"][1]["pre_activation"] == pytest.approx(0.9 - 0.5 * h1, abs=1e-15)
    assert data["prediction"] == pytest.approx(1.1 * h2, abs=1e-15)
    assert "prediction_real_units" not in data


def test_scale_turns_prediction_back_into_real_units(cli):
    r = cli("walkthrough", "--inputs", "0.2,0.5,0.9", "--scale", "100,200", "--json")
    data = json.loads(r.out)
    assert data["prediction_real_units"] == pytest.approx(100 + data["prediction"] * 100)
    r = cli("walkthrough", "--inputs", "0.2,0.5,0.9", "--standard", "50,4", "--json")
    data = json.loads(r.out)
    assert data["prediction_real_units"] == pytest.approx(50 + data["prediction"] * 4)
    r = cli("walkthrough", "--inputs", "0.2,0.5,0.9", "--scale", "100,200")
    assert "The maths outside the cell: real = 100 + y·(200 − 100) =" in r.out


def test_fifty_inputs_vanish(cli):
    r = cli("walkthrough", "--inputs", ",".join(["1"] + ["0"] * 49), "--wh", "0.5", "--json")
    data = json.loads(r.out)
    assert len(data["steps"]) == 50
    assert abs(data["prediction"]) < 1e-12  # the first input is forgotten after 49 steps


def test_weights_file_with_matrices(cli, tmp_path):
    w = {"wx": [[1, 0.5], [0.2, -1]], "wh": [[0.5, 0], [0.1, 0.3]], "b": [0.1, 0], "wout": [1, -1]}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(w))
    r = cli(
        "walkthrough", "--weights", str(path), "--inputs", "1,2;3,4", "--h0", "0.1,-0.2", "--json"
    )
    assert r.code == 0, r.err
    data = json.loads(r.out)
    h = np.array([0.1, -0.2])
    for x in ([1, 2], [3, 4]):
        h = np.tanh(np.array(w["wx"]) @ x + np.array(w["wh"]) @ h + np.array(w["b"]))
    assert data["steps"][1]["h"] == pytest.approx(h.tolist(), abs=1e-15)
    assert data["prediction"] == pytest.approx([h[0] - h[1]], abs=1e-15)
    r = cli("walkthrough", "--weights", str(path), "--inputs", "1,2;3,4")
    assert "(2, 2)" in r.out  # matrices shown with their shapes


def test_no_torch_import_for_walkthrough():
    code = (
        "import sys; from rnnlab.cli import main; main(['walkthrough', '--json']); "
        "sys.stderr.write(str('torch' in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stderr == "False"


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--inputs", "1,abc"], ["--inputs", "'abc' is not a number", "item 2"]),
        (["--inputs", ""], ["--inputs", "empty"]),
        (["--inputs", "1,,2"], ["--inputs", "item 2 is empty"]),
        (["--inputs", "1,nan"], ["--inputs", "not a finite number"]),
        (["--wx", "inf"], ["--wx", "not a finite number"]),
        (["--wh", "x"], ["--wh", "not a number"]),
        (["--h0", "1,2"], ["--h0", "expected 1 value"]),
        (["--scale", "5,1"], ["MIN < MAX"]),
        (["--scale", "1"], ["--scale", "expected MIN,MAX"]),
        (["--standard", "0,-1"], ["STD > 0"]),
        (["--activation", "sigmoid"], ["--activation", "invalid choice"]),
        (["--bogus"], ["unrecognized arguments: --bogus"]),
        (["--weights", "/nonexistent/w.json"], ["--weights", "no such file"]),
    ],
)
def test_bad_input_is_one_clear_line(cli, user_error, args, needles):
    user_error(cli("walkthrough", *args), *needles)


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ("{not json", ["not valid JSON", "line 1"]),
        ("[1, 2]", ["expected a JSON object"]),
        ('{"wx": 1, "wh": 1}', ["missing key(s) wout"]),
        ('{"wx": 1, "wh": 1, "wout": 1, "w": 2}', ["unknown key(s) w"]),
        ('{"wx": [[1, 2], [3]], "wh": 1, "wout": 1}', ["wx must be a number or nested lists"]),
        ('{"wx": "a", "wh": 1, "wout": 1}', ["wx must be a number"]),
        ('{"wx": [1, 2], "wh": 1, "wout": [1, 1]}', ["wh has shape (1, 1)", "need (2, 2)"]),
        ('{"wx": 1, "wh": 1, "wout": [1, 2]}', ["wout has shape (1, 2)"]),
        ('{"wx": 1, "wh": NaN, "wout": 1}', ["wh holds NaN or inf"]),
        ('{"wx": [], "wh": 1, "wout": 1}', ["wx is empty"]),
    ],
)
def test_bad_weights_file(cli, user_error, tmp_path, content, needles):
    path = tmp_path / "w.json"
    path.write_text(content)
    user_error(cli("walkthrough", "--weights", str(path)), str(path), *needles)


def test_weights_and_scalars_conflict(cli, user_error, tmp_path):
    path = tmp_path / "w.json"
    path.write_text('{"wx": 1, "wh": 1, "wout": 1}')
    user_error(cli("walkthrough", "--weights", str(path), "--wx", "2"), "--weights", "not both")


def test_inputs_that_do_not_fit_the_weights(cli, user_error, tmp_path):
    path = tmp_path / "w.json"
    path.write_text('{"wx": [[1, 2]], "wh": 1, "wout": 1}')
    user_error(
        cli("walkthrough", "--weights", str(path), "--inputs", "1,2;3"),
        "--inputs: step 2 has 1 value(s)",
        "expects 2",
    )


def test_python_dash_m_and_help(cli):
    r = cli("--help")
    assert r.code == 0
    assert "walkthrough" in r.out
    r = cli()
    assert r.code == 2
