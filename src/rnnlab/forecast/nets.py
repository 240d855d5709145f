"""The two neural networks behind the forecasters: one recurrent (any cell), one feed-forward.

    RecurrentNet   h^(1) = cell_1(x), h^(l) = cell_l(dropout(h^(l−1))),  ŷ = W_out·h^(L)_T + b_out
    MLPNet         ŷ = W_L·relu(… relu(W_1·f + b_1) …) + b_L          on hand-made features f

The recurrent net stacks single-layer cells built by :func:`rnnlab.cells.make_cell`, so every
registered cell (rnn, lstm, gru, and any added later) works here unchanged; the head is linear
on the last hidden state of the last layer (regression: no softmax).
"""

from __future__ import annotations

from torch import Tensor, nn

from rnnlab.errors import RnnlabError
from rnnlab.settings.training import NetConfig


class RecurrentNet(nn.Module):
    """``layers`` cells in a stack and a linear head on the last hidden state.

    Arguments: ``config`` (:class:`NetConfig`), ``input_size`` I, ``outputs`` K (one per
    step of a direct model and per quantile of a quantile model).
    Forward: x (B, T, I) -> ŷ (B,) for K = 1, else (B, K).
    """

    def __init__(self, config: NetConfig, input_size: int = 1, outputs: int = 1) -> None:
        super().__init__()
        from rnnlab.cells import make_cell

        H = config.hidden_size
        cells = []
        for layer in range(config.layers):
            size = input_size if layer == 0 else H
            try:
                cells.append(make_cell(config.kind, size, H, **config.cell_options))
            except (TypeError, ValueError) as exc:  # an option the cell does not take
                raise RnnlabError(
                    f"cell {config.kind!r} with options {config.cell_options}: {exc}"
                ) from None
        self.cells = nn.ModuleList(cells)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(H, outputs)

    def hidden_states(self, x: Tensor) -> Tensor:
        """The last layer's hidden states (B, T, H)."""
        h = x  # (B, T, I)
        for layer, cell in enumerate(self.cells):
            if layer > 0:
                h = self.dropout(h)  # between layers only, as nn.LSTM does
            h, _ = cell(h)  # (B, T, H)
        return h

    def forward(self, x: Tensor) -> Tensor:
        """ŷ = W_out·h_T + b_out: (B, T, I) -> (B,) (or (B, K))."""
        h = self.hidden_states(x)  # (B, T, H)
        y = self.head(h[:, -1])  # (B, K)
        return y.squeeze(-1) if y.shape[-1] == 1 else y


class MLPNet(nn.Module):
    """A feed-forward net: ``layers`` hidden layers of ReLU units and a linear output.

    Forward: features f (B, F) -> ŷ (B,), or (B, K) for ``outputs`` K > 1.
    """

    def __init__(self, config: NetConfig, n_features: int, outputs: int = 1) -> None:
        super().__init__()
        parts: list[nn.Module] = []
        width = n_features
        for _ in range(config.layers):
            parts += [nn.Linear(width, config.hidden_size), nn.ReLU(), nn.Dropout(config.dropout)]
            width = config.hidden_size
        parts.append(nn.Linear(width, outputs))
        self.net = nn.Sequential(*parts)

    def forward(self, f: Tensor) -> Tensor:
        """(B, F) -> (B,) (or (B, K))."""
        y = self.net(f)
        return y.squeeze(-1) if y.shape[-1] == 1 else y
