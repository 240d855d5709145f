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


def test_forecast_horizons_and_intervals_fit(monkeypatch, capsys):
    """The skill-by-step table and the intervals table (two levels, a quantile net)."""
    argv = ["forecast", "--quick", "--no-report", "--models", "linear,mlp", "--horizon", "5"]
    argv += ["--level", "80,95", "--loss", "pinball", "--strategy", "direct"]
    data = json_of(capsys, argv)
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    iv = data["intervals"]
    whole = [data["verdict"]]
    for name, by_level in iv["conformal"].items():
        whole += [name, f"{100 * by_level['80']['coverage'][0]:.1f}"]
        whole += [f"{by_level['95']['width'][4]:.4g}"]
    for step in (1, 5):
        skill = data["horizons"]["models"]["mlp"]["skill"][step - 1]
        whole += [f"{skill:+.4f}"]
    whole += [f"{100 * iv['quantile']['mlp']['95']['coverage'][0]:.1f}"]
    assert_fits(out, whole=tuple(whole))


@pytest.mark.parametrize("names", ["aapl,goog,ibm,msft", "aapl,goog,ibm,msft,fb,unemployment"])
def test_forecast_many_series_fits(monkeypatch, capsys, names):
    """Several series: skill per series and pooled (in groups of series when many)."""
    argv = ["forecast", "--quick", "--no-report", "--dataset", names, "--models", "linear,gru"]
    argv += ["--tail", "120", "--window", "5"]
    data = json_of(capsys, argv)
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    whole = [data["verdict"], *data["series"]]
    whole += [f"{s['skill']:+.4f}" for s in data["scores"] if s["model"] != "persistence"]
    whole += [f"{p['skill']:+.4f}" for p in data["pooled"] if p["model"] != "persistence"]
    assert_fits(out, whole=tuple(whole))


@pytest.mark.parametrize(
    ("names", "extra"),
    [
        ("aapl,goog,ibm,msft", ()),
        ("aapl,goog,ibm,msft,fb,unemployment", ("--strategy", "direct", "--loss", "pinball")),
    ],
)
def test_forecast_many_series_horizons_and_intervals_fit(monkeypatch, capsys, names, extra):
    """Several series, 3 steps ahead, 80 % intervals: skill per step pooled, per series at the
    last step, coverage and width per series with the pooled coverage."""
    argv = ["forecast", "--quick", "--no-report", "--dataset", names, "--models", "linear,gru"]
    argv += ["--tail", "120", "--window", "5", "--horizon", "3", "--level", "80", *extra]
    data = json_of(capsys, argv)
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    whole = [data["verdict"], *data["series"]]
    for p in data["horizons"]["pooled"]:
        if p["model"] != "persistence":
            whole += [f"{v:+.4f}" for v in p["skill"]]
    for cell in data["horizons"]["per_series"].values():
        whole += [f"{cell['global']['gru']['skill'][2]:+.4f}"]
    for p in data["intervals"]["pooled"]:
        whole += [f"{100 * p['coverage'][0]:.1f}"]
        whole += [f"w {w[0]:.4g}" for w in p["width"].values()]
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


# --- bench ------------------------------------------------------------------------------


def test_bench_smoke_fits(monkeypatch, capsys, tmp_path):
    """`bench`'s tables on the smoke shapes: one real run, its result kept for the check."""
    import rnnlab.commands.bench as bench

    kept = []
    real_print = bench._print
    monkeypatch.setattr(
        bench, "_print", lambda result, plot: (kept.append(result), real_print(result, plot))
    )
    argv = ["bench", "--smoke", "--quick", "--device", "cpu", "--plot", str(tmp_path / "p.png")]
    code, out, _ = render_at(monkeypatch, capsys, argv)
    assert code == 0
    (result,) = kept
    whole = [f"{k.impl} " for k in result.cases]
    whole += [f"{k.seconds * 1e3:.2f} " for k in result.cases]
    assert_fits(out, whole=tuple(whole))
    assert "target" not in out


def _big_cpu_result():
    """A CPU bench result with the widest values a full run can print, and a measurement
    problem (a fraction above 1, flagged)."""
    from dataclasses import asdict

    from rnnlab.bench.roofline import bound
    from rnnlab.bench.runner import BenchResult, Case

    def bounds(**works):  # each bound at 99% (or a problem, when work is negative)
        return {k: asdict(bound(abs(w), 1.0, abs(w) / (0.99 if w > 0 else 1.5)))
                for k, w in works.items()}  # fmt: skip

    limits = {"matmul": 1234.5e9, "triad": 123.4e9, "sigmoid": 12.34e9, "tanh": 12.34e9,
              "exp": 12.34e9}  # fmt: skip
    cases = []
    for H in (64, 128, 256):
        for T in (25, 50, 100, 200, 400):
            for impl, ratio in (("nn.RNN", 1.0), ("fused", 12.34)):
                b = bounds(FLOP=-123.4e9 if (H, T) == (64, 25) else 123.4e9)
                cases.append(Case("rnn", impl, 64, T, H, 1, 12.34567, 1234.5, 0.99, ratio, {},
                                  limits, b, "FLOP", 0.99))  # fmt: skip
    for T in (256, 1024, 4096):
        for impl in ("nn.GRU", "minGRU fused", "minGRU log-space scan", "nn.LSTM", "minLSTM fused"):
            extra = {"step_peak_mb": 12345.6} if T == 4096 else {}
            b = {}
            if impl.startswith("nn."):
                b = bounds(FLOP=1234.56e9)
            elif impl.endswith("fused"):
                b = bounds(bytes=123456e6, σ=-12345e6 if T == 256 else 12345e6)
            cases.append(Case("gated", impl, 64, T, 128, 1, 123.4567, 123.4, 0.5, 123.45, extra,
                              limits, b, next(iter(b), None), 0.99))  # fmt: skip
    for T in (256, 1024):
        for impl in ("nn.GRU", "minGRU fused", "transformer"):
            b = (
                bounds(bytes=123456e6, σ=12345e6)
                if impl == "minGRU fused"
                else bounds(FLOP=-1234.56e9 if T == 256 else 1234.56e9)
            )
            cases.append(Case("attention", impl, 64, T, 128, 1, 12.34567, 123.4, 0.5, 123.45,
                              {"params": 1234567}, limits, b, next(iter(b)), 0.99))  # fmt: skip
    for T in (64, 256, 1024, 4096):
        for impl in ("sequential (fused)", "DEER", "quasi-DEER"):
            extra = {"iterations": 123, "depth": 12345, "max_error": 1.2e-7}
            cases.append(Case("deer", impl, 16, T, 16, 1, 1.234567, None, None, 0.123, extra))
    conditions = {
        "cpu": "AMD EPYC 9654 96-Core Processor",
        "cpu_count": 192,
        "torch": "2.13.0+cpu",
        "torch_threads": 1,
        "numba": "0.68.1",
        "allocator": "glibc malloc, freed blocks kept (mallopt)",
        "load_average_start": 12.34,
        "load_average_end": 23.45,
        "triad_mib": 256,
    }
    headline = {
        "rnn_fused_vs_nn_rnn": 12.34,
        "rnn_fraction_of_peak_h64": None,
        "rnn_fraction_of_peak_h128": 0.99,
        "rnn_fraction_of_peak_h256": 0.99,
        "mingru_fused_vs_nn_gru_t4096": 123.45,
        "mingru_fused_fraction_of_bandwidth_bound_t4096": 0.99,
        "mingru_fused_fraction_of_transcendental_bound_t4096": 0.99,
    }
    deer = {"crossover_T": {"DEER": 4096, "quasi-DEER": None}}
    ranges = {k: {"lowest": v / 2, "highest": v} for k, v in limits.items()}
    problems = [
        f"{c.impl} ({c.group}, B={c.B}, T={c.T}, H={c.H}) against the {k} bound: {b['problem']}"
        for c in cases
        for k, b in c.bounds.items()
        if b["problem"]
    ]
    return BenchResult(conditions, 1234.5, cases, headline, deer, ranges, problems)


def _big_gpu_result():
    """A GPU bench result with the widest values a full run can print (both dtypes, every
    implementation, T up to 65536, a failure)."""
    from rnnlab.bench.gpu import GATED, GpuBenchResult
    from rnnlab.bench.runner import Case

    cases = []
    for dtype in ("float32", "bfloat16"):
        for T in (256, 1024, 4096, 16384, 65536):
            for impl in GATED:
                extra = {
                    "dtype": dtype,
                    "host_seconds": 1.234567,
                    "step_peak_MB": 123456.7,
                    "floor_seconds": 0.1234567,
                    "x_floor": 123.45,
                    "vs_scan": 123.45,
                }
                cases.append(
                    Case(f"gated {dtype}", impl, 64, T, 128, 1, 12.345678, None, None, 123.4, extra)
                )
    for T in (256, 1024, 4096, 16384):
        for impl in ("sequential (cuDNN)", "sequential (step loop)", "DEER", "quasi-DEER"):
            extra = {"iterations": 123, "depth": 1234, "max_error": 1.2e-7}
            cases.append(Case("deer", impl, 16, T, 32, 1, 12.345678, None, None, 12.345, extra))
    conditions = {
        "gpu": "NVIDIA H200",
        "sm_count": 132,
        "gpu_memory_GB": 150.1,
        "torch": "2.13.0+cu128",
        "cuda": "12.8",
        "cudnn": 91002,
        "triton": "3.5.0",
        "timing": "CUDA events, median of interleaved rounds",
    }
    limits = {"copy_GBps": 4123.4, "matmul_TFLOPs": {"float32": 51.2, "bfloat16": 712.3}}
    floor = {"bytes": "3·B·T·H·e + 2·B·T·I·e (h written; h and dL/dh read back; x read twice)"}
    headline = {
        "mingru_triton_vs_cudnn_gru_t4096": 36.8,
        "mingru_triton_x_floor_t4096": None,
        "mingru_triton_vs_scan_t4096": 4.5,
    }
    deer = {"B": 16, "H": 32, "crossover_T": {"DEER vs sequential (cuDNN)": None}}
    errors = ["nn.RNN bfloat16 T=65536: OutOfMemoryError: CUDA out of memory. Tried to allocate"]
    return GpuBenchResult(conditions, limits, floor, cases, headline, deer, errors)


@pytest.mark.parametrize("gpu", [False, True], ids=["cpu", "gpu"])
def test_bench_widest_values_fit(monkeypatch, capsys, tmp_path, gpu):
    """The full run's widest numbers (a slow CPU, T = 65536 on a GPU) in every bench table."""
    import rnnlab.commands.bench as bench
    import rnnlab.commands.common as common

    real = common.make_console

    def narrow(stderr: bool = False):
        console = real(stderr=stderr)
        console.width = 80
        return console

    monkeypatch.setattr(bench, "make_console", narrow)
    result = _big_gpu_result() if gpu else _big_cpu_result()
    (bench._print_gpu if gpu else bench._print)(result, tmp_path / "p.png")
    out = capsys.readouterr().out
    if gpu:  # ms, host ms, peak MB, floor ms, × floor, T, DEER's ms and × cuDNN
        whole = ["12345.678", "1234.567", "123457", "123.457", "123.45", "65536", "12345.68"]
        whole += ["12.345"]
    else:  # ms, GFLOP/s, of peak, × nn.RNN, × torch, MB, × less, DEER's ms, depth, × seq.
        whole = ["12345.67", "1234.5", "99%", "12.34", "123.45", "12346", "1.0", "1234.57"]
        whole += ["12345", "0.123"]
        # the work per step (GFLOP, MB, M σ), a flagged fraction, the limits' ranges
        whole += ["123.400", "1234.56", "123456", "12345", "error", "Measurement problem:"]
        whole += ["617.2–1234.5 GFLOP/s", "61.7–123.4 GB/s", "σ 6.17–12.34"]
    assert_fits(out, whole=(*whole, *(k.impl + " " for k in result.cases)))
    assert "target" not in out
