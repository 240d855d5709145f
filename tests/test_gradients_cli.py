"""``rnnlab gradients``: the JSON contract and its values, every cell, the plot, --train,
--model, and clean one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnlab.cells import cell_names
from rnnlab.cli import main


def run_json(capsys, *args: str) -> dict:
    assert main(["gradients", *args, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object, nothing else
    return json.loads(out)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_scalar_json_contract_and_values(capsys, tmp_path):
    plot = tmp_path / "g.png"
    d = run_json(capsys, "--wh", "0.5", "--plot", str(plot))
    assert {"cell", "steps", "lags", "grad_norm", "theory", "rate"} <= set(d)
    assert (d["cell"], d["steps"], d["lags"]) == ("rnn", 50, list(range(50)))
    np.testing.assert_allclose(d["grad_norm"], 0.5 ** np.arange(50), rtol=1e-12, atol=0)
    np.testing.assert_allclose(d["theory"], 0.5 ** np.arange(50), rtol=1e-12, atol=0)
    assert d["theory_kind"] == "exact"
    assert d["rate"] == pytest.approx(0.5, rel=1e-10)
    assert d["verdict"].startswith("vanishing: the gradient from 49 steps back is 1.78e-15")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert d["plot"] == str(plot)


def test_scalar_exploding(capsys):
    d = run_json(capsys, "--wh", "1.5", "--no-plot")
    assert d["grad_norm"][49] == pytest.approx(1.5**49, rel=1e-12)
    assert d["verdict"].startswith("exploding: the gradient from 49 steps back is 4.25e+08")
    assert d["plot"] is None


@pytest.mark.parametrize("cell", [c for c in cell_names() if c != "transformer"])
def test_every_registered_cell(capsys, cell):
    d = run_json(capsys, "--cell", cell, "--hidden", "3", "--steps", "6", "--no-plot")
    assert d["cell"] == cell
    assert len(d["grad_norm"]) == len(d["theory"]) == 6
    assert d["grad_norm"][0] == pytest.approx(1.0, rel=1e-12)  # ∂h_T/∂h_T = I
    assert len(d["gate"]["mean"]) == 6 if d["gate"] else True


def test_the_transformer_has_no_state_to_differentiate(capsys):
    """∂h_T/∂h_t needs a state carried step to step; the causal Transformer has none."""
    assert main(["gradients", "--cell", "transformer", "--steps", "6", "--no-plot"]) == 2
    assert "carries no state h_t" in capsys.readouterr().err


def test_lstm_gates_and_cell_state_path(capsys):
    d = run_json(capsys, "--cell", "lstm", "--forget-bias", "5", "--steps", "20", "--no-plot")
    assert d["theory_kind"] is None
    assert all(v is None for v in d["theory"])
    assert d["gate"]["state"] == "c"
    assert min(d["gate"]["min"]) > 0.9  # σ(5 + small) near 1: the carousel is open
    assert d["gate"]["path"][0] == 1.0
    assert d["gate"]["path"][19] > 0.5  # the direct path keeps most of the gradient
    assert len(d["cell_state_norm"]) == 20


def test_orthogonal_matrix_bound(capsys):
    d = run_json(capsys, "--init", "orthogonal", "--scale", "0.8", "--hidden", "8", "--no-plot")
    assert d["spectrum"]["sigma_max"] == pytest.approx(0.8, rel=1e-6)
    assert d["spectrum"]["spectral_radius"] == pytest.approx(0.8, rel=1e-6)
    np.testing.assert_allclose(d["theory"], 0.8 ** np.arange(50), rtol=1e-5)  # float32 Wh
    assert all(g <= t * (1 + 1e-9) for g, t in zip(d["grad_norm"], d["theory"], strict=True))


def test_train_shows_exploding_and_clipping(capsys):
    # Robust properties only: the unclipped trajectory after the explosion is chaotic and
    # differs with the CPU's SIMD path; the growth past 10⁴× and the clipped run do not.
    d = run_json(capsys, "--init", "orthogonal", "--scale", "1.5", "--train", "--no-plot")
    t = d["training"]
    assert t["sigma_max"] == pytest.approx(1.5, rel=1e-6)
    assert t["explode_factor"] == 1e4
    no_clip, clip = t["no_clip"], t["clip"]
    assert no_clip["status"] in ("exploded", "diverged")
    assert no_clip["steps"] < 100  # caught early, not after a long stall
    norms = [g for g in no_clip["grad_norm"] if g is not None]
    assert max(norms) > 1e4 * norms[0] or None in no_clip["grad_norm"]
    assert clip["status"] == "completed"
    assert clip["steps"] == 1000
    assert clip["clipping"]["fired"] > 0
    assert clip["clipping"]["max"] < 100  # ‖g‖ stays sane under clipping
    assert clip["final_loss"] < 0.75 * t["baseline"]  # 0.35–0.49× over seeds 0–5 here


@pytest.mark.parametrize(("cell", "blocks"), [("gru", 3), ("lstm", 4)])
def test_train_gated_cells(capsys, cell, blocks):
    """Before: W_hh (3H × H, 4H × H) went whole to the spectrum, which needs a square matrix
    (LinAlgError). Each gate's H × H block is set to the orthogonal init × 1.5: σ_max 1.5 each."""
    d = run_json(
        capsys, "--cell", cell, "--hidden", "8", "--init", "orthogonal", "--scale", "1.5",
        "--train", "--train-steps", "50", "--no-plot",
    )  # fmt: skip
    t = d["training"]
    assert t["config"]["cell"] == cell
    assert t["sigma_max_blocks"] == pytest.approx([1.5] * blocks, rel=1e-6)
    assert t["sigma_max"] == pytest.approx(1.5, rel=1e-6)
    for run in (t["no_clip"], t["clip"]):
        assert run["status"] in ("completed", "exploded", "diverged")
        assert 1 <= run["steps"] <= 50
    assert t["clip"]["status"] == "completed"


@pytest.mark.skipif(_cuda(), reason="a GPU is here")
def test_device_cuda_without_a_gpu_is_one_line_before_any_work(capsys, monkeypatch, tmp_path):
    import rnnlab.diagnostics.probe as probe

    def no_work(*args, **kwargs):
        raise AssertionError("the probe ran before --device was checked")

    monkeypatch.setattr(probe, "random_probe", no_work)
    plot = tmp_path / "g.png"
    assert main(["gradients", "--device", "cuda", "--train", "--plot", str(plot)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnlab: error: --device: cuda")
    assert err.count("\n") == 1
    assert not plot.exists()


def test_device_cpu_gives_the_default_numbers(capsys):
    """--device cpu: the same JSON as the default here (the probe is on the CPU either way;
    --train's runs on the device); only the recorded device differs."""
    args = ("--hidden", "4", "--steps", "6", "--train", "--train-steps", "20", "--no-plot")
    default = run_json(capsys, *args)
    cpu = run_json(capsys, *args, "--device", "cpu")
    assert cpu["training"]["config"]["device"] == "cpu"
    for d in (default, cpu):
        d["training"]["config"].pop("device")
        d.get("config", {}).pop("device", None)
    if not _cuda():
        assert cpu == default


def test_train_gated_cell_table_names_the_blocks(capsys):
    assert main(["gradients", "--cell", "gru", "--train", "--train-steps", "20", "--no-plot"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "σ_max of W_hh's blocks (r, z, n) = " in out
    assert "clip at 1" in out


def test_plot_takes_the_cells_colour(monkeypatch, tmp_path):
    """The command passes the cell's name, so that the plot draws it in the cell's colour."""
    import rnnlab.diagnostics.plot as plot

    seen = {}
    real = plot.plot_gradient_flow

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(plot, "plot_gradient_flow", spy)
    path = tmp_path / "g.png"
    assert main(["gradients", "--cell", "lstm", "--steps", "6", "--plot", str(path), "--json"]) == 0
    assert seen["cell"] == "lstm"
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_table_output(capsys, tmp_path):
    assert (
        main(["gradients", "--cell", "gru", "--steps", "30", "--plot", str(tmp_path / "p.png")])
        == 0
    )
    out = capsys.readouterr().out
    assert "Gradient flow through time" in out
    assert "update gate z_t" in out
    assert "Verdict: " in out
    assert "Plot: " in out


def test_model_checkpoint(capsys, tmp_path):
    ckpt = tmp_path / "ckpt"
    assert main(["train", "--cell", "gru", "--quick", "--out", str(ckpt), "--json"]) == 0
    capsys.readouterr()
    d = run_json(capsys, "--model", str(ckpt), "--no-plot")
    config = json.loads((ckpt / "config.json").read_text())
    W = config["preprocessing"]["window"]["window"]
    assert d["steps"] == W
    assert d["cell"] == "gru"
    assert d["grad_norm"][0] == pytest.approx(1.0)
    from safetensors.numpy import load_file

    head = load_file(str(ckpt / "model.safetensors"))["head.weight"][0]
    assert d["loss_grad_norm"][0] == pytest.approx(np.linalg.norm(head), rel=1e-6)  # ∂ŷ/∂h_T


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--wh", "0.5", "--cell", "lstm"], ["--cell", "--wh"]),
        (["--cell", "tcn"], ["--cell", "invalid choice: 'tcn'"]),
        (["--wh", "abc"], ["--wh", "'abc' is not a number"]),
        (["--forget-bias", "1"], ["--forget-bias", "only the LSTM"]),
        (["--input", "data"], ["--input: data needs --model"]),
        (["--steps", "1"], ["--steps", "at least 2"]),
        (["--model", "/nonexistent/dir"], ["--model", "no such checkpoint"]),
        (["--model", "/nonexistent/dir", "--hidden", "4"], ["--hidden", "comes from --model"]),
    ],
)
def test_bad_input_is_one_clear_line(cli_here, user_error, args, needles):
    user_error(cli_here("gradients", *args, "--no-plot"), *needles)


def test_a_real_process_prints_pure_json_and_help_imports_no_torch(cli):
    import subprocess
    import sys

    from rnnlab.cells import cell_names
    from rnnlab.cells.init import INIT_SCHEMES
    from rnnlab.settings.cells import BUILTIN_CELLS
    from rnnlab.settings.cells import INIT_SCHEMES as OPTION_CHOICES

    assert OPTION_CHOICES == INIT_SCHEMES
    assert cell_names() == BUILTIN_CELLS  # the torch-free list is the registry's
    r = cli("gradients", "--wh", "0.9", "--steps", "5", "--no-plot", "--json")
    assert r.code == 0
    assert json.loads(r.out)["grad_norm"] == pytest.approx(0.9 ** np.arange(5), rel=1e-12)
    code = (
        "import sys; from rnnlab.cli import build_parser; build_parser(); "
        "sys.stderr.write(str('torch' in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stderr == "False"


def test_the_plot_goes_under_an_output_folder(cli_here, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli_here("gradients", "--wh", "0.5", "--steps", "5", "--json")
    assert json.loads(r.out)["plot"] == "out/gradients/gradients.png"
    assert (tmp_path / "out/gradients/gradients.png").read_bytes()[:4] == b"\x89PNG"
    r = cli_here("gradients", "--wh", "0.5", "--steps", "5", "--out", "elsewhere", "--json")
    assert json.loads(r.out)["plot"] == "elsewhere/gradients.png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "out"]  # nothing in cwd


def test_train_says_what_it_does_before_it_does_it(cli_here, tmp_path):
    args = ["--hidden", "4", "--steps", "5", "--train", "--train-steps", "20", "--no-plot"]
    r = cli_here("gradients", *args)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    plan = next(i for i, line in enumerate(lines) if "training rnn twice" in line)
    assert "20 sgd steps each, without and with clipping at 1" in " ".join(lines[plan : plan + 2])
    assert plan < next(i for i, line in enumerate(lines) if line.startswith("  no clipping"))


def test_gradients_config_checks_name_fields():
    from rnnlab.config import ConfigError
    from rnnlab.settings.gradients import GradientsConfig, ProbeConfig

    with pytest.raises(ConfigError, match=r"^cell wh sets the scalar tanh RNN; drop cell$"):
        ProbeConfig(wh=0.5, cell="lstm")
    with pytest.raises(ConfigError, match=r"^probe.hidden comes from model; drop it$"):
        GradientsConfig(model=Path("m"), probe=ProbeConfig(hidden=4))
    c = GradientsConfig(probe=ProbeConfig(wh=1.5))
    assert (c.input_kind, c.explode_config().init, c.explode_config().scale) == (
        "zero",
        "identity",
        1.5,
    )
