"""From levels to what a model sees (target mode, scaling, windows) and back to levels.

A model never sees raw prices. For the level x_t of the series it sees, scaled,

    level        z_t = x_t                          x̂_t = ẑ_t
    diff         z_t = x_t − x_{t−1}                x̂_t = x_{t−1} + ẑ_t
    log-return   z_t = log x_t − log x_{t−1}        x̂_t = x_{t−1} · exp(ẑ_t)

and s_t = scaler(z_t), with the scaler fitted on the training part only. The input for target
t is the window s_{t−W} … s_{t−1}; the model predicts ŝ_t, which is unscaled to ẑ_t and turned
back into a level with the last known level x_{t−1} ("the maths outside the cell").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rnnlab.config import ConfigError, check_fields, option
from rnnlab.data.scaling import SCALERS, Scaler, scaler_from_dict
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError

TARGETS = ("level", "diff", "log-return")


@dataclass(frozen=True)
class WindowConfig:
    """How a series becomes model inputs.

    window : int    W, the number of past steps a model sees
    target : str    "level", "diff" or "log-return" (see the module docstring)
    scaler : str    "standard" or "minmax", fitted on the training part only
    """

    window: int = option(50, "past steps per input", low=1, high=100_000, metavar="W")
    target: str = option(
        "diff",
        "predict the next level, difference or log-return (rebuilt into a level)",
        choices=TARGETS,
    )
    scaler: str = option("standard", "fitted on the training part only", choices=tuple(SCALERS))

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def quick(cls) -> WindowConfig:
        """The quick run's settings: a short window."""
        return cls(window=20)

    @property
    def lag(self) -> int:
        """Leading points without a model-space value: 1 for diff and log-return, else 0."""
        return 0 if self.target == "level" else 1

    @property
    def first_target(self) -> int:
        """The first index t with a full window of defined inputs: W + lag."""
        return self.window + self.lag

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)


def to_model_space(levels: np.ndarray, target: str) -> np.ndarray:
    """z_t for every t (NaN where undefined: z_0 for diff and log-return)."""
    x = np.asarray(levels, dtype=np.float64)
    if target == "level":
        return x.copy()
    z = np.full_like(x, np.nan)
    if target == "diff":
        z[1:] = x[1:] - x[:-1]  # z_t = x_t − x_{t−1}
        return z
    if np.any(x <= 0):
        i = int(np.flatnonzero(x <= 0)[0])
        raise ConfigError(
            "target",
            f"log-return needs positive values; value {x[i]:g} at row {i + 1} is not (use diff)",
        )
    z[1:] = np.log(x[1:]) - np.log(x[:-1])  # z_t = log x_t − log x_{t−1}
    return z


def to_level(z_hat: np.ndarray | float, previous: np.ndarray | float, target: str) -> np.ndarray:
    """x̂_t from the unscaled prediction ẑ_t and the last known level x_{t−1}."""
    z = np.asarray(z_hat, dtype=np.float64)
    prev = np.asarray(previous, dtype=np.float64)
    if target == "level":
        return z
    if target == "diff":
        return prev + z  # x̂_t = x_{t−1} + ẑ_t
    with np.errstate(over="ignore"):  # a wild ẑ gives inf: a forecast marked as not finite
        return prev * np.exp(z)  # x̂_t = x_{t−1} · exp(ẑ_t)


def windows(s: np.ndarray, targets: np.ndarray, window: int) -> np.ndarray:
    """Rows s[t−W : t] for each target index t: (n, W)."""
    idx = np.asarray(targets)[:, None] - window + np.arange(window)[None, :]  # (n, W)
    return s[idx]


class Preprocessor:
    """Levels -> scaled model space and back, with the scaler fitted on training levels only.

    >>> p = Preprocessor(WindowConfig(window=2, target="diff")).fit(np.array([1.0, 2.0, 4.0]))
    >>> p.scaler_.mean, p.scaler_.std   # of the training diffs 1 and 2
    (1.5, 0.5)
    """

    def __init__(self, config: WindowConfig) -> None:
        self.config = config

    def fit(self, train_levels: np.ndarray) -> Preprocessor:
        """Fit the scaler on the model-space values of the training part (and nothing else)."""
        z = to_model_space(train_levels, self.config.target)[self.config.lag :]
        try:
            self.scaler_: Scaler = SCALERS[self.config.scaler].fit(z)
        except RnnlabError as exc:
            raise FieldError("target", "{0}: {1}", self.config.target, exc) from None
        return self

    def transform(self, levels: np.ndarray) -> np.ndarray:
        """s_t = scaler(z_t) for every t (NaN where z_t is undefined)."""
        return self.scaler_.transform(to_model_space(levels, self.config.target))

    def to_level(self, s_hat: np.ndarray | float, previous: np.ndarray | float) -> np.ndarray:
        """x̂_t from the model's scaled output ŝ_t and the last known level x_{t−1}."""
        z_hat = self.scaler_.inverse_transform(s_hat)
        return to_level(z_hat, previous, self.config.target)

    def to_dict(self) -> dict:
        """The config and the fitted scaler, JSON-able."""
        return {"window": self.config.to_dict(), "scaler": self.scaler_.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> Preprocessor:
        """Rebuild from :meth:`to_dict` output (validated)."""
        if not isinstance(d, dict) or set(d) != {"window", "scaler"}:
            raise RnnlabError("preprocessing must have exactly the keys 'window' and 'scaler'")
        w = d["window"]
        if not isinstance(w, dict) or set(w) != {"window", "target", "scaler"}:
            raise RnnlabError("window config must have exactly the keys window, target, scaler")
        p = cls(WindowConfig(**w))
        p.scaler_ = scaler_from_dict(d["scaler"])
        if p.scaler_.kind != p.config.scaler:
            raise RnnlabError(f"scaler kind {p.scaler_.kind!r} != config {p.config.scaler!r}")
        return p
