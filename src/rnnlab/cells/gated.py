"""Gated cells: LSTM (Hochreiter & Schmidhuber 1997) and GRU (Cho et al. 2014).

The parameters are torch's own (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``, gates
stacked in torch's order: LSTM i, f, g, o; GRU r, z, n), so weights copy to and from
``nn.LSTM``/``nn.GRU`` unchanged. ``forward`` runs torch's fused kernel (oneDNN for the LSTM on
CPU); ``step`` is the same maths one step at a time:

    LSTM  i, f, g, o = σ, σ, tanh, σ (W_i·x_t + W_h·h_{t−1} + b)
          c_t = f ⊙ c_{t−1} + i ⊙ g          h_t = o ⊙ tanh(c_t)
    GRU   r, z = σ(W_ir·x_t + W_hr·h_{t−1} + b_r), σ(W_iz·x_t + W_hz·h_{t−1} + b_z)
          n = tanh(W_in·x_t + b_in + r ⊙ (W_hn·h_{t−1} + b_hn))
          h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnlab.cells.base import Recurrence, State, register_cell


class _Gated(Recurrence):
    gates: int

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        G = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(G, input_size))  # (G·H, I)
        self.weight_hh = nn.Parameter(torch.empty(G, hidden_size))  # (G·H, H)
        self.bias_ih = nn.Parameter(torch.empty(G))
        self.bias_hh = nn.Parameter(torch.empty(G))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(−1/√H, 1/√H), as torch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _weights(self) -> list[Tensor]:
        return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]


class LSTM(_Gated):
    """One LSTM layer; state ``(h, c)``, each (B, H)."""

    gates = 4

    def initial_state(self, x: Tensor) -> State:
        """(h_0, c_0) = zeros."""
        zeros = x.new_zeros(x.shape[0], self.hidden_size)
        return zeros, zeros.clone()

    def step(self, x_t: Tensor, state: State) -> tuple[Tensor, State]:
        """c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)."""
        h, c = torch.lstm_cell(x_t, state, *self._weights())
        return h, (h, c)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """torch's fused LSTM over the whole sequence."""
        h0, c0 = self.initial_state(x) if state is None else state
        out, h_n, c_n = torch.lstm(
            x, (h0[None], c0[None]), self._weights(), True, 1, 0.0, self.training, False, True
        )
        return out, (h_n[0], c_n[0])


class GRU(_Gated):
    """One GRU layer; state h (B, H)."""

    gates = 3

    def step(self, x_t: Tensor, state: State) -> tuple[Tensor, State]:
        """h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}."""
        h = torch.gru_cell(x_t, state, *self._weights())
        return h, h

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """torch's GRU over the whole sequence."""
        h0 = self.initial_state(x) if state is None else state
        out, h_n = torch.gru(x, h0[None], self._weights(), True, 1, 0.0, self.training, False, True)
        return out, h_n[0]


@register_cell("lstm")
def _lstm(input_size: int, hidden_size: int) -> LSTM:
    return LSTM(input_size, hidden_size)


@register_cell("gru")
def _gru(input_size: int, hidden_size: int) -> GRU:
    return GRU(input_size, hidden_size)
