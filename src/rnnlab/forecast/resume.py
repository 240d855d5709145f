"""The state files of a checkpoint written during training: what resuming ``train`` needs to go
on from the last complete epoch and end where the uninterrupted run ends. Never pickle.

    DIR/state.json          epoch, best_loss, since_best, ranks, and ``run``: the command's
                            description of the run (data, validation size, data fingerprint)
    DIR/state.safetensors   weights.<name>   the module's weights now (model.safetensors holds
                                             the best epoch's: what predict uses meanwhile)
                            rng.shuffle      the batch order's torch.Generator state (uint8)
                            rng.torch.<r>    torch's global generator on rank r (dropout)

The rest of a :class:`~rnnlab.forecast.training.TrainState` is in the ordinary checkpoint
files: Adam's state in optimizer.safetensors, the record in config.json's "training", the
training config in its "train". A finished model's checkpoint has no state files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from rnnlab.errors import RnnlabError
from rnnlab.fielderror import about
from rnnlab.forecast.training import TrainState

STATE_JSON, STATE_TENSORS = "state.json", "state.safetensors"
STATE_FORMAT = "rnnlab.train-state"
STATE_VERSION = 1
_KEYS = {"format", "format_version", "epoch", "best_loss", "since_best", "ranks", "run"}


def state_files(state: TrainState, run: dict) -> dict[str, bytes]:
    """The two state files' bytes for ``state``; ``run`` (JSON-able) is stored alongside."""
    from safetensors.torch import save

    tensors = {f"weights.{k}": v for k, v in state.weights.items()}
    tensors["rng.shuffle"] = state.shuffle_rng
    tensors.update({f"rng.torch.{r}": t for r, t in enumerate(state.torch_rng)})
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    meta = {
        "format": STATE_FORMAT,
        "format_version": STATE_VERSION,
        "epoch": state.epoch,
        "best_loss": state.best_loss if math.isfinite(state.best_loss) else None,
        "since_best": state.since_best,
        "ranks": len(state.torch_rng),
        "run": run,
    }
    return {
        STATE_JSON: (json.dumps(meta, indent=2, allow_nan=False) + "\n").encode(),
        STATE_TENSORS: save(tensors, metadata={"format": STATE_FORMAT}),
    }


def has_state(path: str | Path) -> bool:
    """True if ``path`` is a checkpoint written during training (one to resume)."""
    return (Path(path) / STATE_JSON).is_file()


def _int(meta: dict, key: str, low: int, high: int, where: str) -> int:
    v = meta[key]
    if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high:
        raise RnnlabError(f"{where}: {STATE_JSON} {key} must be a whole number in [{low}, {high}]")
    return v


def load_state(path: str | Path, f) -> tuple[TrainState, dict]:
    """The :class:`TrainState` in checkpoint ``path`` and its ``run`` description.

    ``f`` is the forecaster :func:`~rnnlab.forecast.checkpoint.load_checkpoint` read from the
    same directory: its module holds the best weights, its ``optimizer_state_`` Adam's state,
    its ``history_`` the record. Every field is checked; a bad one is a one-line error (a
    :class:`~rnnlab.fielderror.FieldError` about ``resume``, the setting that names ``path``).
    """
    with about("resume"):
        return _load_state(Path(path), f)


def _load_state(path: Path, f) -> tuple[TrainState, dict]:
    from rnnlab.forecast.checkpoint_checks import (
        FLOAT_DTYPES,
        check_sha256,
        load_tensors,
        loads,
        tensor_header,
    )

    where = str(path)
    for name in (STATE_JSON, STATE_TENSORS):
        if (path / name).is_symlink():
            raise RnnlabError(f"{where}: {name} is a symbolic link; a checkpoint holds its files")
    try:
        meta = loads((path / STATE_JSON).read_text(encoding="utf-8"), STATE_JSON, where)
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise RnnlabError(f"{where}: {STATE_JSON} cannot be read ({exc})") from None
    if not isinstance(meta, dict) or set(meta) != _KEYS or meta["format"] != STATE_FORMAT:
        raise RnnlabError(f"{where}: {STATE_JSON} is not an rnnlab training state")
    if meta["format_version"] != STATE_VERSION:
        raise RnnlabError(f"{where}: {STATE_JSON} version {meta['format_version']!r} is unknown")
    history = f.history_
    epoch = _int(meta, "epoch", 1, min(f.train_config.epochs, history.epochs), where)
    since_best = _int(meta, "since_best", 0, epoch, where)
    ranks = _int(meta, "ranks", 1, 1 << 16, where)
    best_loss = meta["best_loss"]
    if best_loss is None:
        best_loss = math.inf
    if not isinstance(best_loss, int | float) or isinstance(best_loss, bool):
        raise RnnlabError(f"{where}: {STATE_JSON} best_loss must be a number")
    if not isinstance(meta["run"], dict):
        raise RnnlabError(f"{where}: {STATE_JSON} run must be an object")
    if f.optimizer_state_ is None:
        raise RnnlabError(f"{where}: optimizer.safetensors is missing; cannot resume exactly")
    best = f.module_.state_dict()
    expected = {f"weights.{k}": (tuple(v.shape), v.dtype) for k, v in best.items()}
    expected["rng.shuffle"] = (tuple(torch.Generator().get_state().shape), torch.uint8)
    for r in range(ranks):
        expected[f"rng.torch.{r}"] = (tuple(torch.get_rng_state().shape), torch.uint8)
    file = path / STATE_TENSORS
    got = tensor_header(file, where, {**FLOAT_DTYPES, "U8": torch.uint8})  # before loading
    if got != expected:
        wrong = sorted(set(got) ^ set(expected) | {k for k in got if got[k] != expected.get(k)})
        raise RnnlabError(f"{where}: {STATE_TENSORS} does not fit the model (check {wrong[:3]})")
    check_sha256(file, f.checkpoint_["sha256"], where, "config.json")
    tensors = load_tensors(file, where)
    for key, t in tensors.items():
        if key.startswith("weights.") and not torch.isfinite(t).all():
            raise RnnlabError(f"{where}: {STATE_TENSORS} {key} holds NaN or inf")
        if key.startswith("rng."):
            try:
                torch.Generator().set_state(t)  # the CPU generator's own check of a state
            except RuntimeError as exc:
                raise RnnlabError(f"{where}: {STATE_TENSORS} {key}: {exc}") from None
    state = TrainState(
        epoch=epoch,
        history=history,
        best_loss=float(best_loss),
        since_best=since_best,
        best_weights={k: v.clone() for k, v in best.items()},
        weights={k.removeprefix("weights."): v for k, v in tensors.items() if k[:8] == "weights."},
        optimizer=f.optimizer_state_,
        shuffle_rng=tensors["rng.shuffle"],
        torch_rng=[tensors[f"rng.torch.{r}"] for r in range(ranks)],
    )
    return state, meta["run"]
