"""Parallel-in-time evaluation of the tanh RNN: DEER and quasi-DEER.

DEER (Lim et al. 2024, "Parallelizing non-linear sequential models over the sequence length")
treats the whole trajectory h_1 … h_T as the unknown of one system of equations
h_t = f(h_{t−1}, x_t) and solves it by Newton's method. Linearising f at the current guess h^k,

    h_t = f(h^k_{t−1}) + J_t·(h_{t−1} − h^k_{t−1}),   J_t = ∂f/∂h_{t−1} = diag(1 − f²)·Wh,

is a *linear* recurrence h_t = J_t h_{t−1} + r_t, r_t = f(h^k_{t−1}) − J_t h^k_{t−1}, solved
for all t at once by a parallel scan (depth O(log T)). quasi-DEER (Gonzalez et al. 2024,
"Towards scalable and stable parallelization of nonlinear RNNs") keeps only the diagonal of
J_t, diag(1 − f²)·diag(Wh), so the scan is elementwise: O(H) instead of O(H³) work per step.
After k iterations the first k steps are exact, so both converge in at most T iterations;
Newton converges quadratically once close. The sequential depth is iterations × ⌈log2 T⌉
(each scan level is one parallel step; our odd/even scan takes two passes per level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

from rnnlab.kernels.scan import affine_scan


@dataclass
class DeerResult:
    """The trajectory and how it was reached."""

    h: Tensor  # (B, T, H) the last iterate
    iterations: int  # Newton (or quasi-Newton) iterations taken
    converged: bool  # max |h^{k+1} − h^k| fell below tol
    changes: list[float] = field(default_factory=list)  # max |h^{k+1} − h^k| per iteration

    @property
    def depth(self) -> int:
        """Sequential depth: iterations × ⌈log2 T⌉ (against T for the plain loop)."""
        return self.iterations * max(1, math.ceil(math.log2(self.h.shape[1])))


@torch.no_grad()
def deer(
    x: Tensor,
    h0: Tensor | None,
    wx: Tensor,
    wh: Tensor,
    b: Tensor,
    quasi: bool = False,
    tol: float = 1e-9,
    max_iter: int | None = None,
) -> DeerResult:
    """Evaluate h_t = tanh(Wx·x_t + Wh·h_{t−1} + b) for all t by (quasi-)Newton iterations.

    Arguments
    ---------
    x : (B, T, I) inputs;  h0 : (B, H) or None for zeros
    wx, wh, b : (H, I), (H, H), (H,) the vanilla RNN's parameters
    quasi : keep only the diagonal of the Jacobian (quasi-DEER)
    tol : stop when max |h^{k+1} − h^k| < tol
    max_iter : at most this many (default T + 1: exact after T, one more to see it)

    Returns
    -------
    DeerResult with h (B, T, H), the iteration count and the change per iteration.
    """
    B, T, _ = x.shape
    H = wh.shape[0]
    h0 = x.new_zeros(B, H) if h0 is None else h0
    u = x @ wx.T + b  # (B, T, H)  the input part, fixed
    h = x.new_zeros(B, T, H)  # h^0: the initial guess
    diag_wh = torch.diagonal(wh)  # (H,)
    changes: list[float] = []
    for _ in range(T + 1 if max_iter is None else max_iter):
        prev = torch.cat([h0[:, None], h[:, :-1]], dim=1)  # (B, T, H)  h^k_{t−1}
        f = torch.tanh(u + prev @ wh.T)  # (B, T, H)  f(h^k_{t−1})
        dphi = 1 - f * f  # (B, T, H)  tanh' at the guess
        if quasi:
            J = dphi * diag_wh  # (B, T, H)  diagonal of J_t
            r = f - J * prev
        else:
            J = dphi[..., None] * wh  # (B, T, H, H)  J_t = diag(1 − f²)·Wh
            r = f - (J @ prev[..., None])[..., 0]
        new = affine_scan(J, r, h0)  # (B, T, H)  h_t = J_t h_{t−1} + r_t
        changes.append(float((new - h).abs().max()))
        h = new
        if changes[-1] < tol:
            return DeerResult(h, len(changes), True, changes)
    return DeerResult(h, len(changes), False, changes)
