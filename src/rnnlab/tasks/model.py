"""The network a task trains: one recurrent cell (any name in ``cell_names()``) and a linear
head, read after the last step (adding) or at every step (copy).

    h_1 … h_T = cell(x_1 … x_T)          ŷ = W_out·h_T + b_out   or   ŷ_t = W_out·h_t + b_out
"""

from __future__ import annotations

from torch import Tensor, nn

from rnnlab.errors import RnnlabError


class TaskNet(nn.Module):
    """A cell and a head.

    Arguments: ``cell`` (a built recurrence), ``output_size`` O, ``per_step``.
    Forward: x (B, T, I) -> (B, O), or (B, T, O) when ``per_step``.
    """

    def __init__(self, cell: nn.Module, output_size: int, per_step: bool) -> None:
        super().__init__()
        self.cell = cell
        self.head = nn.Linear(cell.hidden_size, output_size)
        self.per_step = per_step

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, I) -> (B, O) or (B, T, O)."""
        h, _ = self.cell(x)  # (B, T, H)
        return self.head(h if self.per_step else h[:, -1])


def build_cell(name: str, input_size: int, hidden: int, options: dict | None = None):
    """``make_cell`` with a user error (naming the cell) for options the cell does not take."""
    from rnnlab.cells import make_cell

    try:
        return make_cell(name, input_size, hidden, **(options or {}))
    except (TypeError, ValueError) as exc:
        raise RnnlabError(f"cell {name!r} with options {options}: {exc}") from None
