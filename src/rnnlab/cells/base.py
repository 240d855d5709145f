"""The one small interface every recurrence in rnnlab implements.

A recurrence maps a batch of sequences to the hidden state at every step:

    forward(x (B, T, I), state) -> (h (B, T, H), final state)
    step(x_t (B, I), state)     -> (h_t (B, H), new state)

``forward`` is the fast path (a fused kernel, cuDNN/oneDNN, or a parallel scan); ``step`` is the
plain for-loop body. Both must agree; the tests check each cell's pair. The state is a tensor
(B, H) for most cells and a tuple ``(h, c)`` for the LSTM; ``None`` means zeros.

Calling a cell, ``cell(x, state)``, is what ``nn.RNN`` users expect, for every cell alike (the
base class does it once, around each cell's own ``forward``):

    x (B, T, I), state (B, H) or None       -> h (B, T, H), final state (B, H)
    x (T, I) unbatched, state (H,) or None  -> h (T, H), final state (H,)

and an input with the wrong number of features I is refused with a message that says so,
not by a matrix product's shape error. ``repr(cell)`` shows its sizes: ``GRU(1, 32)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from rnnlab.errors import ShapeError

State = Tensor | tuple[Tensor, Tensor]


class Recurrence(nn.Module):
    """Base class: subclasses set ``input_size`` and ``hidden_size`` and define the two paths."""

    input_size: int
    hidden_size: int
    # False for a cell whose output is not carried step to step in a state h_t (the causal
    # Transformer): ∂h_T/∂h_t (rnnlab.diagnostics.jacobians) has no meaning for it
    has_state: bool = True

    def __call__(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """``forward`` (hooks included) on a batch (B, T, I) or one unbatched sequence (T, I),
        the input's feature count and the state's shape checked first."""
        if not isinstance(x, Tensor) or x.dim() not in (2, 3):
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ShapeError(
                f"{type(self).__name__}: expected input (B, T, I) or unbatched (T, I), got {shape}"
            )
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{type(self).__name__}: expected input with I={self.input_size} features (last "
                f"dimension), got {x.shape[-1]}"
            )
        batched = x.dim() == 3
        if state is not None:
            self._check_state(state, x.shape[0] if batched else None)
        if batched:
            return super().__call__(x, state)
        if state is not None:
            state = _map(state, lambda s: s[None])  # (H,) -> (1, H)
        h, final = super().__call__(x[None], state)  # (1, T, H)
        return h[0], _map(final, lambda s: s[0])  # (T, H), (H,)

    def _check_state(self, state: State, batch: int | None) -> None:
        want = (self.hidden_size,) if batch is None else (batch, self.hidden_size)
        for s in state if isinstance(state, tuple) else (state,):
            if tuple(s.shape) != want:
                what = "(H,) for unbatched input" if batch is None else "(B, H)"
                raise ShapeError(
                    f"{type(self).__name__}: expected a state of shape {want} {what}, got "
                    f"{tuple(s.shape)}"
                )

    def extra_repr(self) -> str:
        """``I, H`` as nn.RNN shows them; cells with options add theirs."""
        return f"{self.input_size}, {self.hidden_size}"

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


def _map(state: State, fn: Callable[[Tensor], Tensor]) -> State:
    """``fn`` on the state tensor, or on each of ``(h, c)``."""
    return tuple(fn(s) for s in state) if isinstance(state, tuple) else fn(state)  # type: ignore[return-value]


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
    # the package's __init__ has registered lstm, gru, mingru, minlstm, rnn; then irnn, and the
    # transformer last (the order of settings.cells.BUILTIN_CELLS)
    from rnnlab.cells import gated, init, minimal, transformer, vanilla  # noqa: F401
