"""Problem 2, reach-back: how much of the output's gradient reaches the input k steps back.

For the network of the adding problem (a cell and a linear head on the last output ŷ), and a
batch of its sequences, one backward pass of Σ_b ŷ_b gives ∂ŷ_b/∂x_{b,t} for every sequence and
step (the rows of a batch never mix, in any cell); the reach at lag k = T − t is

    g_k = mean over b of ‖∂ŷ_b/∂x_{b,T−k}‖₂

For a tanh RNN this is w_outᵀ·∂h_T/∂h_t·∂h_t/∂x_t, a product of k step Jacobians: it shrinks
geometrically (the vanishing gradient, Bengio et al. 1994). Gates slow the shrinking (LSTM,
GRU: ∏ f, ∏ z). Attention joins ŷ to every x_t by one softmax weight per layer, so g_k need
not shrink with k at all. ``rate`` is the fitted factor per step
(:func:`rnnlab.diagnostics.theory.fit_rate`, the same fit as ``rnnlab gradients``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnlab.diagnostics.theory import fit_rate
from rnnlab.settings.tasks import RunConfig
from rnnlab.tasks.adding import AddingProblem
from rnnlab.tasks.model import TaskNet
from rnnlab.tasks.runner import build_net, run_task

PROBE_BATCH = 32  # sequences the reach is averaged over


def input_gradients(net: TaskNet, x: torch.Tensor) -> np.ndarray:
    """g_k for k = 0 … T − 1 (index = lag), by one backward pass; x (B, T, I)."""
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        y = net(x)  # (B, O)
        (grad,) = torch.autograd.grad(y.sum(), x)  # (B, T, I)
    per_t = grad.norm(dim=-1).mean(dim=0)  # (T,) index t
    return per_t.flip(0).double().numpy()  # index k = T − 1 − t … lag 0 first


@dataclass(frozen=True)
class Reach:
    """One cell's reach-back: g by lag at initialisation and, if trained, after ``steps``."""

    cell: str
    params: int
    init: np.ndarray
    init_rate: float
    trained: np.ndarray | None = None
    trained_rate: float | None = None
    steps: int = 0
    trained_loss: float | None = None

    def to_dict(self) -> dict:
        """JSON-able."""
        return {
            "params": self.params,
            "init": self.init.tolist(),
            "init_rate": self.init_rate,
            "trained": None if self.trained is None else self.trained.tolist(),
            "trained_rate": self.trained_rate,
            "steps": self.steps,
            "trained_loss": self.trained_loss,
        }


def _rate(g: np.ndarray) -> float:
    return fit_rate(np.arange(len(g)), g)


def measure_reach(
    cell: str, hidden: int, length: int, steps: int, seed: int, device: str = "cpu"
) -> Reach:
    """g_k on a fresh adding-problem network (on the CPU), then (``steps`` > 0) after Adam
    trains it on ``device`` (the trained net comes back to the CPU)."""
    task = AddingProblem(length)
    config = RunConfig(
        cell=cell, hidden=hidden, max_steps=max(steps, 1), budget=None,
        eval_every=max(steps, 1), eval_size=200, stop_when_solved=False, seed=seed,
        device=device,
    )  # fmt: skip
    net = build_net(task, config)
    x, _ = task.batch(PROBE_BATCH, torch.Generator().manual_seed(seed + 7))  # (B, T, 2)
    params = sum(p.numel() for p in net.cell.parameters())
    g0 = input_gradients(net, x)
    if steps == 0:
        return Reach(cell, params, g0, _rate(g0))
    result = run_task(task, config)
    assert result.net is not None
    g1 = input_gradients(result.net, x)
    return Reach(
        cell, params, g0, _rate(g0), g1, _rate(g1), result.steps,
        None if not np.isfinite(result.final_loss) else float(result.final_loss),
    )  # fmt: skip
