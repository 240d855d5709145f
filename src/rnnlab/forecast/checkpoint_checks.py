"""Checks on what a checkpoint directory holds, used by :func:`load_checkpoint`.

Every check reads plain data (JSON values, the safetensors header) and raises
:class:`~rnnlab.errors.RnnlabError` naming the file and the field; nothing here unpickles or
runs code from the checkpoint.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import torch

from rnnlab.errors import RnnlabError
from rnnlab.forecast.training import TrainHistory

FLOAT_DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32}
FLOAT_DTYPES["F64"] = torch.float64


def require(d: dict, key: str, kind: type | tuple, where: str):
    """``d[key]``, which must exist and be of type ``kind``."""
    if not isinstance(d, dict) or key not in d:
        raise RnnlabError(f"{where}: the checkpoint config has no {key!r}")
    if not isinstance(d[key], kind):
        raise RnnlabError(f"{where}: {key!r} has the wrong type ({type(d[key]).__name__})")
    return d[key]


def known_keys(d: dict, allowed: frozenset, where: str) -> dict:
    """``d`` itself, if it has no key outside ``allowed``."""
    unknown = sorted(str(k) for k in set(d) - allowed)
    if unknown:
        raise RnnlabError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    return d


def dataclass_from(cls, d: dict, where: str):
    """``cls(**d)`` for exactly the dataclass's fields, its own checks named by ``where``."""
    expected = {f.name for f in fields(cls)}
    if not isinstance(d, dict) or set(d) != expected:
        raise RnnlabError(f"{where}: expected exactly the keys {sorted(expected)}")
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
