"""Hand-made features for the memory-less feed-forward net (MLP).

For target t, from the scaled model-space series s (see :mod:`rnnlab.data.windows`):

    s_{t−1}                          yesterday's value                   "yesterday"
    s_{t−2} … s_{t−5}                a few more lags                     "lag_2" … "lag_5"
    (s_{t−1} + … + s_{t−7}) / 7      the 7-step moving average           "mean_7"
    sin(2π·d/7), cos(2π·d/7)         the day of week d of the target's   "dow_sin", "dow_cos"
                                     date (0 = Monday), only when the
                                     series has dates

The MLP gets no memory beyond these numbers: whatever it knows of the past is in them. For the
forecast's feature ablation the columns come in named groups
(:data:`GROUPS`), and :data:`RAW` stands for no hand-made feature at all: the raw window
s_{t−W} … s_{t−1}, what the recurrent nets read.
"""

from __future__ import annotations

import numpy as np

LAGS = (1, 2, 3, 4, 5)
MOVING_AVERAGE = 7
SPAN = max(max(LAGS), MOVING_AVERAGE)  # steps of history the features need
GROUPS = {
    "yesterday": ("yesterday",),
    "lags": tuple(f"lag_{k}" for k in LAGS[1:]),
    f"mean_{MOVING_AVERAGE}": (f"mean_{MOVING_AVERAGE}",),
    "day_of_week": ("dow_sin", "dow_cos"),
}  # the named features of the ablation, each a group of columns
RAW = "window"  # no hand-made features: the raw window


def feature_names(with_dates: bool) -> list[str]:
    """Column names of :func:`mlp_features`, in order."""
    names = ["yesterday"] + [f"lag_{k}" for k in LAGS[1:]] + [f"mean_{MOVING_AVERAGE}"]
    return names + (["dow_sin", "dow_cos"] if with_dates else [])


def day_of_week(dates: np.ndarray) -> np.ndarray:
    """0 = Monday … 6 = Sunday; 1970-01-01 was a Thursday (3)."""
    days = dates.astype("datetime64[D]").astype(np.int64)
    return (days + 3) % 7


def mlp_features(s: np.ndarray, targets: np.ndarray, dates: np.ndarray | None) -> np.ndarray:
    """Features (n, F) for the target indices ``targets`` (each t ≥ SPAN, plus the lag).

    ``dates`` are the targets' own dates (n,), or None for a series without dates.
    """
    t = np.asarray(targets)
    cols = [s[t - k] for k in LAGS]  # s_{t−k}
    cols.append(np.mean([s[t - k] for k in range(1, MOVING_AVERAGE + 1)], axis=0))
    if dates is not None:
        angle = 2 * np.pi * day_of_week(np.asarray(dates)) / 7
        cols += [np.sin(angle), np.cos(angle)]
    return np.stack(cols, axis=1)  # (n, F)


def select_features(
    s: np.ndarray,
    targets: np.ndarray,
    dates: np.ndarray | None,
    groups: tuple[str, ...],
    window: int,
) -> tuple[np.ndarray, list[str]]:
    """The columns of the named ``groups`` (keys of :data:`GROUPS`, or :data:`RAW` for the raw
    window of ``window`` steps), as (n, F) and their names. A day-of-week group without dates
    is an error (ValueError), not a silent empty column."""
    t = np.asarray(targets)
    if groups == (RAW,):
        cols = [s[t - k] for k in range(window, 0, -1)]  # s_{t−W} … s_{t−1}
        return np.stack(cols, axis=1), [f"s_(t-{k})" for k in range(window, 0, -1)]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise ValueError(f"unknown feature group(s) {unknown}; choose from {', '.join(GROUPS)}")
    if "day_of_week" in groups and dates is None:
        raise ValueError("the day_of_week features need a series with dates")
    every = mlp_features(s, t, dates)  # (n, F_all)
    names = feature_names(dates is not None)
    keep = [n for g in groups for n in GROUPS[g]]
    return every[:, [names.index(n) for n in keep]], keep
