"""Section 3 of issue 12: every table readable in an 80-column terminal.

:func:`render_at` runs a command in this process with every console it makes as wide as a
terminal of ``width`` columns (a console that is not a terminal is otherwise at least 160
wide); :func:`assert_fits` checks the text: no line wider than that, and no "…" that rich puts
in a cell it had to cut. Add a command's case below with the values its JSON holds, so that
the test sees them whole in the table.
"""

from __future__ import annotations

import json
import sys

import pytest

from rnnlab.cli import main


def render_at(monkeypatch, capsys, argv: list[str], width: int = 80) -> tuple[int, str, str]:
    """Run ``rnnlab ARGV…`` with every rich console ``width`` columns wide; returns the exit
    code, stdout and stderr."""
    import rnnlab.commands.common as common

    real = common.make_console

    def narrow(stderr: bool = False):
        console = real(stderr=stderr)
        console.width = width
        return console

    for name, module in list(sys.modules.items()):
        if name.startswith("rnnlab.") and getattr(module, "make_console", None) is real:
            monkeypatch.setattr(module, "make_console", narrow)
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_fits(text: str, width: int = 80, whole: tuple[str, ...] = ()) -> None:
    """No line wider than ``width``, no cut cell ("…"), and each of ``whole`` found in full."""
    wide = [line for line in text.splitlines() if len(line) > width]
    assert not wide, "\n".join(wide)
    assert "…" not in text, text
    flat = " ".join(text.split())  # a prose line may wrap: compare with the spaces folded
    for value in whole:
        assert " ".join(str(value).split()) in flat, (value, text)


def json_of(capsys, argv: list[str]) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_datasets_fits(monkeypatch, capsys):
    data = json_of(capsys, ["datasets"])
    code, out, _ = render_at(monkeypatch, capsys, ["datasets"])
    assert code == 0
    whole = []
    for d in data["datasets"]:
        whole += [d["name"], d["title"], d["frequency"], str(d["rows"]), d["first"], d["last"]]
        whole += [d["license"], *d["columns"]]
    assert_fits(out, whole=tuple(whole))


@pytest.mark.parametrize(
    "argv",
    [
        ["walkthrough"],
        ["walkthrough", "--inputs", "0.2,-0.512345,0.9,1e-7", "--wh", "-0.123456789"],
        ["walkthrough", "--inputs", "0.2,0.5", "--scale", "100,200"],
    ],
)
def test_walkthrough_fits(monkeypatch, capsys, argv):
    data = json_of(capsys, argv)
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    from rnnlab.commands.common import fmt

    whole = [fmt(s[k]) for s in data["steps"] for k in ("x", "wx_x", "wh_h", "h", "y")]
    assert_fits(out, whole=(*whole, fmt(data["prediction"])))


def test_walkthrough_matrices_fit(monkeypatch, capsys, tmp_path):
    w = {"wx": [[1, 0.5], [0.2, -1]], "wh": [[0.5, 0], [0.1, 0.3]], "b": [0.1, 0], "wout": [1, -1]}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(w))
    argv = ["walkthrough", "--weights", str(path), "--inputs", "1,2;3,4", "--h0", "0.1,-0.2"]
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    assert_fits(out)


@pytest.mark.parametrize(
    "argv",
    [
        ["gradients", "--wh", "0.5", "--no-plot"],
        ["gradients", "--cell", "lstm", "--steps", "30", "--no-plot"],
        ["gradients", "--cell", "gru", "--hidden", "4", "--steps", "20", "--no-plot"],
        ["gradients", "--init", "orthogonal", "--scale", "1.5", "--hidden", "4", "--no-plot"],
    ],
)
def test_gradients_fits(monkeypatch, capsys, argv):
    from rnnlab.commands.common import fmt

    data = json_of(capsys, argv)
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    shown = [0, 1, 2, 3, 4, 5]
    whole = [fmt(data["grad_norm"][k], 4) for k in shown]
    whole += [fmt(data["loss_grad_norm"][k], 4) for k in shown]
    if data["cell_state_norm"] is not None:
        whole += [fmt(data["cell_state_norm"][k], 4) for k in shown]
    assert_fits(out, whole=(*whole, data["verdict"]))


def test_longmemory_fits(monkeypatch, capsys):
    argv = ["longmemory", "--quick", "--cell", "rnn,lstm", "--max-steps", "30", "--clip", "0.5"]
    data = json_of(capsys, argv)
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    whole = []
    for cell, r in data["results"].items():
        whole += [cell, f"{r['final_loss']:.4g}", r["status"], str(r["steps"])]
        whole += [f"{r['clipping']['median']:.3g}", f"{r['clipping']['max']:.3g}"]
    assert_fits(out, whole=tuple(whole))


def test_forecast_fits(monkeypatch, capsys):
    """Before: `forecast` cut numbers to `1.70…` and names to `pers…` at 80 columns."""
    from rnnlab.commands.common import fmt

    argv = ["forecast", "--quick", "--no-report", "--models", "moving_average,linear,rnn"]
    data = json_of(capsys, argv)
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    whole = [data["next_date"], data["verdict"]]
    for name, s in data["test"].items():
        whole += [name, f"{s['rmse']:.4f}", f"{s['mae']:.4f}", f"{s['skill']:.4f}"]
        whole += [fmt(data["next"][name])]
    assert_fits(out, whole=tuple(whole))


def test_train_and_predict_fit(monkeypatch, capsys, tmp_path):
    from rnnlab.commands.common import fmt

    out = str(tmp_path / "m")
    argv = ["train", "--quick", "--cell", "gru", "--out", out]
    data = json_of(capsys, argv)
    code, text, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    v = data["validation"]
    assert_fits(text, whole=(f"{v['rmse']:.4g}", f"{v['persistence_rmse']:.4g}", out))
    argv = ["predict", "--model", out, "--horizon", "3"]
    data = json_of(capsys, argv)
    code, text, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    assert_fits(text, whole=(*data["dates"], *(fmt(p) for p in data["predictions"])))
