"""`rnnlab bench`: the timing helper, the JSON contract, the plot and bad options.

No speed is asserted here (speed claims live in the bench's own output); ``--smoke`` runs the
whole harness on tiny shapes to check the plumbing.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from rnnlab.bench.timing import interleaved_medians


def torch_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_interleaved_medians_alternates_and_counts_calls():
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    sec = interleaved_medians(fns, repeats=3, warmup=2, block=0)
    assert calls == ["a", "a", "b", "b"] + ["a", "b"] * 3  # warm-ups, then rounds in turn
    assert set(sec) == {"a", "b"}
    assert all(s >= 0 for s in sec.values())


def test_interleaved_medians_times_blocks_of_back_to_back_calls(monkeypatch):
    """A fake clock: "a" takes 1 ms, "b" 30 ms. With 5 ms blocks, "a" runs 5 times in a row
    each round (after its warm-up and the call that sizes the block), "b" once, and each
    reports seconds per call, not per block."""
    import rnnlab.bench.timing as timing

    now = [0.0]
    calls = []

    def work(name, seconds):
        def fn():
            calls.append(name)
            now[0] += seconds

        return fn

    monkeypatch.setattr(timing, "perf_counter", lambda: now[0])
    fns = {"a": work("a", 1e-3), "b": work("b", 30e-3)}
    sec = interleaved_medians(fns, repeats=2, warmup=1, block=5e-3)
    assert calls == ["a", "a", "b", "b"] + (["a"] * 5 + ["b"]) * 2
    assert sec == {"a": pytest.approx(1e-3), "b": pytest.approx(30e-3)}
    assert timing.calls_per_block(1e-3, 5e-3) == 5
    assert timing.calls_per_block(0.0, 5e-3) == timing.MAX_CALLS  # a call too quick to time
    assert timing.calls_per_block(1e-3, 0) == 1


@pytest.fixture(scope="module")
def smoke_json(tmp_path_factory):
    from conftest import _run_cli

    plot = tmp_path_factory.mktemp("bench") / "plot.png"
    r = _run_cli("bench", "--smoke", "--quick", "--json", "--device", "cpu", "--plot", str(plot))
    assert r.code == 0, r.err
    return json.loads(r.out), plot


def test_json_contract(smoke_json):
    data, plot = smoke_json
    assert set(data["headline"]) == {  # measurements only: no targets of ours
        "rnn_fused_vs_nn_rnn",
        "rnn_fraction_of_peak_h64",
        "rnn_fraction_of_peak_h128",
        "rnn_fraction_of_peak_h256",
        "mingru_fused_vs_nn_gru_t4096",
        "mingru_fused_fraction_of_bandwidth_bound_t4096",
        "mingru_fused_fraction_of_transcendental_bound_t4096",
    }
    assert data["conditions"]["torch_threads"] == 1
    assert data["conditions"]["smoke"] is True
    assert data["peak_gflops"] > 0
    assert set(data["limits"]) == {"matmul", "triad", "sigmoid", "tanh", "exp"}
    for lim in data["limits"].values():  # each limit's range over the rounds: finite, > 0
        assert 0 < lim["lowest"] <= lim["highest"] < float("inf")
    assert data["peak_gflops"] == pytest.approx(data["limits"]["matmul"]["highest"] / 1e9)
    cases = data["cases"]
    rnn = [c for c in cases if c["group"] == "rnn"]
    assert {c["impl"] for c in rnn} == {"nn.RNN", "fused"}
    for c in rnn:  # the peak of the case's own rounds
        assert set(c["limits"]) == {"matmul"}
        assert c["bound"] == "FLOP"
        b = c["bounds"]["FLOP"]
        assert b["rate"] == c["limits"]["matmul"]
        if b["problem"] is None:
            assert c["fraction_of_peak"] == pytest.approx(c["gflops"] * 1e9 / b["rate"])
            assert c["fraction_of_bound"] == c["fraction_of_peak"] <= 1
        else:
            assert c["fraction_of_peak"] is None
        flops = 6 * c["B"] * c["T"] * c["H"] * (c["H"] + c["I"])
        assert c["gflops"] == pytest.approx(flops / c["seconds"] / 1e9)
        if c["impl"] == "nn.RNN":
            assert c["ratio"] == 1.0
    fused = {(c["H"], c["T"]): c for c in rnn if c["impl"] == "fused"}
    T50, T200 = max(2, 50 // 64), max(2, 200 // 64)
    assert data["headline"]["rnn_fused_vs_nn_rnn"] == min(
        fused[(H, T)]["ratio"] for H in (64, 128) for T in (T50, T200)
    )
    assert data["headline"]["rnn_fraction_of_peak_h256"] == fused[(256, T200)]["fraction_of_peak"]
    deer = [c for c in cases if c["group"] == "deer"]
    assert {c["impl"] for c in deer} == {"sequential (fused)", "DEER", "quasi-DEER"}
    for c in deer:
        if c["impl"] != "sequential (fused)":
            assert c["extra"]["max_error"] < 1e-5  # converged to the loop (float32)
            assert c["extra"]["depth"] >= c["extra"]["iterations"]
    assert set(data["deer"]["crossover_T"]) == {"DEER", "quasi-DEER"}
    assert data["plot"] == str(plot)
    gated = [c for c in cases if c["group"] == "gated"]
    assert {c["impl"] for c in gated} == {"nn.GRU", "minGRU fused"}
    for c in gated:  # the headline shape's memory, measured in a process of its own
        assert c["extra"]["step_peak_mb"] >= 0
        assert set(c["limits"]) == set(data["limits"])  # all measured in the case's rounds
    (gru,) = (c for c in gated if c["impl"] == "nn.GRU")
    (mingru,) = (c for c in gated if c["impl"] == "minGRU fused")
    assert set(gru["bounds"]) == {"FLOP"}
    assert set(mingru["bounds"]) == {"bytes", "σ"}
    B, T, H, I = (mingru[k] for k in "BTHI")
    assert mingru["bounds"]["bytes"]["work"] == 3 * B * T * H * 4 + 2 * B * T * I * 4
    assert mingru["bounds"]["σ"]["work"] == 4 * B * T * H
    least = {k: b["seconds"] for k, b in mingru["bounds"].items()}
    assert mingru["bound"] == max(least, key=least.get)  # the tighter bound
    assert mingru["bounds"]["bytes"]["rate"] == mingru["limits"]["triad"]
    assert mingru["bounds"]["σ"]["rate"] == mingru["limits"]["sigmoid"]
    h = data["headline"]
    assert (
        h["mingru_fused_fraction_of_bandwidth_bound_t4096"] == mingru["bounds"]["bytes"]["fraction"]
    )
    assert (
        h["mingru_fused_fraction_of_transcendental_bound_t4096"]
        == mingru["bounds"]["σ"]["fraction"]
    )
    assert all("problem" in p for p in data["problems"])
    attention = {c["impl"]: c for c in cases if c["group"] == "attention"}
    assert set(attention) == {"nn.GRU", "minGRU fused", "transformer"}
    assert {c["T"] for c in attention.values()} == {max(2, 256 // 64)}  # --quick: T = 256 only
    tr = attention["transformer"]
    B, T, H = tr["B"], tr["T"], tr["H"]
    assert tr["extra"]["params"] == 265472  # 2 blocks at H = 128, MLP 2·H
    assert attention["nn.GRU"]["extra"]["params"] == 3 * 128 * (1 + 128 + 2)
    assert tr["bounds"]["FLOP"]["work"] == 3 * 2 * (16 * B * T * H * H + 2 * B * T * T * H)
    assert tr["bound"] == "FLOP"
    assert attention["nn.GRU"]["ratio"] == 1.0
    assert set(attention["minGRU fused"]["bounds"]) == {"bytes", "σ"}


def test_progress_names_the_case_that_is_running(monkeypatch):
    """Every timing round and memory probe runs under a label that names it (the progress bar
    once said "rnn" while the gated cases ran). The timer is replaced: each function is called
    once, on the smoke shapes, and every case takes 1 ms."""
    import rnnlab.bench.memory as memory
    import rnnlab.bench.runner as runner
    from rnnlab.bench import BenchConfig, run_bench

    labels: list[str] = []
    seen: list[tuple[str, str]] = []  # (the label at the time, what ran)

    def medians(fns, repeats, warmup=1):
        for name, fn in fns.items():
            fn()
            seen.append((labels[-1], name))
        return dict.fromkeys(fns, 1e-3)

    def peak_mb(name, *args):
        seen.append((labels[-1], name))
        return 1.0

    monkeypatch.setattr(runner, "interleaved_medians", medians)
    monkeypatch.setattr(memory, "step_peak_mb", peak_mb)
    run_bench(BenchConfig(smoke=True), labels.append)
    assert {name for _, name in seen} >= {"nn.RNN", "fused", "nn.GRU", "minLSTM fused", "DEER"}
    for label, name in seen:
        if not name.startswith("limit: "):  # the limits take their turn in every case's rounds
            assert name in label, (name, label)
    rounds = [label for label, name in seen if name == "limit: matmul"]
    assert rounds
    assert all(" vs " in label for label in rounds)
    probes = [label for label, _ in seen if label.startswith("peak memory")]
    assert len(probes) == 5  # nn.GRU, minGRU fused, its scan, nn.LSTM, minLSTM fused


def test_settings_check_their_fields_and_quick_is_for_users(cli):
    from rnnlab.bench import BenchConfig
    from rnnlab.config import ConfigError

    with pytest.raises(ConfigError, match=r"threads must be at least 1 .*, got 0"):
        BenchConfig(threads=0)
    with pytest.raises(ConfigError, match="device must be one of auto, cpu, cuda"):
        BenchConfig(device="tpu")
    assert BenchConfig.quick() == BenchConfig(shapes="quick")
    r = cli("bench", "--help")
    assert r.code == 0
    help_text = " ".join(r.out.split())
    assert "--quick only the shapes behind the headline numbers" in help_text
    assert "for tests" not in help_text
    assert "--smoke" not in help_text  # the test suite's switch stays out of the help


def test_step_memory_is_the_stored_states_for_mingru_and_much_more_for_nn_gru():
    """minGRU's fused layer keeps x and h only: a step's peak is about h (B·T·H floats), where
    nn.GRU keeps its gates for every step as well."""
    from rnnlab.bench.memory import step_peak_mb

    B, T, H, I = 16, 2048, 128, 1
    h_mb = B * T * H * 4 / 2**20  # 16 MB
    mingru = step_peak_mb("minGRU fused", B, T, H, I, seed=0, threads=1)
    gru = step_peak_mb("nn.GRU", B, T, H, I, seed=0, threads=1)
    assert 0.9 * h_mb <= mingru <= 3 * h_mb, mingru
    assert gru > 4 * mingru, (gru, mingru)


def test_memory_probe_failure_is_reported():
    from rnnlab.bench.memory import step_peak_mb

    with pytest.raises(RuntimeError, match="memory probe of no such impl failed: KeyError"):
        step_peak_mb("no such impl", 2, 8, 4, 1, seed=0, threads=1)


def test_plot_is_a_png(smoke_json):
    _, plot = smoke_json
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_threads_is_a_user_error(cli, user_error):
    user_error(cli("bench", "--threads", "0"), "--threads")


@pytest.mark.skipif(torch_cuda(), reason="there is a GPU here: --device cuda would run")
def test_device_cuda_without_a_gpu_is_a_user_error(cli, user_error):
    user_error(cli("bench", "--device", "cuda"), "--device: cuda was asked for", "no CUDA GPU")


def test_bad_device_is_a_user_error(cli, user_error):
    user_error(cli("bench", "--device", "tpu"), "--device")


def test_floor_counts_h_written_and_h_and_its_gradient_read():
    from rnnlab.bench.gpu import floor_bytes

    assert floor_bytes(64, 4096, 128, 1, 4) == 3 * 64 * 4096 * 128 * 4 + 2 * 64 * 4096 * 4


@pytest.mark.skipif(torch_cuda(), reason="on a GPU the real GPU bench runs instead")
@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")
def test_gpu_bench_runs_end_to_end_on_the_cpu_under_the_interpreter(monkeypatch, tmp_path, capsys):
    """The GPU bench's code, every case and the JSON, on CPU tensors (Triton interpreted), so that
    the one run on a real GPU does not fail on plumbing; no time is asserted."""
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    from triton.runtime.interpreter import InterpretedFunction

    import rnnlab.kernels.triton_minimal as TM
    from rnnlab.bench import BenchConfig
    from rnnlab.bench.gpu import GATED, run_gpu_bench
    from rnnlab.bench.plot import plot_time_vs_t

    if not isinstance(TM._local, InterpretedFunction):
        pytest.skip("the Triton kernels were imported compiled in this process")
    result = run_gpu_bench(BenchConfig(shapes="quick", smoke=True, device="cpu"))
    assert result.errors == []
    data = json.loads(json.dumps(result.to_dict()))
    gated = [c for c in data["cases"] if c["group"] == "gated float32"]
    assert {c["impl"] for c in gated} == set(GATED)
    assert {c["T"] for c in gated} == {16, 40}
    for c in gated:
        assert c["extra"]["x_floor"] == pytest.approx(c["seconds"] / c["extra"]["floor_seconds"])
    assert data["limits"]["copy_GBps"] > 0
    assert set(data["headline"]) == {
        "mingru_triton_vs_cudnn_gru_t4096",
        "mingru_triton_x_floor_t4096",
        "mingru_triton_vs_scan_t4096",
    }
    deer = {c["impl"] for c in data["cases"] if c["group"] == "deer"}
    assert deer == {"sequential (cuDNN)", "sequential (step loop)", "DEER", "quasi-DEER"}
    assert plot_time_vs_t(result.cases, tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    from rnnlab.commands.bench import _print_gpu

    _print_gpu(result, tmp_path / "p.png")
    out = capsys.readouterr().out
    assert "minGRU triton" in out
    assert "Headline" in out
    assert "failed" not in out
    assert "target" not in out  # measurements, not our goals
    assert "NOT met" not in out


def test_a_fraction_above_one_is_a_measurement_problem_not_a_fraction(monkeypatch, capsys):
    """A fake timer: every case takes 1 ms, but the matmul probe 10 s, so the peak measured in
    the same rounds is far below what the cases reach. No case prints a fraction above 100%:
    each is flagged, in the JSON and in the table."""
    import re

    import rnnlab.bench.memory as memory
    import rnnlab.bench.runner as runner
    from rnnlab.bench import BenchConfig, run_bench
    from rnnlab.commands.bench import _print

    def medians(fns, repeats, warmup=1):
        for fn in fns.values():
            fn()  # DEER's cases keep what their run found
        return {name: 10.0 if name == "limit: matmul" else 1e-3 for name in fns}

    monkeypatch.setattr(runner, "interleaved_medians", medians)
    monkeypatch.setattr(memory, "step_peak_mb", lambda *args: 1.0)
    result = run_bench(BenchConfig(smoke=True, shapes="quick"))
    rnn = [c for c in result.cases if c.group == "rnn"]
    for c in rnn:
        assert c.fraction_of_peak is None
        assert c.fraction_of_bound is None
        assert "measurement problem" in c.bounds["FLOP"]["problem"]
    assert len(result.problems) >= len(rnn)
    assert result.headline["rnn_fraction_of_peak_h256"] is None
    _print(result, "p.png")
    out = capsys.readouterr().out
    assert "Measurement problem: nn.RNN" in out
    assert " error " in out  # in the "of peak" column
    percents = [int(p) for p in re.findall(r"(\d+)%", out)]
    assert all(p <= 100 for p in percents), percents


def test_roofline_counts_by_hand_for_one_small_shape():
    from rnnlab.bench import roofline as R

    B, T, H, I = 2, 3, 4, 1
    # h written 2·3·4 floats, h read back, dL/dh read: 3 × 96 bytes; x read twice: 2 × 24
    assert R.minimal_bytes(B, T, H, I) == 3 * 96 + 2 * 24 == 336
    # minGRU: σ(k_z) and σ(k_h) forward, both again backward; minLSTM: σ(k_f), σ(k_i), σ(k_h)
    assert R.minimal_sigmoids("minGRU fused", B, T, H) == 4 * 24
    assert R.minimal_sigmoids("minLSTM fused", B, T, H) == 6 * 24
    assert R.rnn_flops(B, T, H, I) == 6 * 2 * 3 * 4 * 5
    assert R.gated_flops("nn.GRU", B, T, H, I) == 3 * R.rnn_flops(B, T, H, I)
    assert R.gated_flops("nn.LSTM", B, T, H, I) == 4 * R.rnn_flops(B, T, H, I)
    # per block forward: 2·B·T·H²·(4 + 2·2) = 1536 (projections, MLP) + 2·B·T²·H = 144
    # (causal half of Q·Kᵀ and A·V); 2 blocks, ×3 for forward + backward
    assert R.attention_flops(B, T, H) == 3 * 2 * (1536 + 144) == 10080
    b = R.bound(work=100, rate=50, measured_seconds=4)  # least time 2 s of 4 s measured
    assert (b.seconds, b.fraction, b.problem) == (2, 0.5, None)
    over = R.bound(work=100, rate=50, measured_seconds=1)  # 2 s of work done in 1 s
    assert over.fraction is None
    assert "measurement problem" in over.problem
    bounds = {"bytes": R.bound(10, 10, 4), "σ": R.bound(30, 10, 4)}
    assert R.tighter(bounds) == "σ"
    assert R.tighter({}) is None


def test_limit_probes_measure_finite_positive_rates():
    """The probes on small sizes: each does its work and reports a finite positive rate (no
    speed is asserted)."""
    import math

    from rnnlab.bench.limits import probes, rates

    found = probes(smoke=True, kinds=("matmul", "triad", "transcendental"))
    assert set(found) == {f"limit: {k}" for k in ("matmul", "triad", "sigmoid", "tanh", "exp")}
    assert found["limit: triad"].work == 3 * 4 * 2**20 // 4 * 1  # 3 arrays × 4 bytes × values
    sec = interleaved_medians({k: p.fn for k, p in found.items()}, repeats=2)
    for kind, rate in rates(found, sec).items():
        assert 0 < rate < math.inf, kind


def test_triad_and_sigmoid_probes_compute_what_they_say():
    import numpy as np

    from rnnlab.bench.limits import _sigmoid_sweep, _triad

    a, b, c = np.zeros(37, np.float32), np.ones(37, np.float32), np.arange(37, dtype=np.float32)
    _triad(a, b, c, np.float32(3))
    np.testing.assert_allclose(a, 1 + 3 * c)
    x = np.linspace(-6, 6, 64).astype(np.float32)
    out = np.zeros_like(x)
    _sigmoid_sweep(x, out, 3)
    np.testing.assert_allclose(out, 3 / (1 + np.exp(-x.astype(np.float64))), atol=2e-6)
