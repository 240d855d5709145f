"""Backpropagation through time, written out by hand: no autograd.

The loss, on the last output or on every output:

    linear head   L = mean over (t, o) of (y_t,o − target_t,o)²        (MSE, as torch's mse_loss)
    softmax head  L = mean over t of −log p_t[c_t]                     (cross-entropy)

Walking back from t = T to 1, with dL/dh_t collecting both paths into h_t (its own output and
the next step's recurrence):

    dL/dh_t   = W_outᵀ·dL/dy_t + Whᵀ·dL/da_{t+1}
    dL/da_t   = dL/dh_t ⊙ (1 − h_t²)                   tanh'(a) = 1 − tanh(a)²
    dL/dWx   += dL/da_t · x_tᵀ
    dL/dWh   += dL/da_t · h_{t−1}ᵀ
    dL/db    += dL/da_t

and the Jacobian of the last state with respect to an earlier one, the product that vanishes
or explodes:

    ∂h_T/∂h_{t−1} = ∂h_T/∂h_t · diag(1 − h_t²) · Wh,        ∂h_T/∂h_T = I
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from rnnlab.errors import ShapeError
from rnnlab.glassbox.forward import Cache
from rnnlab.glassbox.params import PARAM_NAMES, RNNParams

LossOn = Literal["last", "all"]


@dataclass(frozen=True)
class Gradients:
    """The result of one backward pass.

    Attributes
    ----------
    wx, wh, b, wout, bout : ndarray
        dL/d(parameter), same shapes as the parameters (after clipping, if it fired).
    dh : ndarray (T+1, H)
        dL/dh_t for t = 0 … T (the total derivative, both paths; truncated if asked).
    loss : float
        The loss value L.
    norm : float
        Global norm sqrt(Σ ‖dL/dθ‖²) of the parameter gradients *before* clipping.
    clipped : bool
        Whether clipping rescaled the gradients.
    """

    wx: np.ndarray
    wh: np.ndarray
    b: np.ndarray
    wout: np.ndarray
    bout: np.ndarray
    dh: np.ndarray
    loss: float
    norm: float
    clipped: bool

    def as_dict(self) -> dict[str, np.ndarray]:
        """The parameter gradients by name."""
        return {name: getattr(self, name) for name in PARAM_NAMES}


def activation_derivative(cache: Cache) -> np.ndarray:
    """dh_t/da_t for every step, shape (T, H): 1 − h_t² for tanh, [a_t > 0] for relu."""
    if cache.activation == "tanh":
        return 1.0 - cache.h[1:] ** 2  # d tanh(a)/da = 1 − tanh(a)²
    return (cache.a > 0).astype(np.float64)  # d relu(a)/da = 1 if a > 0 else 0


def loss_and_output_grad(cache: Cache, targets: np.ndarray | float | list, on: LossOn) -> tuple:
    """The loss and dL/dy_t for every step, shape (T, O) (zero where no loss term sits).

    Targets: for the linear head, (O,) values (``on="last"``) or (T, O) (``on="all"``);
    for the softmax head, one class index (``"last"``) or T of them (``"all"``).
    """
    if on not in ("last", "all"):
        raise ShapeError(f"loss on {on!r}: choose 'last' or 'all'")
    T, O = cache.y.shape
    dy = np.zeros((T, O))
    steps = [T - 1] if on == "last" else list(range(T))
    if cache.head == "linear":
        target = np.asarray(targets, dtype=np.float64)
        if target.size != len(steps) * O:
            raise ShapeError(f"expected {len(steps) * O} target values, got {target.size}")
        target = target.reshape(len(steps), O)
        err = cache.y[steps] - target  # (n, O)
        loss = float(np.mean(err**2))
        dy[steps] = 2.0 * err / err.size  # d mean(err²)/dy = 2·err / N
        return loss, dy
    classes = np.asarray(targets, dtype=np.int64).reshape(-1)
    if classes.size != len(steps):
        raise ShapeError(f"expected {len(steps)} class targets, got {classes.size}")
    if np.any(classes < 0) or np.any(classes >= O):
        raise ShapeError(f"class targets must lie in 0 … {O - 1}")
    p = cache.p[steps]  # (n, O)
    loss = float(-np.mean(np.log(p[np.arange(len(steps)), classes])))
    onehot = np.eye(O)[classes]
    dy[steps] = (p - onehot) / len(steps)  # d(−log softmax(y)[c])/dy = p − onehot(c)
    return loss, dy


def _sweep(
    params: RNNParams, cache: Cache, dh_in: np.ndarray, last: int, first: int, grads: dict
) -> tuple[np.ndarray, np.ndarray]:
    """Walk back from t = ``last`` to ``first``, adding into ``grads``; return (dh, carry).

    ``dh_in`` (T+1, H) holds the gradient injected into each h_t by its own output. ``dh`` holds
    the total dL/dh_t for first ≤ t ≤ last; ``carry`` is the gradient arriving at h_{first−1}.
    """
    dphi = activation_derivative(cache)  # (T, H)
    dh = np.zeros_like(cache.h)  # (T+1, H)
    carry = np.zeros(params.hidden_size)  # dL/dh_t arriving from step t+1
    for t in range(last, first - 1, -1):
        dh[t] = dh_in[t] + carry  # dL/dh_t = W_outᵀ·dy_t + Whᵀ·da_{t+1}
        da = dh[t] * dphi[t - 1]  # dL/da_t = dL/dh_t ⊙ φ'(a_t)
        grads["wx"] += np.outer(da, cache.x[t - 1])  # da_t/dWx = x_t
        grads["wh"] += np.outer(da, cache.h[t - 1])  # da_t/dWh = h_{t−1}
        grads["b"] += da  # da_t/db = 1
        carry = params.wh.T @ da  # da_t/dh_{t−1} = Wh
    return dh, carry


def bptt(
    params: RNNParams,
    cache: Cache,
    targets: np.ndarray | float | list,
    on: LossOn = "last",
    truncate: int | None = None,
    clip: float | None = None,
) -> Gradients:
    """Backpropagation through time by hand.

    Parameters
    ----------
    params, cache
        The weights and the forward pass to differentiate.
    targets
        See :func:`loss_and_output_grad`.
    on : {"last", "all"}
        A loss on the last output only (next-value regression) or on every output.
    truncate : int, optional
        Truncated BPTT: each loss term sends its gradient back through at most ``truncate``
        steps (the term at step t reaches h_t … h_{t−k+1}, never h_{t−k} or earlier).
    clip : float, optional
        Clip by global norm: if ‖g‖ > clip, scale every gradient by clip / ‖g‖.

    Returns
    -------
    Gradients
    """
    if truncate is not None and truncate < 1:
        raise ShapeError("truncate must be at least 1 step")
    T = cache.steps
    loss, dy = loss_and_output_grad(cache, targets, on)
    grads = {name: np.zeros_like(value) for name, value in params.as_dict().items()}
    grads["wout"] = dy.T @ cache.h[1:]  # dL/dW_out = Σ_t dy_t · h_tᵀ
    grads["bout"] = dy.sum(axis=0)  # dL/db_out = Σ_t dy_t
    dh_in = np.zeros_like(cache.h)
    dh_in[1:] = dy @ params.wout  # each h_t's own path: W_outᵀ·dy_t   (T, H)
    if truncate is None:  # one sweep carries every loss term back to h_0
        dh, dh[0] = _sweep(params, cache, dh_in, T, 1, grads)
    else:  # each loss term walks back on its own, at most `truncate` steps; the rest is cut
        dh = np.zeros_like(cache.h)
        for t in range(1, T + 1) if on == "all" else [T]:
            term = np.zeros_like(cache.h)
            term[t] = dh_in[t]
            part, _cut = _sweep(params, cache, term, t, max(1, t - truncate + 1), grads)
            dh += part
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    clipped = clip is not None and norm > clip
    if clipped:
        grads = {name: g * (clip / norm) for name, g in grads.items()}
    return Gradients(**grads, dh=dh, loss=loss, norm=norm, clipped=clipped)


def jacobian_products(params: RNNParams, cache: Cache) -> np.ndarray:
    """∂h_T/∂h_t for t = 0 … T, shape (T+1, H, H), exact (never truncated).

    ∂h_T/∂h_{t−1} = ∂h_T/∂h_t · diag(φ'(a_t)) · Wh, starting from ∂h_T/∂h_T = I. For the scalar
    tanh RNN at zero input and zero bias this is Wh^(T−t): the vanishing (|Wh| < 1) or exploding
    (|Wh| > 1) product.
    """
    T, H = cache.steps, params.hidden_size
    dphi = activation_derivative(cache)  # (T, H)
    J = np.zeros((T + 1, H, H))
    J[T] = np.eye(H)
    for t in range(T, 0, -1):
        J[t - 1] = (J[t] * dphi[t - 1]) @ params.wh  # J_t · diag(φ'(a_t)) · Wh
    return J
