"""The two neural networks behind the forecasters: one recurrent (any cell), one feed-forward.

    RecurrentNet   h^(1) = cell_1(x), h^(l) = cell_l(dropout(h^(l−1))),  ŷ = W_out·h^(L)_T + b_out
    MLPNet         ŷ = W_L·relu(… relu(W_1·f + b_1) …) + b_L          on hand-made features f

The recurrent net stacks single-layer cells built by :func:`rnnlab.cells.make_cell`, so every
registered cell (rnn, lstm, gru, and any added later) works here unchanged; the head is linear
on the last hidden state of the last layer (regression: no softmax).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import Tensor, nn

from rnnlab.config import check_fields, option
from rnnlab.errors import RnnlabError


@dataclass(frozen=True)
class NetConfig:
    """The network's shape.

    kind : str            a cell name from :func:`rnnlab.cells.cell_names`, or "mlp"
    hidden_size : int     H, units per layer
    layers : int          stacked cells (recurrent) or hidden layers (mlp)
    dropout : float       between layers, in training only
    cell_options : dict   passed to ``make_cell`` (e.g. ``{"nonlinearity": "relu"}`` for rnn)
    """

    kind: str = option("rnn", "the cell", flag="--cell", cli=False)
    hidden_size: int = option(
        32, "hidden units per layer", low=1, high=4096, flag="--hidden", metavar="H"
    )
    layers: int = option(1, "stacked layers", low=1, high=64)
    dropout: float = option(0.0, "between layers, in training only", low=0, high=0.999)
    cell_options: dict = option(factory=dict, cli=False)

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def quick(cls) -> NetConfig:
        """The --quick run's settings: a small net."""
        return cls(hidden_size=8)

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)


class RecurrentNet(nn.Module):
    """``layers`` cells in a stack and a linear head on the last hidden state.

    Arguments: ``config`` (:class:`NetConfig`), ``input_size`` I.
    Forward: x (B, T, I) -> ŷ (B,).
    """

    def __init__(self, config: NetConfig, input_size: int = 1) -> None:
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
        self.head = nn.Linear(H, 1)

    def hidden_states(self, x: Tensor) -> Tensor:
        """The last layer's hidden states (B, T, H)."""
        h = x  # (B, T, I)
        for layer, cell in enumerate(self.cells):
            if layer > 0:
                h = self.dropout(h)  # between layers only, as nn.LSTM does
            h, _ = cell(h)  # (B, T, H)
        return h

    def forward(self, x: Tensor) -> Tensor:
        """ŷ = W_out·h_T + b_out: (B, T, I) -> (B,)."""
        h = self.hidden_states(x)  # (B, T, H)
        return self.head(h[:, -1]).squeeze(-1)  # (B,)


class MLPNet(nn.Module):
    """A feed-forward net: ``layers`` hidden layers of ReLU units and a linear output.

    Forward: features f (B, F) -> ŷ (B,).
    """

    def __init__(self, config: NetConfig, n_features: int) -> None:
        super().__init__()
        parts: list[nn.Module] = []
        width = n_features
        for _ in range(config.layers):
            parts += [nn.Linear(width, config.hidden_size), nn.ReLU(), nn.Dropout(config.dropout)]
            width = config.hidden_size
        parts.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*parts)

    def forward(self, f: Tensor) -> Tensor:
        """(B, F) -> (B,)."""
        return self.net(f).squeeze(-1)
