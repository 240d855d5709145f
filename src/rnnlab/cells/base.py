"""The one small interface every recurrence in rnnlab implements.

A recurrence maps a batch of sequences to the hidden state at every step:

    forward(x (B, T, I), state) -> (h (B, T, H), final state)
    step(x_t (B, I), state)     -> (h_t (B, H), new state)

``forward`` is the fast path (a fused kernel, cuDNN/oneDNN, or a parallel scan); ``step`` is the
plain for-loop body. Both must agree; the tests check each cell's pair. The state is a tensor
(B, H) for most cells and a tuple ``(h, c)`` for the LSTM; ``None`` means zeros.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

State = Tensor | tuple[Tensor, Tensor]


class Recurrence(nn.Module):
    """Base class: subclasses set ``input_size`` and ``hidden_size`` and define the two paths."""

    input_size: int
    hidden_size: int

    def initial_state(self, x: Tensor) -> State:
        """Zeros matching the batch, dtype and device of ``x`` (B, T, I)."""
        return x.new_zeros(x.shape[0], self.hidden_size)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """All hidden states (B, T, H) and the final state. Default: the step loop."""
        return self.loop(x, state)

    def step(self, x_t: Tensor, state: State) -> tuple[Tensor, State]:
        """One step of the recurrence: x_t (B, I) and the state -> h_t (B, H), the new state."""
        raise NotImplementedError

    def loop(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """The sequential reference: ``step`` for t = 1 … T."""
        state = self.initial_state(x) if state is None else state
        hs = []
        for t in range(x.shape[1]):
            h, state = self.step(x[:, t], state)  # (B, H)
            hs.append(h)
        return torch.stack(hs, dim=1), state  # (B, T, H)


CellFactory = Callable[..., Recurrence]
_REGISTRY: dict[str, CellFactory] = {}


def register_cell(name: str) -> Callable[[CellFactory], CellFactory]:
    """Decorator: make a recurrence available as ``make_cell(name, …)``."""

    def add(factory: CellFactory) -> CellFactory:
        _REGISTRY[name] = factory
        return factory

    return add


def cell_names() -> tuple[str, ...]:
    """The names :func:`make_cell` accepts."""
    _load_all()
    return tuple(_REGISTRY)


def make_cell(name: str, input_size: int, hidden_size: int, **options) -> Recurrence:
    """Build a recurrence by name (``rnn``, ``lstm``, ``gru``, …) with its options."""
    _load_all()
    if name not in _REGISTRY:
        from rnnlab.errors import RnnlabError

        raise RnnlabError(f"unknown cell {name!r}; choose one of {', '.join(_REGISTRY)}")
    return _REGISTRY[name](input_size, hidden_size, **options)


def _load_all() -> None:
    """Import the cell families so that their ``register_cell`` decorators run."""
    from rnnlab.cells import gated, init, minimal, vanilla  # noqa: F401
