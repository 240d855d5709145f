"""The output head, every number shown: linear for a price, softmax for classes.

For the last hidden state h_T (H,) and K classes:

    z_k = W_out[k]·h_T + b_out[k]                  the logit of class k           (K,)
    p_k = exp(z_k − max z) / Σ_j exp(z_j − max z)  the softmax: p_k > 0, Σ p_k = 1

Subtracting max z changes nothing (it cancels between numerator and denominator) but keeps
exp from overflowing; adding the same number to every b_out[k] changes nothing either. With
W_out = 0 and equal biases every logit is equal, so p_k = 1/K.

A price is one number, so it takes the linear head y = W_out·h + b_out: a softmax over one
output is exp(z)/exp(z) = 1 whatever the weights and inputs (see :data:`ONE_OUTPUT`).

>>> r = softmax_head(np.array([0.5]), np.zeros((3, 1)), np.zeros(3), ("down", "flat", "up"))
>>> r.probabilities.round(6).tolist()
[0.333333, 0.333333, 0.333333]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.errors import ShapeError

WHY_LINEAR = "a price is one number, and a softmax over one output is always 1"
ONE_OUTPUT = (
    "a softmax over one output is always exp(z)/exp(z) = 1 whatever the weights and inputs: "
    "a price, one number, takes the linear head y = W_out·h + b_out; give at least 2 classes"
)
DEFAULT_CLASSES = ("down", "flat", "up")


@dataclass(frozen=True)
class HeadRecord:
    """Every number of the softmax head on one hidden state.

    Attributes
    ----------
    classes : tuple[str, ...]      the K class names
    w_h : ndarray (K,)             W_out[k]·h
    logits : ndarray (K,)          z_k = W_out[k]·h + b_out[k]
    shifted : ndarray (K,)         z_k − max z
    exps : ndarray (K,)            exp(z_k − max z)
    probabilities : ndarray (K,)   p_k = exps_k / Σ exps
    """

    classes: tuple[str, ...]
    w_h: np.ndarray
    logits: np.ndarray
    shifted: np.ndarray
    exps: np.ndarray
    probabilities: np.ndarray

    @property
    def predicted(self) -> str:
        """The class with the highest probability (the first one on a tie)."""
        return self.classes[int(np.argmax(self.probabilities))]

    def to_dict(self) -> dict:
        """JSON-able: each list in class order."""
        return {
            "classes": list(self.classes),
            "w_h": self.w_h.tolist(),
            "logits": self.logits.tolist(),
            "exp_shifted": self.exps.tolist(),
            "probabilities": dict(zip(self.classes, self.probabilities.tolist(), strict=True)),
            "predicted_class": self.predicted,
        }


def class_weights(wout: float, bout: float, classes: int, hidden: int = 1) -> tuple:
    """The default W_out (K, H) and b_out (K,) of the softmax head from the scalar weights.

    Row k of W_out is wout·(−1 + 2k/(K−1)) in every column: for down, flat, up that is −wout,
    0, +wout, so a larger h leans towards "up". Every b_out[k] is bout (a shift shared by all
    logits, which the softmax cancels). ``wout = 0`` gives p = 1/K for any input.
    """
    if classes < 2:
        raise ShapeError(ONE_OUTPUT)
    row = wout * np.linspace(-1.0, 1.0, classes) + 0.0  # (K,); + 0.0: no −0
    return np.repeat(row[:, None], hidden, axis=1), np.full(classes, float(bout))


def softmax_head(
    h: np.ndarray, wout: np.ndarray, bout: np.ndarray, classes: tuple[str, ...]
) -> HeadRecord:
    """The softmax head on one hidden state h (H,), with W_out (K, H), b_out (K,).

    Raises ShapeError for K < 2 (:data:`ONE_OUTPUT`) or when W_out's rows are not K.
    """
    h = np.asarray(h, dtype=np.float64).reshape(-1)
    wout = np.atleast_2d(np.asarray(wout, dtype=np.float64))
    bout = np.asarray(bout, dtype=np.float64).reshape(-1)
    K = len(classes)
    if K < 2:
        raise ShapeError(ONE_OUTPUT)
    if wout.shape != (K, h.size) or bout.shape != (K,):
        raise ShapeError(
            f"{K} classes need W_out of shape ({K}, {h.size}) and b_out of {K}, got "
            f"{wout.shape} and {bout.shape}"
        )
    w_h = wout @ h  # W_out[k]·h                    (K,)
    logits = w_h + bout  # z_k                      (K,)
    shifted = logits - logits.max()  # z_k − max z: exp never overflows
    exps = np.exp(shifted)  # (K,)
    return HeadRecord(tuple(classes), w_h, logits, shifted, exps, exps / exps.sum())
