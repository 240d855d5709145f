"""The bench on a CUDA device: the gated layers and DEER on a GPU, in absolute time, against
this GPU's measured limits.

Times are CUDA-event medians of interleaved rounds (each implementation one call per round,
the device synchronised after every round), after a second of matmuls that brings the GPU's
clocks up from idle. Beside each GPU time, the host's: the CPU seconds to issue one step
(Python, autograd, kernel launches). Where the two are close (small T), the step is bound by
the host, not by the GPU. cuDNN's modules get ``flatten_parameters()`` after the cast. The
limits are measured now: the copy bandwidth (``dst.copy_(src)`` of 1 GiB: 2 GiB moved) and
the matmul rate (n = 8192; float32 without TF32, and bfloat16).

The memory-traffic floor of a minGRU/minLSTM training step (forward + backward of Σh),
B·T·H elements of e bytes each (e = 4 float32, 2 bfloat16):

    forward    h written                                     B·T·H·e
    backward   h read back (h_{t−1} in dk), dL/dh read       2·B·T·H·e
    floor      3·B·T·H·e + 2·B·T·I·e (x read twice)          bytes / copy bandwidth

The gates are recomputed from x, never stored. Under Σh the incoming dL/dh is a broadcast
of ones that costs no traffic, so a kernel can come in under the floor; the floor counts it
because a real loss sends a real tensor.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from rnnlab.bench.runner import Case, _training_step
from rnnlab.bench.timing import interleaved_medians
from rnnlab.settings.bench import BenchConfig

B, H, I = 64, 128, 1
GATED = ["nn.GRU", "nn.LSTM", "nn.RNN", "minGRU log-space scan", "minGRU triton", "minLSTM triton",
         "transformer"]  # fmt: skip
# The causal Transformer (2 blocks; attention by scaled_dot_product_attention) only up to this
# T: its step's work grows with T² (about 0.4 PFLOP a step at T = 65536).
ATTENTION_MAX_T = 16384


def _device(cfg: BenchConfig) -> str:
    """Where the GPU bench's tensors live: cuda (auto too), or cpu (the tests' run of this
    code on CPU tensors, under Triton's interpreter)."""
    return "cpu" if cfg.device == "cpu" else "cuda"


def _gated_shape(cfg: BenchConfig) -> tuple[int, int]:
    """(B, H) of the gated cases: B = 64, H = 128, or B = 2, H = 8 in a smoke run."""
    return (2, 8) if cfg.smoke else (B, H)


@dataclass
class GpuBenchResult:
    conditions: dict
    limits: dict
    floor: dict
    cases: list[Case]
    headline: dict
    deer: dict
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "device": "cuda",
            "conditions": self.conditions,
            "limits": self.limits,
            "floor": self.floor,
            "cases": [asdict(c) for c in self.cases],
            "headline": self.headline,
            "deer": self.deer,
            "errors": self.errors,
        }


def cuda_medians(
    fns: dict[str, Callable[[], object]], repeats: int, device: str = "cuda"
) -> dict[str, float]:
    """Median seconds per call on the GPU (CUDA events), one warm-up call each, interleaved
    (on the CPU, for the tests: wall clock)."""
    import torch

    if device != "cuda":
        return interleaved_medians(fns, repeats)
    for fn in fns.values():
        fn()
    torch.cuda.synchronize()
    times: dict[str, list[float]] = {n: [] for n in fns}
    for _ in range(repeats):
        events = {}
        for name, fn in fns.items():
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            events[name] = (start, end)
        torch.cuda.synchronize()
        for name, (start, end) in events.items():
            times[name].append(start.elapsed_time(end) / 1e3)
    return {n: statistics.median(ts) for n, ts in times.items()}


def measure_limits(cfg: BenchConfig) -> dict:
    """Copy bandwidth (GB/s) and matmul rates (TFLOP/s), measured now."""
    import torch

    dev = _device(cfg)
    n_bytes = 2**20 if cfg.smoke else 2**30
    src = torch.empty(n_bytes // 4, device=dev)
    dst = torch.empty_like(src)
    sec = cuda_medians({"copy": lambda s=src, d=dst: d.copy_(s)}, 10, dev)["copy"]
    del src, dst
    limits = {"copy_GBps": 2 * n_bytes / sec / 1e9, "matmul_TFLOPs": {}}
    n = 256 if cfg.smoke else 8192
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        for dtype in (torch.float32, torch.bfloat16):
            a = torch.randn(n, n, device=dev, dtype=dtype)
            b = torch.randn(n, n, device=dev, dtype=dtype)
            sec = cuda_medians({"mm": lambda a=a, b=b: a @ b}, 5, dev)["mm"]
            limits["matmul_TFLOPs"][str(dtype).removeprefix("torch.")] = 2 * n**3 / sec / 1e12
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    return limits


def _gated_module(impl: str, dtype, cfg: BenchConfig):
    import torch

    from rnnlab.cells import make_cell

    H = _gated_shape(cfg)[1]
    builders = {
        "nn.GRU": lambda: torch.nn.GRU(I, H, batch_first=True),
        "nn.LSTM": lambda: torch.nn.LSTM(I, H, batch_first=True),
        "nn.RNN": lambda: torch.nn.RNN(I, H, batch_first=True),
        "minGRU log-space scan": lambda: make_cell("mingru", I, H, path="scan"),
        "minGRU triton": lambda: make_cell("mingru", I, H, path="triton"),
        "minLSTM triton": lambda: make_cell("minlstm", I, H, path="triton"),
        "transformer": lambda: make_cell("transformer", I, H),
    }
    module = builders[impl]().to(_device(cfg), dtype)
    if isinstance(module, torch.nn.RNNBase):
        # weights in one contiguous block again after the move and cast: otherwise cuDNN
        # copies them into one at every call (its warning; bfloat16 steps were 6× float32's)
        module.flatten_parameters()
    return module


def warm_up(cfg: BenchConfig, seconds: float = 1.0) -> float:
    """Matmuls for about ``seconds`` before anything is timed, so that the GPU's clocks are up
    (an H200 idles at 345 MHz; the first cases timed from idle were slower). Returns the seconds
    spent (0 on the CPU)."""
    import time

    import torch

    if _device(cfg) != "cuda" or cfg.smoke:
        return 0.0
    a = torch.randn(4096, 4096, device="cuda")
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(20):
            a @ a
        torch.cuda.synchronize()
    return time.perf_counter() - start


def host_seconds(fn: Callable[[], object], calls: int, device: str = "cuda") -> float:
    """CPU seconds per call to issue ``fn`` (Python, autograd, launches), the GPU kept busy:
    a step whose GPU time is near this is bound by the host, not by the kernels."""
    import time

    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    sec = (time.perf_counter() - start) / calls
    if device == "cuda":
        torch.cuda.synchronize()
    return sec


def floor_bytes(b: int, t: int, h: int, i: int, elt: int) -> int:
    """Bytes a minGRU/minLSTM training step must move (see the module docstring)."""
    return 3 * b * t * h * elt + 2 * b * t * i * elt


def gated_cases(cfg: BenchConfig, bandwidth: float | None, progress, errors) -> list[Case]:
    """Training steps of every implementation in ``GATED`` at B = 64, H = 128, I = 1 (the
    Transformer up to ``ATTENTION_MAX_T``), each with its parameter count."""
    import torch

    dev, (B, H) = _device(cfg), _gated_shape(cfg)
    cuda = dev == "cuda"
    dtypes = [torch.float32] if cfg.is_quick else [torch.float32, torch.bfloat16]
    Ts = [256, 4096] if cfg.is_quick else [256, 1024, 4096, 16384, 65536]
    if cfg.smoke:
        Ts = [16, 40]
    out = []
    for dtype in dtypes:
        dname = str(dtype).removeprefix("torch.")
        for T in Ts:
            torch.manual_seed(cfg.seed)
            x = torch.randn(B, T, I, device=dev, dtype=dtype)
            fns, mems = {}, {}
            params = {}
            for impl in GATED:
                if impl == "transformer" and T > ATTENTION_MAX_T:
                    continue
                try:  # one failing implementation (bf16 in cuDNN, memory) must not stop the rest
                    module = _gated_module(impl, dtype, cfg)
                    params[impl] = sum(p.numel() for p in module.parameters())
                    step = _training_step(module, x)
                    if cuda:
                        torch.cuda.synchronize()
                        torch.cuda.reset_peak_memory_stats()
                        base = torch.cuda.memory_allocated()
                    step()
                    if cuda:
                        torch.cuda.synchronize()
                        mems[impl] = (torch.cuda.max_memory_allocated() - base) / 2**20
                    fns[impl] = step
                except Exception as e:  # recorded and reported; the run goes on
                    errors.append(f"{impl} {dname} T={T}: {type(e).__name__}: {e}".split("\n")[0])
                    if cuda:
                        torch.cuda.empty_cache()
            repeats = 1 if cfg.smoke else 10 if T <= 4096 else 5
            sec = cuda_medians(fns, repeats, dev) if fns else {}
            floor = (
                floor_bytes(B, T, H, I, x.element_size()) / (bandwidth * 1e9) if bandwidth else None
            )
            host = {}
            for impl, fn in fns.items():
                try:
                    host[impl] = host_seconds(fn, 1 if cfg.smoke else 5, dev)
                except Exception as e:
                    errors.append(f"{impl} {dname} T={T} host time: {type(e).__name__}: {e}")
            for impl, s in sec.items():
                base = sec.get("nn.LSTM" if "LSTM" in impl else "nn.GRU")
                extra = {
                    "dtype": dname,
                    "params": params.get(impl),
                    "host_seconds": host.get(impl),
                    "step_peak_MB": mems.get(impl),
                    "floor_seconds": floor,
                    "x_floor": s / floor if floor else None,
                }
                if impl.startswith("min") and "minGRU log-space scan" in sec:
                    extra["vs_scan"] = sec["minGRU log-space scan"] / s
                ratio = base / s if base else None
                out.append(Case(f"gated {dname}", impl, B, T, H, I, s, None, None, ratio, extra))
            times = ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in sec.items())
            progress(f"gated {dname} T={T}: {times}")
            del fns, x
            if cuda:
                torch.cuda.empty_cache()
    return out


def deer_cases(cfg: BenchConfig, progress, errors: list[str]) -> tuple[list[Case], dict]:
    """The tanh RNN forward, B = 16, H = 32: cuDNN and the step loop (sequential) against DEER
    and quasi-DEER (parallel in time); the crossover against each, if any."""
    import torch

    from rnnlab.cells import make_cell
    from rnnlab.kernels import deer

    Bd, Hd, dev = 16, 32, _device(cfg)
    Ts = [256, 1024] if cfg.is_quick else [256, 1024, 4096, 16384]
    if cfg.smoke:
        Ts = [16, 32]
    cases, rows = [], []
    for T in Ts:
        torch.manual_seed(cfg.seed)
        cell = make_cell("rnn", I, Hd).to(dev)
        with torch.no_grad():
            cell.wh.mul_(0.5)  # contracting, as in the CPU bench
        x = torch.randn(Bd, T, I, device=dev)
        runs = {}

        def run(quasi, runs=runs, x=x, cell=cell):
            runs[quasi] = deer(x, None, cell.wx, cell.wh, cell.b, quasi=quasi, tol=1e-6)

        fns = {
            "sequential (cuDNN)": lambda x=x, cell=cell: cell.torch_forward(
                x, cell.initial_state(x)
            )
        }
        if T <= 1024:  # about 50 µs a step: the loop is the slowest thing here
            fns["sequential (step loop)"] = lambda x=x, cell=cell: cell.loop(x)
        fns |= {"DEER": lambda: run(False), "quasi-DEER": lambda: run(True)}
        try:
            with torch.no_grad():
                sec = cuda_medians(fns, 1 if cfg.smoke else 3, dev)
                ref, _ = cell.loop(x)
        except Exception as e:
            errors.append(f"deer T={T}: {type(e).__name__}: {e}".split("\n")[0])
            continue
        for name, s in sec.items():
            extra = {}
            if name in ("DEER", "quasi-DEER"):
                res = runs[name == "quasi-DEER"]
                extra = {
                    "iterations": res.iterations,
                    "depth": res.depth,
                    "max_error": float((res.h - ref).abs().max()),
                }
            ratio = sec["sequential (cuDNN)"] / s
            cases.append(Case("deer", name, Bd, T, Hd, I, s, None, None, ratio, extra))
        rows.append((T, sec))
        progress(f"deer T={T}: " + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in sec.items()))
    cross = {}
    for name in ("DEER", "quasi-DEER"):
        for seq in ("sequential (cuDNN)", "sequential (step loop)"):
            faster = [T for T, sec in rows if seq in sec and sec[name] < sec[seq]]
            cross[f"{name} vs {seq}"] = faster[0] if faster else None
    summary = {
        "B": Bd,
        "H": Hd,
        "crossover_T": cross,
        "note": "crossover_T: the smallest T measured where the parallel-in-time method beat "
        f"the sequential one on this GPU; null: never, up to T = {rows[-1][0] if rows else 0} "
        "(the step loop only up to T = 1024)",
    }
    return cases, summary


def _conditions(cfg: BenchConfig) -> dict:
    import torch

    cuda = _device(cfg) == "cuda"
    props = torch.cuda.get_device_properties(0) if cuda else None
    try:
        import triton

        triton_version = triton.__version__
    except ImportError:
        triton_version = None
    return {
        "gpu": props.name if props else None,
        "gpu_memory_GB": props.total_memory / 1e9 if props else None,
        "sm_count": props.multi_processor_count if props else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "triton": triton_version,
        "quick": cfg.is_quick,
        "smoke": cfg.smoke,
        "seed": cfg.seed,
        "timing": "CUDA events, median of interleaved rounds after one warm-up call, the GPU "
        "warmed up (1 s of matmuls) first; host ms: CPU time to issue one step",
    }


def run_gpu_bench(
    cfg: BenchConfig, progress: Callable[[str], None] = lambda msg: None
) -> GpuBenchResult:
    """Limits, the gated cases, DEER; each part guarded so that one failure leaves the rest."""
    errors: list[str] = []
    conditions = _conditions(cfg)
    conditions["warm_up_seconds"] = warm_up(cfg)
    progress("limits: copy bandwidth, matmul")
    try:
        limits = measure_limits(cfg)
    except Exception as e:
        errors.append(f"limits: {type(e).__name__}: {e}".split("\n")[0])
        limits = {"copy_GBps": None, "matmul_TFLOPs": {}}
    progress(f"limits: {limits}")
    cases = gated_cases(cfg, limits["copy_GBps"], progress, errors)
    deer_list, deer_summary = deer_cases(cfg, progress, errors)
    cases += deer_list
    floor = {
        "bytes": "3·B·T·H·e + 2·B·T·I·e (h written; h and dL/dh read back; x read twice)",
        "seconds": "bytes / copy bandwidth",
        "bandwidth_GBps": limits["copy_GBps"],
    }

    def find(impl, T, dtype="float32"):
        return next(
            (c for c in cases if (c.group, c.impl, c.T) == (f"gated {dtype}", impl, T)), None
        )

    T = 40 if cfg.smoke else 4096
    headline = {}
    gru, tri, scan = find("nn.GRU", T), find("minGRU triton", T), find("minGRU log-space scan", T)
    if gru and tri:
        headline["mingru_triton_vs_cudnn_gru_t4096"] = gru.seconds / tri.seconds
        headline["mingru_triton_x_floor_t4096"] = tri.extra["x_floor"]
    if scan and tri:
        headline["mingru_triton_vs_scan_t4096"] = scan.seconds / tri.seconds
    return GpuBenchResult(conditions, limits, floor, cases, headline, deer_summary, errors)
