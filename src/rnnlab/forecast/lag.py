"""The lag illusion: is a forecast only yesterday's value, shifted by a day?

A forecast that copies the last value draws a curve that hugs the actual one a day late, which
looks convincing on a plot. Two numbers expose it. For the test points t (each forecast x̂_t
made from the actual past) and shifts k = 0 … K:

    MSE_k  = mean_t (x̂_t − x_{t−k})²           k* = argmin_k MSE_k   (the best-aligning shift)
    ρ_Δ    = corr(x̂_t − x_{t−1}, x_t − x_{t−1})  predicted change against actual change

Persistence has k* = 1 exactly (MSE_1 = 0) and no predicted change at all. A model whose
forecast lines up best with the *previous* value (k* = 1) and that does not beat persistence
significantly (Diebold-Mariano p ≥ 0.05, or no p) is flagged as "persistence in disguise".
k* = 1 alone is no verdict: the best forecast of any series whose moves are positively
autocorrelated also sits closer to x_{t−1} than to x_t; the significance test is what
separates a real signal from a copy.

>>> x = np.arange(10.0) ** 2
>>> d = lag_check(x, 5, x[4:9], p_value=None)  # the forecast of x_t is x_{t−1}
>>> d.shift, d.persistence_in_disguise
(1, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_SHIFT = 5
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class LagCheck:
    """One model's lag diagnosis on the test points.

    shift                    k*, the shift whose MSE_k is the smallest (the first on a tie)
    mse                      MSE_k for k = 0 … K
    change_corr              ρ_Δ; None where either change has no spread (persistence)
    persistence_in_disguise  k* = 1 and not significantly better than persistence
    """

    shift: int
    mse: tuple[float, ...]
    change_corr: float | None
    persistence_in_disguise: bool

    def to_dict(self) -> dict:
        """JSON-able."""
        return {
            "shift": self.shift,
            "shift_mse": list(self.mse),
            "change_corr": self.change_corr,
            "persistence_in_disguise": self.persistence_in_disguise,
        }


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float(a @ a) * float(b @ b))
    return None if den == 0 or not math.isfinite(den) else float(a @ b) / den


def lag_check(
    values: np.ndarray,
    test_start: int,
    forecast: np.ndarray,
    p_value: float | None,
    max_shift: int = MAX_SHIFT,
) -> LagCheck:
    """Diagnose ``forecast`` (x̂_t for t = test_start …, one per test point) against the whole
    series ``values`` (the values before ``test_start`` give x_{t−k}, so at most ``test_start``
    shifts are tried); ``p_value`` is the model's Diebold-Mariano p against persistence
    (None: not computed)."""
    x = np.asarray(values, dtype=np.float64)
    f = np.asarray(forecast, dtype=np.float64)
    n = f.size
    if test_start < 1 or test_start + n > x.size:
        raise ValueError(f"test part [{test_start}, {test_start + n}) outside {x.size} values")
    max_shift = min(max_shift, test_start)  # as many shifts as there are earlier values
    t = np.arange(test_start, test_start + n)
    mse = tuple(float(np.mean((f - x[t - k]) ** 2)) for k in range(max_shift + 1))
    shift = int(np.argmin(mse))
    previous = x[t - 1]
    rho = _corr(f - previous, x[t] - previous)
    significant = p_value is not None and p_value < SIGNIFICANCE
    return LagCheck(shift, mse, rho, shift == 1 and not significant)
