"""∂h_T/∂h_t for every t on any torch cell, by autograd through the step loop.

For a recurrence h_t = F(x_t, h_{t−1}) the chain rule makes the gradient that reaches h_t from
the last state a product of step Jacobians,

    ∂h_T/∂h_t = ∂h_T/∂h_{T−1} · ∂h_{T−1}/∂h_{T−2} · … · ∂h_{t+1}/∂h_t        (T − t factors)

which shrinks or grows geometrically with the lag k = T − t: the vanishing or exploding
gradient. For a vanilla RNN each factor is diag(φ'(a_s))·Wh, so with γ = max φ' (1 for tanh
and relu) ‖∂h_T/∂h_t‖ ≤ (γ·σ_max(Wh))^k.

For a cell whose state is (h, c) (the LSTM) ∂h_T/∂h_t holds c_t fixed, and the cell-state path
∂c_T/∂c_t (with h_t following c_t) is measured too.

How: one backward pass gives every Jacobian. The sequence is copied H times into a batch of H,
and copy b sends back e_b, the b-th unit of h_T; so copy b's gradient at h_t is row b of
∂h_T/∂h_t. The copies never mix (every cell treats batch rows independently).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rnnlab.cells.base import Recurrence, State
from rnnlab.errors import RnnlabError, ShapeError


@dataclass(frozen=True)
class Jacobians:
    """The Jacobian products of one run, index t for t = 0 … T (t = 0: the initial state).

    Attributes
    ----------
    dh : ndarray (T+1, H, H)      ∂h_T/∂h_t
    dc : ndarray (T+1, H, H) | None   ∂c_T/∂c_t for a cell with state (h, c), else None
    h : ndarray (T+1, H)          the hidden states h_0 … h_T
    c : ndarray (T+1, H) | None   the cell states c_0 … c_T (LSTM)
    """

    dh: np.ndarray
    dc: np.ndarray | None
    h: np.ndarray
    c: np.ndarray | None

    @property
    def steps(self) -> int:
        """T."""
        return self.dh.shape[0] - 1


def _leaf(s: Tensor) -> Tensor:
    return s.detach().clone().requires_grad_(True)


def state_jacobians(cell: Recurrence, x: Tensor | np.ndarray, h0: State | None = None):
    """∂h_T/∂h_t (and ∂c_T/∂c_t for an (h, c) state) for t = 0 … T, in float64.

    Parameters
    ----------
    cell : Recurrence
        Any cell from :func:`rnnlab.cells.make_cell`; a float64 copy is used, the cell itself
        is left as it is.
    x : (T, I)
        One input sequence.
    h0 : state for one sequence, optional
        (H,) or ((H,), (H,)) for the LSTM; ``None`` means the cell's zeros.

    Returns
    -------
    Jacobians
    """
    if not cell.has_state:
        raise RnnlabError(
            f"{type(cell).__name__} carries no state h_t from step to step, so ∂h_T/∂h_t does "
            "not exist for it; `rnnlab compare` measures its reach-back ‖∂L/∂x_t‖ instead"
        )
    cell = copy.deepcopy(cell).double().eval()
    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    if x.ndim != 2 or x.shape[1] != cell.input_size:
        raise ShapeError(f"inputs have shape {tuple(x.shape)}, expected (T, {cell.input_size})")
    T, H = x.shape[0], cell.hidden_size
    xb = x.expand(H, T, cell.input_size)  # (H, T, I): copy b backpropagates unit b of h_T
    if h0 is None:
        state = cell.initial_state(xb)
    elif isinstance(h0, tuple):
        state = tuple(torch.as_tensor(s, dtype=torch.float64).expand(H, H) for s in h0)
    else:
        state = torch.as_tensor(h0, dtype=torch.float64).expand(H, H)
    paired = isinstance(state, tuple)
    state = tuple(_leaf(s) for s in state) if paired else _leaf(state)
    hs = [state[0] if paired else state]  # h_0 … h_T, each (H copies, H)
    cs = [state[1]] if paired else []
    with torch.enable_grad():
        for t in range(T):
            h, state = cell.step(xb[:, t], state)  # (H, H)
            hs.append(h)
            if paired:
                cs.append(state[1])
        dh = torch.autograd.grad(hs[-1].diagonal().sum(), hs, retain_graph=paired)
        dc = torch.autograd.grad(cs[-1].diagonal().sum(), cs) if paired else None

    def stack(grads) -> np.ndarray:  # row b of ∂·_T/∂·_t is copy b's gradient
        return torch.stack(list(grads)).numpy()  # (T+1, H, H)

    def states(seq: list[Tensor]) -> np.ndarray:
        return torch.stack([s[0] for s in seq]).detach().numpy()  # (T+1, H): copy 0

    return Jacobians(
        dh=stack(dh),
        dc=stack(dc) if paired else None,
        h=states(hs),
        c=states(cs) if paired else None,
    )


def spectral_norms(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ_max and σ_min of each matrix in J (n, H, H): ‖J‖₂ and the weakest direction.

    A product that overflowed float64 (an entry ±inf or NaN) has σ_max = inf, σ_min unknown (NaN).
    """
    finite = np.all(np.isfinite(J), axis=(1, 2))  # (n,)
    top, bottom = np.full(len(J), np.inf), np.full(len(J), np.nan)
    if finite.any():
        s = np.linalg.svd(J[finite], compute_uv=False)  # (n_finite, H), descending
        top[finite], bottom[finite] = s[:, 0], s[:, -1]
    return top, bottom
