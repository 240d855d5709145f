"""The vanilla (Elman) RNN cell in PyTorch, with the glass box's parameter names.

    h_t = tanh(Wx·x_t + Wh·h_{t−1} + b)        (or relu)

One bias b, as in the article (torch's nn.RNN has two, b_ih + b_hh, which add up to our b).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

from rnnlab.cells.base import Recurrence, State, register_cell
from rnnlab.kernels import fused_available, fused_rnn


class VanillaRNN(Recurrence):
    """One layer of h_t = φ(Wx·x_t + Wh·h_{t−1} + b), φ = tanh or relu.

    Arguments
    ---------
    input_size : I
    hidden_size : H
    nonlinearity : "tanh" or "relu"

    Parameters: ``wx`` (H, I), ``wh`` (H, H), ``b`` (H,), initialised like ``nn.RNN``,
    U(−1/√H, 1/√H).
    """

    def __init__(
        self, input_size: int, hidden_size: int, nonlinearity: Literal["tanh", "relu"] = "tanh"
    ) -> None:
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size, self.hidden_size, self.nonlinearity = input_size, hidden_size, nonlinearity
        self.wx = nn.Parameter(torch.empty(hidden_size, input_size))  # (H, I)
        self.wh = nn.Parameter(torch.empty(hidden_size, hidden_size))  # (H, H)
        self.b = nn.Parameter(torch.empty(hidden_size))  # (H,)
        self.reset_parameters()

    def extra_repr(self) -> str:
        """``VanillaRNN(1, 32, nonlinearity=tanh)``."""
        return f"{super().extra_repr()}, nonlinearity={self.nonlinearity}"

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H) for every parameter, as nn.RNN does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def step(self, x_t: Tensor, state: State) -> tuple[Tensor, State]:
        """h_t = φ(Wx·x_t + Wh·h_{t−1} + b); x_t (B, I), state (B, H)."""
        a = x_t @ self.wx.T + state @ self.wh.T + self.b  # (B, H) pre-activation
        h = torch.tanh(a) if self.nonlinearity == "tanh" else torch.relu(a)
        return h, h

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """All steps at once: the fused kernel on the CPU (:mod:`rnnlab.kernels.rnn`), else torch's
        own RNN kernel (the nn.RNN path). ``rnnlab bench`` measures the two side by side."""
        h0 = self.initial_state(x) if state is None else state  # (B, H)
        if fused_available(x):
            return fused_rnn(x, h0, self.wx, self.wh, self.b, self.nonlinearity)
        return self.torch_forward(x, h0)

    def torch_forward(self, x: Tensor, h0: Tensor) -> tuple[Tensor, Tensor]:
        """torch's RNN kernel over the whole sequence (what nn.RNN runs)."""
        run = torch.rnn_tanh if self.nonlinearity == "tanh" else torch.rnn_relu
        weights = [self.wx, self.wh, self.b, torch.zeros_like(self.b)]
        out, h_n = run(x, h0[None], weights, True, 1, 0.0, self.training, False, True)
        return out, h_n[0]  # (B, T, H), (B, H)


@register_cell("rnn")
def _rnn(input_size: int, hidden_size: int, nonlinearity: str = "tanh") -> VanillaRNN:
    return VanillaRNN(input_size, hidden_size, nonlinearity=nonlinearity)
