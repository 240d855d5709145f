"""Many series, H steps ahead and with intervals: every model's 1 … H-step forecasts and
conformal intervals on each series (the local models' from their own run, the global nets'
from each series' copy), scored per series and pooled over the series.

For series i = 1 … K, with its test origins o (the last value seen, o = T_i − 1 … N_i − 2)
and the n_{i,h} targets t = o + h of step h that fall in its test span (n_test,i − h + 1):

    SSE_{i,h}         = Σ_o (x_{o+h} − x̂_{o+h|o})²        the model's, on series i
    SSE_{i,h}^pers    = Σ_o (x_{o+h} − x_o)²              persistence's h-step forecast x_o
    pooled skill_h    = 1 − sqrt(Σ_i SSE_{i,h}) / sqrt(Σ_i SSE_{i,h}^pers)
    pooled RMSE_h     = sqrt(Σ_i SSE_{i,h} / Σ_i n_{i,h})
    mean skill_h      = (1/K) Σ_i skill_{i,h}
    pooled coverage_h = Σ_i #{t of step h: x_t inside its interval} / Σ_i n_{i,h}

(h = 1 is the one-step pooling of :class:`~rnnlab.forecast.multi_scores.ManyResult`.) The
widths stay per series: each is in its own series' units, so no pooled width is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from rnnlab.data.series import Series
from rnnlab.data.splits import Split
from rnnlab.forecast.base import Forecaster
from rnnlab.forecast.horizons import HorizonResult, score_horizons
from rnnlab.forecast.intervals import METHODS, IntervalResult, score_intervals

__all__ = ["ManySteps", "PooledCoverage", "PooledSteps", "score_members"]

KINDS = ("local", "global")


def score_members(
    series: Series,
    split: Split,
    members: dict[str, Forecaster],
    test_forecasts: dict[str, np.ndarray],
    next_values: dict[str, np.ndarray],
    horizon: int,
    strategy: str,
    levels: tuple[float, ...] | None,
    calibration: str,
) -> tuple[HorizonResult | None, IntervalResult | None]:
    """The global nets' copies for one series (``members``), scored as
    :func:`~rnnlab.forecast.experiment.run_forecast` scores a local model: 1 … H-step
    forecasts from every test origin (None for H = 1) and conformal (and quantile) intervals
    at ``levels`` (fractions; None: none) from that series' validation residuals."""
    test_start = split.val_end
    steps = min(horizon, split.n_test)  # a step past the test span has nothing to score
    horizons = None
    if steps > 1:
        horizons = score_horizons(series, test_start, members, steps, strategy)
    intervals = None
    if levels is not None:
        if horizons is not None:
            forecasts = horizons.forecasts
        else:  # one step: the test forecasts themselves, from origins T − 1 … N − 2
            forecasts = {name: test_forecasts[name][:, None] for name in members}
        intervals = score_intervals(
            members,
            series,
            split.train_end,
            test_start,
            levels,
            forecasts,
            next_values,
            calibration,
        )
    return horizons, intervals


@dataclass(frozen=True)
class PooledSteps:
    """One model's per-step scores over every series (index h − 1; see the module docstring)."""

    model: str
    kind: str  # "local" or "global"
    n_series: int
    n: list[int]  # Σ_i n_{i,h}: forecasts scored at step h, all series
    rmse: list[float | None]  # sqrt(Σ SSE_h / Σ n_h): real units, mixed across series
    skill: list[float | None]  # 1 − sqrt(Σ_i SSE_{i,h}) / sqrt(Σ_i SSE_{i,h}^pers)
    mean_skill: list[float | None]  # (1/K) Σ_i skill_{i,h}


@dataclass(frozen=True)
class PooledCoverage:
    """One model's intervals at one level over every series (index h − 1)."""

    model: str
    kind: str  # "local" or "global"
    method: str  # "conformal" (x̂ ± q_h) or "quantile" (a pinball net's own quantiles)
    level: float  # in %
    n_series: int
    inside: list[int]  # Σ_i #{targets of step h inside their interval}
    n: list[int]  # Σ_i n_{i,h}
    coverage: list[float | None]  # inside / n
    width: dict[str, list[float | None]]  # series -> mean width per step, in its own units


@dataclass
class ManySteps:
    """Every series' per-step scores and intervals, local and global.

    horizons    kind ("local", "global") -> series -> HorizonResult (empty for H = 1)
    intervals   kind -> series -> IntervalResult (empty without levels)
    """

    series: dict[str, Series]
    n_test: dict[str, int]  # series -> its test points
    horizon: int
    strategy: str
    levels: tuple[float, ...] | None  # fractions
    calibration: str
    horizons: dict[str, dict[str, HorizonResult]]
    intervals: dict[str, dict[str, IntervalResult]]

    def pooled_steps(self, model: str, kind: str) -> PooledSteps | None:
        """``model``'s per-step scores pooled over the series it has them on (None: none)."""
        parts = [
            (label, hz) for label, hz in self.horizons.get(kind, {}).items() if model in hz.scores
        ]
        if not parts:
            return None
        steps = max(hz.horizon for _, hz in parts)
        sse, sse_p, n = np.zeros(steps), np.zeros(steps), np.zeros(steps, dtype=np.int64)
        skills: list[list[float]] = [[] for _ in range(steps)]
        for label, hz in parts:
            x, o, fc = self.series[label].values, hz.origins, hz.forecasts[model]
            for h in range(1, hz.horizon + 1):
                rows = o + h < len(x)  # targets in the test span
                e = x[o[rows] + h] - fc[rows, h - 1]  # x_{o+h} − x̂_{o+h|o}
                e_p = x[o[rows] + h] - x[o[rows]]  # persistence: x̂_{o+h|o} = x_o
                sse[h - 1] += float(e @ e)  # Σ_i SSE_{i,h}
                sse_p[h - 1] += float(e_p @ e_p)  # Σ_i SSE_{i,h}^pers
                n[h - 1] += int(rows.sum())
                if hz.scores[model].skill[h - 1] is not None:
                    skills[h - 1].append(hz.scores[model].skill[h - 1])
        return PooledSteps(
            model,
            kind,
            len(parts),
            n.tolist(),
            [float(np.sqrt(s / k)) if k else None for s, k in zip(sse, n, strict=True)],
            [
                1 - float(np.sqrt(s) / np.sqrt(p)) if p > 0 else None  # pooled skill_h
                for s, p in zip(sse, sse_p, strict=True)
            ],
            [float(np.mean(v)) if v else None for v in skills],  # (1/K) Σ_i skill_{i,h}
        )

    def pooled_coverage(
        self, model: str, kind: str, level: float, method: str = "conformal"
    ) -> PooledCoverage | None:
        """``model``'s intervals at ``level`` (%) pooled over the series (None: none).

        Series i's step-h coverage c_{i,h} is a share of its n_{i,h} = n_test,i − h + 1
        targets, so round(c_{i,h} · n_{i,h}) is its count inside, exactly."""
        cells = {}
        for label, iv in self.intervals.get(kind, {}).items():
            table = iv.conformal if method == "conformal" else iv.quantile
            by_level = table.get(model, {})  # keyed by fraction: 0.8
            cell = next((c for lv, c in by_level.items() if math.isclose(100 * lv, level)), None)
            if cell is not None:
                cells[label] = cell
        if not cells:
            return None
        steps = max(len(c["coverage"]) for c in cells.values())
        inside, n = [0] * steps, [0] * steps
        for label, cell in cells.items():
            for h, share in enumerate(cell["coverage"]):  # h = step − 1
                if share is not None:
                    count = self.n_test[label] - h  # n_{i,h+1}
                    inside[h] += round(share * count)
                    n[h] += count
        return PooledCoverage(
            model,
            kind,
            method,
            level,
            len(cells),
            inside,
            n,
            [i / k if k else None for i, k in zip(inside, n, strict=True)],
            {label: list(cell["width"]) for label, cell in cells.items()},
        )

    def sentences(self, models: list[tuple[str, str]]) -> list[str]:
        """For the verdict: the best pooled skill at the last step, and how far the first
        level's conformal intervals covered, pooled (nothing for H = 1 without levels)."""
        out = []
        pooled = [self.pooled_steps(m, k) for m, k in models if m != "persistence"]
        pooled = [p for p in pooled if p is not None]
        if pooled:
            h = max(len(p.n) for p in pooled)
            last = [(p, p.skill[h - 1]) for p in pooled if len(p.skill) >= h]
            last = [(p, v) for p, v in last if v is not None]
            if last:
                best, value = max(last, key=lambda pv: pv[1])
                name = best.model if best.kind == "local" else f"{best.model} (global)"
                beat = sum(v > 0 for _, v in last)
                out.append(
                    f"{h} steps ahead the best pooled is {name}, skill {value:+.4f}; "
                    f"{beat} of {len(last)} beat persistence pooled there."
                )
        if self.levels:
            level = 100 * self.levels[0]
            covers = [
                c
                for m, k in models
                for p in (self.pooled_coverage(m, k, level),)
                if p is not None
                for c in p.coverage
                if c is not None
            ]
            if covers:
                low, high = f"{100 * min(covers):.1f}", f"{100 * max(covers):.1f}"
                span = high if low == high else f"{low} to {high}"
                out.append(
                    f"The {level:g}% conformal intervals cover {span}% of all series' test "
                    "targets pooled (over the models and steps)."
                )
        return out

    # -- tables and JSON --------------------------------------------------------------------

    def _interval_keys(self, models: list[tuple[str, str]]):
        """(model, kind, method, level in %) of every pooled interval, in ``models``' order."""
        for level in self.levels or ():
            for method in ("conformal", "quantile"):
                for model, kind in models:
                    yield model, kind, method, 100 * level

    def step_scores(self) -> pd.DataFrame | None:
        """Rows (series, model, kind, h): rmse, mae, skill on that series; None for H = 1."""
        rows = [
            {"series": label, "model": m, "kind": kind, "h": h + 1}
            | {"rmse": sc.rmse[h], "mae": sc.mae[h], "skill": sc.skill[h]}
            for kind in KINDS
            for label, hz in self.horizons.get(kind, {}).items()
            for m, sc in hz.scores.items()
            for h in range(hz.horizon)
        ]
        return pd.DataFrame(rows).set_index(["series", "model", "kind", "h"]) if rows else None

    def pooled_step_scores(self, models: list[tuple[str, str]]) -> pd.DataFrame | None:
        """Rows (model, kind, h): n, rmse, skill, mean_skill over all series; None for H = 1."""
        rows = []
        for model, kind in models:
            p = self.pooled_steps(model, kind)
            for h in range(len(p.n) if p else 0):
                rows.append(
                    {"model": model, "kind": kind, "h": h + 1, "n": p.n[h], "rmse": p.rmse[h]}
                    | {"skill": p.skill[h], "mean_skill": p.mean_skill[h]}
                )
        return pd.DataFrame(rows).set_index(["model", "kind", "h"]) if rows else None

    def interval_scores(self) -> pd.DataFrame | None:
        """Rows (series, model, kind, method, level in %, h): coverage and mean width on
        that series (its units); None without levels."""
        rows = []
        for kind in KINDS:
            for label, iv in self.intervals.get(kind, {}).items():
                for method, table in (("conformal", iv.conformal), ("quantile", iv.quantile)):
                    for m, by_level in table.items():
                        for level, cell in by_level.items():
                            for h, cover in enumerate(cell["coverage"]):
                                rows.append(
                                    {"series": label, "model": m, "kind": kind, "method": method}
                                    | {"level": 100 * level, "h": h + 1, "coverage": cover}
                                    | {"width": cell["width"][h]}
                                )
        index = ["series", "model", "kind", "method", "level", "h"]
        return pd.DataFrame(rows).set_index(index) if rows else None

    def pooled_interval_scores(self, models: list[tuple[str, str]]) -> pd.DataFrame | None:
        """Rows (model, kind, method, level in %, h): inside, n, coverage over all series;
        None without levels."""
        rows = []
        for model, kind, method, level in self._interval_keys(models):
            p = self.pooled_coverage(model, kind, level, method)
            for h in range(len(p.n) if p else 0):
                rows.append(
                    {"model": model, "kind": kind, "method": method, "level": level}
                    | {"h": h + 1, "inside": p.inside[h], "n": p.n[h], "coverage": p.coverage[h]}
                )
        index = ["model", "kind", "method", "level", "h"]
        return pd.DataFrame(rows).set_index(index) if rows else None

    def _per_series(self, results: dict, fill: Callable[[dict, str, dict], None]) -> dict:
        """{label: cell} over the series, ``fill(cell, kind, d)`` called with the JSON ``d`` of
        each kind's (local, global) result for that series, where there is one."""
        per_series = {}
        for label in self.series:
            cell: dict = {}
            for kind in KINDS:
                result = results.get(kind, {}).get(label)
                if result is not None:
                    fill(cell, kind, result.to_dict())
            per_series[label] = cell
        return per_series

    def horizons_dict(self, models: list[tuple[str, str]]) -> dict | None:
        """JSON of the per-step scores (None for H = 1): per series the local and global
        models' rmse, mae, skill by step; pooled per model and kind."""
        if not any(self.horizons.values()):
            return None

        def fill(cell: dict, kind: str, d: dict) -> None:
            cell.update(origins=d["origins"], forecasts_per_step=d["forecasts_per_step"])
            cell[kind] = d["models"]

        per_series = self._per_series(self.horizons, fill)
        pooled = [self.pooled_steps(m, k) for m, k in models]
        return {
            "strategy": self.strategy,
            "steps": list(range(1, self.horizon + 1)),
            "per_series": per_series,
            "pooled": [asdict(p) for p in pooled if p is not None],
        }

    def intervals_dict(self, models: list[tuple[str, str]]) -> dict | None:
        """JSON of the intervals (None without levels): per series the local and global
        models' conformal (and quantile) cells and next-value bands, as one series has them;
        pooled coverage per model, kind, method and level, with the per-series widths."""
        if self.levels is None:
            return None

        def fill(cell: dict, kind: str, d: dict) -> None:
            cell[kind] = {k: d[k] for k in ("steps", "conformal", "quantile", "next")}

        per_series = self._per_series(self.intervals, fill)
        pooled = [
            self.pooled_coverage(m, k, lv, how) for m, k, how, lv in self._interval_keys(models)
        ]
        return {
            "levels": [100 * lv for lv in self.levels],
            "calibration": self.calibration,
            "method": METHODS[self.calibration],
            "per_series": per_series,
            "pooled": [asdict(p) for p in pooled if p is not None],
        }
