"""`rnnlab bench`: the timing helper, the JSON contract, the plot and bad options.

No speed is asserted here (speed claims live in the bench's own output); ``--smoke`` runs the
whole harness on tiny shapes to check the plumbing.
"""

from __future__ import annotations

import json

import pytest

from rnnlab.bench.timing import interleaved_medians


def test_interleaved_medians_alternates_and_counts_calls():
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    sec = interleaved_medians(fns, repeats=3, warmup=2)
    assert calls == ["a", "a", "b", "b"] + ["a", "b"] * 3  # warm-ups, then rounds in turn
    assert set(sec) == {"a", "b"}
    assert all(s >= 0 for s in sec.values())


@pytest.fixture(scope="module")
def smoke_json(tmp_path_factory):
    from conftest import _run_cli

    plot = tmp_path_factory.mktemp("bench") / "plot.png"
    r = _run_cli("bench", "--smoke", "--quick", "--json", "--plot", str(plot))
    assert r.code == 0, r.err
    return json.loads(r.out), plot


def test_json_contract(smoke_json):
    data, plot = smoke_json
    assert set(data["headline"]) == {
        "rnn_fused_vs_nn_rnn",
        "rnn_fraction_of_peak_h256",
        "mingru_fused_vs_nn_gru_t4096",
        "targets",
    }
    assert data["conditions"]["torch_threads"] == 1
    assert data["conditions"]["smoke"] is True
    assert data["peak_gflops"] > 0
    cases = data["cases"]
    rnn = [c for c in cases if c["group"] == "rnn"]
    assert {c["impl"] for c in rnn} == {"nn.RNN", "fused"}
    for c in rnn:
        assert c["fraction_of_peak"] == pytest.approx(c["gflops"] / data["peak_gflops"])
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
