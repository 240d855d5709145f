"""``rnnlab gradients``'s settings (no torch here): what is measured (:class:`ProbeConfig`, or
a checkpoint), exploding in practice (:class:`ExplodeConfig`), and where the plot goes
(:class:`GradientsConfig`, which holds both)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from rnnlab.config import ConfigError, check_fields, option
from rnnlab.settings.cells import INIT_SCHEMES, known_cells
from rnnlab.settings.devices import DEVICES
from rnnlab.settings.tasks import RunConfig

INPUTS = ("zero", "noise", "data")
MAX_JACOBIAN = 2**26  # T·H² entries of the Jacobians ∂h_T/∂h_t kept at once (512 MiB, float64)


def jacobian_size_error(T: int, H: int) -> str | None:
    """Why T steps of H units are too many to measure (memory T·H²·8 bytes), or None."""
    if T * H * H <= MAX_JACOBIAN:
        return None
    return (
        f"T·H² = {T}·{H}² = {T * H * H} Jacobian entries, more than {MAX_JACOBIAN} (memory "
        "T·H²·8 bytes, time T·H³); use fewer steps or units"
    )


@dataclass(frozen=True)
class ProbeConfig:
    """A fresh network to measure: a cell by name, or the scalar tanh RNN with a chosen Wh
    (H = I = 1, b = 0, Wx = 1; at zero input ∂h_T/∂h_t = Wh^k exactly)."""

    cell: str = option("rnn", "the cell", choices=known_cells)
    wh: float | None = option(
        None,
        "the scalar tanh RNN with this recurrent weight (H = 1, zero bias, zero input)",
        low=-1e6,
        high=1e6,
        metavar="X",
    )
    hidden: int = option(32, "hidden units", low=1, high=4096, metavar="H")
    steps: int = option(50, "sequence length T", low=2, high=10_000, metavar="T")
    init: str = option(
        "default", "recurrent weights", choices=INIT_SCHEMES, default_text="the cell's own"
    )
    scale: float = option(1.0, "times the --init scheme", low=-1e6, high=1e6, metavar="S")
    forget_bias: float | None = option(
        None,
        "LSTM: the forget gate's bias",
        low=-1e6,
        high=1e6,
        metavar="B",
        default_text="the cell's own",
    )
    input: str = option("noise", "x_t = 0 or x_t ~ N(0, 1)", choices=("zero", "noise"), cli=False)
    cell_options: dict = option(factory=dict, cli=False)  # passed to make_cell
    seed: int = option(0, "weights, input noise and head", low=0, high=2**32 - 1)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.wh is not None:
            default = ProbeConfig()
            for name in ("cell", "hidden", "init", "scale", "forget_bias", "cell_options"):
                if getattr(self, name) != getattr(default, name):
                    raise ConfigError(name, f"{{wh}} sets the scalar tanh RNN; drop {{{name}}}")
        if self.forget_bias is not None and self.cell != "lstm":
            raise ConfigError("forget_bias", f"only the LSTM has a forget gate, not {self.cell}")
        H = 1 if self.wh is not None else self.hidden
        if (why := jacobian_size_error(self.steps, H)) is not None:
            raise ConfigError("steps", why + " ({steps}, {hidden})")

    def to_dict(self) -> dict:
        """JSON-able."""
        return asdict(self)


@dataclass(frozen=True)
class ExplodeConfig:
    """Exploding in practice: the two runs' shared settings (the network, SGD, the adding
    problem at a short T); one run without clipping, one with."""

    cell: str = option("rnn", "the cell", choices=known_cells)
    hidden: int = option(32, "hidden units", low=1, high=4096)
    init: str = option("orthogonal", "recurrent weights", choices=INIT_SCHEMES)
    scale: float = option(1.5, "times the init scheme: σ_max(Wh) > 1 explodes", low=-1e6, high=1e6)
    cell_options: dict = option(factory=dict, cli=False)
    length: int = option(10, "the adding problem's T", low=2, high=10_000, flag="--train-length")
    steps: int = option(1000, "optimisation steps per run", low=1, high=10**7, flag="--train-steps")
    batch_size: int = option(32, "sequences per step", low=1, high=2**20)
    optimizer: str = option(
        "sgd", "plain SGD: Adam divides by √v and caps the step itself", choices=("sgd", "adam")
    )
    lr: float = option(0.1, "learning rate", low=0, above=True, high=1e6)
    clip: float = option(1.0, "the clipped run's norm", low=0, above=True, high=1e12)
    explode_factor: float = option(
        1e4, "exploded: ‖g_k‖ > this × ‖g_1‖ (both runs stop there)", low=1, above=True
    )
    seed: int = option(0, "weights and batches (both runs)", low=0, high=2**32 - 1)
    device: str = option("auto", "where both runs train", choices=DEVICES, cli=False)

    def __post_init__(self) -> None:
        check_fields(self)

    def run_config(self, clip: float | None) -> RunConfig:
        """The runner's config for one of the two runs (an LSTM keeps torch's gate biases)."""
        return RunConfig(
            cell=self.cell,
            hidden=self.hidden,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer=self.optimizer,
            clip=clip,
            max_steps=self.steps,
            budget=None,
            eval_every=max(1, self.steps // 10),
            eval_size=500,
            stop_when_solved=False,
            init=self.init,
            scale=self.scale,
            torch_forget_bias=self.cell == "lstm",
            cell_options=dict(self.cell_options),
            explode_factor=self.explode_factor,
            seed=self.seed,
            device=self.device,
        )

    def to_dict(self) -> dict:
        """JSON-able."""
        return asdict(self)


# ExplodeConfig's fields that `rnnlab gradients` takes from the network it measures
FROM_PROBE = ("cell", "hidden", "init", "scale", "seed", "explode_factor")


@dataclass(frozen=True)
class GradientsConfig:
    """``rnnlab gradients``: measure a fresh network (``probe``) or a checkpoint (``model``);
    with ``train``, train the same network twice (``practice``); write the plot."""

    probe: ProbeConfig = option(factory=ProbeConfig, cli=False)
    nonlinearity: str | None = option(
        None, "rnn: the activation", choices=("tanh", "relu"), default_text="tanh"
    )
    input: str | None = option(
        None,
        "x_t = 0, x_t ~ N(0, 1), or (with --model) the checkpoint's last window",
        choices=INPUTS,
        default_text="zero with --wh (noise with --contributions), data with --model, noise "
        "otherwise",
    )
    model: Path | None = option(None, "a checkpoint from rnnlab train", metavar="DIR")
    out: Path = option(Path("out/gradients"), "the folder the plot goes to", metavar="DIR")
    plot: Path | None = option(
        None, "the plot's file", metavar="FILE.png", default_text="gradients.png in --out"
    )
    no_plot: bool = option(False, "write no plot")
    train: bool = option(
        False, "also train this network on the adding problem twice, without and with clipping"
    )
    practice: ExplodeConfig = option(factory=ExplodeConfig, cli=False)
    device: str = option(
        "auto",
        "where --train's two runs compute: a CUDA GPU when present (auto), cpu or cuda; the "
        "gradient-flow probe runs on the CPU in float64 whatever this says",
        choices=DEVICES,
    )
    contributions: bool = option(
        False,
        "split ∂L/∂Wh into its term per lag, δ_(T−k)·h_(T−k−1), with their sum checked "
        "against autograd and the share of lags ≥ --long-lag (the tanh rnn: --wh or --cell rnn)",
    )
    long_lag: int = option(
        10,
        "with --contributions: lags from K on count as long-range",
        low=0,
        high=10_000,
        metavar="K",
    )

    def __post_init__(self) -> None:
        check_fields(self)
        p, default = self.probe, ProbeConfig()
        if self.contributions:
            if self.model is not None:
                raise ConfigError("contributions", "measures a fresh network; not with {model}")
            if p.wh is None and p.cell != "rnn":
                raise ConfigError(
                    "contributions", f"is for the tanh rnn ({{wh}} or the cell rnn), not {p.cell}"
                )
            if self.nonlinearity == "relu":
                raise ConfigError("contributions", "is for the tanh rnn; drop {nonlinearity} relu")
            if self.input == "zero":
                raise ConfigError(
                    "contributions",
                    "with x_t = 0 and h_0 = 0 every h_t is 0, so every term is 0; drop {input}",
                )
        if self.model is not None:
            for f in fields(ProbeConfig):
                if f.name in ("seed", "input"):
                    continue
                if getattr(p, f.name) != getattr(default, f.name):
                    raise ConfigError(f"probe.{f.name}", "comes from {model}; drop it")
            if self.nonlinearity is not None:
                raise ConfigError("nonlinearity", "comes from {model}; drop it")
            if self.train:
                raise ConfigError("train", "trains a fresh network; not with {model}")
        elif self.input == "data":
            raise ConfigError("input", "data needs {model} (a checkpoint's last window)")
        if self.nonlinearity is not None:
            if p.wh is not None:
                raise ConfigError("nonlinearity", "{wh} sets the scalar tanh RNN; drop it")
            if p.cell != "rnn":
                raise ConfigError("nonlinearity", f"is for the rnn cell, not {p.cell}")

    @property
    def input_kind(self) -> str:
        """The input resolved: as given, else data (a checkpoint), zero (--wh) or noise."""
        if self.input is not None:
            return self.input
        if self.model is not None:
            return "data"
        if self.probe.wh is not None and not self.contributions:
            return "zero"
        return "noise"

    @property
    def plot_path(self) -> Path | None:
        """Where the PNG goes (None: nowhere)."""
        return None if self.no_plot else self.plot or self.out / "gradients.png"

    def probe_config(self) -> ProbeConfig:
        """The fresh network to measure, its input and activation resolved."""
        options = {} if self.nonlinearity is None else {"nonlinearity": self.nonlinearity}
        return replace(self.probe, input=self.input_kind, cell_options=options)

    def explode_config(self) -> ExplodeConfig:
        """The training runs' settings: the measured network (the scalar RNN: H = 1, Wh = wh
        as the identity × wh) with ``practice``'s optimiser, length and steps."""
        p = self.probe_config()
        scalar = p.wh is not None
        return replace(
            self.practice,
            cell="rnn" if scalar else p.cell,
            hidden=1 if scalar else p.hidden,
            init="identity" if scalar else p.init,
            scale=p.wh if scalar else p.scale,  # type: ignore[arg-type]
            cell_options=p.cell_options,
            seed=p.seed,
            device=self.device,
        )

    def to_dict(self) -> dict:
        """JSON-able."""
        d = asdict(self)
        for name in ("model", "out", "plot"):
            d[name] = None if d[name] is None else str(d[name])
        return d
