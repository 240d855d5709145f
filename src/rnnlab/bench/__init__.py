"""The speed harness behind ``rnnlab bench``: timing, the machine's matmul peak, the cases."""

from rnnlab.bench.runner import BenchResult, Case, run_bench
from rnnlab.settings.bench import BenchConfig

__all__ = ["BenchConfig", "BenchResult", "Case", "run_bench"]
