"""Scalers: "the maths outside the cell" that squashes values in and turns predictions back.

A scaler is fitted on the training part only (fitting it on anything later leaks the future):

    min-max      z = (x − min) / (max − min)          x = min + z · (max − min)
    standard     z = (x − mean) / std                 x = mean + z · std

Both are plain NumPy, usable without torch, and serialise to a small JSON-able dict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np

from rnnlab.errors import RnnlabError


def _finite(values: np.ndarray | list | float, what: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise RnnlabError(f"cannot fit a scaler on an empty {what}")
    if not np.all(np.isfinite(x)):
        raise RnnlabError(f"the {what} holds NaN or inf")
    return x


@dataclass(frozen=True)
class MinMaxScaler:
    """z = (x − low) / (high − low), so the training range maps to [0, 1].

    >>> s = MinMaxScaler(low=10.0, high=20.0)
    >>> float(s.transform(15.0)), float(s.inverse_transform(0.9))
    (0.5, 19.0)
    """

    low: float
    high: float
    kind: ClassVar[str] = "minmax"

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high)) or self.high <= self.low:
            raise RnnlabError(
                f"min-max scale needs finite MIN < MAX, got MIN={self.low}, MAX={self.high}"
            )

    @classmethod
    def fit(cls, values: np.ndarray | list) -> MinMaxScaler:
        """Fit on training values only."""
        x = _finite(values, "training data")
        low, high = float(x.min()), float(x.max())
        if high == low:
            raise RnnlabError(f"the training data is constant ({low}); it cannot be scaled")
        return cls(low=low, high=high)

    def transform(self, x: np.ndarray | float) -> np.ndarray:
        """z = (x − low) / (high − low)."""
        return (np.asarray(x, dtype=np.float64) - self.low) / (self.high - self.low)

    def inverse_transform(self, z: np.ndarray | float) -> np.ndarray:
        """x = low + z · (high − low)."""
        return self.low + np.asarray(z, dtype=np.float64) * (self.high - self.low)

    def to_dict(self) -> dict:
        """JSON-able form, with the kind."""
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class StandardScaler:
    """z = (x − mean) / std.

    >>> s = StandardScaler(mean=100.0, std=5.0)
    >>> float(s.inverse_transform(-2.0))
    90.0
    """

    mean: float
    std: float
    kind: ClassVar[str] = "standard"

    def __post_init__(self) -> None:
        if not (np.isfinite(self.mean) and np.isfinite(self.std)) or self.std <= 0:
            raise RnnlabError(
                f"standard scale needs a finite MEAN and STD > 0, got {self.mean}, {self.std}"
            )

    @classmethod
    def fit(cls, values: np.ndarray | list) -> StandardScaler:
        """Fit on training values only."""
        x = _finite(values, "training data")
        std = float(x.std())
        if std == 0.0:
            raise RnnlabError(f"the training data is constant ({x.flat[0]}); it cannot be scaled")
        return cls(mean=float(x.mean()), std=std)

    def transform(self, x: np.ndarray | float) -> np.ndarray:
        """z = (x − mean) / std."""
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.std

    def inverse_transform(self, z: np.ndarray | float) -> np.ndarray:
        """x = mean + z · std."""
        return self.mean + np.asarray(z, dtype=np.float64) * self.std

    def to_dict(self) -> dict:
        """JSON-able form, with the kind."""
        return {"kind": self.kind, **asdict(self)}


Scaler = MinMaxScaler | StandardScaler
SCALERS: dict[str, type[MinMaxScaler] | type[StandardScaler]] = {
    "minmax": MinMaxScaler,
    "standard": StandardScaler,
}


def scaler_from_dict(d: dict) -> Scaler:
    """Rebuild a scaler from :meth:`to_dict` output, refusing unknown kinds or keys."""
    if not isinstance(d, dict) or d.get("kind") not in SCALERS:
        raise RnnlabError(f"unknown scaler {d!r}; expected kind 'minmax' or 'standard'")
    cls = SCALERS[d["kind"]]
    fields = {k: v for k, v in d.items() if k != "kind"}
    expected = {f.name for f in dataclasses.fields(cls)}  # the ClassVar `kind` is not one
    if set(fields) != expected:
        raise RnnlabError(f"scaler {d['kind']!r} needs exactly the keys {sorted(expected)}")
    try:
        return cls(**{k: float(v) for k, v in fields.items()})
    except (TypeError, ValueError) as exc:
        raise RnnlabError(f"scaler {d['kind']!r} has a non-numeric value: {exc}") from None
