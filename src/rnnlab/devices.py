"""Where torch computes: ``device`` is "auto" (a CUDA GPU when torch sees one, else the CPU),
"cpu" or "cuda". Checkpoints do not record it: weights are saved from the CPU and load anywhere.
"""

from __future__ import annotations

import torch

from rnnlab.config import ConfigError
from rnnlab.settings.devices import DEVICES


def resolve_device(name: str) -> torch.device:
    """The torch device ``name`` means here; a :class:`ConfigError` on the field ``device`` when
    it names a GPU that torch cannot see."""
    if name not in DEVICES:
        raise ConfigError("device", f"must be one of {', '.join(DEVICES)}; got {name!r}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise ConfigError(
            "device",
            f"cuda was asked for, but torch {torch.__version__} ({build}) sees no CUDA GPU "
            "here; use cpu or auto",
        )
    return torch.device("cuda", torch.cuda.current_device())
