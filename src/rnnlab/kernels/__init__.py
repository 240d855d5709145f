"""Fused CPU kernels and their torch.autograd.Functions.

- :mod:`~rnnlab.kernels.rnn` — the vanilla RNN, forward and BPTT each one compiled call.

Importing this package imports torch but not numba; numba compiles each kernel on first use
and caches it on disk.
"""

from rnnlab.kernels.rnn import FusedRNNFunction, fused_rnn, fused_rnn_available

__all__ = ["FusedRNNFunction", "fused_rnn", "fused_rnn_available"]
