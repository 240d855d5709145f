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
