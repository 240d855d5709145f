"""Checkpoints: a directory with ``model.safetensors`` and ``config.json``. Never pickle.

    DIR/config.json         format, model (name, net), preprocessing (window, target mode,
                            scaler), training config and record, data (source, columns, dates),
                            the tail of the series to predict from, versions
    DIR/model.safetensors   the weights (safetensors holds plain tensors: loading runs no code)
    DIR/optimizer.safetensors   Adam's moments (neural models), so that training can resume
    DIR/state.*             only in a checkpoint written during training: the rest of what
                            ``train --resume`` needs to go on exactly (see forecast/resume.py)

Saving writes a temporary directory next to DIR and swaps it into place in one step
(:mod:`rnnlab.atomic`), so DIR is either the old checkpoint or the new one, never half of each,
even after a ``kill -9``. Loading validates every field.
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from rnnlab import __version__
from rnnlab.atomic import write_dir
from rnnlab.data.series import Series
from rnnlab.data.windows import Preprocessor
from rnnlab.errors import RnnlabError
from rnnlab.forecast.base import WindowedForecaster
from rnnlab.forecast.baselines import LinearAR
from rnnlab.forecast.nets import NetConfig
from rnnlab.forecast.neural import MLPForecaster, NeuralForecaster, RecurrentForecaster
from rnnlab.forecast.resume import state_files
from rnnlab.forecast.training import TrainConfig, TrainHistory, TrainState

FORMAT = "rnnlab.checkpoint"
FORMAT_VERSION = 1
CONFIG, WEIGHTS = "config.json", "model.safetensors"
OPTIMIZER = "optimizer.safetensors"  # Adam's state, for train --resume (neural models only)


def _versions() -> dict:
    import safetensors

    return {
        "rnnlab": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "python": platform.python_version(),
    }


def _kind(f: WindowedForecaster) -> str:
    if isinstance(f, RecurrentForecaster):
        return "recurrent"
    if isinstance(f, MLPForecaster):
        return "mlp"
    if isinstance(f, LinearAR):
        return "linear"
    raise RnnlabError(f"{f.name}: only trained models (linear, mlp, recurrent) have checkpoints")


def checkpoint_config(f: WindowedForecaster, history: TrainHistory | None = None) -> dict:
    """Everything but the weights, JSON-able (``history``: the training record to write, by
    default the forecaster's own)."""
    kind = _kind(f)
    if not hasattr(f, "preprocessor_"):
        raise RnnlabError(f"{f.name}: fit it before saving it")
    s: Series = f.series_
    tail = slice(len(s) - f.config.first_target, len(s))
    model: dict = {"name": f.name, "kind": kind}
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": model}
    if isinstance(f, NeuralForecaster):
        model["net"] = f.net_config.to_dict()
        config["train"] = f.train_config.to_dict()
        config["training"] = (f.history_ if history is None else history).to_dict()
    if isinstance(f, MLPForecaster):
        model["uses_dates"] = f.uses_dates_
    config["preprocessing"] = f.preprocessor_.to_dict()
    config["data"] = {
        "name": s.name,
        "source": s.source,
        "column": s.column,
        "date_column": s.date_column,
        "rows": len(s),
        "first": s.label(0),
        "last": s.label(len(s) - 1),
        "frequency": s.frequency,
    }
    config["history"] = {  # the last W + lag points: what predict() starts from
        "values": s.values[tail].tolist(),
        "dates": None if s.dates is None else [str(d) for d in s.dates[tail]],
    }
    config["versions"] = _versions()
    return config


def _weights(f: WindowedForecaster) -> dict[str, torch.Tensor]:
    if isinstance(f, NeuralForecaster):
        return _plain(f.module_.state_dict())
    coef = np.concatenate([[f.intercept_], f.coef_])
    return {"intercept_and_coef": torch.as_tensor(coef, dtype=torch.float64)}


def _plain(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached, contiguous CPU copies (what safetensors writes)."""
    return {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}


def check_destination(path: str | Path) -> Path:
    """``path`` may be written: it does not exist, or is an empty dir or an rnnlab checkpoint."""
    path = Path(path)
    if path.exists() and not (
        path.is_dir() and ((path / CONFIG).exists() or not any(path.iterdir()))
    ):
        raise RnnlabError(
            f"--out: {path} exists and is not an rnnlab checkpoint; not overwriting it"
        )
    return path


def save_checkpoint(
    forecaster: WindowedForecaster,
    path: str | Path,
    state: TrainState | None = None,
    run: dict | None = None,
) -> Path:
    """Write ``forecaster`` to the directory ``path`` atomically; returns the path.

    With ``state`` (an :class:`~rnnlab.forecast.training.EpochReport`'s, during training) the
    checkpoint is one to resume from: the best weights so far as the model (so ``predict``
    works on it), Adam and the record as they are now, and the state files of
    :mod:`rnnlab.forecast.resume` (with ``run``, the command's description of the run).
    Without it, the finished model: no state files.
    """
    from safetensors.torch import save

    path = check_destination(path)
    history = None if state is None else state.history
    config = checkpoint_config(forecaster, history)
    if state is None:
        weights = _weights(forecaster)
        adam = getattr(forecaster, "optimizer_state_", None)
    else:
        weights = _plain(state.weights if state.best_weights is None else state.best_weights)
        adam = state.optimizer
    files = {WEIGHTS: save(weights, metadata={"format": FORMAT})}
    if adam is not None:
        tensors, config["optimizer"] = _optimizer_tensors(adam)
        files[OPTIMIZER] = save(tensors, metadata={"format": FORMAT})
    if state is not None:
        files.update(state_files(state, {} if run is None else run))
    files[CONFIG] = (json.dumps(config, indent=2, allow_nan=False) + "\n").encode()
    return write_dir(path, files, "the checkpoint")


def _require(d: dict, key: str, kind: type | tuple, where: str):
    if not isinstance(d, dict) or key not in d:
        raise RnnlabError(f"{where}: the checkpoint config has no {key!r}")
    if not isinstance(d[key], kind):
        raise RnnlabError(f"{where}: {key!r} has the wrong type ({type(d[key]).__name__})")
    return d[key]


def _dataclass(cls, d: dict, where: str):
    expected = {f.name for f in fields(cls)}
    if not isinstance(d, dict) or set(d) != expected:
        raise RnnlabError(f"{where}: expected exactly the keys {sorted(expected)}")
    try:
        return cls(**d)
    except TypeError as exc:
        raise RnnlabError(f"{where}: {exc}") from None


def _history(d: dict, where: str) -> TrainHistory:
    d = dict(d)
    for key in ("train_loss", "val_loss", "grad_norm", "step_loss"):
        d[key] = [math.nan if v is None else float(v) for v in d.get(key, [])]
    return _dataclass(TrainHistory, d, where)


def load_checkpoint(path: str | Path) -> WindowedForecaster:
    """Rebuild a fitted forecaster from ``save_checkpoint`` output, validating all of it.

    Neural forecasters expose ``module_`` (the ``nn.Module``) and, for the recurrent one,
    ``cells`` (its trained recurrences).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from rnnlab.cells import cell_names

    path = Path(path)
    where = f"--model: {path}"
    if not path.is_dir():
        raise RnnlabError(f"{where}: no such checkpoint directory")
    for name in (CONFIG, WEIGHTS):
        if not (path / name).is_file():
            raise RnnlabError(f"{where}: {name} is missing (not an rnnlab checkpoint)")
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RnnlabError(f"{where}: {CONFIG} is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise RnnlabError(f"{where}: {CONFIG} is not an rnnlab checkpoint config")
    if config.get("format_version") != FORMAT_VERSION:
        raise RnnlabError(
            f"{where}: checkpoint format version {config.get('format_version')!r}; this rnnlab "
            f"reads version {FORMAT_VERSION}"
        )
    model = _require(config, "model", dict, where)
    kind = _require(model, "kind", str, where)
    pre = Preprocessor.from_dict(_require(config, "preprocessing", dict, where))
    f: WindowedForecaster
    if kind in ("recurrent", "mlp"):
        net = _dataclass(NetConfig, _require(model, "net", dict, where), f"{where}: model.net")
        train = _dataclass(TrainConfig, _require(config, "train", dict, where), f"{where}: train")
        if kind == "recurrent" and net.kind not in cell_names():
            raise RnnlabError(
                f"{where}: needs the cell {net.kind!r}, which this rnnlab does not have "
                f"(it has {', '.join(cell_names())})"
            )
        cls = RecurrentForecaster if kind == "recurrent" else MLPForecaster
        f = cls(net, pre.config, train)
        if kind == "mlp":
            f.uses_dates_ = bool(_require(model, "uses_dates", bool, where))
        f.history_ = _history(_require(config, "training", dict, where), f"{where}: training")
    elif kind == "linear":
        f = LinearAR(pre.config)
    else:
        raise RnnlabError(f"{where}: unknown model kind {kind!r}")
    f.preprocessor_ = pre
    try:
        weights = load_file(str(path / WEIGHTS))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RnnlabError(f"{where}: {WEIGHTS} is not a valid safetensors file ({exc})") from None
    for key, t in weights.items():
        if not torch.isfinite(t).all():
            raise RnnlabError(f"{where}: weight {key!r} holds NaN or inf")
    if isinstance(f, NeuralForecaster):
        f.module_ = _module(f, pre, weights, where)
        f.optimizer_state_ = _optimizer_state(path, config.get("optimizer"), f.module_, where)
    else:
        coef = weights.get("intercept_and_coef")
        if (
            coef is None
            or set(weights) != {"intercept_and_coef"}
            or coef.shape != (pre.config.window + 1,)
        ):
            raise RnnlabError(
                f"{where}: {WEIGHTS} does not hold the linear model's "
                f"{pre.config.window + 1} weights"
            )
        f.intercept_, f.coef_ = float(coef[0]), coef[1:].numpy().astype(np.float64)
    f.series_ = _tail(config, pre, where)
    f.checkpoint_ = config
    return f


def _optimizer_tensors(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Adam's ``state_dict`` as flat tensors ``state.<param>.<key>`` and JSON param groups."""
    tensors = {}
    for idx, st in state["state"].items():
        for key, value in st.items():
            t = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"state.{idx}.{key}"] = t.detach().cpu().contiguous().clone()
    groups = [
        {k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
        for g in state["param_groups"]
    ]
    return tensors, {"param_groups": groups}


def _optimizer_state(path: Path, config: dict | None, module, where: str) -> dict | None:
    """Adam's state back from ``optimizer.safetensors``, checked against the module; None if
    the checkpoint has none."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if config is None or not (path / OPTIMIZER).is_file():
        return None
    try:
        tensors = load_file(str(path / OPTIMIZER))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RnnlabError(f"{where}: {OPTIMIZER} is not a valid safetensors file ({exc})") from None
    state: dict[int, dict] = {}
    for name, t in tensors.items():
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
            raise RnnlabError(f"{where}: {OPTIMIZER} has an unexpected tensor {name!r}")
        state.setdefault(int(parts[1]), {})[parts[2]] = t
    groups = config.get("param_groups") if isinstance(config, dict) else None
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise RnnlabError(f"{where}: {CONFIG} optimizer.param_groups must be a list of objects")
    groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in groups]
    full = {"state": state, "param_groups": groups}
    try:
        torch.optim.Adam(module.parameters()).load_state_dict(full)
    except (ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise RnnlabError(f"{where}: {OPTIMIZER} does not fit the model ({exc})") from None
    return full


def _module(f: NeuralForecaster, pre: Preprocessor, weights: dict, where: str):
    from rnnlab.data.features import feature_names

    n_features = len(feature_names(f.uses_dates_)) if isinstance(f, MLPForecaster) else 1
    module = f.build_module(n_features)
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in weights.items()}
    if expected != got:
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        shapes = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
        raise RnnlabError(
            f"{where}: {WEIGHTS} does not fit the model in {CONFIG} (missing {missing}, "
            f"unexpected {extra}, wrong shape {shapes})"
        )
    module.load_state_dict({k: v.to(module.state_dict()[k].dtype) for k, v in weights.items()})
    return module.eval()


def _tail(config: dict, pre: Preprocessor, where: str) -> Series:
    data = _require(config, "data", dict, where)
    hist = _require(config, "history", dict, where)
    values = np.asarray(_require(hist, "values", list, where), dtype=np.float64)
    if values.shape != (pre.config.first_target,) or not np.all(np.isfinite(values)):
        raise RnnlabError(
            f"{where}: history.values must be {pre.config.first_target} finite numbers"
        )
    dates = hist.get("dates")
    if dates is not None:
        try:
            dates = np.array(dates, dtype="datetime64[ns]")
        except ValueError:
            raise RnnlabError(f"{where}: history.dates are not dates") from None
    try:
        return Series(
            values,
            dates,
            name=str(data.get("name", "series")),
            source=str(data.get("source", "")),
            column=str(data.get("column", "value")),
            date_column=data.get("date_column"),
        )
    except RnnlabError as exc:
        raise RnnlabError(f"{where}: history: {exc}") from None


def describe(f: WindowedForecaster) -> str:
    """One line: what the checkpoint holds."""
    c = getattr(f, "checkpoint_", None) or checkpoint_config(f)
    d, w = c["data"], c["preprocessing"]["window"]
    return (
        f"{c['model']['name']} trained on {d['name']} ({d['first']} … {d['last']}, "
        f"{d['rows']} rows), window {w['window']}, target {w['target']}"
    )
