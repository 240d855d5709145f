"""How one cell trains on a long-memory task: :class:`RunConfig` (no torch here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rnnlab.config import check_fields, option

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class RunConfig:
    """How one cell trains on one task; plain values, written next to the results."""

    cell: str = option("lstm", "any name in rnnlab.cells.cell_names()", cli=False)
    hidden: int = option(128, "hidden units H", low=1, high=4096, metavar="H")
    batch_size: int = option(64, "fresh sequences per step", low=1, high=2**20)
    lr: float = option(1e-3, "learning rate", low=0, above=True, high=1e6)
    optimizer: str = option("adam", "adam, or plain sgd", choices=OPTIMIZERS)
    clip: float | None = option(None, "clip the gradient's L2 norm to this", low=0, above=True)
    max_steps: int = option(100_000, "most optimisation steps", low=1, high=10**9)
    budget: float | None = option(
        600.0, "most seconds of training per cell; None: no limit", low=0, above=True
    )
    eval_every: int = option(100, "steps between validation losses", low=1, high=10**9)
    eval_size: int = option(1000, "sequences in the fixed validation set", low=1, high=2**16)
    stop_when_solved: bool = option(True, "stop at the first validation loss below the bar")
    init: str = option("default", "recurrent weights: default|normal|orthogonal|identity")
    scale: float = option(1.0, "times the init scheme", low=-1e6, high=1e6)
    forget_bias: float | None = option(None, "LSTM forget-gate bias; None: the cell's own")
    chrono: bool = option(False, "LSTM/GRU gate biases by chrono init, T_max = the task's T")
    cell_options: dict = option(factory=dict, cli=False)  # passed to make_cell
    explode_factor: float | None = option(
        None, "stop when ‖g‖ > this × the first ‖g‖", low=1, above=True, cli=False
    )
    seed: int = option(0, "weights, batches and the validation set", low=0, high=2**32 - 1)

    def __post_init__(self) -> None:
        check_fields(self)

    def to_dict(self) -> dict:
        """JSON-able."""
        return asdict(self)
