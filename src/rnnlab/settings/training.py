"""How a forecasting net is shaped and trained: :class:`NetConfig` and :class:`TrainConfig`.

Plain values only, so that a config goes into a checkpoint's JSON unchanged; no torch here, so
that the command line can be built from these without importing it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rnnlab.config import check_fields, option


@dataclass(frozen=True)
class NetConfig:
    """The network's shape.

    kind : str            a cell name from :func:`rnnlab.cells.cell_names`, or "mlp"
    hidden_size : int     H, units per layer
    layers : int          stacked cells (recurrent) or hidden layers (mlp)
    dropout : float       between layers, in training only
    cell_options : dict   passed to ``make_cell`` (e.g. ``{"nonlinearity": "relu"}`` for rnn)
    """

    kind: str = option("rnn", "the cell", flag="--cell", cli=False)
    hidden_size: int = option(
        32, "hidden units per layer", low=1, high=4096, flag="--hidden", metavar="H"
    )
    layers: int = option(1, "stacked layers", low=1, high=64)
    dropout: float = option(0.0, "between layers, in training only", low=0, high=0.999)
    cell_options: dict = option(factory=dict, cli=False)

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def quick(cls) -> NetConfig:
        """The --quick run's settings: a small net."""
        return cls(hidden_size=8)

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)


@dataclass(frozen=True)
class TrainConfig:
    """How to train; every field is a plain number so it goes into a checkpoint unchanged."""

    epochs: int = option(
        100,
        "most passes over the training windows (early stopping ends sooner)",
        low=1,
        high=100_000,
    )
    lr: float = option(1e-3, "Adam's learning rate", low=0, above=True, high=1e6)
    batch_size: int = option(64, "windows per optimisation step", low=1, high=2**20)
    patience: int = option(
        10,
        "epochs without a better validation loss before stopping; 0: never",
        low=0,
        high=100_000,
    )
    clip_norm: float | None = option(
        1.0, "clip the gradient's L2 norm to this", low=0, above=True, flag="--clip", off=0
    )
    weight_decay: float = option(0.0, "Adam's L2 penalty", low=0, high=1e6, cli=False)
    seed: int = option(
        0, "weights' initialisation and batch order", low=0, high=2**32 - 1, cli=False
    )

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def quick(cls) -> TrainConfig:
        """The --quick run's settings: a few epochs, no early stop."""
        return cls(epochs=3, patience=0)

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)
