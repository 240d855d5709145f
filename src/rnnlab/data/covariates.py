"""Covariates: what a neural forecaster reads besides the target's own past. NumPy only.

Two kinds, named in ``features`` (``features=("open", "volume", "calendar")``):

    past covariates   columns observed with the target (a stock's open, high, low, volume; a
                      CSV's or a DataFrame's other numeric columns): c_τ is known once step τ
                      is over, so the inputs for target t hold c_τ for τ ≤ t − 1 only
    calendar          the day of week and the day of year of a date as sine and cosine:
                      known in advance for every date, the future's included

**Layout.** Row τ of the exogenous matrix E, what step τ adds to the scaled target s_τ:

    E_τ = [ c¹_τ … c^C_τ,  dow_sin(τ+1), dow_cos(τ+1), doy_sin(τ+1), doy_cos(τ+1) ]

    dow(d) = 2π·(day of week, 0 = Monday)/7      doy(d) = 2π·(days since 1 January)/365.25

the C covariates of step τ and the calendar of the *next* step, so that the last step of a
window (τ = t − 1) carries the target's own calendar. A recurrent net reads [s_τ, E_τ] at each
step τ = t − W … t − 1 of its window, (n, W, 1 + C + 4); the MLP appends E_{t−1} to its
hand-made features (:mod:`rnnlab.forecast.neural`).

**Scaling**, fitted on the training part only (rows τ < n_train), like the target's:

    u_τ = log1p(v_τ)  for a column named volume (counts spanning orders of magnitude; ≥ 0)
    u_τ = v_τ         for any other column
    c_τ = scaler(u_τ) (the window's scaler kind, standard or minmax, one per covariate)

**Past the forecast origin** o (the last observed index), a recursive forecast of several
steps needs c_τ for τ > o, which nobody knows yet: it is held at its last observed value,
c_τ = c_o. The calendar of a future step is computed exactly from its date. No value after the
origin is ever read (tests/test_covariates.py perturbs them all and checks).

>>> calendar_features(np.array(["2024-01-01"], dtype="datetime64[D]")).round(3)  # a Monday
array([[0., 1., 0., 1.]])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rnnlab.data.features import day_of_week
from rnnlab.data.scaling import SCALERS, Scaler, scaler_from_dict
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError

CALENDAR = "calendar"  # the one feature that is not a column: computed from the dates
CALENDAR_COLUMNS = ("dow_sin", "dow_cos", "doy_sin", "doy_cos")
LOG1P = ("volume",)  # columns taken as log1p(v) before scaling (compared case-insensitively)
YEAR_DAYS = 365.25


def check_features(features: tuple[str, ...] | None, field: str = "features") -> None:
    """Names given once each, none empty (errors name ``field``: the setting that gave them,
    ``features`` of a config, a forecaster's ``covariates``)."""
    if features is None:
        return
    if not isinstance(features, tuple | list) or not features:
        raise FieldError(field, "must be a non-empty tuple of names, or None; got {0}", features)
    for name in features:
        if not isinstance(name, str) or not name.strip():
            raise FieldError(field, "holds an empty name; got {0}", features)
    seen = [n for i, n in enumerate(features) if n in features[:i]]
    if seen:
        raise FieldError(field, "names {0} twice", repr(seen[0]))


def split_features(features: tuple[str, ...] | None) -> tuple[tuple[str, ...], bool]:
    """The past-covariate columns (in the order given) and whether the calendar is read."""
    if not features:
        return (), False
    return tuple(f for f in features if f != CALENDAR), CALENDAR in features


def calendar_features(dates: np.ndarray) -> np.ndarray:
    """(n, 4): sin and cos of the day of week and of the day of year of each date."""
    days = np.asarray(dates).astype("datetime64[D]")
    dow = 2 * np.pi * day_of_week(days) / 7  # 0 = Monday
    new_year = days.astype("datetime64[Y]").astype("datetime64[D]")
    doy = 2 * np.pi * (days - new_year).astype(np.int64) / YEAR_DAYS  # 1 January = 0
    return np.stack([np.sin(dow), np.cos(dow), np.sin(doy), np.cos(doy)], axis=1)


def _log1p(name: str) -> bool:
    return name.lower() in LOG1P


class CovariateScaler:
    """What a forecaster reads besides the target: the past covariates ``names``, each
    u (log1p for volume) -> a scaler fitted on the training rows only, and whether it reads the
    ``calendar``. Saved with the model (:meth:`to_dict`).

    >>> c = CovariateScaler(("volume",)).fit({"volume": np.array([0.0, np.e - 1, 5.0])}, 2)
    >>> c.scalers_["volume"].mean, c.scalers_["volume"].std   # of log1p: 0 and 1
    (0.5, 0.5)
    """

    def __init__(
        self, names: tuple[str, ...], kind: str = "standard", calendar: bool = False
    ) -> None:
        self.names = tuple(names)
        self.kind = kind
        self.calendar = calendar

    @property
    def columns(self) -> list[str]:
        """The names of the columns of E, in order (the covariates, then the calendar's)."""
        return [*self.names, *(CALENDAR_COLUMNS if self.calendar else ())]

    def _u(self, name: str, covariates: Mapping[str, np.ndarray]) -> np.ndarray:
        if name not in covariates:
            have = ", ".join(repr(c) for c in covariates) or "none"
            raise FieldError(
                "features",
                "covariate {0} is not in the data; it carries: {1}",
                repr(name),
                have,
                lead=False,
            )
        v = np.asarray(covariates[name], dtype=np.float64)
        if not _log1p(name):
            return v
        if np.any(v < 0):
            i = int(np.flatnonzero(v < 0)[0])
            raise FieldError(
                "features", "covariate {0}: value {1} at row {2} is negative; volume is a count",
                repr(name), f"{v[i]:g}", i + 1, lead=False,
            )  # fmt: skip
        return np.log1p(v)  # u = log1p(v)

    def fit(self, covariates: Mapping[str, np.ndarray], n_train: int) -> CovariateScaler:
        """Fit one scaler per covariate on rows 0 … n_train − 1 (the training part only)."""
        self.scalers_: dict[str, Scaler] = {}
        for name in self.names:
            u = self._u(name, covariates)[:n_train]  # train only
            try:
                self.scalers_[name] = SCALERS[self.kind].fit(u)
            except RnnlabError as exc:
                raise FieldError(
                    "features", "covariate {0}: {1}", repr(name), exc, lead=False
                ) from None
        return self

    def transform(self, covariates: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """(n, C): c_τ = scaler(u_τ) for each of the n rows, the covariates in the order named
        (C = 0: the calendar alone)."""
        cols = [self.scalers_[name].transform(self._u(name, covariates)) for name in self.names]
        return np.stack(cols, axis=1) if cols else np.empty((n, 0))

    def to_dict(self) -> dict:
        """JSON-able: the names in order, each fitted scaler, the calendar flag."""
        return {"names": list(self.names), "kind": self.kind, "calendar": self.calendar,
                "scalers": {n: self.scalers_[n].to_dict() for n in self.names}}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> CovariateScaler:
        """Rebuild from :meth:`to_dict` output (validated)."""
        if not isinstance(d, dict) or set(d) != {"names", "kind", "calendar", "scalers"}:
            raise RnnlabError(
                "covariates must have exactly the keys names, kind, calendar, scalers"
            )
        names, scalers = d["names"], d["scalers"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise RnnlabError("covariates.names must be a list of names")
        if len(set(names)) != len(names) or not isinstance(d["calendar"], bool):
            raise RnnlabError("covariates: names once each, calendar true or false")
        if d["kind"] not in SCALERS or not isinstance(scalers, dict) or set(scalers) != set(names):
            raise RnnlabError("covariates: a known scaler kind and one scaler per name")
        c = cls(tuple(names), d["kind"], d["calendar"])
        c.scalers_ = {n: scaler_from_dict(scalers[n]) for n in names}
        if any(s.kind != c.kind for s in c.scalers_.values()):
            raise RnnlabError(f"covariates: every scaler must be of kind {c.kind!r}")
        return c


@dataclass(frozen=True)
class Exogenous:
    """A series' scaled past covariates and the calendar of its dates, continued.

    past : ndarray (N, C)             c_τ, scaled (C may be 0)
    calendar : ndarray (N + k, 4)     the calendar of the series' dates and the k dates after
                                      them, or None when the calendar is not read
    """

    past: np.ndarray
    calendar: np.ndarray | None

    def rows(self, idx: np.ndarray, last: int) -> np.ndarray:
        """E_τ for τ in ``idx``: c_{min(τ, last)} (held at the last observed value past the
        origin ``last``) and the calendar of τ + 1. (len(idx), C [+ 4])."""
        idx = np.asarray(idx, dtype=np.int64)
        parts = [self.past[np.minimum(idx, last)]]  # c_τ, or c_last after the origin
        if self.calendar is not None:
            parts.append(self.calendar[idx + 1])  # the next step's calendar: known in advance
        return np.concatenate(parts, axis=1)  # (n, E)
