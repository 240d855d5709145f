"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?", sections 3.1.3 and 3.2.3).

The gates see only the input x_t, never h_{t−1}, so the recurrence is linear and diagonal,
h_t = a_t ⊙ h_{t−1} + b_t, and can be evaluated three ways that agree (``path``):
``loop`` (the step loop), ``scan`` (the log-space parallel scan, Heinsen 2023), ``fused``
(:class:`rnnlab.kernels.scan.MinimalCellFunction`: the diagonal recurrence with the gates
computed inside the same compiled pass, forward and backward, so that no (B, T, H) tensor of
gates is ever written to memory) and ``triton`` (the same on a GPU:
:class:`rnnlab.kernels.triton_minimal.MinimalTritonFunction`, a chunked scan).

Gate convention (the paper's): z_t is the share of the *new* candidate,

    minGRU   z_t = σ(W_z·x_t + b_z),  h̃_t = g(W_h·x_t + b_h)
             h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t          a_t = 1 − z_t,  b_t = z_t ⊙ h̃_t
    minLSTM  f_t = σ(W_f·x_t + b_f),  i_t = σ(W_i·x_t + b_i),  h̃_t = g(W_h·x_t + b_h)
             f'_t = f_t/(f_t + i_t),  i'_t = i_t/(f_t + i_t)
             h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t                a_t = f'_t,  b_t = i'_t ⊙ h̃_t

(torch's nn.GRU uses the opposite convention: its z weights the old state.) The candidate
goes through the paper's g(x) = x + ½ for x ≥ 0, σ(x) for x < 0 (section 3.3 / appendix B),
which keeps h̃ > 0 so that its logarithm exists for the scan; every path uses the same g.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnlab.cells.base import Recurrence, State, register_cell
from rnnlab.errors import RnnlabError
from rnnlab.kernels import TRITON_MAX_INPUT, fused_available, triton_check
from rnnlab.kernels.scan import MinimalCellFunction, log_space_scan

Path = Literal["auto", "fused", "scan", "loop", "triton"]
PATHS = ("auto", "fused", "scan", "loop", "triton")


def g(x: Tensor) -> Tensor:
    """g(x) = x + ½ (x ≥ 0), σ(x) (x < 0): continuous, positive, linear for large x."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """log g(x) = log(x + ½) (x ≥ 0), −softplus(−x) (x < 0)."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


class _Minimal(Recurrence):
    """Shared parts: one linear map of x_t to all the gate pre-activations, and the paths."""

    n_gates: int
    kind: int  # the kernel's code for this cell

    def __init__(self, input_size: int, hidden_size: int, path: Path = "auto") -> None:
        super().__init__()
        if path not in PATHS:
            raise ValueError(f"path must be one of {', '.join(PATHS)}; got {path!r}")
        self.input_size, self.hidden_size, self.path = input_size, hidden_size, path
        G = self.n_gates * hidden_size
        self.weight = nn.Parameter(torch.empty(G, input_size))  # (G·H, I) rows: gates, then h̃
        self.bias = nn.Parameter(torch.empty(G))  # (G·H,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(−1/√I, 1/√I), as nn.Linear does."""
        bound = 1.0 / math.sqrt(self.input_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _preacts(self, x: Tensor) -> tuple[Tensor, ...]:
        """The gate pre-activations, each (…, H), from x (…, I)."""
        return F.linear(x, self.weight, self.bias).chunk(self.n_gates, dim=-1)

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """a_t and b_t of h_t = a_t ⊙ h_{t−1} + b_t, each (…, H)."""
        raise NotImplementedError

    def log_coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """log a_t and log b_t, computed in log space (no log of a rounded 0)."""
        raise NotImplementedError

    def step(self, x_t: Tensor, state: State) -> tuple[Tensor, State]:
        """h_t = a_t ⊙ h_{t−1} + b_t; x_t (B, I), state (B, H)."""
        a, b = self.coefficients(x_t)  # (B, H)
        h = a * state + b
        return h, h

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """All steps by ``self.path`` (auto: the fused kernel where it runs, i.e. on the CPU
        with torch's MKL; on CUDA the Triton kernel for inputs up to TRITON_MAX_INPUT wide;
        the log-space scan elsewhere)."""
        path = self.path
        if path == "auto":
            if fused_available(x):
                path = "fused"
            elif x.device.type == "cuda" and x.shape[-1] <= TRITON_MAX_INPUT:
                path = "scan" if triton_check(x) else "triton"
            else:
                path = "scan"
        elif path == "triton" and (why := triton_check(x)):
            raise RnnlabError(f"path='triton' cannot run: {why}")
        elif path == "fused" and not fused_available(x):
            raise ValueError(
                f"path='fused' needs a float32/float64 CPU tensor and torch built with MKL; "
                f"got {x.dtype} on {x.device.type} (use path='scan' or 'loop')"
            )
        if path == "loop":
            return self.loop(x, state)
        if path == "scan":
            log_a, log_b = self.log_coefficients(x)  # (B, T, H) each
            h = log_space_scan(log_a, log_b, state)
        elif path == "triton":
            from rnnlab.kernels.triton_minimal import MinimalTritonFunction

            h0 = self.initial_state(x) if state is None else state
            h = MinimalTritonFunction.apply(x, self.weight, self.bias, h0, self.kind)
        else:
            h0 = self.initial_state(x) if state is None else state
            h = MinimalCellFunction.apply(x, self.weight, self.bias, h0, self.kind)
        return h, h[:, -1]


class MinGRU(_Minimal):
    """minGRU: h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ g(W_h·x_t + b_h), z_t = σ(W_z·x_t + b_z).

    Parameters: ``weight`` (2H, I) and ``bias`` (2H,), rows [z; h̃].
    """

    n_gates, kind = 2, 0

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_z, k_h = self._preacts(x)
        z = torch.sigmoid(k_z)
        return 1 - z, z * g(k_h)  # a = 1 − z, b = z ⊙ h̃

    def log_coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_z, k_h = self._preacts(x)
        # log σ(k) = −softplus(−k), log(1 − σ(k)) = −softplus(k)
        return -F.softplus(k_z), -F.softplus(-k_z) + log_g(k_h)


class MinLSTM(_Minimal):
    """minLSTM: h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ g(W_h·x_t + b_h), f', i' normalised to sum to 1.

    Parameters: ``weight`` (3H, I) and ``bias`` (3H,), rows [f; i; h̃].
    """

    n_gates, kind = 3, 1

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, k_h = self._preacts(x)
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        return f / (f + i), i / (f + i) * g(k_h)  # a = f', b = i' ⊙ h̃

    def log_coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, k_h = self._preacts(x)
        # diff = log i − log f;  log f' = −softplus(diff),  log i' = −softplus(−diff)
        diff = F.softplus(-k_f) - F.softplus(-k_i)
        return -F.softplus(diff), -F.softplus(-diff) + log_g(k_h)


@register_cell("mingru")
def _mingru(input_size: int, hidden_size: int, path: Path = "auto") -> MinGRU:
    return MinGRU(input_size, hidden_size, path=path)


@register_cell("minlstm")
def _minlstm(input_size: int, hidden_size: int, path: Path = "auto") -> MinLSTM:
    return MinLSTM(input_size, hidden_size, path=path)
