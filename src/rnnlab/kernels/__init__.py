"""Fused CPU kernels and their torch.autograd.Functions.

- :mod:`~rnnlab.kernels.rnn` — the vanilla RNN, forward and BPTT each one compiled call.
- :mod:`~rnnlab.kernels.scan` — the diagonal linear recurrence h_t = a_t ⊙ h_{t−1} + b_t:
  fused kernel, log-space scan (Heinsen 2023), parallel affine scan; minGRU/minLSTM kernels.
- :mod:`~rnnlab.kernels.deer` — DEER and quasi-DEER, the tanh RNN evaluated parallel in time.
- :mod:`~rnnlab.kernels.triton_minimal` — minGRU/minLSTM on a GPU (Triton), imported only when
  used: :func:`triton_check` says whether it can run on a tensor, without importing triton.

Importing this package imports torch but neither numba nor triton; numba compiles each kernel
on first use and caches it on disk.
"""

import functools
import importlib.util
import os

import torch

from rnnlab.kernels._blas import fused_available
from rnnlab.kernels.deer import DeerResult, deer
from rnnlab.kernels.rnn import FusedRNNFunction, fused_rnn
from rnnlab.kernels.scan import affine_scan, linear_recurrence, log_space_scan

TRITON_MAX_INPUT = 32  # the cells' auto path takes the Triton kernel for I ≤ this (gate loop)


@functools.cache
def _triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def triton_check(x: torch.Tensor) -> str | None:
    """Why the Triton minGRU/minLSTM kernel cannot run on ``x`` (one line), or None if it can:
    a CUDA tensor, or any tensor under Triton's interpreter (TRITON_INTERPRET=1), with triton
    installed and a floating dtype."""
    if not _triton_installed():
        return "the triton package is not installed (it comes with torch's CUDA wheels)"
    interpret = os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")
    if x.device.type != "cuda" and not interpret:
        return (
            f"it needs a CUDA tensor (or TRITON_INTERPRET=1 for Triton's interpreter on the "
            f"CPU); got a {x.device.type} tensor"
        )
    if x.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        return f"it needs a floating-point tensor; got {x.dtype}"
    return None


__all__ = [
    "TRITON_MAX_INPUT",
    "DeerResult",
    "FusedRNNFunction",
    "affine_scan",
    "deer",
    "fused_available",
    "fused_rnn",
    "linear_recurrence",
    "log_space_scan",
    "triton_check",
]
