"""Checkpoints: a directory with ``model.safetensors`` and ``config.json``. Never pickle.

    DIR/config.json         format, model (name, net, covariates: names, calendar and their
                            scalers; its outputs: strategy, horizon H, loss, quantiles, so
                            that a direct model loads with H outputs and a quantile one with
                            H·Q; absent in older checkpoints: one step, mse), preprocessing
                            (window, target mode, scaler), training config and record,
                            data (source, columns, dates), the tail of the series to
                            predict from (and of its covariates), versions
    DIR/model.safetensors   the weights (safetensors holds plain tensors: loading runs no code)
    DIR/optimizer.safetensors   Adam's moments (neural models), so that training can resume
    DIR/state.*             only in a checkpoint written during training: the rest of what
                            resuming a ``train`` run needs to go on exactly (see forecast/resume.py)
    DIR/timing.json         what was measured, not chosen: the training's wall-clock seconds.
                            Apart from it, the same run with the same seed writes the same
                            bytes (tests/test_checkpoint_integrity.py compares them)

config.json records the SHA-256 of every ``.safetensors`` file; loading refuses a file whose
hash differs (a flipped bit loaded and predicted 4.7e36 before).

Saving writes a temporary directory next to DIR and swaps it into place in one step
(:mod:`rnnlab.atomic`), so DIR is either the old checkpoint or the new one, never half of each,
even after a ``kill -9``. Loading validates every field.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import torch

from rnnlab import __version__
from rnnlab.atomic import write_dir
from rnnlab.data.covariates import CALENDAR, CovariateScaler
from rnnlab.data.series import FILLS, Series
from rnnlab.data.windows import Preprocessor
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError, about
from rnnlab.forecast.base import WindowedForecaster
from rnnlab.forecast.baselines import LinearAR
from rnnlab.forecast.checkpoint_checks import (
    check_sha256,
    dataclass_from,
    known_keys,
    load_tensors,
    loads,
    model_outputs,
    no_bools,
    number_list,
    recorded_hashes,
    require,
    sha256_of,
    tensor_header,
    timing_seconds,
    train_history,
)
from rnnlab.forecast.nets import NetConfig
from rnnlab.forecast.neural import MLPForecaster, NeuralForecaster, RecurrentForecaster
from rnnlab.forecast.resume import STATE_TENSORS, state_files
from rnnlab.forecast.training import TrainConfig, TrainHistory, TrainState

FORMAT = "rnnlab.checkpoint"
FORMAT_VERSION = 2  # 2: the SHA-256 of the weights recorded, the training's seconds moved out
CONFIG, WEIGHTS = "config.json", "model.safetensors"
OPTIMIZER = "optimizer.safetensors"  # Adam's state, for resuming training (neural models only)
TIMING = "timing.json"  # the training's seconds: a measurement, kept out of config.json
HASHED = (WEIGHTS, OPTIMIZER, STATE_TENSORS)  # the files whose SHA-256 config.json records


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


def checkpoint_config(
    f: WindowedForecaster, history: TrainHistory | None = None, reading: dict | None = None
) -> dict:
    """Everything but the weights, JSON-able (``history``: the training record to write, by
    default the forecaster's own; ``reading``: how the data's CSV was read, see
    :data:`READING_KEYS`, by default the forecaster's ``reading_`` if set; recorded so that
    the same file is read the same way again)."""
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
        del config["training"]["seconds"]  # a measurement: in timing.json
    model.update(_outputs(f))  # what its outputs are: a direct model's H, the quantiles
    if isinstance(f, MLPForecaster):
        model["uses_dates"] = f.uses_dates_
        model["features"] = f.feature_names()  # what the MLP reads, by name (informative)
    fitted = getattr(f, "covariates_", None)
    if fitted is not None:  # the covariates' names and scalers (fitted on the training part)
        model["covariates"] = fitted.to_dict()
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
    reading = getattr(f, "reading_", None) if reading is None else reading
    if reading is not None:
        config["data"].update({k: reading[k] for k in READING_KEYS if k in reading})
    config["history"] = {  # the last W + lag points: what predict() starts from
        "values": s.values[tail].tolist(),
        "dates": None if s.dates is None else [str(d) for d in s.dates[tail]],
    }
    if fitted is not None:  # and the covariates of those points, as the data gave them
        config["history"]["covariates"] = {n: s.covariates[n][tail].tolist() for n in fitted.names}
    config["versions"] = _versions()
    return config


def _outputs(f: WindowedForecaster) -> dict:
    """What the model's outputs mean, as its parameters: ``strategy`` and ``horizon`` H (a
    direct model has one output per step h = 1 … H), and for a net its ``loss`` and the
    quantiles its head outputs (sorted, the median among them; None for mse). Loading
    rebuilds the forecaster with them, so ``build_module`` makes a head of H·Q outputs."""
    out = {"strategy": str(f.strategy), "horizon": int(f.horizon)}
    if isinstance(f, NeuralForecaster):
        quantiles = f._quantile_levels()
        out["loss"] = str(f.loss)
        out["quantiles"] = None if quantiles is None else list(quantiles)
    return out


def _weights(f: WindowedForecaster) -> dict[str, torch.Tensor]:
    """The module's state, or the linear model's β_0 and β stacked: (1 + W,), or (1 + W, H)
    for a direct model (row 0 the intercepts, column h step h's regression)."""
    if isinstance(f, NeuralForecaster):
        return _plain(f.module_.state_dict())
    if f._direct_steps() == 1:
        coef = np.concatenate([[f.intercept_], f.coef_])  # (1 + W,)
    else:
        coef = np.vstack([f.intercept_[None, :], f.coef_])  # (1 + W, H)
    return {"intercept_and_coef": torch.as_tensor(coef, dtype=torch.float64)}


def _plain(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached, contiguous CPU copies (what safetensors writes)."""
    return {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}


def check_destination(path: str | Path, field: str = "out") -> Path:
    """``path`` may be written: it does not exist, or is an empty dir or an rnnlab checkpoint.
    ``field``: the setting that gave ``path`` (the command line names its option)."""
    path = Path(path)
    if path.exists() and not (
        path.is_dir() and ((path / CONFIG).exists() or not any(path.iterdir()))
    ):
        raise FieldError(
            field,
            "{0} exists and is not an rnnlab checkpoint; not overwriting it",
            path,
            lead=False,
        )
    return path


def save_checkpoint(
    forecaster: WindowedForecaster,
    path: str | Path,
    state: TrainState | None = None,
    run: dict | None = None,
    reading: dict | None = None,
) -> Path:
    """Write ``forecaster`` to the directory ``path`` atomically; returns the path.

    With ``state`` (an :class:`~rnnlab.forecast.training.EpochReport`'s, during training) the
    checkpoint is one to resume from: the best weights so far as the model (so ``predict``
    works on it), Adam and the record as they are now, and the state files of
    :mod:`rnnlab.forecast.resume` (with ``run``, the command's description of the run).
    Without it, the finished model: no state files. ``reading``: how the data's CSV was read
    (date_format, dayfirst, max_bytes, max_rows), recorded in config.json's "data".
    """
    from safetensors.torch import save

    path = check_destination(path)
    history = None if state is None else state.history
    config = checkpoint_config(forecaster, history, reading)
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
    config["sha256"] = {name: sha256_of(data) for name, data in files.items() if name in HASHED}
    files[CONFIG] = (json.dumps(config, indent=2, allow_nan=False) + "\n").encode()
    if isinstance(forecaster, NeuralForecaster):
        seconds = (forecaster.history_ if history is None else history).seconds
        files[TIMING] = (json.dumps({"seconds": round(seconds, 3)}) + "\n").encode()
    return write_dir(path, files, "the checkpoint")


# What a checkpoint's config.json may hold (loading refuses anything else: a key this rnnlab
# does not know is a key it cannot have written).
CONFIG_KEYS = frozenset(
    {"format", "format_version", "model", "train", "training", "preprocessing", "data"}
    | {"history", "versions", "optimizer", "sha256"}
)
MODEL_KEYS = frozenset(
    {"name", "kind", "net", "uses_dates", "features", "covariates"}
    | {"strategy", "horizon", "loss", "quantiles"}  # optional: absent in older checkpoints
)
DATA_KEYS = frozenset(
    {"name", "source", "column", "date_column", "rows", "first", "last", "frequency"}
)
# How the CSV was read (optional: checkpoints written before they were recorded lack them)
READING_KEYS = {
    "date_format": (str, type(None)),
    "dayfirst": bool,
    "max_bytes": int,
    "max_rows": int,
    "fill": (str, type(None)),
    "tail": (int, type(None)),
}
HISTORY_KEYS = frozenset({"values", "dates", "covariates"})
MAX_CONFIG_BYTES = 256 * 2**20  # far above any real config; a bigger one is not ours


def _read_config(path: Path, where: str) -> dict:
    file = path / CONFIG
    size = file.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise RnnlabError(f"{where}: {CONFIG} is {size} bytes; a checkpoint config is far smaller")
    try:
        config = loads(file.read_text(encoding="utf-8"), CONFIG, where)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise RnnlabError(f"{where}: {CONFIG} is not valid JSON ({exc})") from None
    except RecursionError:
        raise RnnlabError(f"{where}: {CONFIG} is nested too deeply to be a config") from None
    except OSError as exc:
        raise RnnlabError(f"{where}: cannot read {CONFIG} ({exc.strerror})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise RnnlabError(f"{where}: {CONFIG} is not an rnnlab checkpoint config")
    if config.get("format_version") != FORMAT_VERSION:
        raise RnnlabError(
            f"{where}: checkpoint format version {config.get('format_version')!r}; this rnnlab "
            f"reads version {FORMAT_VERSION}"
        )
    return known_keys(config, CONFIG_KEYS, f"{where}: {CONFIG}")


def load_checkpoint(path: str | Path, field: str = "model") -> WindowedForecaster:
    """Rebuild a fitted forecaster from ``save_checkpoint`` output, validating all of it.

    Nothing is unpickled (safetensors and JSON only), no file may be a symbolic link, every key
    of the config must be known, and the tensors' shapes and dtypes are read from the
    safetensors header and compared with the model the config describes (built on torch's
    "meta" device, without memory) before any weight is loaded: a config claiming a hidden
    size of 10⁹ is refused without allocating it. Each weights file's SHA-256 must be the one
    config.json records. An error is a :class:`~rnnlab.fielderror.FieldError` about ``field``,
    the setting that gave ``path`` (``ckpt: config.json is missing``; the command line puts the
    setting's option before it).

    Neural forecasters expose ``module_`` (the ``nn.Module``) and, for the recurrent one,
    ``cells`` (its trained recurrences).
    """
    with about(field):
        return _load_checkpoint(Path(path))


def _load_checkpoint(path: Path) -> WindowedForecaster:
    from rnnlab.cells import cell_names

    if not path.is_dir():
        if path.exists():
            raise RnnlabError(f"{path}: not a directory (a checkpoint is a directory)")
        raise RnnlabError(f"{path}: no such checkpoint directory")
    where = str(path)
    for name in (CONFIG, WEIGHTS, OPTIMIZER, TIMING):
        if (path / name).is_symlink():
            raise RnnlabError(f"{where}: {name} is a symbolic link; a checkpoint holds its files")
    for name in (CONFIG, WEIGHTS):
        if not (path / name).is_file():
            raise RnnlabError(f"{where}: {name} is missing (not an rnnlab checkpoint)")
    config = _read_config(path, where)
    sums = recorded_hashes(config, path, HASHED, where)
    model = known_keys(require(config, "model", dict, where), MODEL_KEYS, f"{where}: model")
    kind = require(model, "kind", str, where)
    outputs = model_outputs(model, kind, where)  # checked before anything is built
    no_bools(config.get("preprocessing"), "preprocessing", where)
    try:
        pre = Preprocessor.from_dict(require(config, "preprocessing", dict, where))
    except (RnnlabError, TypeError, ValueError) as exc:
        raise RnnlabError(f"{where}: preprocessing: {exc}") from None
    f: WindowedForecaster
    if kind in ("recurrent", "mlp"):
        net = dataclass_from(NetConfig, require(model, "net", dict, where), f"{where}: model.net")
        train = dataclass_from(
            TrainConfig, require(config, "train", dict, where), f"{where}: train"
        )
        if kind == "recurrent" and net.kind not in cell_names():
            raise RnnlabError(
                f"{where}: needs the cell {net.kind!r}, which this rnnlab does not have "
                f"(it has {', '.join(cell_names())})"
            )
        cls = RecurrentForecaster if kind == "recurrent" else MLPForecaster
        covariates = _covariates(model, pre, where)
        names = None
        if covariates is not None:
            names = (*covariates.names, *((CALENDAR,) if covariates.calendar else ()))
        f = cls(net, pre.config, train, covariates=names, **outputs)
        f.covariates_ = covariates
        if kind == "mlp":
            f.uses_dates_ = bool(require(model, "uses_dates", bool, where))
        training = require(config, "training", dict, where)
        if "seconds" in training:  # a measurement: in timing.json, so that reruns are identical
            raise RnnlabError(f"{where}: training: unknown key(s) 'seconds'")
        training = {**training, "seconds": timing_seconds(path / TIMING, where)}
        f.history_ = train_history(training, f"{where}: training")
    elif kind == "linear":
        if "covariates" in model:
            raise RnnlabError(f"{where}: model.covariates: the linear model reads none")
        f = LinearAR(pre.config, **outputs)
    else:
        raise RnnlabError(f"{where}: unknown model kind {kind!r}")
    f.preprocessor_ = pre
    header = tensor_header(path / WEIGHTS, where)
    if isinstance(f, NeuralForecaster):
        _check_shapes(f, header, where)  # before a single weight is allocated
        check_sha256(path / WEIGHTS, sums, where, CONFIG)
        f.module_ = _module(f, load_tensors(path / WEIGHTS, where), where)
        f.optimizer_state_ = _optimizer_state(path, config, f.module_, where)
    else:
        W, H = pre.config.window + 1, f._direct_steps()
        shape = (W,) if H == 1 else (W, H)  # one regression, or one per step of a direct model
        if header != {"intercept_and_coef": (shape, torch.float64)}:
            raise RnnlabError(
                f"{where}: {WEIGHTS} does not hold the linear model's weights, {shape} float64"
            )
        check_sha256(path / WEIGHTS, sums, where, CONFIG)
        coef = load_tensors(path / WEIGHTS, where)["intercept_and_coef"].numpy()
        f.coef_ = coef[1:].astype(np.float64)  # (W,) or (W, H)
        f.intercept_ = float(coef[0]) if H == 1 else coef[0].astype(np.float64)
    f.series_ = _tail(config, pre, where, getattr(f, "covariates_", None))
    f.checkpoint_ = config
    return f


def _covariates(model: dict, pre: Preprocessor, where: str) -> CovariateScaler | None:
    """The covariates' names and fitted scalers from ``model.covariates``; None if absent."""
    if "covariates" not in model:
        return None
    d = require(model, "covariates", dict, where)
    no_bools(d.get("scalers"), "model.covariates.scalers", where)
    try:
        fitted = CovariateScaler.from_dict(d)
    except (RnnlabError, TypeError, ValueError) as exc:
        raise RnnlabError(f"{where}: model.covariates: {exc}") from None
    if fitted.kind != pre.config.scaler or not (fitted.names or fitted.calendar):
        raise RnnlabError(
            f"{where}: model.covariates: scalers of kind {pre.config.scaler!r}, at least one "
            "covariate or the calendar"
        )
    if CALENDAR in fitted.names:
        raise RnnlabError(f"{where}: model.covariates: {CALENDAR!r} is not a column")
    return fitted


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


def _optimizer_state(path: Path, checkpoint: dict, module, where: str) -> dict | None:
    """Adam's state back from ``optimizer.safetensors``, checked against the module; None if
    the checkpoint has none."""
    config = checkpoint.get("optimizer")
    if config is None or not (path / OPTIMIZER).is_file():
        return None
    header = tensor_header(path / OPTIMIZER, where)
    params = list(module.parameters())
    for name, (shape, _) in header.items():
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
            raise RnnlabError(f"{where}: {OPTIMIZER} has an unexpected tensor {name!r}")
        i = int(parts[1])
        allowed = {tuple(params[i].shape), ()} if i < len(params) else set()
        if shape not in allowed:  # Adam's moments are shaped like their parameter; step is ()
            raise RnnlabError(f"{where}: {OPTIMIZER}: {name!r} has shape {shape}, not the model's")
    check_sha256(path / OPTIMIZER, checkpoint["sha256"], where, CONFIG)
    state: dict[int, dict] = {}
    for name, t in load_tensors(path / OPTIMIZER, where).items():
        parts = name.split(".")
        state.setdefault(int(parts[1]), {})[parts[2]] = t
    groups = config.get("param_groups") if isinstance(config, dict) else None
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise RnnlabError(f"{where}: {CONFIG} optimizer.param_groups must be a list of objects")
    for i, g in enumerate(groups):  # Adam's flags (amsgrad, …) are bools; its numbers are not
        no_bools({k: g.get(k) for k in ("lr", "eps", "weight_decay", "betas", "params")},
                 f"optimizer.param_groups[{i}]", f"{where}: {CONFIG}")  # fmt: skip
    for g in groups:  # JSON has no tuples: Adam's betas come back as a list of two numbers
        if "betas" in g:
            betas = number_list(g["betas"], f"{where}: {CONFIG} optimizer betas")
            if len(betas) != 2:
                raise RnnlabError(f"{where}: {CONFIG} optimizer betas must be two numbers")
            g["betas"] = tuple(betas)
    full = {"state": state, "param_groups": groups}
    try:
        torch.optim.Adam(module.parameters()).load_state_dict(full)
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError) as exc:
        raise RnnlabError(f"{where}: {OPTIMIZER} does not fit the model ({exc})") from None
    return full


def _n_features(f: NeuralForecaster) -> int:
    """The net's inputs: the MLP's named features (covariates included), else per step s_τ
    and the columns of E_τ."""
    if isinstance(f, MLPForecaster):
        return len(f.feature_names())
    fitted = getattr(f, "covariates_", None)
    return 1 + (0 if fitted is None else len(fitted.columns))


def _check_shapes(f: NeuralForecaster, header: dict, where: str) -> None:
    """The tensors the config's net has (built on the meta device: no memory) against the
    file's header; any difference is an error before anything is allocated."""
    net, dims = f.net_config, [n for shape, _ in header.values() for n in shape]
    why = None  # cheap signs of a config the file cannot hold, before building anything
    if net.layers > len(header):
        why = f"it holds {len(header)} tensor(s), fewer than the {net.layers} layer(s) of model.net"
    elif net.hidden_size > max(dims, default=0):
        why = f"no tensor in it has a dimension of {net.hidden_size}, model.net's hidden size"
    if why is not None:
        raise RnnlabError(f"{where}: {WEIGHTS} does not fit the model in {CONFIG}: {why}")
    try:
        with torch.device("meta"):
            meta = f.build_module(_n_features(f))
    except (RnnlabError, RuntimeError, ValueError, TypeError, OverflowError) as exc:
        raise RnnlabError(
            f"{where}: model.net describes no network this rnnlab can build ({exc})"
        ) from None
    expected = {k: tuple(v.shape) for k, v in meta.state_dict().items()}
    got = {k: shape for k, (shape, _) in header.items()}
    dtypes = {k: v.dtype for k, v in meta.state_dict().items()}
    wrong = sorted(k for k, (_, dtype) in header.items() if dtypes.get(k, dtype) != dtype)
    if wrong:
        raise RnnlabError(f"{where}: {WEIGHTS}: tensor(s) {wrong} are not {dtypes[wrong[0]]}")
    if expected != got:
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        shapes = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
        raise RnnlabError(
            f"{where}: {WEIGHTS} does not fit the model in {CONFIG} (missing {missing}, "
            f"unexpected {extra}, wrong shape {shapes})"
        )


def _module(f: NeuralForecaster, weights: dict, where: str):
    module = f.build_module(_n_features(f))
    state = module.state_dict()
    module.load_state_dict({k: v.to(state[k].dtype) for k, v in weights.items()})
    return module.eval()


def _tail(
    config: dict, pre: Preprocessor, where: str, fitted: CovariateScaler | None = None
) -> Series:
    allowed = DATA_KEYS | set(READING_KEYS)
    data = known_keys(require(config, "data", dict, where), allowed, f"{where}: data")
    for key in DATA_KEYS:
        kind = {"rows": int, "date_column": (str, type(None))}.get(key, str)
        require(data, key, kind, f"{where}: data")
    for key, kind in READING_KEYS.items():
        if key in data:
            value = require(data, key, kind, f"{where}: data")
            if key in ("max_bytes", "max_rows", "tail") and value is not None and value < 1:
                raise RnnlabError(f"{where}: data.{key} must be at least 1")
            if key == "fill" and value not in (None, *FILLS):
                raise RnnlabError(f"{where}: data.fill must be one of {', '.join(FILLS)}")
    hist = require(config, "history", dict, where)
    known_keys(hist, HISTORY_KEYS, f"{where}: history")
    values = np.asarray(
        number_list(require(hist, "values", list, where), f"{where}: history.values")
    )
    if values.shape != (pre.config.first_target,) or not np.all(np.isfinite(values)):
        raise RnnlabError(
            f"{where}: history.values must be {pre.config.first_target} finite numbers"
        )
    dates = hist.get("dates")
    if dates is not None:
        if not isinstance(dates, list) or not all(isinstance(d, str) for d in dates):
            raise RnnlabError(f"{where}: history.dates must be a list of dates")
        from rnnlab.data.dates import dates_from_text

        try:
            dates = dates_from_text(dates)  # datetime64[ns], never wrapped around
        except (ValueError, TypeError, OverflowError):
            raise RnnlabError(f"{where}: history.dates are not dates") from None
    covariates = _tail_covariates(hist, fitted, len(values), where)
    try:
        return Series(
            values,
            dates,
            name=data["name"],
            source=data["source"],
            column=data["column"],
            date_column=data["date_column"],
            covariates=covariates,
        )
    except RnnlabError as exc:
        raise RnnlabError(f"{where}: history: {exc}") from None


def _tail_covariates(hist: dict, fitted: CovariateScaler | None, n: int, where: str) -> dict:
    """history.covariates: one list of ``n`` finite numbers per covariate the model reads."""
    if fitted is None or not fitted.names:
        if hist.get("covariates") not in (None, {}):
            raise RnnlabError(f"{where}: history.covariates: the model reads no covariate")
        return {}
    got = require(hist, "covariates", dict, where)
    if set(got) != set(fitted.names):
        raise RnnlabError(
            f"{where}: history.covariates must hold exactly {', '.join(fitted.names)}"
        )
    out = {}
    for name in fitted.names:
        values = np.asarray(number_list(got[name], f"{where}: history.covariates.{name}"))
        if values.shape != (n,) or not np.all(np.isfinite(values)):
            raise RnnlabError(f"{where}: history.covariates.{name} must be {n} finite numbers")
        out[name] = values
    return out


def describe(f: WindowedForecaster) -> str:
    """One line: what the checkpoint holds."""
    c = getattr(f, "checkpoint_", None) or checkpoint_config(f)
    d, w = c["data"], c["preprocessing"]["window"]
    text = (
        f"{c['model']['name']} trained on {d['name']} ({d['first']} to {d['last']}, "
        f"{d['rows']} rows), window {w['window']}, target {w['target']}"
    )
    covariates = getattr(f, "covariates", None)
    if covariates:
        text += f", covariates {', '.join(covariates)}"
    steps = f._direct_steps()
    if steps > 1:
        text += f", direct: {steps} steps at once"
    quantiles = f._quantile_levels()
    if quantiles is not None:
        text += f", pinball loss: quantiles {', '.join(f'{q:g}' for q in quantiles)}"
    return text
