"""``rnnlab bench``: our kernels against torch's, side by side in one run, on this machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnlab.commands.common import (
    add_json_option,
    add_quick_option,
    add_seed_option,
    fmt,
    make_console,
    output_file,
    print_json,
    threads,
    user_text,
)
from rnnlab.errors import RnnlabError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command."""
    p = sub.add_parser(
        "bench",
        help="speed: fused kernels vs nn.RNN/nn.GRU, sequential vs parallel in time",
        description=(
            "Measure this machine's fp32 matmul peak, then training steps of nn.RNN against "
            "the fused RNN kernel, nn.GRU against minGRU, and the tanh RNN's sequential "
            "evaluation against DEER and quasi-DEER, all in one run (medians of interleaved "
            "repeats); at T = 4096 also each gated layer's peak memory for a training step. "
            "One thread by default."
        ),
    )
    p.add_argument("--threads", type=threads, default=1, help="torch/MKL threads (default 1)")
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="auto: the GPU when there is one (default); cuda: the GPU bench (cuDNN against "
        "the Triton minGRU/minLSTM kernel and the scan, DEER, in absolute times against the "
        "GPU's measured bandwidth and matmul rate)",
    )
    p.add_argument(
        "--plot",
        type=Path,
        default=Path("runs/bench/time_vs_T.png"),
        help="where to write the PNG of time against T (default runs/bench/time_vs_T.png)",
    )
    p.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # tiny, for tests
    add_quick_option(p)
    add_seed_option(p)
    add_json_option(p)
    p.set_defaults(run=run)


def resolve_device(name: str) -> str:
    """``cpu`` or ``cuda`` for ``--device``: auto takes the GPU when torch sees one."""
    if name == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if name == "cuda":
        raise RnnlabError(
            f"--device cuda: no CUDA GPU is available (torch {torch.__version__}"
            + (", a CPU-only build)" if torch.version.cuda is None else ")")
        )
    return "cpu"


def run(args: argparse.Namespace) -> int:
    """Run the bench; print the table (or one JSON object) and write the plot."""
    output_file(args.plot, "--plot")
    if resolve_device(args.device) == "cuda":
        return run_gpu(args)
    from rich.progress import Progress

    from rnnlab.atomic import write_errors
    from rnnlab.bench import BenchConfig, run_bench
    from rnnlab.bench.plot import plot_time_vs_t

    cfg = BenchConfig(quick=args.quick, threads=args.threads, seed=args.seed, smoke=args.smoke)
    console = make_console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("bench", total=None)
        result = run_bench(cfg, lambda msg: bar.update(task, description=f"bench: {msg}"))
    with write_errors("--plot", "the plot", args.plot):
        plot = plot_time_vs_t(result.cases, args.plot)
    data = result.to_dict() | {"plot": str(plot)}
    if args.json:
        print_json(data)
        return 0
    _print(result, plot)
    return 0


def run_gpu(args: argparse.Namespace) -> int:
    """The GPU bench: progress lines on stderr, then the table (or one JSON object)."""
    import sys

    from rnnlab.atomic import write_errors
    from rnnlab.bench.gpu import GpuBenchConfig, run_gpu_bench
    from rnnlab.bench.plot import plot_time_vs_t

    cfg = GpuBenchConfig(quick=args.quick, seed=args.seed, smoke=args.smoke)
    result = run_gpu_bench(cfg, lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
    with write_errors("--plot", "the plot", args.plot):
        plot = plot_time_vs_t(result.cases, args.plot)
    data = result.to_dict() | {"plot": str(plot)}
    if args.json:
        print_json(data)
        return 0
    _print_gpu(result, plot)
    return 0


def _print_gpu(result, plot: Path) -> None:
    from rich.table import Table

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
    table = Table(title="Training step (forward + backward of Σh), B=64, H=128, I=1, median")
    cols = ("dtype", "impl", "T", "ms", "host ms", "peak MB", "× floor", "× cuDNN", "× scan")
    for col in cols:
        table.add_column(col, justify="left" if col in ("dtype", "impl") else "right")
    num = lambda v, f: "–" if v is None else format(v, f)  # noqa: E731
    for k in result.cases:
        if k.group == "deer":
            continue
        e = k.extra
        host = e.get("host_seconds")
        table.add_row(e["dtype"], k.impl, str(k.T), f"{k.seconds * 1e3:.3f}",
                      num(None if host is None else host * 1e3, ".3f"),
                      num(e.get("step_peak_MB"), ".0f"), num(e.get("x_floor"), ".2f"),
                      num(k.ratio, ".2f"), num(e.get("vs_scan"), ".2f"))  # fmt: skip
    con.print(table)
    con.print("host ms: the CPU time to issue one step; where ms is close to it, the step is "
              "bound by the host (launches, autograd), not by the GPU")  # fmt: skip
    deer = Table(title="tanh RNN forward (B=16, H=32): sequential against parallel in time")
    for col in ("impl", "T", "ms", "iterations", "max error", "× cuDNN"):
        deer.add_column(col, justify="left" if col == "impl" else "right")
    for k in result.cases:
        if k.group == "deer":
            e = k.extra
            deer.add_row(k.impl, str(k.T), f"{k.seconds * 1e3:.2f}", str(e.get("iterations", "")),
                         num(e.get("max_error"), ".1e"), f"{k.ratio:.3f}")  # fmt: skip
    con.print(deer)
    for name, T in result.deer["crossover_T"].items():
        con.print(f"{name}: " + (f"faster from T = {T}" if T else "faster at no T measured"))
    con.print("Headline (T = 4096, float32):")
    for key, value in result.headline.items():
        if key != "targets":
            con.print(f"  {key} = {value:.2f}")
    for target, ok in result.headline.get("targets", {}).items():
        con.print(f"  {target}: {'met' if ok else 'NOT met'}")
    for err in result.errors:
        con.print(f"failed: {user_text(err, None)}")
    con.print(f"Plot: {user_text(plot, None)}")


def _print(result, plot: Path) -> None:
    from rich.table import Table

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
    con.print(f"fp32 matmul peak on {on}, measured now: {result.peak_gflops:.1f} GFLOP/s")
    table = Table(title="Training step (forward + backward), median seconds")
    for col in ("group", "impl", "B", "T", "H", "I", "ms", "GFLOP/s", "of peak", "× torch"):
        table.add_column(col, justify="left" if col in ("group", "impl") else "right")
    for k in result.cases:
        if k.group == "deer":
            continue
        table.add_row(k.group, k.impl, str(k.B), str(k.T), str(k.H), str(k.I),
                      f"{k.seconds * 1e3:.2f}", f"{k.gflops:.1f}", f"{k.fraction_of_peak:.0%}",
                      f"{k.ratio:.2f}")  # fmt: skip
    con.print(table)
    mem = [k for k in result.cases if "step_peak_mb" in k.extra]
    if mem:
        mt = Table(title="Peak memory of one training step (own process)")
        for col in ("impl", "B", "T", "H", "MB", "÷ torch"):
            mt.add_column(col, justify="left" if col == "impl" else "right")
        base = {k.impl: k.extra["step_peak_mb"] for k in mem if k.impl.startswith("nn.")}
        for k in mem:
            mb = k.extra["step_peak_mb"]
            torch_mb = base["nn.LSTM" if "LSTM" in k.impl else "nn.GRU"]
            ratio = f"{torch_mb / mb:.1f}" if mb > 0 else "–"
            mt.add_row(k.impl, str(k.B), str(k.T), str(k.H), f"{mb:.0f}", ratio)
        con.print(mt)
    deer = Table(title="tanh RNN forward: sequential against parallel in time (tol 1e-6)")
    for col in ("impl", "B", "T", "H", "ms", "iterations", "depth", "depth of loop", "× seq."):
        deer.add_column(col, justify="left" if col == "impl" else "right")
    for k in result.cases:
        if k.group == "deer":
            it, depth = k.extra.get("iterations", 1), k.extra.get("depth", k.T)
            deer.add_row(k.impl, str(k.B), str(k.T), str(k.H), f"{k.seconds * 1e3:.2f}",
                         str(it), str(depth), str(k.T), f"{k.ratio:.3f}")  # fmt: skip
    con.print(deer)
    for name, T in result.deer["crossover_T"].items():
        where = (
            f"from T = {T}"
            if T
            else f"at no T measured (up to {max(k.T for k in result.cases if k.group == 'deer')})"
        )
        con.print(f"{name} beats the sequential loop on this CPU {where}.")
    h = result.headline
    con.print("Headline:")
    con.print(f"  rnn_fused_vs_nn_rnn          = {h['rnn_fused_vs_nn_rnn']:.2f}  (target ≥ 2)")
    con.print(
        f"  rnn_fraction_of_peak_h256    = {h['rnn_fraction_of_peak_h256']:.2f}  (target ≥ 0.5)"
    )
    con.print(
        f"  mingru_fused_vs_nn_gru_t4096 = {h['mingru_fused_vs_nn_gru_t4096']:.2f}  (target ≥ 10)"
    )
    con.print(f"Plot: {user_text(plot, None)}")
