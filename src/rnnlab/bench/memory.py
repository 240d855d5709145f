"""Peak memory of one training step, each implementation in a process of its own.

The high-water mark of a process's resident memory only ever grows, so the peak of one
implementation can be read only in a process that ran nothing bigger. The bench starts

    python -m rnnlab.bench.memory IMPL B T H I SEED THREADS

which builds the module, warms it up on a short sequence (imports, compiled kernels, torch's
own buffers), reads the high-water mark, runs one training step (forward + backward of Σ h) on
the full (B, T, I) input made before that reading, and prints the growth in MB: the memory the
step itself needed on top of its input, weights and code.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

WARMUP_T = 8  # time steps of the warm-up step


def gated_module(impl: str, I: int, H: int):
    """The module that the bench's ``gated`` group times under the name ``impl``."""
    import torch

    from rnnlab.cells import make_cell

    builders = {
        "nn.GRU": lambda: torch.nn.GRU(I, H, batch_first=True),
        "nn.LSTM": lambda: torch.nn.LSTM(I, H, batch_first=True),
        "minGRU fused": lambda: make_cell("mingru", I, H, path="fused"),
        "minLSTM fused": lambda: make_cell("minlstm", I, H, path="fused"),
        "minGRU log-space scan": lambda: make_cell("mingru", I, H, path="scan"),
        "transformer": lambda: make_cell("transformer", I, H),
    }
    return builders[impl]()


def _max_rss_mb() -> float:
    """This address space's resident-memory high-water mark in MB: VmHWM, or where there is no
    /proc (not Linux) ``ru_maxrss`` (kB on Linux and BSD; bytes on macOS)."""
    try:
        with open("/proc/self/status") as fh:
            line = next(ln for ln in fh if ln.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024  # "VmHWM:   123456 kB"
    except (OSError, StopIteration, ValueError, IndexError):
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def measure(impl: str, B: int, T: int, H: int, I: int, seed: int, threads: int) -> float:
    """In this process: MB by which one training step of ``impl`` raised the high-water mark."""
    import torch

    from rnnlab.allocator import keep_freed_memory

    torch.set_num_threads(threads)
    keep_freed_memory()  # as in the timed runs
    torch.manual_seed(seed)
    module = gated_module(impl, I, H)
    x = torch.randn(B, T, I)
    module(x[:, :WARMUP_T])[0].sum().backward()
    before = _max_rss_mb()
    module(x)[0].sum().backward()
    return _max_rss_mb() - before


def step_peak_mb(impl: str, B: int, T: int, H: int, I: int, seed: int, threads: int) -> float:
    """:func:`measure` in a fresh Python process (this one has already run bigger things)."""
    args = [str(v) for v in (B, T, H, I, seed, threads)]
    done = subprocess.run(
        [sys.executable, "-m", "rnnlab.bench.memory", impl, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory probe of {impl} failed: {last}")
    return float(json.loads(done.stdout)["step_peak_mb"])


def main(argv: list[str]) -> int:
    impl, *nums = argv
    B, T, H, I, seed, threads = (int(v) for v in nums)
    print(json.dumps({"step_peak_mb": measure(impl, B, T, H, I, seed, threads)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
