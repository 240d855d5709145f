"""One optimisation step, the same in every training loop of rnnlab.

Forecasting (:func:`rnnlab.forecast.training.train`: epochs over fixed windows, early
stopping), the long-memory tasks (:func:`rnnlab.tasks.runner.run_task`: fresh batches, a time
budget) and the exploding-gradient demonstration (the task runner, twice) differ in where the
batches come from and when they stop; the step itself is this one. With θ the parameters and
c the clip threshold:

    L = loss(θ)                       must be finite, else the last step is undone
    g = ∂L/∂θ,  ‖g‖ = sqrt(Σ_p ‖∂L/∂p‖²)   recorded *before* clipping
    g ← g · min(1, c/‖g‖)              if clipping (the clip "fired" when ‖g‖ > c)
    θ ← optimiser(θ, g)                unless ‖g‖ is not finite, or has exploded:
                                       ‖g‖ > explode_factor · ‖g_1‖ (the first recorded)

A step that cannot be taken returns a :class:`Stop` saying why, in words; the loop decides what
to do with it (both loops stop). The records (``grad_norm``, ``clipped``, ``step_loss``) are
lists the caller owns, so a resumed run appends to the record it had.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor


@dataclass(frozen=True)
class Stop:
    """Why a step was not taken: ``kind`` is "loss" or "gradient" (NaN/inf) or "exploded"."""

    kind: str
    loss: float
    norm: float | None = None  # ‖g‖ before clipping, when it was computed
    first: float | None = None  # ‖g_1‖, for "exploded"

    @property
    def status(self) -> str:
        """The run's status word: "diverged" (NaN/inf) or "exploded"."""
        return "exploded" if self.kind == "exploded" else "diverged"


class StepRecord(Protocol):
    """Where :class:`Stepper` appends, per step (the forecaster's ``TrainHistory`` and the task
    runner's ``RunResult`` both are one)."""

    grad_norm: list[float]  # ‖g‖ before clipping
    clipped: list[bool]  # did the clip fire
    step_loss: list[float]  # L of the batch


class Stepper:
    """Takes optimisation steps on ``params`` with ``optimizer``, recording into ``record``.

    ``clip``: clip the global L2 norm of the gradient to this (None: never).
    ``explode_factor``: refuse a step whose ‖g‖ exceeds this many times the first recorded
    ‖g‖ (None: never); the robust sign of an explosion, whatever the CPU's rounding.
    """

    def __init__(
        self,
        params: list[Tensor],
        optimizer: torch.optim.Optimizer,
        record: StepRecord,
        clip: float | None = None,
        explode_factor: float | None = None,
    ) -> None:
        self.params = params
        self.optimizer = optimizer
        self.record = record
        self.clip = clip
        self.explode_factor = explode_factor
        self._before: list[Tensor] | None = None  # θ before the last step taken

    def undo(self) -> None:
        """Put back the weights from before the last step taken (if any)."""
        if self._before is not None:
            with torch.no_grad():
                for p, saved in zip(self.params, self._before, strict=True):
                    p.copy_(saved)

    def step(self, loss_fn: Callable[[], tuple[Tensor, float]]) -> Stop | None:
        """One step: ``loss_fn()`` returns (the loss to differentiate, its value as a float).

        Returns None when the step was taken, else a :class:`Stop` (nothing is changed, but
        for a non-finite loss, which undoes the step before: those weights made it).
        """
        self.optimizer.zero_grad(set_to_none=True)
        loss, value = loss_fn()
        if not math.isfinite(value):  # the last step made these weights fail: undo it
            self.undo()
            return Stop("loss", value)
        loss.backward()
        if self.clip is not None:  # returns ‖g‖ before it rescales g
            norm = float(torch.nn.utils.clip_grad_norm_(self.params, self.clip))
        else:
            grads = [p.grad for p in self.params if p.grad is not None]
            norm = float(torch.nn.utils.get_total_norm(grads))
        rec = self.record
        rec.step_loss.append(value)
        rec.grad_norm.append(norm)
        rec.clipped.append(self.clip is not None and norm > self.clip)
        if not math.isfinite(norm):  # a finite loss but no usable step: these weights stay
            return Stop("gradient", value, norm)
        first = rec.grad_norm[0]
        if self.explode_factor is not None and 0 < first * self.explode_factor < norm:
            return Stop("exploded", value, norm, first)  # ‖g_k‖ > factor · ‖g_1‖
        self._before = [p.detach().clone() for p in self.params]
        self.optimizer.step()
        return None
