"""What :func:`rnnlab.forecast.multi.run_many` returns: every series' local run, the global
nets, and their scores per series and pooled.

For series i = 1 … K with test parts of n_i points, SSE_i = Σ_t (x_t − x̂_t)² over its test part:

    skill_i      = 1 − RMSE_i / RMSE_i^persistence                  on its own test part
    pooled skill = 1 − sqrt(Σ_i SSE_i) / sqrt(Σ_i SSE_i^persistence)   real units: the series
                   with the largest moves weigh most
    mean skill   = (1/K) Σ_i skill_i                                  each series counts once
    pooled RMSE  = sqrt(Σ_i SSE_i / Σ_i n_i)

With a horizon H > 1 or interval levels, :class:`~rnnlab.forecast.multi_steps.ManySteps`
(``ahead``) holds every series' 1 … H-step scores and intervals, pooled the same way per step
(pooled skill_h, and pooled coverage = the share of all series' test targets inside their
intervals).

Whether a model beats persistence, or a global net its local twin, on one series: the one-sided
Diebold-Mariano p on that series' test part (:func:`~rnnlab.forecast.experiment.diebold_mariano`).
No pooled p is given: the series share their dates, so their errors are not independent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rnnlab.data.series import Series, format_date
from rnnlab.forecast.experiment import (
    SIGNIFICANCE,
    ForecastConfig,
    ForecastResult,
    ModelResult,
    diebold_mariano,
)
from rnnlab.forecast.multi_steps import ManySteps, PooledCoverage, PooledSteps

if TYPE_CHECKING:
    from rnnlab.forecast.multi import GlobalModel

__all__ = ["DEFINITIONS", "ManyResult", "Pooled"]

DEFINITIONS = {
    "skill": "1 − RMSE/RMSE(persistence) on the series' own test part",
    "pooled_skill": "1 − sqrt(Σ SSE)/sqrt(Σ SSE of persistence), over every test point of "
    "every series (real units: the series with the largest moves weigh most)",
    "mean_skill": "the mean of the per-series skills (each series counts once)",
    "p_value": "Diebold-Mariano p that the model beats the series' persistence",
    "p_vs_local": "Diebold-Mariano p that the global model beats the local one of its kind",
    "horizons.pooled.skill": "per step h: 1 − sqrt(Σ_series SSE_h)/sqrt(Σ_series SSE_h of "
    "persistence, whose h-step forecast is x_o), over every test origin of every series",
    "horizons.pooled.mean_skill": "per step h: the mean of the per-series skills at step h",
    "intervals.pooled.coverage": "per step h: the share of all series' step-h test targets "
    "inside their intervals (inside / n)",
    "intervals.pooled.width": "per series, the mean interval width per step, in that series' "
    "units (so no pooled width)",
}


@dataclass(frozen=True)
class Pooled:
    """One model's scores over all series (see the module docstring)."""

    model: str
    kind: str  # "local" or "global"
    n_series: int
    n_test: int
    rmse: float  # sqrt(Σ SSE / Σ n): real units, mixed across series
    skill: float | None
    mean_skill: float | None
    wins: int  # series where its skill is above 0
    significant: int  # series where it beats persistence with DM p < 0.05


@dataclass
class ManyResult:
    """Every series' local run, the global nets, and their scores on each series."""

    series: dict[str, Series]
    config: ForecastConfig
    local: dict[str, ForecastResult]  # series -> the one-series job on it
    shared: dict[str, GlobalModel]  # neural model -> its global net
    results: dict[str, dict[str, ModelResult]]  # neural model -> series -> global scores
    vs_local: dict[str, dict[str, float | None]]  # neural model -> series -> DM p
    failed: dict[str, dict[str, str]]  # series -> model (global: "gru (global)") -> why
    seconds: float
    ahead: ManySteps  # 1 … H-step scores and intervals (empty for H = 1, no levels)

    def pooled_steps(self, model: str, kind: str) -> PooledSteps | None:
        """``model``'s 1 … H-step scores pooled over the series (None: H = 1 or none)."""
        return self.ahead.pooled_steps(model, kind)

    def pooled_coverage(
        self, model: str, kind: str, level: float, method: str = "conformal"
    ) -> PooledCoverage | None:
        """``model``'s intervals at ``level`` (%) pooled over the series (None: none)."""
        return self.ahead.pooled_coverage(model, kind, level, method)

    def step_scores(self) -> pd.DataFrame | None:
        """Rows (series, model, kind, h): rmse, mae, skill per series; None for H = 1."""
        return self.ahead.step_scores()

    def pooled_step_scores(self) -> pd.DataFrame | None:
        """Rows (model, kind, h): n, rmse, skill, mean_skill over all series; None for H = 1."""
        return self.ahead.pooled_step_scores(self.models())

    def interval_scores(self) -> pd.DataFrame | None:
        """Rows (series, model, kind, method, level, h): coverage and mean width (the
        series' units); None without levels."""
        return self.ahead.interval_scores()

    def pooled_interval_scores(self) -> pd.DataFrame | None:
        """Rows (model, kind, method, level, h): inside, n and coverage over all series;
        None without levels."""
        return self.ahead.pooled_interval_scores(self.models())

    def _rows(self):
        """(series, model, kind, ModelResult, p_vs_local) for every score."""
        for label, run in self.local.items():
            for name, r in run.results.items():
                yield label, name, "local", r, None
            for name, by in self.results.items():
                if label in by:
                    yield label, name, "global", by[label], self.vs_local[name].get(label)

    def scores(self) -> pd.DataFrame:
        """One row per series, model and kind (local, global): n_test, rmse, mae, mape,
        direction, skill, p_value (DM against persistence) and p_vs_local (global rows)."""
        rows = []
        for label, name, kind, r, p_local in self._rows():
            rows.append(
                {
                    "series": label,
                    "model": name,
                    "kind": kind,
                    "n_test": len(r.test_forecast),
                    **r.scores.to_dict(),
                    "p_value": r.p_value,
                    "p_vs_local": p_local,
                }
            )
        return pd.DataFrame(rows)

    def pooled(self, model: str, kind: str) -> Pooled | None:
        """``model``'s scores over every series it has scores on (None: none)."""
        sse = sse_p = n = 0.0
        skills, wins, significant, count = [], 0, 0, 0
        for label, name, k, r, _ in self._rows():
            if name != model or k != kind:
                continue
            run = self.local[label]
            actual = run.test_actual
            sse += float(np.sum((actual - r.test_forecast) ** 2))  # SSE_i
            sse_p += float(np.sum((actual - run.results["persistence"].test_forecast) ** 2))
            n += len(actual)
            count += 1
            if r.scores.skill is not None:
                skills.append(r.scores.skill)
            wins += r.scores.skill is not None and r.scores.skill > 0
            significant += r.p_value is not None and r.p_value < SIGNIFICANCE
        if n == 0:
            return None
        skill = None if sse_p == 0 else 1 - math.sqrt(sse) / math.sqrt(sse_p)
        return Pooled(
            model,
            kind,
            count,
            int(n),
            math.sqrt(sse / n),  # pooled RMSE
            skill,  # 1 − sqrt(Σ SSE_i) / sqrt(Σ SSE_i^persistence)
            float(np.mean(skills)) if skills else None,  # (1/K) Σ skill_i
            int(wins),
            int(significant),
        )

    def models(self) -> list[tuple[str, str]]:
        """(model, kind) in the order shown: the local models, each neural one followed by
        its global net."""
        names = list(dict.fromkeys(n for run in self.local.values() for n in run.results))
        out = []
        for name in names:
            out.append((name, "local"))
            if name in self.results:
                out.append((name, "global"))
        out += [(n, "global") for n in self.results if n not in names]
        return out

    def comparison(self, model: str) -> dict:
        """The global ``model`` against the local one, over the series that have both: on how
        many the global one has the lower RMSE, on how many it is significantly better, and
        the local one significantly better (one-sided DM p < 0.05 each way)."""
        better = significant = local_significant = both = 0
        for label, r in self.results.get(model, {}).items():
            local = self.local[label].results.get(model)
            if local is None:
                continue
            both += 1
            better += r.scores.rmse < local.scores.rmse
            p = self.vs_local[model].get(label)
            significant += p is not None and p < SIGNIFICANCE
            actual = self.local[label].test_actual
            back = diebold_mariano(actual, r.test_forecast, local.test_forecast)  # local better
            local_significant += back is not None and back < SIGNIFICANCE
        return {
            "better_on": int(better),
            "significant": int(significant),
            "local_significant": int(local_significant),
            "of": both,
        }

    def steps(self, model: str) -> tuple[int, float | None]:
        """Optimisation steps of the global ``model`` and the mean over its local ones: with
        the same epochs the global net takes about K times as many (it has K series' windows)."""
        g = self.shared[model].forecaster.history_
        local = [
            len(run.results[model].history.step_loss)
            for run in self.local.values()
            if model in run.results and run.results[model].history is not None
        ]
        return len(g.step_loss), (float(np.mean(local)) if local else None)

    def verdict(self) -> str:
        """Honest sentences: does anything beat persistence pooled, and does sharing help."""
        pooled = [self.pooled(m, k) for m, k in self.models() if m != "persistence"]
        pooled = [p for p in pooled if p is not None and p.skill is not None]
        if not pooled:
            return "Only persistence was run: there is nothing to compare it with."
        k = len(self.series)
        n = max(p.n_test for p in pooled)
        best = max(pooled, key=lambda p: p.skill)
        label = best.model if best.kind == "local" else f"{best.model} (global)"
        mean = "n/a" if best.mean_skill is None else f"{best.mean_skill:+.4f}"
        if best.skill <= 0:
            parts = [
                f"No model beats persistence pooled over the {k} series ({n} test points): the "
                f"best, {label}, has pooled skill {best.skill:+.4f}."
            ]
        elif best.significant == 0:
            parts = [
                f"{label} edges out persistence pooled over the {k} series (skill "
                f"{best.skill:+.4f}, mean skill {mean}) but beats it significantly on none of "
                "them: treat it as a tie with tomorrow = today."
            ]
        else:
            parts = [
                f"Best pooled: {label}, skill {best.skill:+.4f} (mean skill {mean}), above 0 "
                f"on {best.wins} of {best.n_series} series, significantly (DM p < 0.05) on "
                f"{best.significant}."
            ]
        settled = False
        for model in self.results:
            g, loc = self.pooled(model, "global"), self.pooled(model, "local")
            c = self.comparison(model)
            if g is None or loc is None or g.skill is None or loc.skill is None:
                continue
            settled |= c["significant"] + c["local_significant"] > 0
            parts.append(
                f"Global {model} vs one {model} per series: pooled skill {g.skill:+.4f} vs "
                f"{loc.skill:+.4f}, lower RMSE on {c['better_on']} of {c['of']} series; "
                f"significantly better on {c['significant']}, significantly worse on "
                f"{c['local_significant']}"
                + ("; neither beats persistence pooled." if max(g.skill, loc.skill) <= 0 else ".")
            )
        if self.results and not settled:
            parts.append(
                "No global-vs-local difference is significant on any series: treat them as ties."
            )
        return " ".join([*parts, *self.ahead.sentences(self.models())])

    def to_dict(self) -> dict:
        """Plain JSON-able data (the command's JSON and ``metrics.json``)."""
        series = {}
        for label, s in self.series.items():
            sp = self.local[label].split
            series[label] = {**s.summary(), "source": s.source, "split": sp.summary(s)}
        pooled = [self.pooled(m, k) for m, k in self.models()]
        nexts = {}
        for label, run in self.local.items():
            glob = {
                m: float(by[label].next_values[0]) for m, by in self.results.items() if label in by
            }
            dates = None if run.next_dates is None else [format_date(d) for d in run.next_dates]
            nexts[label] = {
                "date": None if dates is None else dates[0],
                "local": {m: float(r.next_values[0]) for m, r in run.results.items()},
                "global": glob,
                "dates": dates,  # the H next dates, and every model's H next values
                "values": {
                    "local": {m: r.next_values.tolist() for m, r in run.results.items()},
                    "global": {
                        m: by[label].next_values.tolist()
                        for m, by in self.results.items()
                        if label in by
                    },
                },
            }
        training = {
            "global": {
                m: {
                    **g.forecaster.history_.summary(),
                    "steps": self.steps(m)[0],
                    "windows": g.windows,
                }
                for m, g in self.shared.items()
            },
            "local": {
                label: {
                    n: {**r.history.summary(), "steps": len(r.history.step_loss)}
                    for n, r in run.results.items()
                    if r.history
                }
                for label, run in self.local.items()
            },
        }
        return _json_safe(
            {
                "series": series,
                "config": self.config.to_dict(),
                "definitions": DEFINITIONS,
                "scores": self.scores().to_dict(orient="records"),
                "pooled": [vars(p) for p in pooled if p is not None],
                "global_vs_local": {m: self.comparison(m) for m in self.results},
                "horizons": self.ahead.horizons_dict(self.models()),
                "intervals": self.ahead.intervals_dict(self.models()),
                "next": nexts,
                "training": training,
                "failed": self.failed,
                "verdict": self.verdict(),
                "seconds": round(self.seconds, 3),
            }
        )


def _json_safe(obj):
    """NaN (pandas' missing) as None, numpy scalars as Python numbers, tuples as lists."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
