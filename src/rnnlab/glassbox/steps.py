"""Step records: the unrolled computation as rows a person can read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.glassbox.forward import Cache


@dataclass(frozen=True)
class Step:
    """Every number of one time step t (1-based), as in the article.

    a_t = Wx·x_t + Wh·h_{t−1} + b;  h_t = tanh(a_t);  y_t = W_out·h_t + b_out
    """

    t: int
    x: np.ndarray
    h_prev: np.ndarray
    wx_x: np.ndarray
    wh_h: np.ndarray
    pre_activation: np.ndarray
    h: np.ndarray
    y: np.ndarray


def step_records(cache: Cache) -> list[Step]:
    """One :class:`Step` per time step, read straight from the forward cache."""
    return [
        Step(
            t=t,
            x=cache.x[t - 1],
            h_prev=cache.h[t - 1],
            wx_x=cache.wx_x[t - 1],
            wh_h=cache.wh_h[t - 1],
            pre_activation=cache.a[t - 1],
            h=cache.h[t],
            y=cache.p[t - 1],
        )
        for t in range(1, cache.steps + 1)
    ]


def steps_json(
    params, steps: list[Step], prediction: np.ndarray, activation: str, scaler=None
) -> dict:
    """What the walkthrough's JSON holds and the explore page keeps in ``#trace``:
    ``activation``, ``weights``, ``steps`` (``t, x, h_prev, wx_x, wh_h, pre_activation, h,
    y``), ``prediction``, and with a ``scaler`` its ``scale`` and ``prediction_real_units``.
    Plain numbers for the scalar RNN (H = I = O = 1), nested lists otherwise."""

    def out(v: np.ndarray) -> float | list:
        return float(np.ravel(v)[0]) if params.is_scalar else np.asarray(v).tolist()

    keys = ("x", "h_prev", "wx_x", "wh_h", "pre_activation", "h", "y")
    result: dict = {
        "activation": activation,
        "weights": {k: out(v) for k, v in params.as_dict().items()},
        "steps": [{"t": s.t, **{k: out(getattr(s, k)) for k in keys}} for s in steps],
        "prediction": out(prediction),
    }
    if scaler is not None:
        result["scale"] = scaler.to_dict()
        result["prediction_real_units"] = out(scaler.inverse_transform(prediction))
    return result
