"""How one cell trains on a long-memory task: :class:`RunConfig` (no torch here).

The cells' own defaults live here too, resolved in one place (:meth:`RunConfig.resolved`):

- irnn: Adam's learning rate 1e-4 (Le, Jaitly & Hinton 2015 train the IRNN with a small one);
- lstm: forget-gate bias 1 (Gers, Schmidhuber & Cummins 2000; Jozefowicz et al. 2015; Keras's
  default): with torch's U(−1/√H, 1/√H) biases the forget gate starts near σ(0) = 0.5, which
  halves the memory every step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from rnnlab.config import ConfigError, check_fields, option
from rnnlab.settings.cells import GATED, INIT_SCHEMES, known_cells
from rnnlab.settings.devices import device_option

OPTIMIZERS = ("adam", "sgd")
DEFAULT_LR = 1e-3
CELL_LR = {"irnn": 1e-4}  # the cells whose learning rate differs from DEFAULT_LR
LSTM_FORGET_BIAS = 1.0  # the LSTM's forget-gate bias unless told otherwise


@dataclass(frozen=True)
class RunConfig:
    """How one cell trains on one task; plain values, written next to the results.

    ``lr`` and ``forget_bias`` None stand for the cell's own default (see the module's
    docstring); :meth:`resolved` writes them out, and the runner trains on the resolved config.
    """

    cell: str = option("lstm", "the cell", choices=known_cells, cli=False)
    hidden: int = option(128, "hidden units", low=1, high=4096, metavar="H")
    batch_size: int = option(64, "fresh sequences per step", low=1, high=2**20)
    lr: float | None = option(
        None,
        "learning rate",
        low=0,
        above=True,
        high=1e6,
        default_text="1e-3; irnn 1e-4, after Le et al. 2015",
    )
    optimizer: str = option("adam", "adam, or plain sgd", choices=OPTIMIZERS)
    clip: float | None = option(
        None, "clip the gradient's global norm to this", low=0, above=True, off=(0, "none")
    )
    max_steps: int = option(100_000, "most steps per cell", low=1, high=10**9)
    budget: float | None = option(
        600.0, "most seconds of training per cell", low=0, above=True, high=10**7, metavar="SECONDS"
    )
    eval_every: int = option(100, "steps between validation losses", low=1, high=10**9)
    eval_size: int = option(1000, "sequences in the fixed validation set", low=1, high=2**16)
    stop_when_solved: bool = option(
        True, "stop at the first validation loss below the bar", flag="--stop"
    )
    init: str = option(
        "default", "recurrent weights", choices=INIT_SCHEMES, default_text="the cell's own"
    )
    scale: float = option(1.0, "times the --init scheme", low=-1e6, high=1e6)
    forget_bias: float | None = option(
        None,
        "the LSTM's forget-gate bias",
        low=-1e6,
        high=1e6,
        metavar="B",
        default_text="1, after Gers et al. 2000",
    )
    torch_forget_bias: bool = option(
        False, "LSTM: keep torch's own gate biases, U(−1/√H, 1/√H), not a forget-gate bias of 1"
    )
    chrono: bool = option(
        False, "LSTM/GRU: chrono init of the gate biases over 1 … T (Tallec & Ollivier 2018)"
    )
    cell_options: dict = option(factory=dict, cli=False)  # passed to make_cell
    explode_factor: float | None = option(
        None, "stop when ‖g‖ > this × the first ‖g‖", low=1, above=True, cli=False
    )
    device: str = device_option()
    seed: int = option(0, "weights, batches and the validation set", low=0, high=2**32 - 1)

    def __post_init__(self) -> None:
        check_fields(self)
        lstm = self.cell == "lstm"
        if self.forget_bias is not None and not lstm:
            raise ConfigError("forget_bias", f"only the LSTM has a forget gate, not {self.cell}")
        if self.torch_forget_bias and not lstm:
            raise ConfigError("torch_forget_bias", f"is for the LSTM, not {self.cell}")
        if self.torch_forget_bias and self.forget_bias is not None:
            raise ConfigError("torch_forget_bias", "and {forget_bias} disagree; give one")
        if self.chrono and self.cell not in GATED:
            raise ConfigError("chrono", f"sets LSTM and GRU gate biases, not {self.cell}'s")
        if self.chrono and (self.forget_bias is not None or self.torch_forget_bias):
            which = "forget_bias" if self.forget_bias is not None else "torch_forget_bias"
            raise ConfigError("chrono", f"sets the forget-gate bias itself; drop {{{which}}}")

    def for_cell(self, cell: str) -> RunConfig:
        """These settings for ``cell``, resolved; those that do not apply to it (a forget-gate
        bias for a GRU, chrono init for an RNN) dropped."""
        lstm, gated = cell == "lstm", cell in GATED
        return replace(
            self,
            cell=cell,
            forget_bias=self.forget_bias if lstm else None,
            torch_forget_bias=self.torch_forget_bias and lstm,
            chrono=self.chrono and gated,
        ).resolved()

    def resolved(self) -> RunConfig:
        """This config with the cell's defaults written out: ``lr`` always a number, and
        ``forget_bias`` the bias the LSTM gets (None: torch's own, or chrono's)."""
        lr = self.lr if self.lr is not None else CELL_LR.get(self.cell, DEFAULT_LR)
        bias = self.forget_bias
        if self.cell == "lstm" and bias is None and not (self.chrono or self.torch_forget_bias):
            bias = LSTM_FORGET_BIAS
        return replace(self, lr=lr, forget_bias=bias)

    def to_dict(self) -> dict:
        """JSON-able."""
        return asdict(self)
