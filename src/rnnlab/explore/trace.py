"""The page's trace in Python: what ``#trace`` holds, computed by the glass box.

The keys are those of the walkthrough's JSON (``activation``, ``weights``, ``steps`` with
``t, x, h_prev, wx_x, wh_h, pre_activation, h, y``, ``prediction``, and ``scale`` with
``prediction_real_units`` when a scale is set), plus the backward pass the page draws:

    grad_norm[k]       = ‖∂h_T/∂h_{T−k}‖_F            k = 0 … T−1 (lag k; |·| when H = 1)
    loss               = mean over outputs of (y_T − target)²
    wh_grad            = dL/dWh, the sum of the per-lag terms below
    wh_grad_by_lag[k]  = ‖dL/da_t · h_{t−1}ᵀ‖_F at t = T − k   (step t's share of dL/dWh)

The page's JavaScript (``rnn.js``) is a second implementation of the same maths; the tests hold
the two to 1e-12 relative.
"""

from __future__ import annotations

import numpy as np

from rnnlab.data.scaling import Scaler
from rnnlab.glassbox import RNNParams, bptt, forward, jacobian_products, step_records
from rnnlab.glassbox.bptt import activation_derivative
from rnnlab.glassbox.steps import steps_json


def safe_norm(v: np.ndarray) -> float:
    """‖v‖_F = m·sqrt(Σ (v/m)²) with m = max |v|: no underflow to 0 for tiny entries (the page's
    gradients reach 1e-200), and exactly |v| for one number."""
    m = float(np.max(np.abs(v)))
    if m == 0.0:
        return 0.0
    return m * float(np.sqrt(np.sum((np.asarray(v) / m) ** 2)))


def build_trace(
    params: RNNParams,
    xs: np.ndarray,
    h0: np.ndarray | None = None,
    activation: str = "tanh",
    scaler: Scaler | None = None,
    target: float = 0.0,
) -> dict:
    """The trace for one state of the page.

    Arguments
    ---------
    params : the weights (H = I = O = 1 for the article's RNN, any sizes for a model)
    xs : (T, I) inputs; h0 : (H,) or None for zeros
    activation : "tanh" or "relu"
    scaler : the maths outside the cell, or None
    target : the value y_T is compared with in the loss (the same for every output)

    Returns
    -------
    dict, JSON-able: numbers for the scalar RNN, nested lists otherwise (as walkthrough).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        cache = forward(params, xs, h0=h0, activation=activation)
    steps = step_records(cache)

    def out(v: np.ndarray) -> float | list:
        return float(v.ravel()[0]) if params.is_scalar else np.asarray(v).tolist()

    prediction = cache.y[-1]
    result = steps_json(params, steps, prediction, activation, scaler)
    T = cache.steps
    J = jacobian_products(params, cache)  # (T+1, H, H): ∂h_T/∂h_t
    result["grad_norm"] = [safe_norm(J[T - k]) for k in range(T)]
    grads = bptt(params, cache, np.full(params.output_size, target), on="last")
    da = grads.dh[1:] * activation_derivative(cache)  # dL/da_t = dL/dh_t ⊙ φ'(a_t)   (T, H)
    result["target"] = float(target)
    result["loss"] = grads.loss
    result["wh_grad"] = out(grads.wh)
    result["wh_grad_by_lag"] = [
        safe_norm(np.outer(da[T - 1 - k], cache.h[T - 1 - k])) for k in range(T)
    ]  # step t = T − k: dL/da_t · h_{t−1}ᵀ
    return result
