"""The bench cases, run side by side: our kernels against torch's, sequential against parallel.

A training step is forward + backward of Σ h (B, T, H) with fresh gradients. FLOP counts:
    vanilla RNN    6·B·T·H·(H + I)       (forward 2·B·T·H·(H + I), backward twice that)
    GRU            6·B·T·3H·(H + I)      (three gates)
    minGRU         6·B·T·2H·I            (only the input projection is a matmul; the rest is
                                          elementwise: the gates' σ, the recurrence)
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from rnnlab.bench.timing import interleaved_medians, matmul_peak
from rnnlab.settings.bench import BenchConfig

HEADLINE_RNN = [(64, 50), (64, 200), (128, 50), (128, 200)]  # (H, T) at B = 64, I = 1


@dataclass
class Case:
    """One implementation on one shape."""

    group: str  # rnn | gru | deer
    impl: str  # e.g. nn.RNN, fused
    B: int
    T: int
    H: int
    I: int
    seconds: float  # median of the repeats after warm-up
    gflops: float | None = None  # by the group's FLOP count
    fraction_of_peak: float | None = None
    ratio: float | None = None  # baseline seconds / these seconds (> 1: faster than torch)
    extra: dict = field(default_factory=dict)


@dataclass
class BenchResult:
    """Everything one run measured."""

    conditions: dict
    peak_gflops: float
    cases: list[Case]
    headline: dict
    deer: dict

    def to_dict(self) -> dict:
        return {
            "conditions": self.conditions,
            "peak_gflops": self.peak_gflops,
            "cases": [asdict(c) for c in self.cases],
            "headline": self.headline,
            "deer": self.deer,
        }


def _training_step(module, x) -> Callable[[], None]:
    """One forward + backward of Σ h through ``module`` (a cell or an nn.RNN/GRU/LSTM)."""

    def step() -> None:
        for p in module.parameters():
            p.grad = None
        out = module(x)[0]
        out.sum().backward()

    return step


def _pair(group, base_name, base, ours_name, ours, B, T, H, I, flops, peak, repeats) -> list[Case]:
    """Time the baseline and ours interleaved; ratio = baseline / ours."""
    sec = interleaved_medians({base_name: base, ours_name: ours}, repeats)
    cases = []
    for name in (base_name, ours_name):
        gf = flops / sec[name] / 1e9
        cases.append(
            Case(group, name, B, T, H, I, sec[name], gf, gf / peak, sec[base_name] / sec[name])
        )
    return cases


def rnn_cases(cfg: BenchConfig, peak: float, progress: Callable[[str], None]) -> list[Case]:
    """nn.RNN against our fused cell (the ``rnn`` cell's CPU path), B = 64, I = 1;
    ``progress`` hears each case's name before it runs."""
    import torch

    from rnnlab.cells import make_cell

    shapes = [*HEADLINE_RNN, (256, 200)]
    if not cfg.is_quick:
        shapes += [(h, t) for h in (64, 128) for t in (25, 100, 400)] + [(256, 50)]
    out = []
    for n, (H, T) in enumerate(shapes, 1):
        (B, T), I = cfg.shape(64, T), 1
        progress(f"nn.RNN vs fused, H={H}, T={T} ({n}/{len(shapes)})")
        torch.manual_seed(cfg.seed)
        x = torch.randn(B, T, I)
        ref = torch.nn.RNN(I, H, batch_first=True)
        ours = make_cell("rnn", I, H)
        repeats = 7 if T * H <= 200 * 128 else 5
        out += _pair("rnn", "nn.RNN", _training_step(ref, x), "fused", _training_step(ours, x),
                     B, T, H, I, 6 * B * T * H * (H + I), peak, repeats)  # fmt: skip
    return out


def gated_cases(cfg: BenchConfig, peak: float, progress: Callable[[str], None]) -> list[Case]:
    """nn.GRU against minGRU (fused kernel; and the log-space scan in the full run), B = 64,
    H = 128, I = 1; in the full run also nn.LSTM against minLSTM. At T = 4096 each one's peak
    memory for a training step too, each in a process of its own (:mod:`rnnlab.bench.memory`)."""
    import torch

    from rnnlab.bench.memory import gated_module, step_peak_mb

    H, I = 128, 1
    Ts = [4096] if cfg.is_quick else [256, 1024, 4096]
    out = []
    for T in Ts:
        B, T = cfg.shape(64, T)
        torch.manual_seed(cfg.seed)
        x = torch.randn(B, T, I)
        names = ["nn.GRU", "minGRU fused"]
        if not cfg.is_quick and T <= 1024:
            names.append("minGRU log-space scan")
        progress(f"{' vs '.join(names)}, T={T}")
        sec = interleaved_medians(
            {n: _training_step(gated_module(n, I, H), x) for n in names}, repeats=3
        )
        headline_T = cfg.shape(64, 4096)[1] == T
        if not cfg.is_quick and headline_T:  # its own round: GRU timed as in quick
            lstm = ["nn.LSTM", "minLSTM fused"]
            progress(f"{' vs '.join(lstm)}, T={T}")
            sec |= interleaved_medians(
                {n: _training_step(gated_module(n, I, H), x) for n in lstm}, repeats=3
            )
        for name, s in sec.items():
            lstm = "LSTM" in name
            if name.startswith("nn."):  # 3 or 4 gate blocks of H·(H + I) each
                flops = 6 * B * T * (4 if lstm else 3) * H * (H + I)
            else:  # minGRU, minLSTM: only the 2 or 3 input projections are matmuls
                flops = 6 * B * T * (3 if lstm else 2) * H * I
            base = sec["nn.LSTM"] if lstm else sec["nn.GRU"]
            gf = flops / s / 1e9
            extra = {}
            if headline_T:
                progress(f"peak memory of one {name} training step, T={T}")
                extra["step_peak_mb"] = step_peak_mb(name, B, T, H, I, cfg.seed, cfg.threads)
            out.append(Case("gated", name, B, T, H, I, s, gf, gf / peak, base / s, extra))
    return out


def deer_cases(cfg: BenchConfig, progress: Callable[[str], None]) -> tuple[list[Case], dict]:
    """The tanh RNN's forward evaluation: sequential (fused kernel) against DEER and quasi-DEER
    (parallel scans), with iterations and sequential depth; the crossover in T if any."""
    import torch

    from rnnlab.cells import make_cell
    from rnnlab.kernels import deer

    H, I = 16, 1
    Ts = [cfg.shape(16, T)[1] for T in ([64, 256] if cfg.is_quick else [64, 256, 1024, 4096])]
    cases, rows = [], []
    for T in Ts:
        B = cfg.shape(16, T)[0]
        torch.manual_seed(cfg.seed)
        cell = make_cell("rnn", I, H)
        with torch.no_grad():
            cell.wh.mul_(0.5)  # a contracting recurrence, as trained RNNs mostly are
        x = torch.randn(B, T, I)
        runs = {}

        def run(quasi, runs=runs, x=x, cell=cell):
            runs[quasi] = deer(x, None, cell.wx, cell.wh, cell.b, quasi=quasi, tol=1e-6)

        fns = {
            "sequential (fused)": lambda x=x, cell=cell: cell(x),
            "DEER": lambda: run(False),
            "quasi-DEER": lambda: run(True),
        }
        progress(f"{' vs '.join(fns)}, T={T}")
        with torch.no_grad():
            sec = interleaved_medians(fns, repeats=3)
            ref, _ = cell.loop(x)
        for name, s in sec.items():
            extra = {}
            if name != "sequential (fused)":
                res = runs[name == "quasi-DEER"]
                extra = {
                    "iterations": res.iterations,
                    "depth": res.depth,
                    "max_error": float((res.h - ref).abs().max()),
                }
            ratio = sec["sequential (fused)"] / s
            cases.append(Case("deer", name, B, T, H, I, s, None, None, ratio, extra))
        rows.append((T, sec))
    B = cfg.shape(16, 0)[0]
    cross = {}
    for name in ("DEER", "quasi-DEER"):
        faster = [T for T, sec in rows if sec[name] < sec["sequential (fused)"]]
        cross[name] = faster[0] if faster else None
    summary = {
        "B": B,
        "H": H,
        "crossover_T": cross,
        "note": "crossover_T: the smallest T measured where the parallel-in-time method beat "
        "the sequential loop on this CPU; null: it never did up to T = " + str(Ts[-1]),
        "sequential_depth": {str(T): T for T in Ts},
        "log2_T": {str(T): math.ceil(math.log2(T)) for T in Ts},
    }
    return cases, summary


def _conditions(cfg: BenchConfig) -> dict:
    import numba
    import torch

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "torch_threads": torch.get_num_threads(),
        "numba": f"{numba.__version__}, minGRU/minLSTM kernels on {torch.get_num_threads()} "
        "thread(s) (batch split), the RNN kernel on one (its GEMMs on MKL's)",
        "torch": torch.__version__,
        "cpu": model,
        "cpu_count": os.cpu_count(),
        "load_average_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "quick": cfg.is_quick,
        "smoke": cfg.smoke,
        "seed": cfg.seed,
    }


def run_bench(cfg: BenchConfig, progress: Callable[[str], None] = lambda msg: None) -> BenchResult:
    """Measure the peak, then every case, all in this one process and run; ``progress``
    hears what is about to run (the case's name) before it runs."""
    import torch

    from rnnlab.allocator import keep_freed_memory

    torch.set_num_threads(cfg.threads)
    kept = keep_freed_memory()  # as every training command does (set_threads)
    conditions = _conditions(cfg)
    conditions["allocator"] = (
        "glibc malloc, freed blocks kept (mallopt)" if kept else "the system's, untuned"
    )
    progress("matmul peak")
    peak = matmul_peak()
    cases = rnn_cases(cfg, peak, progress)
    cases += gated_cases(cfg, peak, progress)
    deer_list, deer_summary = deer_cases(cfg, progress)
    cases += deer_list
    conditions["load_average_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    def find(group, impl, H, T):
        T = cfg.shape(64, T)[1]
        return next(c for c in cases if (c.group, c.impl, c.H, c.T) == (group, impl, H, T))

    headline = {
        "rnn_fused_vs_nn_rnn": min(find("rnn", "fused", H, T).ratio for H, T in HEADLINE_RNN),
        "rnn_fraction_of_peak_h256": find("rnn", "fused", 256, 200).fraction_of_peak,
        "mingru_fused_vs_nn_gru_t4096": find("gated", "minGRU fused", 128, 4096).ratio,
    }
    return BenchResult(conditions, peak, cases, headline, deer_summary)
