"""A backtest's scores from its forecasts, and the result: JSON, pandas and a verdict.

For K origins o and steps h = 1 … H, the targets A_{o,h} = x_{o+h} (NaN past the data), a
model's forecasts F_{o,h}, its errors e_{o,h} = A_{o,h} − F_{o,h}, and persistence's
e^p_{o,h} = A_{o,h} − x_o, over the scored (o, h) only:

    per origin   RMSE_o = sqrt(mean_h e²_{o,h}),  MAE_o = mean_h |e_{o,h}|,
                 skill_o = 1 − RMSE_o / sqrt(mean_h (e^p_{o,h})²)
    per step     RMSE_h = sqrt(mean_o e²_{o,h}),  MAE_h,  skill_h, and the one-sided
                 Diebold-Mariano p on d_o = (e^p_{o,h})² − e²_{o,h}, origins in time order,
                 Newey-West variance with h − 1 lags, the Harvey-Leybourne-Newbold
                 small-sample correction and Student's t (:func:`rnnlab.forecast.dm.dm_pvalue`;
                 K is small), and the same p Holm-adjusted for testing H steps
    pooled       RMSE, MAE, skill over all scored (o, h)

>>> actual = np.array([[2.0, 4.0], [5.0, np.nan]])     # origins with x_o = 1 and 4
>>> s = score_backtest(actual, {"drift": np.array([[2.0, 3.0], [5.0, 6.0]])}, np.array([1.0, 4.0]))
>>> s["drift"].step_rmse, s["drift"].origin_rmse, s["drift"].rmse
([0.0, 1.0], [0.7071067811865476, 0.0], 0.5773502691896257)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnnlab.data.series import Series
from rnnlab.data.splits import Split
from rnnlab.forecast.dm import dm_pvalue
from rnnlab.forecast.metrics import skill
from rnnlab.settings.forecasting import ForecastConfig

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BacktestResult", "Intervals", "ModelScores", "score_backtest"]

SIGNIFICANCE = 0.05


def _rms(e: np.ndarray) -> float:
    return float(np.sqrt(np.mean(e**2)))


def _finite(v: float) -> float | None:
    """A number for JSON: None for NaN or ±inf."""
    return float(v) if np.isfinite(v) else None


@dataclass
class ModelScores:
    """One model's backtest scores (None where undefined)."""

    origin_rmse: list[float]  # (K,)
    origin_mae: list[float]
    origin_skill: list[float | None]
    step_rmse: list[float]  # (H,)
    step_mae: list[float]
    step_skill: list[float | None]
    step_p: list[float | None]  # Diebold-Mariano against persistence, per step
    step_p_holm: list[float | None]  # the same, Holm-adjusted for testing H steps
    rmse: float  # pooled over every scored (o, h)
    mae: float
    skill: float | None

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {
            "pooled": {"rmse": self.rmse, "mae": self.mae, "skill": self.skill},
            "per_step": {
                "rmse": self.step_rmse,
                "mae": self.step_mae,
                "skill": self.step_skill,
                "p_value": self.step_p,
                "p_holm": self.step_p_holm,
            },
            "per_origin": {
                "rmse": self.origin_rmse,
                "mae": self.origin_mae,
                "skill": self.origin_skill,
            },
        }


def score_backtest(
    actual: np.ndarray, forecasts: dict[str, np.ndarray], last: np.ndarray
) -> dict[str, ModelScores]:
    """Each model's :class:`ModelScores` from the targets ``actual`` (K, H) (NaN: not
    scored), its ``forecasts`` (K, H) and the origins' values ``last`` (K,) x_o, persistence's
    forecast of every step. Each step and origin must have a scored target."""
    ok = np.isfinite(actual)
    ep = actual - last[:, None]  # persistence's errors, (K, H)
    k, h = actual.shape
    base_o = [_rms(ep[i, ok[i]]) for i in range(k)]
    base_h = [_rms(ep[ok[:, j], j]) for j in range(h)]
    base = _rms(ep[ok])
    out = {}
    for name, fc in forecasts.items():
        e = actual - fc
        rows = [e[i, ok[i]] for i in range(k)]
        cols = [e[ok[:, j], j] for j in range(h)]
        o_rmse = [_rms(r) for r in rows]
        h_rmse = [_rms(c) for c in cols]
        p = [
            dm_pvalue(
                actual[ok[:, j], j], last[ok[:, j]], fc[ok[:, j], j], j + 1, small_sample=True
            )
            for j in range(h)
        ]
        out[name] = ModelScores(
            origin_rmse=o_rmse,
            origin_mae=[float(np.mean(np.abs(r))) for r in rows],
            origin_skill=[skill(m, b) for m, b in zip(o_rmse, base_o, strict=True)],
            step_rmse=h_rmse,
            step_mae=[float(np.mean(np.abs(c))) for c in cols],
            step_skill=[skill(m, b) for m, b in zip(h_rmse, base_h, strict=True)],
            step_p=p,
            step_p_holm=holm(p),
            rmse=_rms(e[ok]),
            mae=float(np.mean(np.abs(e[ok]))),
            skill=skill(_rms(e[ok]), base),
        )
    return out


def holm(p: list[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of the p-values of m tests (None: no test): with the p
    sorted, p_(1) ≤ … ≤ p_(m),

        p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j))

    so that a step whose p̃ is below α is significant with the chance of any false claim among
    the m steps at most α (Holm 1979). The same as statsmodels' ``multipletests(p,
    method="holm")``, without its cost (it runs the garbage collector on every call)."""
    given = sorted((v, i) for i, v in enumerate(p) if v is not None)
    m = len(given)
    out: list[float | None] = [None] * len(p)
    running = 0.0
    for j, (v, i) in enumerate(given):
        running = max(running, min(1.0, (m - j) * v))  # (m − j + 1)·p_(j) with j from 1
        out[i] = running
    return out


@dataclass
class Intervals:
    """One model's intervals x̂ ± q per level in %: the half-widths (K, H) and, per step,
    the share of scored targets inside and the mean width 2q."""

    halfwidths: dict[float, np.ndarray]
    coverage: dict[float, list[float]]
    width: dict[float, list[float | None]]

    @classmethod
    def of(cls, actual: np.ndarray, forecasts: np.ndarray, halfwidths: dict) -> Intervals:
        """Coverage and width pooled over the origins, step by step."""
        ok = np.isfinite(actual)
        err = np.abs(np.where(ok, actual - forecasts, 0.0))
        coverage, width = {}, {}
        for level, q in halfwidths.items():
            cols = range(actual.shape[1])
            coverage[level] = [float(np.mean(err[ok[:, j], j] <= q[ok[:, j], j])) for j in cols]
            width[level] = [_finite(2 * np.mean(q[ok[:, j], j])) for j in cols]
        return cls(halfwidths, coverage, width)

    def to_dict(self) -> dict:
        """JSON-able form, keyed by the level ("80")."""
        return {
            f"{lv:g}": {"coverage": self.coverage[lv], "width": self.width[lv]}
            for lv in self.halfwidths
        }


@dataclass
class BacktestResult:
    """The backtest: its origins, every model's forecasts from them, and their scores."""

    series: Series
    split: Split
    config: ForecastConfig
    origins: np.ndarray  # (K,) the index of each origin's last value seen
    horizon: int  # H scored (the config's, cut to the test span)
    actual: np.ndarray  # (K, H) x_{o+h}, NaN past the data
    forecasts: dict[str, np.ndarray]  # model -> (K, H)
    scores: dict[str, ModelScores]
    intervals: dict[str, Intervals] | None  # with levels
    fit_seconds: dict[str, list[float]]  # model -> seconds of each fit
    failed: dict[str, str]  # model -> why it has no scores
    seconds: float

    def labels(self) -> list[str]:
        """The origins for people: dates, or ``row i``."""
        return [self.series.label(int(o)) for o in self.origins]

    def counts(self) -> list[int]:
        """Scored forecasts per step h."""
        return np.isfinite(self.actual).sum(axis=0).tolist()

    def origin_counts(self) -> list[int]:
        """Scored steps per origin."""
        return np.isfinite(self.actual).sum(axis=1).tolist()

    def shown_steps(self, most: int = 5) -> list[int]:
        """A few steps for an 80-column table: all up to ``most``, else 1, 2, 5, 10, … and H."""
        if self.horizon <= most:
            return list(range(1, self.horizon + 1))
        picks = [j for j in (1, 2, 5, 10, 20, 50, 100, 200, 500) if j < self.horizon]
        return sorted({*picks[: most - 1], self.horizon})

    def ranking(self) -> list[str]:
        """The models, best pooled RMSE first."""
        return sorted(self.scores, key=lambda m: self.scores[m].rmse)

    def verdict(self) -> str:
        """One honest sentence (or two) on persistence over the backtest, and the other
        models that beat it significantly at some step (Holm-adjusted) if any."""
        text = self._best_verdict()
        others = [m for m in self.ranking() if m != "persistence"][1:]
        also = []
        for m in others:
            sc = self.scores[m]
            held = [
                j + 1
                for j, v in enumerate(sc.step_p_holm)
                if v is not None and v < SIGNIFICANCE and (sc.step_skill[j] or 0) > 0
            ]
            if held:
                at = ", ".join(
                    f"h={j} (skill {sc.step_skill[j - 1]:+.4f}, p {sc.step_p_holm[j - 1]:.2g})"
                    for j in held[:3]
                )
                more = f" and {len(held) - 3} more step(s)" if len(held) > 3 else ""
                also.append(f"{m} at {at}{more}")
        if also:
            text += " Also significantly better than persistence (Holm): " + "; ".join(also) + "."
        return text

    def _best_verdict(self) -> str:
        """The sentence on the best model by pooled skill."""
        others = [m for m in self.ranking() if m != "persistence"]
        k, h = len(self.origins), self.horizon
        if not others:
            return "Only persistence was run: there is nothing to compare it with."
        best = others[0]
        sc = self.scores[best]
        if sc.skill is None:
            return "Persistence is exact over the backtest (a flat series): skill is undefined."
        better = sum(1 for s in sc.step_skill if s is not None and s > 0)
        where = f"{k} origins × {h} step(s)"
        if sc.skill <= 0:
            return (
                f"No model beats persistence over the {where}: the best other model, {best}, "
                f"has pooled skill {sc.skill:+.4f} (better at {better} of {h} steps). This is "
                "the usual outcome on prices and other random-walk-like series."
            )

        def steps(ps: list[float | None]) -> list[int]:  # significant steps where it is better
            return [
                j + 1
                for j, v in enumerate(ps)
                if v is not None and v < SIGNIFICANCE and (sc.step_skill[j] or 0) > 0
            ]

        edge = (
            f"{best} edges out persistence over the {where} (pooled skill {sc.skill:+.4f}, "
            f"better at {better} of {h} steps)"
        )
        held, raw = steps(sc.step_p_holm), steps(sc.step_p)
        if held:
            at = ", ".join(f"h={j} (p {sc.step_p_holm[j - 1]:.2g})" for j in held)
            return (
                f"{best} beats persistence over the {where}: pooled skill {sc.skill:+.4f}, "
                f"significant at {at}, Diebold-Mariano p Holm-adjusted for the {h} steps."
            )
        if raw:
            at = ", ".join(f"h={j} (p {sc.step_p[j - 1]:.2g})" for j in raw)
            return (
                f"{edge}; its Diebold-Mariano p is below {SIGNIFICANCE:g} at {at}, but not "
                f"once adjusted for testing {h} steps (Holm): treat it as not shown."
            )
        power = f"; with only {k} origins the test has little power" if k < 30 else ""
        return (
            f"{edge}, but at no step is the difference significant (Diebold-Mariano p ≥ "
            f"{SIGNIFICANCE:g}{power}): treat it as a tie with persistence."
        )

    def to_dict(self) -> dict:
        """The backtest as plain JSON-able data (the command's JSON and ``metrics.json``);
        None where a number is undefined."""
        s, sp = self.series, self.split
        models = {}
        for m in self.ranking():
            fits = self.fit_seconds[m]
            models[m] = {
                **self.scores[m].to_dict(),
                "intervals": None if self.intervals is None else self.intervals[m].to_dict(),
                "fits": len(fits),
                "fit_seconds": [round(t, 4) for t in fits],
            }
        return {
            "dataset": s.source,
            "series": s.summary(),
            "split": sp.summary(s),
            "config": self.config.to_dict(),
            "backtest": {
                "origins": self.labels(),
                "origin_rows": [int(o) for o in self.origins],
                "horizon": self.horizon,
                "refit": self.config.refit,
                "strategy": self.config.strategy,
                "levels": None if self.config.level is None else list(self.config.level),
                "calibration": None if self.config.level is None else self.config.calibration,
                "steps": list(range(1, self.horizon + 1)),
                "forecasts_per_step": self.counts(),
                "ranking": self.ranking(),
                "models": models,
                "actual": _grid(self.actual),
                "forecasts": {m: _grid(f) for m, f in self.forecasts.items()},
                "verdict": self.verdict(),
            },
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
        }

    def _index(self) -> pd.Index:
        import pandas as pd

        if self.series.dates is None:
            return pd.Index(self.origins, name="origin")
        return pd.DatetimeIndex(self.series.dates[self.origins], name="origin")

    def per_origin(self) -> pd.DataFrame:
        """RMSE, MAE and skill of each model at each origin: rows indexed by the origin's date
        (its row without dates), columns (model, metric)."""
        import pandas as pd

        cols = {}
        for m in self.ranking():
            sc = self.scores[m]
            cols[(m, "rmse")], cols[(m, "mae")] = sc.origin_rmse, sc.origin_mae
            cols[(m, "skill")] = _nan(sc.origin_skill)
        return pd.DataFrame(cols, index=self._index())

    def per_step(self) -> pd.DataFrame:
        """RMSE, MAE, skill and the Diebold-Mariano p of each model per step h (and, with
        levels, coverage and width per level: ``coverage 80``, ``width 80``); columns
        (model, metric)."""
        import pandas as pd

        cols = {}
        for m in self.ranking():
            sc = self.scores[m]
            cols[(m, "rmse")], cols[(m, "mae")] = sc.step_rmse, sc.step_mae
            cols[(m, "skill")], cols[(m, "p_value")] = _nan(sc.step_skill), _nan(sc.step_p)
            cols[(m, "p_holm")] = _nan(sc.step_p_holm)
            if self.intervals is not None:
                iv = self.intervals[m]
                for lv in iv.halfwidths:
                    cols[(m, f"coverage {lv:g}")] = iv.coverage[lv]
                    cols[(m, f"width {lv:g}")] = _nan(iv.width[lv])
        index = pd.RangeIndex(1, self.horizon + 1, name="h")
        return pd.DataFrame(cols, index=index)


def _nan(values: list) -> list[float]:
    return [np.nan if v is None else v for v in values]


def _grid(a: np.ndarray) -> list[list[float | None]]:
    """(K, H) as nested lists, None for NaN."""
    return [[_finite(v) for v in row] for row in a]
