"""``rnnlab bench``: our kernels against torch's, side by side in one run, on this machine."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from rnnlab.commands.common import (
    add_json_option,
    fmt,
    make_console,
    output_file,
    print_json,
    user_text,
)
from rnnlab.config import add_options, add_quick_option, from_args
from rnnlab.settings.bench import BenchConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command: its options are :class:`BenchConfig`'s fields."""
    p = sub.add_parser(
        "bench",
        help="speed: fused kernels vs nn.RNN/nn.GRU, sequential vs parallel in time",
        description=(
            "Time training steps of nn.RNN against the fused RNN kernel, nn.GRU against "
            "minGRU, and the tanh RNN's sequential evaluation against DEER and quasi-DEER, all "
            "in one run (medians of interleaved repeats), and a causal Transformer's against "
            "both at T = 256 and 1024, with this machine's limits measured "
            "in the same rounds (fp32 matmul peak, memory bandwidth, σ/tanh/exp throughput) "
            "and each case as a fraction of the limit that bounds it; at T = 4096 also each "
            "gated layer's peak memory for a training step. One thread by default."
        ),
    )
    add_options(p, BenchConfig, quick=BenchConfig.quick())
    add_quick_option(p, BenchConfig)
    add_json_option(p)
    p.set_defaults(run=run, settings=BenchConfig)  # settings: a field error names its flag


def run(args: argparse.Namespace) -> int:
    """Run the bench; print the table (or one JSON object) and write the plot."""
    config = from_args(BenchConfig, args, quick=args.quick)
    output_file(config.plot, "--plot")
    from rnnlab.devices import resolve_device

    config = replace(config, device=resolve_device(config.device).type)
    if config.device == "cuda":
        return run_gpu(config, args.json)
    from rich.progress import Progress

    from rnnlab.atomic import write_errors
    from rnnlab.bench import run_bench
    from rnnlab.bench.plot import plot_time_vs_t

    console = make_console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("bench", total=None)
        result = run_bench(config, lambda msg: bar.update(task, description=f"bench: {msg}"))
    with write_errors("--plot", "the plot", config.plot):
        plot = plot_time_vs_t(result.cases, config.plot)
    data = result.to_dict() | {"plot": str(plot)}
    if args.json:
        print_json(data)
        return 0
    _print(result, plot)
    return 0


def run_gpu(config: BenchConfig, json: bool) -> int:
    """The GPU bench: progress lines on stderr, then the table (or one JSON object)."""
    import sys

    from rnnlab.atomic import write_errors
    from rnnlab.bench.gpu import run_gpu_bench
    from rnnlab.bench.plot import plot_time_vs_t

    result = run_gpu_bench(config, lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
    with write_errors("--plot", "the plot", config.plot):
        plot = plot_time_vs_t(result.cases, config.plot)
    data = result.to_dict() | {"plot": str(plot)}
    if json:
        print_json(data)
        return 0
    _print_gpu(result, plot)
    return 0


def _table(columns: tuple[str, ...]):
    """A rich table in the compact style of every rnnlab table: the first column (the names)
    left-aligned, the numbers right-aligned, no cell ever cut. Its title is printed as a line
    of its own above it (a line wraps at the terminal's width, not at the table's)."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for i, col in enumerate(columns):
        table.add_column(col, justify="right" if i else "left", no_wrap=True)
    return table


def _num(value, spec: str) -> str:
    """``value`` formatted, or – when it was not measured."""
    return "–" if value is None else format(value, spec)


def _print_gpu(result, plot: Path) -> None:
    """The GPU bench's conditions, limits and tables: per dtype one of times and one of
    memory (each fits 80 columns), DEER, the headline numbers, any failures."""
    con = make_console()
    c, lim = result.conditions, result.limits
    con.print(
        f"Conditions: {c['gpu']} ({c['sm_count']} SMs, {fmt(c['gpu_memory_GB'], 3)} GB), torch "
        f"{c['torch']}, CUDA {c['cuda']}, cuDNN {c['cudnn']}, triton {c['triton']}; {c['timing']}"
    )
    bw = lim.get("copy_GBps")
    mm = ", ".join(f"{k} {v:.1f} TFLOP/s" for k, v in lim.get("matmul_TFLOPs", {}).items())
    con.print(f"Limits measured now: copy bandwidth {fmt(bw, 4)} GB/s; matmul {mm or '–'}")
    con.print(f"Memory-traffic floor of a minGRU/minLSTM step: {result.floor['bytes']}")
    gated = [k for k in result.cases if k.group != "deer"]
    for n, dtype in enumerate(dict.fromkeys(k.extra["dtype"] for k in gated)):
        rows = [k for k in gated if k.extra["dtype"] == dtype]
        B, H, I = rows[0].B, rows[0].H, rows[0].I
        shape = f"{dtype}, B={B}, H={H}, I={I}"
        times = _table(("impl", "T", "ms", "host ms", "× cuDNN", "× scan"))
        memory = _table(("impl", "T", "peak MB", "floor ms", "× floor"))
        for k in rows:
            e = k.extra
            host, floor = e.get("host_seconds"), e.get("floor_seconds")
            times.add_row(k.impl, str(k.T), f"{k.seconds * 1e3:.3f}",
                          _num(None if host is None else host * 1e3, ".3f"),
                          _num(k.ratio, ".2f"), _num(e.get("vs_scan"), ".2f"))  # fmt: skip
            memory.add_row(k.impl, str(k.T), _num(e.get("step_peak_MB"), ".0f"),
                           _num(None if floor is None else floor * 1e3, ".3f"),
                           _num(e.get("x_floor"), ".2f"))  # fmt: skip
        con.print(f"[bold]Training step[/] (forward + backward of Σh), {shape}: median ms")
        con.print(times)
        if n == 0:  # said once
            con.print("host ms: the CPU time to issue one step; where ms is close to it, the "
                      "step is bound by the host (launches, autograd), not by the GPU")  # fmt: skip
        con.print(f"[bold]Peak memory and memory-traffic floor[/] of a training step, {shape}")
        con.print(memory)
    deer_cases = [k for k in result.cases if k.group == "deer"]
    if deer_cases:
        d = result.deer
        con.print(
            f"[bold]tanh RNN forward[/], B={d['B']}, H={d['H']}: sequential against parallel "
            "in time"
        )
        deer = _table(("impl", "T", "ms", "iterations", "max error", "× cuDNN"))
        for k in deer_cases:
            e = k.extra
            deer.add_row(k.impl, str(k.T), f"{k.seconds * 1e3:.2f}", str(e.get("iterations", "")),
                         _num(e.get("max_error"), ".1e"), f"{k.ratio:.3f}")  # fmt: skip
        con.print(deer)
    for name, T in result.deer["crossover_T"].items():
        con.print(f"{name}: " + (f"faster from T = {T}" if T else "faster at no T measured"))
    con.print("Headline (T = 4096, float32):")
    for key, value in result.headline.items():
        con.print(f"  {key} = {_num(value, '.2f')}")
    for err in result.errors:
        con.print(f"failed: {user_text(err, None)}")
    con.print(f"Plot: {user_text(plot, None)}")


def _pct(fraction) -> str:
    """A fraction of a bound as a percentage; – where there is no such bound (the reason
    for a measurement problem is printed below the tables)."""
    return "–" if fraction is None else f"{fraction:.0%}"


def _of(case, kind: str) -> str:
    """The case's fraction of one bound: a percentage, "error" (above 1: a measurement
    problem, described below the tables), or –."""
    b = case.bounds.get(kind)
    if b is None:
        return "–"
    return "error" if b["problem"] else f"{b['fraction']:.0%}"


def _rate(lim: dict, kind: str, scale: float, spec: str) -> str:
    """A limit's range over the rounds, e.g. 98.2–101.1 (one figure when they agree)."""
    if kind not in lim:
        return "–"
    lo, hi = (format(lim[kind][k] / scale, spec) for k in ("lowest", "highest"))
    return lo if lo == hi else f"{lo}–{hi}"


def _print_limits(con, result, on: str) -> None:
    """The limits measured in the cases' rounds, each as its range over the rounds."""
    lim = result.limits
    con.print(
        f"Limits, measured in the same rounds as the cases (lowest–highest): fp32 matmul "
        f"{_rate(lim, 'matmul', 1e9, '.1f')} GFLOP/s on {on}; memory bandwidth "
        f"{_rate(lim, 'triad', 1e9, '.1f')} GB/s (triad a = b + s·c, 3 × "
        f"{result.conditions.get('triad_mib', 256)} MiB, one "
        f"thread); float32 σ {_rate(lim, 'sigmoid', 1e9, '.2f')}, tanh "
        f"{_rate(lim, 'tanh', 1e9, '.2f')}, exp {_rate(lim, 'exp', 1e9, '.2f')} G values/s "
        "(numba, one thread)"
    )


def _print_attention(con, cases) -> None:
    """The attention group: the Transformer beside nn.GRU and minGRU, with parameter counts."""
    from rnnlab.bench import roofline as R

    if not cases:
        return
    a = cases[0]
    Ts = " and ".join(str(t) for t in dict.fromkeys(k.T for k in cases))
    con.print(
        f"[bold]Attention vs recurrence[/]: training step (forward + backward), B={a.B}, "
        f"H={a.H}, I={a.I}, T = {Ts} (not 4096: one causal-attention step takes about 45 s "
        "there on one core): median ms and the fraction reached of the tighter bound"
    )
    table = _table(("impl", "T", "params", "ms", "× nn.GRU", "GFLOP", "bound", "of it"))
    for k in cases:
        flop = k.bounds.get(R.FLOP)
        gflop = None if flop is None else flop["work"] / 1e9
        table.add_row(k.impl, str(k.T), str(k.extra.get("params", "–")),
                      f"{k.seconds * 1e3:.2f}", f"{k.ratio:.2f}", _num(gflop, ".2f"),
                      k.bound or "–", _of(k, k.bound) if k.bound else "–")  # fmt: skip
    con.print(table)
    con.print(
        f"transformer: 4 heads; GFLOP {R.ATTENTION_NOTE}, forward + backward, matmuls only; "
        "nn.GRU: 6·B·T·3·H·(H + I); minGRU fused: bounded by bytes and σ as above"
    )


def _print(result, plot: Path) -> None:
    """The CPU bench's conditions, limits and tables, one per group (the shapes a group keeps
    fixed in its title, so each fits 80 columns), the headline and the plot's path."""
    from rnnlab.bench import roofline as R

    con = make_console()
    c = result.conditions
    start, end = fmt(c["load_average_start"], 3), fmt(c["load_average_end"], 3)
    load = f"{start} at the start, {end} at the end"
    con.print(
        f"Conditions: {c['cpu']} ({c['cpu_count']} cores, shared), torch {c['torch']} with "
        f"{c['torch_threads']} thread(s), numba {c['numba']}; allocator: {c['allocator']}; "
        f"load average {load}"
    )
    on = "one thread" if c["torch_threads"] == 1 else f"{c['torch_threads']} threads"
    _print_limits(con, result, on)
    rnn = [k for k in result.cases if k.group == "rnn"]
    if rnn:
        con.print(
            f"[bold]Vanilla RNN training step[/] (forward + backward), B={rnn[0].B}, "
            f"I={rnn[0].I}: median ms; GFLOP per step 6·B·T·H·(H + I)"
        )
        table = _table(("impl", "H", "T", "ms", "GFLOP", "GFLOP/s", "of peak", "× nn.RNN"))
        for k in rnn:
            work = k.bounds[R.FLOP]["work"] / 1e9
            table.add_row(k.impl, str(k.H), str(k.T), f"{k.seconds * 1e3:.2f}", f"{work:.3f}",
                          f"{k.gflops:.1f}", _of(k, R.FLOP), f"{k.ratio:.2f}")  # fmt: skip
        con.print(table)
        con.print("of peak: of the matmul peak measured in the same rounds")
    gated = [k for k in result.cases if k.group == "gated"]
    if gated:
        g = gated[0]
        shape = f"B={g.B}, H={g.H}, I={g.I}"
        con.print(
            f"[bold]Gated training step[/] (forward + backward), {shape}: median ms and the "
            "fraction reached of each bound (FLOP, bytes, σ)"
        )
        table = _table(("impl", "T", "ms", "× torch", "FLOP", "bytes", "σ"))
        for k in gated:
            table.add_row(k.impl, str(k.T), f"{k.seconds * 1e3:.2f}", f"{k.ratio:.2f}",
                          _of(k, R.FLOP), _of(k, R.BYTES), _of(k, R.SIGMA))  # fmt: skip
        con.print(table)
        con.print("× torch: nn.GRU's (nn.LSTM's) time ÷ this one's; above 1, this one is faster")
        con.print(
            "FLOP, bytes, σ: the least time of the step's work at the limit measured in the "
            "same rounds (matmul peak, bandwidth, σ rate) ÷ the time measured"
        )
        con.print(f"[bold]Work per training step[/], {shape}")
        work = _table(("impl", "T", "GFLOP", "MB", "M σ", "bound"))
        for k in gated:
            b = k.bounds
            gf, mb, ms = (b[n]["work"] if n in b else None for n in (R.FLOP, R.BYTES, R.SIGMA))
            work.add_row(k.impl, str(k.T), _num(None if gf is None else gf / 1e9, ".2f"),
                         _num(None if mb is None else mb / 1e6, ".0f"),
                         _num(None if ms is None else ms / 1e6, ".0f"), k.bound or "–")  # fmt: skip
        con.print(work)
        con.print(f"MB: {R.BYTES_NOTE}, e = 4; M σ: sigmoids, {R.SIGMA_NOTE}; bound: the "
                  "tighter one (the largest least time)")  # fmt: skip
    mem = [k for k in gated if "step_peak_mb" in k.extra]
    if mem:
        m = mem[0]
        con.print(
            f"[bold]Peak memory[/] of one training step (own process), B={m.B}, T={m.T}, H={m.H}"
        )
        mt = _table(("impl", "MB", "× less than torch"))
        base = {k.impl: k.extra["step_peak_mb"] for k in mem if k.impl.startswith("nn.")}
        for k in mem:
            mb = k.extra["step_peak_mb"]
            torch_mb = base["nn.LSTM" if "LSTM" in k.impl else "nn.GRU"]
            mt.add_row(k.impl, f"{mb:.0f}", f"{torch_mb / mb:.1f}" if mb > 0 else "–")
        con.print(mt)
    _print_attention(con, [k for k in result.cases if k.group == "attention"])
    deer = [k for k in result.cases if k.group == "deer"]
    if deer:
        con.print(
            f"[bold]tanh RNN forward[/], B={deer[0].B}, H={deer[0].H}: sequential against "
            "parallel in time (tol 1e-6)"
        )
        table = _table(("impl", "T", "ms", "iterations", "depth", "× seq."))
        for k in deer:
            it, depth = k.extra.get("iterations", 1), k.extra.get("depth", k.T)
            table.add_row(k.impl, str(k.T), f"{k.seconds * 1e3:.2f}", str(it), str(depth),
                          f"{k.ratio:.3f}")  # fmt: skip
        con.print(table)
        con.print("depth: the steps done one after another (the sequential loop's is T)")
        for name, T in result.deer["crossover_T"].items():
            where = f"from T = {T}" if T else f"at no T measured (up to {max(k.T for k in deer)})"
            con.print(f"{name} beats the sequential loop on this CPU {where}.")
    for problem in result.problems:
        con.print(f"Measurement problem: {problem}")
    h = result.headline
    con.print("Headline:")
    con.print(
        f"  fused RNN: {h['rnn_fused_vs_nn_rnn']:.2f}× nn.RNN (the least at H = 64, 128; "
        f"T = 50, 200); of the matmul peak: {_pct(h['rnn_fraction_of_peak_h64'])} at H = 64, "
        f"{_pct(h['rnn_fraction_of_peak_h128'])} at H = 128 (the least over T), "
        f"{_pct(h['rnn_fraction_of_peak_h256'])} at H = 256"
    )
    con.print(
        f"  minGRU fused: {h['mingru_fused_vs_nn_gru_t4096']:.2f}× nn.GRU at T = 4096; "
        f"{_pct(h['mingru_fused_fraction_of_bandwidth_bound_t4096'])} of the bandwidth "
        f"bound, {_pct(h['mingru_fused_fraction_of_transcendental_bound_t4096'])} of the "
        "transcendental bound"
    )
    con.print(f"Plot: {user_text(plot, None)}")
