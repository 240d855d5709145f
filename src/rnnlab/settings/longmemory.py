"""``rnnlab longmemory``'s settings: the task, its delay T, the cells, and how each trains."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from rnnlab.config import ConfigError, check_fields, option
from rnnlab.settings.cells import GATED, known_cells
from rnnlab.settings.tasks import RunConfig

TASKS = ("adding", "copy")  # rnnlab.tasks.task_names(), without importing torch
MAX_ACTIVATIONS = 2**28  # B·T·H states kept for backpropagation (1 GiB in float32)


@dataclass(frozen=True)
class LongMemoryConfig:
    """Which cells train on which long-memory task, and how (``run``, shared by every cell;
    :meth:`runs` gives each cell its own resolved copy)."""

    task: str = option("adding", "the task", choices=TASKS)
    length: int = option(200, "the delay T", low=2, high=100_000, metavar="T")
    cells: tuple[str, ...] = option(
        ("rnn", "lstm", "gru"),
        "comma-separated cell names (also irnn and every other registered cell)",
        choices=known_cells,
        flag="--cell",
        metavar="NAMES",
    )
    run: RunConfig = option(factory=RunConfig, cli=False)
    plot: Path | None = option(None, "write the learning curves to this PNG", metavar="FILE.png")

    def __post_init__(self) -> None:
        check_fields(self)
        r = self.run
        if r.forget_bias is not None and "lstm" not in self.cells:
            raise ConfigError(
                "run.forget_bias", "sets the LSTM's forget gate, but {cells} names no lstm"
            )
        if r.torch_forget_bias and "lstm" not in self.cells:
            raise ConfigError("run.torch_forget_bias", "is for the LSTM, but {cells} names no lstm")
        if r.chrono and not set(GATED) & set(self.cells):
            raise ConfigError(
                "run.chrono", "sets LSTM and GRU gate biases, but {cells} names neither"
            )
        T, H = self.length, r.hidden
        for name, B in (("batch_size", r.batch_size), ("eval_size", r.eval_size)):
            if B * T * H > MAX_ACTIVATIONS:
                raise ConfigError(
                    f"run.{name}",
                    f"B·T·H = {B}·{T}·{H} = {B * T * H} hidden states (with {{length}} and "
                    f"{{hidden}}), more than {MAX_ACTIVATIONS} (1 GiB kept for "
                    "backpropagation); use smaller sizes",
                )

    @classmethod
    def quick(cls) -> LongMemoryConfig:
        """A small, fast run: T = 10, H = 8, 40 steps per cell."""
        small = RunConfig(
            hidden=8, batch_size=16, max_steps=40, budget=30.0, eval_every=20, eval_size=64
        )
        return cls(length=10, run=small)

    def runs(self) -> list[RunConfig]:
        """One resolved :class:`RunConfig` per cell, in the order given."""
        return [self.run.for_cell(cell) for cell in self.cells]

    def worst_case_seconds(self) -> float | None:
        """The most seconds the training can take (every cell runs out of its budget);
        None when there is no time budget."""
        b = self.run.budget
        return None if b is None else b * len(self.cells)

    def to_dict(self) -> dict:
        """JSON-able."""
        d = asdict(self)
        d["plot"] = None if self.plot is None else str(self.plot)
        return d
