"""``rnnlab compare``'s settings: the cells, and the size of each of the four parts.

The four parts (see :mod:`rnnlab.compare`): speed against T, reach-back ‖∂ŷ/∂x_t‖ by lag,
stability without clipping, and what the cells achieve (adding, copy, the stock forecast).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from rnnlab.config import check_fields, option
from rnnlab.settings.cells import known_cells
from rnnlab.settings.devices import device_option

DEFAULT_CELLS = ("rnn", "lstm", "gru", "mingru", "transformer")


@dataclass(frozen=True)
class CompareConfig:
    """Every cell gets the same H, data, steps and seed in every part."""

    cells: tuple[str, ...] = option(
        DEFAULT_CELLS, "comma-separated cells", choices=known_cells, flag="--cells", metavar="NAMES"
    )
    hidden: int = option(
        32, "hidden units H (d_model for the transformer)", low=1, high=512, metavar="H"
    )
    # 1. speed
    min_length: int = option(64, "speed: the shortest T", low=2, high=16_384, metavar="T")
    max_length: int = option(
        4096, "speed: the longest T (T doubles from --min-length)", low=2, high=16_384, metavar="T"
    )
    batch: int = option(8, "speed: sequences per training step", low=1, high=4096, metavar="B")
    repeats: int = option(3, "speed: timed rounds per T (medians, interleaved)", low=1, high=100)
    # 2. reach-back
    reach_length: int = option(
        100, "reach-back: T of the probe sequences", low=2, high=4096, metavar="T"
    )
    reach_steps: int = option(
        300, "reach-back: Adam steps on the adding problem before the second look (0 = none)",
        low=0, high=10**6, metavar="N",
    )  # fmt: skip
    # 3. stability
    explode_steps: int = option(
        300,
        "stability: SGD steps (lr 0.1, σ_max(W_hh) = 1.5) per run",
        low=1,
        high=10**6,
        metavar="N",
    )
    explode_hidden: int = option(
        32,
        "stability: hidden units (the exploding demo's size, for every cell)",
        low=1,
        high=512,
        metavar="H",
    )
    # 4. what it buys
    task_length: int = option(200, "adding and copy: the delay T", low=2, high=10_000, metavar="T")
    task_steps: int = option(
        5000, "adding and copy: most steps per cell", low=1, high=10**7, metavar="N"
    )
    task_budget: float = option(
        25.0,
        "adding and copy: most seconds per cell and task",
        low=0,
        above=True,
        high=10**6,
        metavar="SECONDS",
    )
    epochs: int = option(30, "forecast: most epochs per model", low=1, high=10_000, metavar="N")
    tail: int | None = option(
        None, "forecast: keep the last N points of the series", low=50, off=0, metavar="N"
    )
    device: str = device_option()
    seed: int = option(0, "every random draw", low=0, high=2**32 - 1)
    plot: Path | None = option(
        None, "write speed against T and reach-back by lag to this PNG", metavar="FILE.png"
    )

    def __post_init__(self) -> None:
        check_fields(self)
        if self.max_length < self.min_length:
            from rnnlab.config import ConfigError

            raise ConfigError("max_length", "is shorter than {min_length}")

    @classmethod
    def quick(cls) -> CompareConfig:
        """A small, fast run: H = 8, T up to 128, a few steps in every part (seconds)."""
        return cls(
            hidden=8, min_length=16, max_length=128, batch=4, repeats=3, reach_length=30,
            reach_steps=0, explode_steps=30, task_length=10, task_steps=40, task_budget=5.0,
            epochs=2, tail=300,
        )  # fmt: skip

    def lengths(self) -> list[int]:
        """The speed part's T: min_length, doubling, up to max_length."""
        out, T = [], self.min_length
        while self.max_length >= T:
            out.append(T)
            T *= 2
        return out

    def to_dict(self) -> dict:
        """JSON-able."""
        d = asdict(self)
        d["plot"] = None if self.plot is None else str(self.plot)
        return d
