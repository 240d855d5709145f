"""What a checkpoint directory says about itself, read without torch: whether it is a
directory at all, and the "data" section of its config.json (which data it was trained on and
how that file was read), so that ``predict`` on other data can read the CSV before torch is loaded.

Only a first look: :func:`rnnlab.forecast.checkpoint.load_checkpoint` validates everything.
"""

from __future__ import annotations

import json
from pathlib import Path

from rnnlab.errors import RnnlabError

CONFIG = "config.json"
MAX_PEEK_BYTES = 256 * 2**20  # as checkpoint.MAX_CONFIG_BYTES


def checkpoint_dir(path: Path, option: str) -> Path:
    """``path``, if it is a directory; else the one-line error naming ``option``."""
    if not path.is_dir():
        if path.exists():
            raise RnnlabError(f"{option}: {path}: not a directory (a checkpoint is a directory)")
        raise RnnlabError(f"{option}: {path}: no such checkpoint directory")
    return path


def recorded_data(path: Path) -> dict:
    """The plain values (text, numbers, true/false) of config.json's "data" section; {} when
    it cannot be read (loading the checkpoint says why, later)."""
    file = Path(path) / CONFIG
    try:
        if file.is_symlink() or file.stat().st_size > MAX_PEEK_BYTES:
            return {}
        config = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    data = config.get("data") if isinstance(config, dict) else None
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool)}


def recorded_covariates(path: Path) -> tuple[str, ...] | None:
    """The covariates the checkpoint's model reads (its columns, then "calendar"), from
    config.json's model.covariates; None for none or when it cannot be read."""
    file = Path(path) / CONFIG
    try:
        if file.is_symlink() or file.stat().st_size > MAX_PEEK_BYTES:
            return None
        config = json.loads(file.read_text(encoding="utf-8"))
        d = config["model"]["covariates"]
        names = [n for n in d["names"] if isinstance(n, str)]
        return (*names, *(("calendar",) if d["calendar"] is True else ())) or None
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        return None
