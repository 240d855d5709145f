"""What the neural forecasters minimise, element by element (the training loop averages).

    squared error   ℓ(ŷ, y) = (ŷ − y)²                               the mean forecast
    pinball         ℓ_τ(ŷ, y) = max(τ·(y − ŷ), (τ − 1)·(y − ŷ))      the τ-quantile

Minimising the mean pinball loss over many y gives ŷ = the τ-quantile of y (Koenker & Bassett
1978); with τ = 0.5 it is half the absolute error, whose minimiser is the median. A quantile
model has one output per τ (and per step h of a direct model): ŷ has a last axis of Q
quantiles, y none, and each output is scored against the same y.

>>> import torch
>>> pinball(torch.tensor([[0.0, 0.0]]), torch.tensor([1.0]), (0.1, 0.9)).tolist()
[[0.10000000149011612, 0.8999999761581543]]
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Loss = Callable[[Tensor, Tensor], Tensor]


def squared_error(pred: Tensor, y: Tensor) -> Tensor:
    """(ŷ − y)², element by element."""
    return (pred - y) ** 2


def pinball(pred: Tensor, y: Tensor, quantiles: tuple[float, ...]) -> Tensor:
    """ℓ_τ(ŷ, y) = max(τ·u, (τ − 1)·u), u = y − ŷ, for ŷ (…, Q) and y (…): (…, Q)."""
    tau = torch.as_tensor(quantiles, dtype=pred.dtype, device=pred.device)
    u = y.unsqueeze(-1) - pred  # (…, Q)
    return torch.maximum(tau * u, (tau - 1) * u)


def quantile_loss(quantiles: tuple[float, ...]) -> Loss:
    """The pinball loss at ``quantiles``, as a training loss for outputs (…, H·Q) against
    targets (…, H) (or (B,) and (B, Q) for one step)."""

    def loss(pred: Tensor, y: Tensor) -> Tensor:
        q = len(quantiles)
        return pinball(pred.reshape(*y.shape, q), y, quantiles)

    return loss


def interval_quantiles(levels: tuple[float, ...]) -> tuple[float, ...]:
    """The quantiles a model needs for central intervals at ``levels`` (fractions, 0.8) and
    its median: α/2 and 1 − α/2 for α = 1 − level, and 0.5, sorted.

    >>> interval_quantiles((0.8, 0.95))
    (0.025, 0.1, 0.5, 0.9, 0.975)
    """
    taus = {0.5}
    for level in levels:
        alpha = 1 - level
        taus |= {round(alpha / 2, 10), round(1 - alpha / 2, 10)}
    return tuple(sorted(taus))
