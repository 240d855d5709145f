"""The unrolled forward pass, keeping every intermediate number.

For t = 1 … T, with the same Wx, Wh and b at every step:

    wx_x_t = Wx·x_t                       (H,)
    wh_h_t = Wh·h_{t−1}                   (H,)
    a_t    = wx_x_t + wh_h_t + b          the pre-activation
    h_t    = tanh(a_t)                    (or relu(a_t))
    y_t    = W_out·h_t + b_out            (O,)   linear head: y_t is the prediction
    p_t    = softmax(y_t)                 (O,)   softmax head: y_t are logits, p_t probabilities

A softmax over one output is always 1, so the softmax head needs O ≥ 2; the linear head is the
regression head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rnnlab.errors import ShapeError
from rnnlab.glassbox.head import ONE_OUTPUT
from rnnlab.glassbox.params import RNNParams

Activation = Literal["tanh", "relu"]
Head = Literal["linear", "softmax"]
ACTIVATIONS: tuple[str, ...] = ("tanh", "relu")
HEADS: tuple[str, ...] = ("linear", "softmax")


@dataclass(frozen=True)
class Cache:
    """Every number the forward pass computed; index t−1 holds step t (h holds h_0 first).

    Attributes
    ----------
    x : ndarray (T, I)      inputs x_1 … x_T
    h : ndarray (T+1, H)    hidden states h_0 … h_T
    wx_x : ndarray (T, H)   Wx·x_t
    wh_h : ndarray (T, H)   Wh·h_{t−1}
    a : ndarray (T, H)      pre-activations a_t = Wx·x_t + Wh·h_{t−1} + b
    y : ndarray (T, O)      head outputs y_t = W_out·h_t + b_out
    p : ndarray (T, O)      softmax(y_t) for the softmax head, else equal to y
    activation, head : str  what was used
    """

    x: np.ndarray
    h: np.ndarray
    wx_x: np.ndarray
    wh_h: np.ndarray
    a: np.ndarray
    y: np.ndarray
    p: np.ndarray
    activation: str
    head: str

    @property
    def steps(self) -> int:
        """T, the number of time steps."""
        return self.x.shape[0]


def activate(a: np.ndarray, activation: str) -> np.ndarray:
    """h = tanh(a) or h = max(a, 0)."""
    if activation == "tanh":
        return np.tanh(a)
    if activation == "relu":
        return np.maximum(a, 0.0)
    raise ShapeError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")


def softmax(y: np.ndarray) -> np.ndarray:
    """p_k = exp(y_k − max y) / Σ_j exp(y_j − max y), along the last axis."""
    z = np.exp(y - y.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def as_sequence(xs: np.ndarray | list, input_size: int) -> np.ndarray:
    """Inputs as a (T, I) float64 array; a flat list is T steps of one feature when I = 1."""
    x = np.asarray(xs, dtype=np.float64)
    if x.ndim == 1 and input_size == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != input_size:
        raise ShapeError(f"inputs have shape {x.shape}, expected (T, {input_size})")
    if x.shape[0] == 0:
        raise ShapeError("inputs are empty: give at least one time step")
    if not np.all(np.isfinite(x)):
        raise ShapeError("inputs hold NaN or inf")
    return x


def forward(
    params: RNNParams,
    xs: np.ndarray | list,
    h0: np.ndarray | None = None,
    activation: Activation = "tanh",
    head: Head = "linear",
) -> Cache:
    """Run the RNN over one sequence, unrolled, and keep every intermediate value.

    Parameters
    ----------
    params : RNNParams
        The same weights serve every step.
    xs : array (T, I), or (T,) when I = 1
        The input sequence.
    h0 : array (H,), optional
        The initial hidden state; ``None`` means zeros.
    activation : {"tanh", "relu"}
    head : {"linear", "softmax"}

    Returns
    -------
    Cache
        Inputs, all hidden states h_0 … h_T, both products, pre-activations and outputs.
    """
    if head not in HEADS:
        raise ShapeError(f"unknown head {head!r}; choose one of {', '.join(HEADS)}")
    if head == "softmax" and params.output_size < 2:
        raise ShapeError(f"the softmax head needs at least 2 outputs: {ONE_OUTPUT}")
    x = as_sequence(xs, params.input_size)
    T, H = x.shape[0], params.hidden_size
    h = np.zeros((T + 1, H))
    if h0 is not None:
        h0 = np.asarray(h0, dtype=np.float64).reshape(-1)
        if h0.shape != (H,) or not np.all(np.isfinite(h0)):
            raise ShapeError(f"h0 must hold {H} finite values, got {h0.size}")
        h[0] = h0
    wx_x = np.zeros((T, H))
    wh_h = np.zeros((T, H))
    a = np.zeros((T, H))
    for t in range(1, T + 1):  # the for-loop with memory: h[t] depends on h[t - 1]
        wx_x[t - 1] = params.wx @ x[t - 1]  # Wx·x_t
        wh_h[t - 1] = params.wh @ h[t - 1]  # Wh·h_{t−1}
        a[t - 1] = wx_x[t - 1] + wh_h[t - 1] + params.b  # a_t
        h[t] = activate(a[t - 1], activation)  # h_t = tanh(a_t)
    y = h[1:] @ params.wout.T + params.bout  # y_t = W_out·h_t + b_out    (T, O)
    p = softmax(y) if head == "softmax" else y
    return Cache(x=x, h=h, wx_x=wx_x, wh_h=wh_h, a=a, y=y, p=p, activation=activation, head=head)
