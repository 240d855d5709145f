"""The theory lines, the fitted growth rate per step, and the one-line verdict.

Vanilla RNN, h_t = φ(Wx·x_t + Wh·h_{t−1} + b): the step Jacobian is diag(φ'(a_t))·Wh, so

    ‖∂h_T/∂h_t‖ ≤ (γ·σ_max(Wh))^k,   k = T − t,  γ = max φ' = 1 for tanh and relu

and for the scalar tanh RNN at zero input, zero bias and h_0 = 0 every state is 0, φ'(0) = 1,
and the bound is exact: ∂h_T/∂h_t = Wh^k (Wh = 0.5: 0.5^49 = 1.78e-15; Wh = 1.5: 1.5^49 =
4.26e8).

The growth rate per step ρ is fitted by least squares on the log scale, log ‖J_k‖ ≈ log C +
k·log ρ, over the lags k ≥ 1 whose norm is positive: ρ < 1 vanishes, ρ > 1 explodes.
"""

from __future__ import annotations

import numpy as np

VANISHING, EXPLODING = 1e-2, 1e2  # ratio (oldest lag / lag 0) beyond which we call it so


def spectrum(W: np.ndarray) -> dict:
    """σ_max, σ_min and the spectral radius max|λ| of a square matrix, and its singular values."""
    s = np.linalg.svd(W, compute_uv=False)
    return {
        "sigma_max": float(s[0]),
        "sigma_min": float(s[-1]),
        "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(W)))),
        "singular_values": s.tolist(),
    }


def power_line(base: float, lags: np.ndarray) -> np.ndarray:
    """base^k for every lag k: Wh^k (scalar, exact) or (γ·σ_max)^k (the bound)."""
    return np.power(float(base), np.asarray(lags, dtype=np.float64))


def fit_rate(lags: np.ndarray, norms: np.ndarray) -> float:
    """ρ = exp(slope) of the least-squares line through (k, log ‖J_k‖), lags k ≥ 1.

    A norm of exactly 0 (underflow, or ReLU units switched off on every path) has no logarithm:
    the fit uses the lags before the first 0. With fewer than two such lags, ρ = 0 if the
    gradient reached 0 and 1 otherwise.
    """
    lags, norms = np.asarray(lags, dtype=np.float64), np.asarray(norms, dtype=np.float64)
    zero = _first_zero(lags, norms)
    keep = (lags >= 1) & np.isfinite(norms) & (norms > 0) & (lags < (zero or np.inf))
    if keep.sum() < 2:
        return 0.0 if zero is not None else 1.0
    slope = np.polyfit(lags[keep], np.log(norms[keep]), 1)[0]  # log ‖J_k‖ = log C + k·log ρ
    return float(np.exp(slope))


def _first_zero(lags: np.ndarray, norms: np.ndarray) -> int | None:
    zeros = np.flatnonzero((np.asarray(lags) >= 1) & (np.asarray(norms) == 0))
    return int(lags[zeros[0]]) if zeros.size else None


def verdict(lags: np.ndarray, norms: np.ndarray, rate: float, what: str = "gradient") -> str:
    """One line: vanishing, exploding or kept, with the oldest lag's share of lag 0's norm."""
    k = int(lags[-1])
    ratio = float(norms[-1] / norms[0]) if norms[0] > 0 else float("inf")
    share = f"the {what} from {k} steps back is {ratio:.3g} of the last step's"
    per_step = f"(×{rate:.3g} per step)"
    zero = _first_zero(lags, norms)
    if zero is not None:
        return f"vanishing: {share}: exactly 0 from {zero} steps back (×{rate:.3g} per step before)"
    if ratio < VANISHING:
        return f"vanishing: {share} {per_step}"
    if ratio > EXPLODING:
        return f"exploding: {share} {per_step}"
    return f"neither vanishing nor exploding over {k} steps: {share} {per_step}"
