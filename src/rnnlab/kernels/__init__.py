"""Fused CPU kernels and their torch.autograd.Functions.

- :mod:`~rnnlab.kernels.rnn` — the vanilla RNN, forward and BPTT each one compiled call.
- :mod:`~rnnlab.kernels.scan` — the diagonal linear recurrence h_t = a_t ⊙ h_{t−1} + b_t:
  fused kernel, log-space scan (Heinsen 2023), parallel affine scan; minGRU/minLSTM kernels.
- :mod:`~rnnlab.kernels.deer` — DEER and quasi-DEER, the tanh RNN evaluated parallel in time.

Importing this package imports torch but not numba; numba compiles each kernel on first use
and caches it on disk.
"""

from rnnlab.kernels._blas import fused_available
from rnnlab.kernels.deer import DeerResult, deer
from rnnlab.kernels.rnn import FusedRNNFunction, fused_rnn
from rnnlab.kernels.scan import affine_scan, linear_recurrence, log_space_scan

__all__ = [
    "DeerResult",
    "FusedRNNFunction",
    "affine_scan",
    "deer",
    "fused_available",
    "fused_rnn",
    "linear_recurrence",
    "log_space_scan",
]
