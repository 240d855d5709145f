"""``rnnlab walkthrough``'s settings (no torch here): the inputs, the weights, the scale.

The defaults are the classic toy: yesterday's and today's (squashed) price 0 and 0, made-up
weights with zero biases (any weights give 0 for the inputs 0, 0), so the prediction is 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from rnnlab.config import ConfigError, check_fields, option
from rnnlab.glassbox.head import DEFAULT_CLASSES, ONE_OUTPUT

MAX_CLASSES = 100

SCALARS = (
    "wx",
    "wh",
    "b",
    "wout",
    "bout",
)  # the weights as numbers; --weights FILE.json for matrices


@dataclass(frozen=True)
class WalkthroughConfig:
    """The sequence, the weights (scalars, or matrices from a JSON file), the activation, and
    the scale the values were squashed with (to show the prediction in real units). The
    sequence and the scales are text as typed (``1,2;3,4``; ``MIN,MAX``)."""

    inputs: str = option(
        "0,0",
        "the sequence: '0,0' (one feature per step), or '1,2;3,4' (steps split by ';', "
        "features by ',')",
    )
    wx: float = option(1.8, "input weight Wx", metavar="X")
    wh: float = option(-0.5, "recurrent weight Wh", metavar="X")
    b: float = option(0.0, "hidden bias b", metavar="X")
    wout: float = option(1.1, "output weight W_out", metavar="X")
    bout: float = option(0.0, "output bias b_out", metavar="X")
    weights: Path | None = option(
        None,
        "matrices as a JSON object with the keys wx, wh, b, wout, bout (numbers or lists)",
        metavar="FILE.json",
    )
    h0: str | None = option(
        None, "initial hidden state, e.g. '0.5' or '0.1,0.2'", metavar="H", default_text="zeros"
    )
    activation: str = option("tanh", "h_t = activation(a_t)", choices=("tanh", "relu"))
    head: str = option(
        "linear",
        "the output head: linear (a price: y = W_out·h + b_out) or softmax (class "
        "probabilities; W_out from --weights with one row per class, else row k = "
        "wout·(−1 + 2k/(K−1)), i.e. −wout, 0, +wout for down,flat,up; every b_out[k] = bout)",
        choices=("linear", "softmax"),
    )
    classes: str | None = option(
        None,
        "the softmax head's class names, comma-separated (at least 2)",
        metavar="NAMES",
        default_text="down,flat,up with --head softmax",
    )
    scale: str | None = option(
        None,
        "the min-max scale the values were squashed with; shows the prediction in real "
        "units, MIN + y·(MAX − MIN)",
        metavar="MIN,MAX",
    )
    standard: str | None = option(
        None,
        "the mean/std scale the values were standardised with; real = MEAN + y·STD",
        metavar="MEAN,STD",
    )

    def __post_init__(self) -> None:
        check_fields(self)
        if self.weights is not None:
            default = WalkthroughConfig()
            for name in SCALARS:
                if getattr(self, name) != getattr(default, name):
                    raise ConfigError(
                        "weights", f"give either a weights file or {{{name}}}, not both"
                    )
        if self.classes is not None and self.head != "softmax":
            raise ConfigError("classes", "name the classes of {head} softmax only")
        if self.head == "softmax":
            names = self.class_names()
            if len(names) < 2:
                raise ConfigError("classes", f"names {len(names)} class, but {ONE_OUTPUT}")
            if any(not n for n in names) or len(set(names)) != len(names):
                raise ConfigError(
                    "classes", f"need distinct, non-empty names, got {self.classes!r}"
                )
            if len(names) > MAX_CLASSES:
                raise ConfigError("classes", f"at most {MAX_CLASSES}, got {len(names)}")
        if self.scale is not None and self.standard is not None:
            raise ConfigError("standard", "and {scale} are two scales; give one")

    def class_names(self) -> tuple[str, ...]:
        """The softmax head's classes (down, flat, up unless named); () for the linear head."""
        if self.head != "softmax":
            return ()
        if self.classes is None:
            return DEFAULT_CLASSES
        return tuple(n.strip() for n in self.classes.split(","))

    def scalars(self) -> dict[str, float]:
        """The scalar weights by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in SCALARS}

    def to_dict(self) -> dict:
        """JSON-able."""
        d = asdict(self)
        d["weights"] = None if self.weights is None else str(self.weights)
        return d
