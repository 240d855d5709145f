"""Checks on what a checkpoint directory holds, used by :func:`load_checkpoint`.

Every check reads plain data (JSON values, the safetensors header) and raises
:class:`~rnnlab.errors.RnnlabError` naming the file and the field; nothing here unpickles or
runs code from the checkpoint.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import typing
from dataclasses import fields
from pathlib import Path

import torch

from rnnlab.errors import RnnlabError
from rnnlab.forecast.training import TrainHistory

FLOAT_DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}
FLOAT_DTYPES["F64"] = torch.float64


MAX_INT_DIGITS = 19  # an integer rnnlab writes fits in 64 bits; a longer one is not ours


class _Unreadable:
    """A number in the JSON text that Python cannot take as it is: an integer of more digits
    than ``MAX_INT_DIGITS`` (past 4300 digits int() refuses it, past 308 float() overflows) or
    a float literal beyond float64 (``1e400``). Kept as text until its key is known."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        digits = len(self.text.lstrip("-"))
        if "e" in self.text.lower() or "." in self.text:
            return f"{self.text[:40]} is beyond the range of a float64"
        return f"an integer of {digits} digits is too large (at most {MAX_INT_DIGITS} digits)"


def _parse_int(text: str) -> int | _Unreadable:
    return _Unreadable(text) if len(text.lstrip("-")) > MAX_INT_DIGITS else int(text)


def _parse_float(text: str) -> float | _Unreadable:
    value = float(text)
    return _Unreadable(text) if math.isinf(value) else value


def loads(text: str, file: str, where: str):
    """``json.loads(text)``, with every number one Python takes: a 5000-digit integer or
    ``1e400`` is one line naming its key (``model.net.hidden_size``), not a ``ValueError``
    from the int parser or an ``inf`` passed on. ``NaN`` and ``Infinity`` are left to the
    checks of each field."""
    obj = json.loads(text, parse_int=_parse_int, parse_float=_parse_float)
    stack: list[tuple[object, str]] = [(obj, "")]
    while stack:  # no recursion: json.loads already refused anything nested too deeply
        value, key = stack.pop()
        if isinstance(value, _Unreadable):
            raise RnnlabError(f"{where}: {file}: {key or 'the top level'}: {value}")
        if isinstance(value, dict):
            stack.extend((v, f"{key}.{k}" if key else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{key}[{i}]") for i, v in enumerate(value))
    return obj


def require(d: dict, key: str, kind: type | tuple, where: str):
    """``d[key]``, which must exist and be of type ``kind``."""
    if not isinstance(d, dict) or key not in d:
        raise RnnlabError(f"{where}: the checkpoint config has no {key!r}")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    is_bool = isinstance(d[key], bool) and bool not in kinds  # True is an int to Python
    if is_bool or not isinstance(d[key], kind):
        raise RnnlabError(f"{where}: {key!r} has the wrong type ({type(d[key]).__name__})")
    return d[key]


def no_bools(obj, key: str, where: str) -> None:
    """Refuse true/false anywhere in ``obj`` (a part of the config made of numbers and
    strings only): Python would take ``true`` as the number 1."""
    stack = [(obj, key)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, bool):
            raise RnnlabError(f"{where}: {at}: {str(value).lower()} is not a number")
        if isinstance(value, dict):
            stack.extend((v, f"{at}.{k}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(value))


def known_keys(d: dict, allowed: frozenset, where: str) -> dict:
    """``d`` itself, if it has no key outside ``allowed``."""
    unknown = sorted(str(k) for k in set(d) - allowed)
    if unknown:
        raise RnnlabError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    return d


_KINDS = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}
_KINDS.update({list: "a list", dict: "an object", type(None): "null"})


def _accepts(hint, value) -> bool:
    """Does the JSON ``value`` fit the type ``hint`` of a dataclass field? A bool is never a
    number here (``True`` is an int to Python: ``hidden_size: true`` built an ``empty(True)``)."""
    if isinstance(value, bool):
        return hint is bool or (typing.get_origin(hint) is not None and bool in _args(hint))
    if hint is float:
        return isinstance(value, int | float)
    origin = typing.get_origin(hint)
    if origin is not None and origin not in (list, dict):  # a union: X | None
        return any(_accepts(h, value) for h in _args(hint))
    return isinstance(value, origin or hint)


def _args(hint) -> tuple:
    return typing.get_args(hint)


def _kind(hint) -> str:
    if typing.get_origin(hint) not in (None, list, dict):
        return " or ".join(_kind(h) for h in _args(hint))
    return _KINDS.get(typing.get_origin(hint) or hint, str(hint))


def dataclass_from(cls, d: dict, where: str):
    """``cls(**d)`` for exactly the dataclass's fields, each of its field's type (a bool is no
    number), its own checks named by ``where``."""
    expected = {f.name for f in fields(cls)}
    if not isinstance(d, dict) or set(d) != expected:
        raise RnnlabError(f"{where}: expected exactly the keys {sorted(expected)}")
    hints = typing.get_type_hints(cls)
    for name in sorted(expected):
        if not _accepts(hints[name], d[name]):
            shown = json.dumps(d[name])
            shown = shown if len(shown) <= 40 else shown[:39] + "…"
            raise RnnlabError(f"{where}.{name}: {shown} is not {_kind(hints[name])}")
    try:
        return cls(**d)
    except (TypeError, ValueError, OverflowError) as exc:
        raise RnnlabError(f"{where}: {exc}") from None
    except RnnlabError as exc:  # the dataclass's own checks, named for the command line
        raise RnnlabError(f"{where}: {exc}") from None


def number_list(values, where: str, *, none: bool = False) -> list[float]:
    """A JSON list of numbers (``None`` allowed for a NaN that was written as null)."""
    ok = isinstance(values, list) and all(
        (v is None and none) or (isinstance(v, int | float) and not isinstance(v, bool))
        for v in values
    )
    if not ok:
        raise RnnlabError(f"{where}: must be a list of numbers")
    return [math.nan if v is None else float(v) for v in values]


MAX_QUANTILES = 99  # far more than any interval needs; the head grows by H per quantile


def model_outputs(model: dict, kind: str, where: str) -> dict:
    """What the model's outputs are, from config.json's model section, as the forecaster's
    parameters: ``strategy`` and ``horizon`` H (a direct model has one output per step
    h = 1 … H), and for a net its ``loss`` and the ``quantiles`` its pinball head outputs
    (sorted, the median 0.5 among them; null for mse). A key may be absent (a checkpoint
    written before they were recorded): recursive, 1, mse, none. Plain JSON checks only,
    before anything is built."""
    from rnnlab.settings.forecasting import LOSSES, MAX_HORIZON, STRATEGIES

    at = f"{where}: model"
    strategy = model.get("strategy", "recursive")
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        raise RnnlabError(
            f"{at}.strategy: {_shown(strategy)} is not one of {', '.join(STRATEGIES)}"
        )
    horizon = model.get("horizon", 1)
    if isinstance(horizon, bool) or not isinstance(horizon, int):
        raise RnnlabError(f"{at}.horizon: {_shown(horizon)} is not a whole number")
    if not 1 <= horizon <= MAX_HORIZON:
        raise RnnlabError(
            f"{at}.horizon: must be at least 1 and at most {MAX_HORIZON}, got {horizon}"
        )
    params = {"strategy": strategy, "horizon": horizon}
    if kind == "linear":
        extra = sorted({"loss", "quantiles"} & set(model))
        if extra:
            raise RnnlabError(f"{at}.{extra[0]}: the linear model is fitted by least squares")
        return params
    loss = model.get("loss", "mse")
    if not isinstance(loss, str) or loss not in LOSSES:
        raise RnnlabError(f"{at}.loss: {_shown(loss)} is not one of {', '.join(LOSSES)}")
    quantiles = model.get("quantiles")
    if loss != "pinball":
        if quantiles is not None:
            raise RnnlabError(f"{at}.quantiles: the {loss} loss outputs no quantiles; must be null")
        return {**params, "loss": loss, "quantiles": None}
    ok = isinstance(quantiles, list) and 1 <= len(quantiles) <= MAX_QUANTILES
    if not ok or not all(isinstance(q, float | int) and not isinstance(q, bool) for q in quantiles):
        raise RnnlabError(
            f"{at}.quantiles: must be a list of 1 to {MAX_QUANTILES} numbers (loss pinball)"
        )
    bad = [q for q in quantiles if not 0 < q < 1]
    if bad:
        raise RnnlabError(f"{at}.quantiles: {bad[0]!r} is not between 0 and 1 (exclusive)")
    if any(a >= b for a, b in itertools.pairwise(quantiles)) or 0.5 not in quantiles:
        raise RnnlabError(f"{at}.quantiles: must increase and hold the median 0.5")
    return {**params, "loss": loss, "quantiles": tuple(float(q) for q in quantiles)}


def _shown(value) -> str:
    """A JSON value as the config holds it, at most 40 characters."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:39] + "…"


def train_history(d: dict, where: str) -> TrainHistory:
    """The training record, every field of the right type."""
    d = dict(d)
    for key in ("train_loss", "val_loss", "grad_norm", "step_loss"):
        d[key] = number_list(d.get(key, []), f"{where}.{key}", none=True)
    types = {
        "clipped": list,
        "best_epoch": (int, type(None)),
        "status": str,
        "message": (str, type(None)),
        "seconds": (int, float),
    }
    for key, kind in types.items():
        if key in d and not isinstance(d[key], kind):
            raise RnnlabError(f"{where}.{key}: has the wrong type ({type(d[key]).__name__})")
    if not all(isinstance(v, bool) for v in d.get("clipped", [])):
        raise RnnlabError(f"{where}.clipped: must be a list of true/false")
    return dataclass_from(TrainHistory, d, where)


def tensor_header(
    file: Path, where: str, dtypes: dict | None = None
) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Each tensor's shape and dtype from a safetensors header, reading no tensor data.

    safetensors checks that the header's offsets cover the file exactly, so a truncated or
    padded file is refused here; a tensor of a dtype not in ``dtypes`` (safetensors' names;
    default the floating-point ones) is refused too.
    """
    dtypes = FLOAT_DTYPES if dtypes is None else dtypes
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(file), framework="pt") as fh:
            names = fh.keys()  # a list (the safe_open handle is not iterable)
            info = {}
            for k in names:
                piece = fh.get_slice(k)
                info[k] = (piece.get_shape(), piece.get_dtype())
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise RnnlabError(f"{where}: {file.name} is not a valid safetensors file ({exc})") from None
    out = {}
    for key, (shape, dtype) in info.items():
        if dtype not in dtypes:
            raise RnnlabError(
                f"{where}: {file.name}: tensor {key!r} is {dtype}, not one of {', '.join(dtypes)}"
            )
        out[key] = (tuple(int(n) for n in shape), dtypes[dtype])
    return out


def load_tensors(file: Path, where: str) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(file))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise RnnlabError(f"{where}: {file.name} is not a valid safetensors file ({exc})") from None
    for key, t in tensors.items():
        if not torch.isfinite(t).all():
            raise RnnlabError(f"{where}: {file.name}: tensor {key!r} holds NaN or inf")
    return tensors


SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_of(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def recorded_hashes(config: dict, path: Path, names: tuple[str, ...], where: str) -> dict:
    """config.json's ``sha256``: a hex SHA-256 for each file of ``names`` the checkpoint
    holds (model.safetensors always), and each of those files present."""
    sums = require(config, "sha256", dict, where)
    known_keys(sums, frozenset(names), f"{where}: config.json sha256")
    for name, value in sums.items():
        if not isinstance(value, str) or not SHA256.fullmatch(value):
            raise RnnlabError(f"{where}: config.json sha256.{name}: not a SHA-256 in hex")
        if not (path / name).is_file():
            raise RnnlabError(f"{where}: {name} is missing (config.json records its SHA-256)")
    return sums


def timing_seconds(file: Path, where: str) -> float:
    """The training's wall-clock seconds from ``timing.json`` (0 without one)."""
    if not file.exists():
        return 0.0
    try:
        if file.stat().st_size > 4096:
            raise ValueError("too big")
        timing = loads(file.read_text(encoding="utf-8"), file.name, where)
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        raise RnnlabError(f"{where}: {file.name} is not a small JSON object") from None
    ok = isinstance(timing, dict) and set(timing) == {"seconds"}
    seconds = timing["seconds"] if ok else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        raise RnnlabError(f'{where}: {file.name} must hold exactly {{"seconds": a number}}')
    if not (math.isfinite(seconds) and seconds >= 0):
        raise RnnlabError(f"{where}: {file.name}: seconds must be a finite number >= 0")
    return float(seconds)


def check_sha256(file: Path, recorded: dict[str, str], where: str, config: str) -> None:
    """``file``'s SHA-256 must be the one ``config`` records for it: a flipped bit or a
    replaced file is refused before a tensor is read from it."""
    expected = recorded.get(file.name)
    if expected is None:
        raise RnnlabError(f"{where}: {config} records no SHA-256 for {file.name}")
    h = hashlib.sha256()
    try:
        with open(file, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    except OSError as exc:
        raise RnnlabError(f"{where}: cannot read {file.name} ({exc.strerror})") from None
    if h.hexdigest() != expected:
        raise RnnlabError(
            f"{where}: {file.name} is damaged or was changed after it was written: its SHA-256 "
            f"is {h.hexdigest()[:16]}…, {config} records {expected[:16]}…"
        )
