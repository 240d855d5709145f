"""Gradient flow through time, measured on a real network next to the theory.

For every lag k = T − t (k = 0 … T − 1, the states the network computed):

    grad_norm[k]       ‖∂h_T/∂h_t‖₂      the largest singular value of the Jacobian product
    grad_min[k]        σ_min(∂h_T/∂h_t)  the weakest direction
    loss_grad_norm[k]  ‖∂L/∂h_t‖ for a unit error on the last output (dL/dŷ_T = 1), so
                       ∂L/∂h_t = w_outᵀ·∂h_T/∂h_t: what reaches h_t in training, per unit error
    theory[k]          vanilla RNN: (γ·σ_max(Wh))^k (exact Wh^k when every state is 0, tanh);
                       diagonal linear cells: ‖diag(∏ a_s)‖ (exact); otherwise None

and the fitted growth rate per step, the verdict, the spectrum of Wh, the gate path (LSTM, GRU,
diagonal linear) and, for the LSTM, ‖∂c_T/∂c_t‖.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.cells.base import Recurrence
from rnnlab.diagnostics.gates import GatePath, gate_path
from rnnlab.diagnostics.jacobians import spectral_norms, state_jacobians
from rnnlab.diagnostics.theory import fit_rate, power_line, spectrum, verdict

GAMMA = {"tanh": 1.0, "relu": 1.0}  # max φ': tanh'(0) = 1, relu' ∈ {0, 1}


@dataclass(frozen=True)
class GradientFlow:
    """What :func:`gradient_flow` measured (arrays indexed by lag, see the module docstring)."""

    lags: np.ndarray
    grad_norm: np.ndarray
    grad_min: np.ndarray
    loss_grad_norm: np.ndarray
    theory: list[float | None]
    theory_kind: str | None  # "exact", "bound" or None (no closed-form line for this cell)
    theory_name: str | None
    rate: float
    loss_rate: float
    verdict: str
    spectrum: dict | None  # of Wh (vanilla RNN)
    gate: GatePath | None
    cell_state_norm: np.ndarray | None  # ‖∂c_T/∂c_t‖ by lag (LSTM)

    @property
    def steps(self) -> int:
        """T."""
        return len(self.lags)


def _by_lag(per_t: np.ndarray, lags: np.ndarray) -> np.ndarray:
    T = len(per_t) - 1
    return per_t[T - lags]  # index t = T − k


def gradient_flow(cell: Recurrence, x: np.ndarray, head: np.ndarray, h0=None) -> GradientFlow:
    """Measure ‖∂h_T/∂h_t‖ and ‖∂L/∂h_t‖ on ``cell`` for the input ``x`` (T, I).

    ``head`` (H,) is the output weight w_out of ŷ_T = w_out·h_T + b_out. A gradient that
    explodes past float64 (Wh = 1e9, or 100 over 10 000 steps) is measured as inf, and shown so.
    """
    with np.errstate(over="ignore"):
        return _gradient_flow(cell, x, head, h0)


def _gradient_flow(cell: Recurrence, x: np.ndarray, head: np.ndarray, h0) -> GradientFlow:
    from rnnlab.cells.vanilla import VanillaRNN

    J = state_jacobians(cell, x, h0)
    T = J.steps
    lags = np.arange(T)  # k = 0 … T − 1: t = T … 1
    top, bottom = spectral_norms(J.dh)
    grad_norm, grad_min = _by_lag(top, lags), _by_lag(bottom, lags)
    loss_grad = _by_lag(np.linalg.norm(np.einsum("h,thj->tj", head, J.dh), axis=1), lags)
    gate = gate_path(cell, np.asarray(x), J.h)
    theory: list[float | None] = [None] * T
    kind = theory_name = None
    spec = None
    if isinstance(cell, VanillaRNN):
        wh = cell.wh.detach().double().numpy()
        spec = spectrum(wh)
        gamma = GAMMA[cell.nonlinearity]
        theory = power_line(gamma * spec["sigma_max"], lags).tolist()
        # every state 0 and tanh: φ'(0) = 1 at each step, so ∂h_T/∂h_t = Wh^k exactly
        if cell.hidden_size == 1 and cell.nonlinearity == "tanh" and not np.any(J.h):
            kind, theory_name = "exact", "Wh^k (scalar tanh RNN, every state 0)"
        else:
            kind, theory_name = "bound", f"(γ·σ_max(Wh))^k, γ = {gamma:g}"
    elif gate is not None and gate.exact and gate.state == "h":
        theory = _by_lag(gate.path, lags).tolist()
        kind, theory_name = "exact", "‖diag(∏ a_s)‖ (diagonal linear recurrence)"
    rate = fit_rate(lags, grad_norm)
    return GradientFlow(
        lags=lags,
        grad_norm=grad_norm,
        grad_min=grad_min,
        loss_grad_norm=loss_grad,
        theory=theory,
        theory_kind=kind,
        theory_name=theory_name,
        rate=rate,
        loss_rate=fit_rate(lags, loss_grad),
        verdict=verdict(lags, grad_norm, rate),
        spectrum=spec,
        gate=gate,
        cell_state_norm=None if J.dc is None else _by_lag(spectral_norms(J.dc)[0], lags),
    )
