"""The feature ablation: does the memory-less MLP need its hand-made features, and does the RNN
learn what they give?

The article's claim: a feed-forward net (DNN) sees the past only through hand-made features
(yesterday's price, a 7-day mean, a day-of-week sine), while an RNN learns its own from the raw
sequence. Here it is an experiment, on one chronological split:

    mlp(window)        the MLP on the raw window s_{t−W} … s_{t−1}: no hand-made feature
    mlp(<group>)       the MLP on one named group of :data:`rnnlab.data.features.GROUPS` alone
    mlp(all)           the MLP on every feature (the ``mlp`` of ``rnnlab forecast``)
    <cell>(window)     the recurrent net on the raw window (the first cell of ``models``; rnn)

each scored on the same test points against persistence (skill, one-sided Diebold-Mariano p)
and against the recurrent net (one-sided DM p that the recurrent net is the better of the two).
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, replace

import numpy as np

from rnnlab.data.features import GROUPS, RAW, SPAN, feature_names, select_features
from rnnlab.data.series import Series
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError
from rnnlab.forecast.experiment import diebold_mariano
from rnnlab.forecast.metrics import rmse, skill
from rnnlab.forecast.models import make_forecaster
from rnnlab.forecast.neural import MLPForecaster
from rnnlab.settings.forecasting import ForecastConfig

ABLATION_COLUMNS = ("model", "sees", "RMSE", "skill", "p (DM)", "p vs rnn")


class FeatureMLP(MLPForecaster):
    """The MLP on a chosen set of features: ``features`` holds group names of
    :data:`~rnnlab.data.features.GROUPS`, or ``("window",)`` for the raw window."""

    def __init__(self, *args, features: tuple[str, ...] = ("yesterday",), **params) -> None:
        super().__init__(*args, **params)
        self.features = tuple(features)

    def _inputs(self, s: np.ndarray, targets: np.ndarray, dates) -> np.ndarray:
        if self.features != (RAW,) and self.config.window < SPAN:
            raise FieldError("window", "mlp: its features need {window} >= {0}", SPAN, lead=False)
        try:
            X, names = select_features(
                s, targets, dates if self.uses_dates_ else None, self.features, self.config.window
            )
        except ValueError as exc:
            raise RnnlabError(f"mlp: {exc}") from None
        self.feature_names_ = names
        return X  # (n, F)

    def feature_names(self) -> list[str]:
        """The names of the columns the net sees."""
        return list(self.feature_names_)


_sig = inspect.signature(MLPForecaster.__init__)
FeatureMLP.__init__.__signature__ = _sig.replace(  # type: ignore[attr-defined]
    parameters=[
        *_sig.parameters.values(),
        inspect.Parameter("features", inspect.Parameter.KEYWORD_ONLY, default=("yesterday",)),
    ]
)


@dataclass
class AblationRow:
    """One variant's outcome on the test points."""

    name: str
    features: list[str]
    forecast: np.ndarray  # (n_test,)
    rmse: float
    skill: float | None
    p_value: float | None  # DM, one-sided: beats persistence
    p_rnn_better: float | None  # DM, one-sided: the recurrent net beats this variant
    seconds: float

    def to_dict(self) -> dict:
        """JSON-able."""
        return {
            "features": self.features,
            "rmse": self.rmse,
            "skill": self.skill,
            "p_value": self.p_value,
            "p_rnn_better": self.p_rnn_better,
            "seconds": round(self.seconds, 3),
        }

    def cells(self) -> list[str]:
        """Table cells in :data:`ABLATION_COLUMNS` order."""
        feats = self.features
        if feats[0].startswith("s_("):
            shown = f"{len(feats)} values"
        elif len(feats) <= 2:
            shown = "/".join(feats)
        else:
            shown = f"{len(feats)} features"

        def p(v):
            return "—" if v is None else f"{v:.3g}"

        sk = "—" if self.skill is None else f"{self.skill:+.4f}"
        return [self.name, shown, f"{self.rmse:.4f}", sk, p(self.p_value), p(self.p_rnn_better)]


@dataclass
class AblationResult:
    """Every variant, in the order run; the recurrent one is ``recurrent``."""

    series: Series
    config: ForecastConfig
    n_test: int
    recurrent: str
    rows: dict[str, AblationRow]
    persistence_rmse: float
    seconds: float

    def verdict(self) -> str:
        """What the ablation shows, in two sentences at most."""
        rnn, cell = self.rows[self.recurrent], self.recurrent.split("(")[0]
        mlps = [r for r in self.rows.values() if r.name.startswith("mlp")]
        best = min(mlps, key=lambda r: r.rmse)
        raw = self.rows["mlp(window)"]
        gap = "lower" if rnn.rmse < raw.rmse else "higher"
        text = (
            f"On the raw window the {cell} has a {gap} RMSE than the MLP ({rnn.rmse:.4f} vs "
            f"{raw.rmse:.4f}; DM p = {_p(raw.p_rnn_better)} that the {cell} is better); the best "
            f"MLP is {best.name} (RMSE {best.rmse:.4f}; DM p = {_p(best.p_rnn_better)} that the "
            f"{cell} beats it)."
        )
        beat = [r.name for r in self.rows.values() if r.p_value is not None and r.p_value < 0.05]
        if not beat:
            text += " No variant beats persistence significantly (DM p < 0.05)."
        else:
            text += f" Beating persistence significantly: {', '.join(beat)}."
        return text

    def to_dict(self) -> dict:
        """JSON-able (the feature ablation's JSON)."""
        return {
            "ablation": "features",
            "dataset": self.series.source,
            "test_points": self.n_test,
            "persistence_rmse": self.persistence_rmse,
            "recurrent": self.recurrent,
            "variants": {n: r.to_dict() for n, r in self.rows.items()},
            "verdict": self.verdict(),
            "seconds": round(self.seconds, 3),
        }


def _p(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2g}"


def run_ablation(
    series: Series, config: ForecastConfig | None = None, progress=None
) -> AblationResult:
    """Fit every variant on ``series.head(val_end)`` and score it on the test tail (each point
    from its actual past), as :func:`~rnnlab.forecast.experiment.run_forecast` does."""
    from rnnlab.settings.cells import known_cells

    config = ForecastConfig(ablation="features") if config is None else config
    start = time.perf_counter()
    split = config.split(len(series))
    seen, test_start = series.head(split.val_end), split.val_end
    actual = series.values[test_start:]
    cells = [m for m in config.models if m in known_cells()]
    recurrent = cells[0] if cells else "rnn"
    groups = [g for g in GROUPS if g != "day_of_week" or series.dates is not None]
    variants: list[tuple[str, object]] = [("mlp(window)", (RAW,))]
    variants += [(f"mlp({g})", (g,)) for g in groups]
    variants += [("mlp(all)", None), (f"{recurrent}(window)", recurrent)]
    forecasts: dict[str, tuple[np.ndarray, list[str], float]] = {}
    base = make_forecaster("persistence")
    base.fit(seen, val_size=split.n_val)
    base_fc = base._historical_values(series, test_start)
    for name, what in variants:
        t0 = time.perf_counter()
        net = replace(config.net, cell_options=dict(config.cell_options.get(recurrent, {})))
        if isinstance(what, str):  # the recurrent net
            f = make_forecaster(
                what, config.window, net, config.train, threads=config.threads, device=config.device
            )
        elif what is None:  # the MLP of forecast, every feature
            f = make_forecaster(
                "mlp",
                config.window,
                config.net,
                config.train,
                threads=config.threads,
                device=config.device,
            )
        else:
            f = FeatureMLP.from_configs(
                config.net,
                config.window,
                config.train,
                threads=config.threads,
                device=config.device,
                features=what,
            )
        f.fit(seen, val_size=split.n_val, progress=None if progress is None else progress(name))
        fc = f._historical_values(series, test_start)
        if isinstance(what, str):
            W = config.window.window
            names = [f"s_(t-{k})" for k in range(W, 0, -1)]
        elif what is None:
            names = feature_names(series.dates is not None)
        else:
            names = f.feature_names()
        forecasts[name] = (fc, names, time.perf_counter() - t0)
    base_rmse = rmse(actual, base_fc)
    rnn_fc = forecasts[f"{recurrent}(window)"][0]
    rows = {}
    for name, (fc, names, seconds) in forecasts.items():
        if not np.all(np.isfinite(fc)):
            raise RnnlabError(f"ablation: {name}'s forecasts are not finite numbers")
        e = rmse(actual, fc)
        is_rnn = name == f"{recurrent}(window)"
        rows[name] = AblationRow(
            name=name,
            features=names,
            forecast=fc,
            rmse=e,
            skill=skill(e, base_rmse),
            p_value=diebold_mariano(actual, base_fc, fc),
            p_rnn_better=None if is_rnn else diebold_mariano(actual, fc, rnn_fc),
            seconds=seconds,
        )
    return AblationResult(
        series,
        config,
        split.n_test,
        f"{recurrent}(window)",
        rows,
        base_rmse,
        time.perf_counter() - start,
    )
