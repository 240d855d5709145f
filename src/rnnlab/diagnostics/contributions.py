"""Contributions (``gradients``): ∂L/∂Wh of a vanilla tanh RNN split by lag, by the glass box,
with torch autograd on the cell's own step as the check of the sum.

The loss is a unit error on the last output, as for ‖∂L/∂h_t‖ in the rest of the command:
L = (ŷ_T − y*)² with y* = ŷ_T − 1/2, so dL/dŷ_T = 1 and the gradients are those of ŷ_T itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from rnnlab.glassbox import RNNParams, WhContributions, forward, wh_contributions


@dataclass(frozen=True)
class CheckedContributions:
    """The split (:class:`~rnnlab.glassbox.WhContributions`) and autograd's ∂L/∂Wh."""

    split: WhContributions
    autograd: np.ndarray  # (H, H) from torch autograd through cell.step, float64

    @property
    def max_difference(self) -> float:
        """max |Σ_k term_k − autograd| over the entries of Wh."""
        return float(np.max(np.abs(self.split.total - self.autograd)))

    def to_dict(self) -> dict:
        """JSON-able, by lag k = 0 … T−1: the terms, δ and h_(T−k−1) (numbers for the scalar
        RNN, nested lists for matrices), the norms, the sum, autograd's, the long-range share
        and the verdict."""
        c = self.split
        H = c.total.shape[0]

        def out(v):
            return float(np.ravel(v)[0]) if H == 1 else np.asarray(v).tolist()

        return {
            "loss": "unit error on the last output: dL/dy_T = 1",
            "lags": list(range(len(c.terms))),
            "terms": [out(t) for t in c.terms],
            "delta": [out(d) for d in c.delta],
            "h_prev": [out(h) for h in c.h_prev],
            "term_norms": c.norms.tolist(),
            "sum": out(c.total),
            "autograd": out(self.autograd),
            "max_difference": self.max_difference,
            "long_lag": c.long_lag,
            "share_long": c.share_long,
            "wx_grad_norm": c.wx_norm,
            "verdict": c.verdict(),
        }


def glassbox_params(cell, head: np.ndarray) -> RNNParams:
    """The vanilla cell's Wx, Wh, b (the glass box's names) and the head ŷ = head·h_T."""
    get = {name: getattr(cell, name).detach().double().numpy() for name in ("wx", "wh", "b")}
    return RNNParams(**get, wout=np.asarray(head, dtype=np.float64)[None, :], bout=np.zeros(1))


def _autograd_wh(cell, x: np.ndarray, head: np.ndarray, target: float) -> np.ndarray:
    """∂L/∂Wh by torch autograd through the cell's own step loop, in float64."""
    cell = copy.deepcopy(cell).double()
    cell.zero_grad(set_to_none=True)
    xs = torch.as_tensor(x, dtype=torch.float64)[None]  # (1, T, I)
    h = torch.zeros(1, cell.hidden_size, dtype=torch.float64)  # (1, H)
    for t in range(xs.shape[1]):
        h, _ = cell.step(xs[:, t], h)
    y = h[0] @ torch.as_tensor(head, dtype=torch.float64)
    ((y - target) ** 2).backward()
    return cell.wh.grad.numpy().copy()


def wh_contributions_of(cell, x: np.ndarray, head: np.ndarray, long_lag: int):
    """Split ∂L/∂Wh of a vanilla tanh cell on the input x (T, I) and check the sum against
    autograd. Returns :class:`CheckedContributions`."""
    params = glassbox_params(cell, head)
    cache = forward(params, x)
    target = float(cache.y[-1, 0]) - 0.5  # dL/dŷ_T = 2·(ŷ_T − y*) = 1
    split = wh_contributions(params, cache, [target], long_lag=long_lag)
    return CheckedContributions(split, _autograd_wh(cell, x, head, target))
