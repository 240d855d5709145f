"""Chronological train / validation / test split: the past trains, the future judges.

    train  = points [0, n_train)                 fits the scaler and the weights
    val    = points [n_train, n_train + n_val)   picks the epoch (early stopping)
    test   = points [n_train + n_val, N)         scored once, at the end

No shuffling across the boundaries. A target in the validation or test part may have inputs
from the parts before it (they are its past); no training target ever sees a later point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnnlab.config import ConfigError
from rnnlab.fielderror import FieldError

MIN_TRAIN_TARGETS = 10
MIN_EVAL_POINTS = 2


@dataclass(frozen=True)
class Split:
    """Sizes of the three parts, in time order."""

    n_train: int
    n_val: int
    n_test: int

    @property
    def train_end(self) -> int:
        """First index after the training part."""
        return self.n_train

    @property
    def val_end(self) -> int:
        """First index of the test part."""
        return self.n_train + self.n_val

    @property
    def total(self) -> int:
        """N, the length of the series."""
        return self.n_train + self.n_val + self.n_test

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"train": self.n_train, "validation": self.n_val, "test": self.n_test}

    def summary(self, series) -> dict:
        """The sizes and the test span's first and last labels in ``series``."""
        last = series.label(len(series) - 1)
        return {**self.to_dict(), "test_first": series.label(self.val_end), "test_last": last}


def _sizes(n: int, val: float, test: float) -> Split:
    n_test = round(n * test)
    n_val = round(n * val)
    return Split(n - n_val - n_test, n_val, n_test)


def _fits(split: Split, context: int, val: float, test: float) -> bool:
    return (
        split.n_train - context >= MIN_TRAIN_TARGETS
        and (val == 0 or split.n_val >= MIN_EVAL_POINTS)
        and (test == 0 or split.n_test >= MIN_EVAL_POINTS)
    )


def _lower_bound(context: int, val: float, test: float) -> int | None:
    """No N below this fits, so the search for the least N that does starts here (a window of
    10⁹ or val=1e-9 would otherwise mean 10⁹ tries); None when no float can hold it.

        n_train ≤ N(1 − val − test) + 1 (parts rounded)  ⇒  N ≥ (context + 9) / (1 − val − test)
        round(N·frac) ≥ 2                                 ⇒  N ≥ 1.5 / frac
    """
    bounds = [(context + MIN_TRAIN_TARGETS - 1) / (1 - val - test)]
    bounds += [(MIN_EVAL_POINTS - 0.5) / frac for frac in (val, test) if frac > 0]
    bound = max(bounds)  # inf for a fraction such as 1e-320
    return max(0, int(bound) - 2) if math.isfinite(bound) else None  # − 2: float rounding


def chronological_split(n: int, val: float = 0.15, test: float = 0.15, context: int = 0) -> Split:
    """Split N points by the fractions ``val`` and ``test`` (rounded), the rest for training.

    ``context`` is the number of leading training points that only serve as inputs (the window,
    plus one for differences); the training part must leave at least 10 targets after them, and
    the validation and test parts (when asked for) at least 2 points each.
    """
    for name, frac in (("val", val), ("test", test)):
        if not 0 <= frac < 1:
            raise ConfigError(name, f"the fraction must be in [0, 1), got {frac:g}")
    if val + test >= 0.9:
        raise ConfigError("val", f"+ {{test}} = {val + test:g} leaves too little for training")
    split = _sizes(n, val, test)
    if _fits(split, context, val, test):
        return split
    bound = _lower_bound(context, val, test)
    start = max(n + 1, bound or 0)
    fits = (
        m for m in range(start, start + 10_000) if _fits(_sizes(m, val, test), context, val, test)
    )
    need = None if bound is None else next(fits, None)  # a few steps from the bound (rounding)
    if need is None:  # a fraction so small that N·fraction ≥ 1.5 is past what floats resolve
        name, frac = min((("val", val), ("test", test)), key=lambda p: p[1] or 1.0)
        rows = (MIN_EVAL_POINTS - 0.5) / frac
        raise ConfigError(
            name,
            f"a fraction of {frac:g} is too small ({MIN_EVAL_POINTS} points would need "
            f"{rows:.3g} rows)",
        )
    parts = f"{1 - val - test:.0%}/{val:.0%}/{test:.0%} train/validation/test"
    rows = str(need) if need < 10**15 else f"{need:.3g}"
    raise FieldError(
        "window",
        f"too few rows: {n}; a {parts} split with {context} leading point(s) used only as "
        f"inputs (the window) needs at least {rows} (try a smaller {{window}})",
        lead=False,
    )
