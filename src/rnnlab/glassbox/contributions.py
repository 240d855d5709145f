"""∂L/∂Wh split by lag: is the gradient of Wh tiny, or only its long-range part?

Wh is used at every step, so its gradient is a sum over the steps. With δ_t = dL/da_t (the
gradient at the pre-activation, from :func:`~rnnlab.glassbox.bptt.bptt`'s dL/dh_t):

    ∂L/∂Wh = Σ_{t=1..T} δ_t · h_{t−1}ᵀ = Σ_{k=0..T−1} δ_{T−k} · h_{T−k−1}ᵀ     (lag k = T − t)

For a loss on the last output and the scalar tanh RNN, each term has a closed form:

    δ_T     = dL/dy_T · W_out · (1 − h_T²)
    δ_{T−k} = δ_T · Π_{j=T−k..T−1} Wh·(1 − h_j²)      (k factors Wh·tanh'(a_j))

so term k carries Wh^k: with |Wh| = 0.5 the term of lag 10 is below 0.5^10 ≈ 1e-3 of the
size it would have at lag 0. The sum is dominated by its first few terms, so the gradient is
not small. What vanishes is the part that would teach Wh about long-range dependencies.

>>> from rnnlab.glassbox import RNNParams, forward
>>> p = RNNParams.scalar(wx=1.0, wh=0.5, wout=1.0)
>>> cache = forward(p, [1.0, 1.0, 1.0, 1.0])
>>> c = wh_contributions(p, cache, targets=[0.0], long_lag=2)
>>> bool(np.allclose(c.total, c.bptt_wh, rtol=0, atol=1e-15)), len(c.terms)
(True, 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.glassbox.bptt import LossOn, activation_derivative, bptt
from rnnlab.glassbox.forward import Cache
from rnnlab.glassbox.params import RNNParams


@dataclass(frozen=True)
class WhContributions:
    """∂L/∂Wh by lag.

    Attributes
    ----------
    terms : ndarray (T, H, H)   term k = δ_{T−k} · h_{T−k−1}ᵀ, k = 0 … T−1
    delta : ndarray (T, H)      δ_{T−k} = dL/da_{T−k}, in the same lag order
    h_prev : ndarray (T, H)     h_{T−k−1}, in the same lag order
    total : ndarray (H, H)      Σ_k terms[k]
    bptt_wh : ndarray (H, H)    ∂L/∂Wh as :func:`bptt` returns it (equal to ``total``)
    long_lag : int              K
    share_long : float          Σ_{k≥K} ‖term_k‖ / Σ_k ‖term_k‖ (Frobenius norms; 0 if all 0)
    loss : float
    wx_norm : float             ‖∂L/∂Wx‖ from the same pass, the yardstick for "tiny"
    """

    terms: np.ndarray
    delta: np.ndarray
    h_prev: np.ndarray
    total: np.ndarray
    bptt_wh: np.ndarray
    long_lag: int
    share_long: float
    loss: float
    wx_norm: float

    @property
    def norms(self) -> np.ndarray:
        """‖term_k‖ for k = 0 … T−1."""
        return np.linalg.norm(self.terms.reshape(len(self.terms), -1), axis=1)

    def verdict(self) -> str:
        """What the split shows, in words."""
        T, K = len(self.terms), self.long_lag
        size = float(np.linalg.norm(self.total))
        short = float(np.linalg.norm(self.terms[: min(K, T)].sum(axis=0)))
        tiny = size < 1e-3 * self.wx_norm
        head = f"‖∂L/∂Wh‖ = {size:.3g} (‖∂L/∂Wx‖ = {self.wx_norm:.3g}): " + (
            "the gradient of Wh is tiny too. " if tiny else "the gradient of Wh is not tiny. "
        )
        return head + (
            f"The terms of lags 0 to {min(K, T) - 1} add up to {short:.3g} in norm, and lags "
            f"≥ {K} hold {100 * self.share_long:.3g}% of the terms' total size. What vanishes "
            "is the long-range part: Wh is updated, but only by what happened in the last few "
            "steps, so it cannot learn a dependency that reaches further back."
        )


def wh_contributions(
    params: RNNParams,
    cache: Cache,
    targets: np.ndarray | float | list,
    on: LossOn = "last",
    long_lag: int = 10,
) -> WhContributions:
    """Split ∂L/∂Wh of :func:`bptt` (same loss, same targets) into its terms by lag.

    δ_t = dL/dh_t ⊙ φ'(a_t) from bptt's dL/dh_t; term k = δ_{T−k} · h_{T−k−1}ᵀ.
    """
    if long_lag < 0:
        raise ValueError(f"long_lag must be at least 0, got {long_lag}")
    g = bptt(params, cache, targets, on=on)
    T = cache.steps
    delta_t = g.dh[1:] * activation_derivative(cache)  # δ_t = dL/dh_t ⊙ φ'(a_t)   (T, H)
    delta = delta_t[::-1]  # lag order: δ_T, δ_{T−1}, …, δ_1                         (T, H)
    h_prev = cache.h[:-1][::-1]  # h_{T−1}, h_{T−2}, …, h_0                          (T, H)
    terms = np.einsum("ti,tj->tij", delta, h_prev)  # δ_{T−k} · h_{T−k−1}ᵀ           (T, H, H)
    norms = np.linalg.norm(terms.reshape(T, -1), axis=1)
    whole = float(norms.sum())
    share = float(norms[long_lag:].sum()) / whole if whole > 0 else 0.0
    return WhContributions(
        terms=terms,
        delta=delta,
        h_prev=h_prev,
        total=terms.sum(axis=0),
        bptt_wh=g.wh,
        long_lag=long_lag,
        share_long=share,
        loss=g.loss,
        wx_norm=float(np.linalg.norm(g.wx)),
    )
