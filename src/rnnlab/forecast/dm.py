"""The Diebold-Mariano test: is a model's squared error lower than a baseline's, beyond luck?

For the n forecasts of the same targets x_t made h steps ahead by a baseline (b) and a model
(m), the loss differential and the statistic (Diebold & Mariano 1995, §1):

    d_t = (x_t − x̂_t^b)² − (x_t − x̂_t^m)²              > 0 where the model is better
    DM  = mean(d) / sqrt(V̂ / n),   p = P(Z > DM), Z ~ N(0, 1)     (one-sided: model better)

h-step errors from consecutive origins overlap (they share h − 1 shocks), so d_t is
autocorrelated up to lag h − 1 and V̂ is the Newey-West (HAC) long-run variance of d with
L = h − 1 lags and Bartlett weights w_j = 1 − j / (L + 1):

    V̂ = γ̂_0 + 2 Σ_{j=1..L} w_j γ̂_j,    γ̂_j = (1/n) Σ_t (d_t − d̄)(d_{t−j} − d̄),   × n/(n − 1)

It is computed by statsmodels, as the standard error of the constant in an OLS regression of
d on a constant with ``cov_type="HAC"`` (``use_correction=True`` is the factor n/(n − 1), so
that with h = 1 V̂ is ``var(d, ddof=1)``: the plain test of
:func:`rnnlab.forecast.experiment.diebold_mariano`, which calls this one).

With few forecasts (a backtest's K origins) the normal approximation is far too bold: four
origins gave p = 2·10⁻⁵. ``small_sample=True`` applies the correction of Harvey, Leybourne &
Newbold (1997, eq. 9) and reads p from Student's t with n − 1 degrees of freedom:

    DM* = DM · sqrt((n + 1 − 2h + h(h − 1)/n) / n),   p = P(T_{n−1} > DM*)

(undefined, None, when the factor under the root is not positive: too few forecasts for h).

>>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
>>> round(dm_pvalue(x, x - 1.0, x - np.array([0.1, -0.2, 0.3, 0.0, 0.2])), 6)
0.0
>>> dm_pvalue(x, x - 1.0, x - 1.0) is None      # the same errors: no differential to test
True
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["dm_pvalue", "dm_statistic"]


def dm_statistic(d: np.ndarray, lags: int = 0) -> float | None:
    """DM = mean(d) / sqrt(V̂ / n) for the loss differentials ``d`` (in time order) with a
    Newey-West variance of ``lags`` lags (capped at n − 1); None where it is undefined (fewer
    than 2 values, a constant d, a NaN or inf)."""
    from statsmodels.regression.linear_model import OLS

    d = np.asarray(d, dtype=np.float64).ravel()
    if d.size < 2 or not np.all(np.isfinite(d)):
        return None
    size = float(np.max(np.abs(d)))
    if size == 0 or not math.isfinite(size) or np.ptp(d) == 0:
        return None
    d = d / size  # DM does not change with the scale of d; γ̂ of huge d would overflow
    lags = max(0, min(int(lags), d.size - 1))
    fit = OLS(d, np.ones((d.size, 1))).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=False
    )
    se = float(fit.bse[0])  # sqrt(V̂ / n)
    if not se > 0 or not math.isfinite(se):
        return None
    return float(fit.params[0]) / se


def dm_pvalue(
    actual: np.ndarray,
    baseline: np.ndarray,
    model: np.ndarray,
    horizon: int = 1,
    small_sample: bool = False,
) -> float | None:
    """One-sided p-value that ``model`` has lower squared error than ``baseline`` on the same
    targets ``actual`` (1-D, in time order), forecast ``horizon`` steps ahead (HAC with
    ``horizon − 1`` lags; ``small_sample``: the Harvey-Leybourne-Newbold correction and
    Student's t); None where the statistic is undefined."""
    actual, baseline, model = (np.asarray(a, dtype=np.float64) for a in (actual, baseline, model))
    d = (actual - baseline) ** 2 - (actual - model) ** 2  # > 0 where the model is better
    dm = dm_statistic(d, horizon - 1)
    if dm is None:
        return None
    if not small_sample:
        return 0.5 * math.erfc(dm / math.sqrt(2))  # P(Z > DM)
    from scipy.stats import t as student

    n, h = d.size, horizon
    factor = (n + 1 - 2 * h + h * (h - 1) / n) / n  # HLN (1997), eq. 9
    if factor <= 0:
        return None
    return float(student.sf(dm * math.sqrt(factor), df=n - 1))  # P(T_{n−1} > DM*)
