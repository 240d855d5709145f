"""Gates at work: the additive path through a gate, and why it need not vanish.

    LSTM   c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t      ∂c_t/∂c_{t−1} = diag(f_t) + (paths through h)
    GRU    h_t = z_t ⊙ h_{t−1} + (1 − z_t) ⊙ n_t   ∂h_t/∂h_{t−1} = diag(z_t) + (paths through Wh)
    diagonal linear (minGRU, minLSTM)  h_t = a_t ⊙ h_{t−1} + b_t, a_t from x_t only:
                                       ∂h_T/∂h_t = diag(∏ a_s) exactly

The direct path over k steps is diag(∏_{s=t+1}^{T} gate_s): no Wh, no tanh', only the gate,
which the network sets itself. Where the gate is near 1 the path keeps the gradient (the
"constant error carousel" of Hochreiter & Schmidhuber 1997); near 0.5 it halves every step.
When the gates do not see h_{t−1} (W_hh = 0, or minGRU/minLSTM) it is the whole Jacobian.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from rnnlab.cells.base import Recurrence


@dataclass(frozen=True)
class GatePath:
    """The gate values along the sequence and the direct path they carry.

    Attributes
    ----------
    name : str          which gate and which path, in words
    state : str         "c" (the LSTM's cell state) or "h"
    values : ndarray (T, H)   the gate at steps 1 … T
    path : ndarray (T+1,)     max over units of ∏_{s=t+1}^{T} gate_s, for t = 0 … T
    exact : bool        True where the path is the whole Jacobian (gates blind to h_{t−1})
    """

    name: str
    state: str
    values: np.ndarray
    path: np.ndarray
    exact: bool


def direct_path(gate: np.ndarray) -> np.ndarray:
    """‖diag(∏_{s=t+1}^{T} g_s)‖₂ = max_i ∏ g_{s,i} for t = 0 … T (t = T: the empty product 1)."""
    T, H = gate.shape
    prods = np.ones((T + 1, H))
    for t in range(T - 1, -1, -1):
        prods[t] = prods[t + 1] * gate[t]  # gate[t] is the gate of step t + 1
    return np.abs(prods).max(axis=1)


@torch.no_grad()
def gate_path(cell: Recurrence, x: np.ndarray, h: np.ndarray) -> GatePath | None:
    """The gate path of an LSTM, GRU or diagonal linear cell; None for other cells.

    ``x`` (T, I) are the inputs and ``h`` (T+1, H) the hidden states h_0 … h_T of the run.
    """
    from rnnlab.cells.gated import GRU, LSTM

    X = torch.as_tensor(x, dtype=torch.float64)  # (T, I)
    if isinstance(cell, LSTM | GRU):
        W_ih, W_hh = cell.weight_ih.double(), cell.weight_hh.double()
        b_ih, b_hh = cell.bias_ih.double(), cell.bias_hh.double()
        H = cell.hidden_size
        hp = torch.as_tensor(h[:-1], dtype=torch.float64)  # h_{t−1}: (T, H)
        pre_x = X @ W_ih.T + b_ih  # (T, G·H)
        pre_h = hp @ W_hh.T + b_hh  # (T, G·H)
        blind = bool(torch.all(W_hh == 0))
        if isinstance(cell, LSTM):  # gate order i, f, g, o: f is rows H … 2H − 1
            f = torch.sigmoid(pre_x[:, H : 2 * H] + pre_h[:, H : 2 * H]).numpy()  # (T, H)
            name = "forget gate f_t: the cell-state path ∂c_T/∂c_t ⊇ diag(∏ f)"
            return GatePath(name, "c", f, direct_path(f), blind)
        z = torch.sigmoid(pre_x[:, H : 2 * H] + pre_h[:, H : 2 * H]).numpy()  # order r, z, n
        name = "update gate z_t: the path ∂h_T/∂h_t ⊇ diag(∏ z) (share of the old state kept)"
        return GatePath(name, "h", z, direct_path(z), blind)
    coefficients = getattr(cell, "coefficients", None)
    if callable(coefficients):  # h_t = a_t ⊙ h_{t−1} + b_t with a_t from x_t only
        a = copy.deepcopy(cell).double().coefficients(X)[0].numpy()  # (T, H), float64
        name = "a_t of h_t = a_t ⊙ h_{t−1} + b_t: ∂h_T/∂h_t = diag(∏ a) exactly"
        return GatePath(name, "h", a, direct_path(a), True)
    return None
