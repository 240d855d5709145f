"""The ``device`` setting shared by every command that trains or predicts (no torch here)."""

from __future__ import annotations

from typing import Any

from rnnlab.config import option

DEVICES = ("auto", "cpu", "cuda")


def device_option() -> Any:
    """The field ``device: str``: auto (a CUDA GPU when present), cpu or cuda."""
    return option("auto", "where torch computes: a CUDA GPU when present (auto), cpu or cuda",
                  choices=DEVICES)  # fmt: skip
