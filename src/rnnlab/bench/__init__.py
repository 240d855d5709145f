"""The speed harness behind ``rnnlab bench``: timing, the machine's matmul peak, the cases."""

from rnnlab.bench.runner import BenchConfig, BenchResult, Case, run_bench

__all__ = ["BenchConfig", "BenchResult", "Case", "run_bench"]
