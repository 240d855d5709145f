"""The bench cases, run side by side: our kernels against torch's, sequential against parallel.

A training step is forward + backward of Σ h (B, T, H) with fresh gradients. The machine's
limits (the matmul peak; for the gated cases also the memory bandwidth and the σ/tanh/exp
throughput, :mod:`rnnlab.bench.limits`) take their turn in every case's timing rounds, and
each case is reported as a fraction of the limit that bounds it (:mod:`rnnlab.bench.roofline`,
where the FLOPs, bytes and sigmoids of a step are counted).
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from rnnlab.bench import roofline as R
from rnnlab.bench.timing import interleaved_medians
from rnnlab.settings.bench import BenchConfig

HEADLINE_RNN = [(64, 50), (64, 200), (128, 50), (128, 200)]  # (H, T) at B = 64, I = 1


@dataclass
class Case:
    """One implementation on one shape."""

    group: str  # rnn | gated | attention | deer
    impl: str  # e.g. nn.RNN, fused
    B: int
    T: int
    H: int
    I: int
    seconds: float  # median of the repeats after warm-up
    gflops: float | None = None  # by the group's FLOP count
    fraction_of_peak: float | None = None  # of the matmul peak measured in the same rounds
    ratio: float | None = None  # baseline seconds / these seconds (> 1: faster than torch)
    extra: dict = field(default_factory=dict)
    limits: dict = field(default_factory=dict)  # the rates measured in this case's rounds
    bounds: dict = field(default_factory=dict)  # FLOP | bytes | σ -> roofline.Bound as a dict
    bound: str | None = None  # the tighter bound (the largest least time)
    fraction_of_bound: float | None = None  # None when not bounded, or a measurement problem


@dataclass
class BenchResult:
    """Everything one run measured."""

    conditions: dict
    peak_gflops: float  # the highest matmul rate measured in any case's rounds
    cases: list[Case]
    headline: dict
    deer: dict
    limits: dict = field(default_factory=dict)  # per limit: its lowest and highest rate
    problems: list[str] = field(default_factory=list)  # fractions above 1, by case

    def to_dict(self) -> dict:
        return {
            "conditions": self.conditions,
            "peak_gflops": self.peak_gflops,
            "limits": self.limits,
            "cases": [asdict(c) for c in self.cases],
            "headline": self.headline,
            "deer": self.deer,
            "problems": self.problems,
        }


def _training_step(module, x) -> Callable[[], None]:
    """One forward + backward of Σ h through ``module`` (a cell or an nn.RNN/GRU/LSTM)."""

    def step() -> None:
        for p in module.parameters():
            p.grad = None
        out = module(x)[0]
        out.sum().backward()

    return step


def _timed(fns: dict, probes: dict, repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """The median seconds of each function with the limit probes taking their turn in the
    same rounds; returns (seconds by function, rates by limit kind)."""
    from rnnlab.bench.limits import rates

    sec = interleaved_medians(fns | {k: p.fn for k, p in probes.items()}, repeats)
    return {k: sec[k] for k in fns}, rates(probes, {k: sec[k] for k in probes})


def _set_bounds(case: Case, works: dict[str, float], limits: dict[str, float]) -> Case:
    """Fill in the case's limits, its bounds (work against the measured rate: FLOP against
    the matmul peak, bytes against the triad, σ against the sigmoid rate) and the tighter."""
    rate = {R.FLOP: limits.get("matmul"), R.BYTES: limits.get("triad"),
            R.SIGMA: limits.get("sigmoid")}  # fmt: skip
    found = {k: R.bound(w, rate[k], case.seconds) for k, w in works.items() if rate[k]}
    case.limits = limits
    case.bounds = {k: asdict(b) for k, b in found.items()}
    if R.FLOP in found and case.gflops is not None:
        case.fraction_of_peak = found[R.FLOP].fraction
    case.bound = R.tighter(found)
    if case.bound is not None:
        case.fraction_of_bound = found[case.bound].fraction
    return case


def _pair(group, base_name, base, ours_name, ours, B, T, H, I, flops, probes, repeats):
    """Time the baseline and ours interleaved with the matmul probe; ratio = baseline / ours."""
    sec, limits = _timed({base_name: base, ours_name: ours}, probes, repeats)
    cases = []
    for name in (base_name, ours_name):
        case = Case(group, name, B, T, H, I, sec[name], flops / sec[name] / 1e9, None,
                    sec[base_name] / sec[name])  # fmt: skip
        cases.append(_set_bounds(case, {R.FLOP: flops}, limits))
    return cases


def rnn_cases(cfg: BenchConfig, progress: Callable[[str], None]) -> list[Case]:
    """nn.RNN against our fused cell (the ``rnn`` cell's CPU path), B = 64, I = 1, the matmul
    peak measured in the same rounds; ``progress`` hears each case's name before it runs."""
    import torch

    from rnnlab.bench.limits import probes
    from rnnlab.cells import make_cell

    shapes = [*HEADLINE_RNN, (256, 200)]
    if not cfg.is_quick:
        shapes += [(h, t) for h in (64, 128) for t in (25, 100, 400)] + [(256, 50)]
    limit = probes(cfg.smoke, ("matmul",))
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
                     B, T, H, I, R.rnn_flops(B, T, H, I), limit, repeats)  # fmt: skip
    return out


def gated_cases(cfg: BenchConfig, progress: Callable[[str], None]) -> list[Case]:
    """nn.GRU against minGRU (fused kernel; and the log-space scan in the full run), B = 64,
    H = 128, I = 1; in the full run also nn.LSTM against minLSTM. The matmul peak, the triad
    bandwidth and the σ/tanh/exp rates take their turn in the same rounds. At T = 4096 each
    one's peak memory for a training step too, each in a process of its own
    (:mod:`rnnlab.bench.memory`)."""
    import torch

    from rnnlab.bench.limits import probes
    from rnnlab.bench.memory import gated_module, step_peak_mb

    H, I = 128, 1
    Ts = [4096] if cfg.is_quick else [256, 1024, 4096]
    limit = probes(cfg.smoke, ("matmul", "triad", "transcendental"))
    out = []
    for T in Ts:
        B, T = cfg.shape(64, T)
        torch.manual_seed(cfg.seed)
        x = torch.randn(B, T, I)
        names = ["nn.GRU", "minGRU fused"]
        if not cfg.is_quick and T <= 1024:
            names.append("minGRU log-space scan")
        progress(f"{' vs '.join(names)}, T={T}")
        steps = {n: _training_step(gated_module(n, I, H), x) for n in names}
        sec, limits = _timed(steps, limit, repeats=3)
        lims = dict.fromkeys(sec, limits)
        headline_T = cfg.shape(64, 4096)[1] == T
        if not cfg.is_quick and headline_T:  # its own round: GRU timed as in quick
            lstm = ["nn.LSTM", "minLSTM fused"]
            progress(f"{' vs '.join(lstm)}, T={T}")
            steps = {n: _training_step(gated_module(n, I, H), x) for n in lstm}
            more, limits = _timed(steps, limit, repeats=3)
            sec |= more
            lims |= dict.fromkeys(more, limits)
        for name, s in sec.items():
            flops = R.gated_flops(name, B, T, H, I)
            base = sec["nn.LSTM"] if "LSTM" in name else sec["nn.GRU"]
            extra = {}
            if headline_T:
                progress(f"peak memory of one {name} training step, T={T}")
                extra["step_peak_mb"] = step_peak_mb(name, B, T, H, I, cfg.seed, cfg.threads)
            case = Case("gated", name, B, T, H, I, s, flops / s / 1e9, None, base / s, extra)
            if name.startswith("nn."):
                works = {R.FLOP: flops}
            elif name.endswith("fused"):  # elementwise: bytes and σ bound it, not the matmuls
                works = {R.BYTES: R.minimal_bytes(B, T, H, I),
                         R.SIGMA: R.minimal_sigmoids(name, B, T, H)}  # fmt: skip
            else:  # the log-space scan: torch's logcumsumexp, no count of ours
                works = {}
            out.append(_set_bounds(case, works, lims[name]))
    return out


ATTENTION = ["nn.GRU", "minGRU fused", "transformer"]


def attention_lengths(cfg: BenchConfig) -> list[int]:
    """T of the attention group: 256 and 1024 (256 only in the quick run). Not the gated group's
    4096: one causal-attention training step takes about 45 s there on one core."""
    return [256] if cfg.is_quick else [256, 1024]


def attention_cases(cfg: BenchConfig, progress: Callable[[str], None]) -> list[Case]:
    """Attention against recurrence: a training step of the causal Transformer
    (``make_cell("transformer", I, H)``, 2 blocks) beside nn.GRU and minGRU (fused) at the
    gated group's B = 64, H = 128, I = 1, at the T of :func:`attention_lengths`, the limits in the
    same rounds; each case with its parameter count (``extra["params"]``)."""
    import torch

    from rnnlab.bench.limits import probes
    from rnnlab.bench.memory import gated_module

    H, I = 128, 1
    limit = probes(cfg.smoke, ("matmul", "triad", "transcendental"))
    out = []
    for T in attention_lengths(cfg):
        B, T = cfg.shape(64, T)
        torch.manual_seed(cfg.seed)
        x = torch.randn(B, T, I)
        progress(f"{' vs '.join(ATTENTION)}, T={T}")
        modules = {n: gated_module(n, I, H) for n in ATTENTION}
        steps = {n: _training_step(m, x) for n, m in modules.items()}
        sec, limits = _timed(steps, limit, repeats=3)
        for name, s in sec.items():
            if name == "transformer":
                flops = R.attention_flops(B, T, H)
                works = {R.FLOP: flops}
            elif name.startswith("nn."):
                flops = R.gated_flops(name, B, T, H, I)
                works = {R.FLOP: flops}
            else:  # elementwise: bytes and σ bound it, as in the gated group
                flops = R.gated_flops(name, B, T, H, I)
                works = {R.BYTES: R.minimal_bytes(B, T, H, I),
                         R.SIGMA: R.minimal_sigmoids(name, B, T, H)}  # fmt: skip
            params = sum(p.numel() for p in modules[name].parameters())
            case = Case("attention", name, B, T, H, I, s, flops / s / 1e9, None,
                        sec["nn.GRU"] / s, {"params": params})  # fmt: skip
            out.append(_set_bounds(case, works, limits))
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
        "triad_mib": 1 if cfg.smoke else 256,  # each of the triad's three float32 arrays
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
    cases = rnn_cases(cfg, progress)
    cases += gated_cases(cfg, progress)
    cases += attention_cases(cfg, progress)
    deer_list, deer_summary = deer_cases(cfg, progress)
    cases += deer_list
    conditions["load_average_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    limits = _limit_ranges(cases)

    def find(group, impl, H, T):
        T = cfg.shape(64, T)[1]
        return next(c for c in cases if (c.group, c.impl, c.H, c.T) == (group, impl, H, T))

    def of_peak(H):
        return _least(
            find("rnn", "fused", H, T).fraction_of_peak for h, T in HEADLINE_RNN if h == H
        )

    mingru = find("gated", "minGRU fused", 128, 4096)
    headline = {
        "rnn_fused_vs_nn_rnn": min(find("rnn", "fused", H, T).ratio for H, T in HEADLINE_RNN),
        "rnn_fraction_of_peak_h64": of_peak(64),
        "rnn_fraction_of_peak_h128": of_peak(128),
        "rnn_fraction_of_peak_h256": find("rnn", "fused", 256, 200).fraction_of_peak,
        "mingru_fused_vs_nn_gru_t4096": mingru.ratio,
        "mingru_fused_fraction_of_bandwidth_bound_t4096": _fraction(mingru, R.BYTES),
        "mingru_fused_fraction_of_transcendental_bound_t4096": _fraction(mingru, R.SIGMA),
    }
    problems = [
        f"{c.impl} ({c.group}, B={c.B}, T={c.T}, H={c.H}) against the {k} bound: {b['problem']}"
        for c in cases
        for k, b in c.bounds.items()
        if b["problem"]
    ]
    peak = limits.get("matmul", {}).get("highest", 0.0) / 1e9
    return BenchResult(conditions, peak, cases, headline, deer_summary, limits, problems)


def _least(values) -> float | None:
    """The smallest of the values that were measured (None: a measurement problem)."""
    found = [v for v in values if v is not None]
    return min(found) if found else None


def _fraction(case: Case, kind: str) -> float | None:
    """The case's fraction of one bound, or None (no such bound, or a measurement problem)."""
    b = case.bounds.get(kind)
    return None if b is None else b["fraction"]


def _limit_ranges(cases: list[Case]) -> dict[str, dict]:
    """Each limit's lowest and highest rate over the rounds it was measured in, and its
    unit (the rounds of a pair of cases share one measurement)."""
    units = {"matmul": "FLOP/s", "triad": "bytes/s"}
    seen: dict[str, list[float]] = {}
    for c in cases:
        for kind, rate in c.limits.items():
            seen.setdefault(kind, []).append(rate)
    return {
        kind: {"lowest": min(r), "highest": max(r), "unit": units.get(kind, "values/s")}
        for kind, r in seen.items()
    }
