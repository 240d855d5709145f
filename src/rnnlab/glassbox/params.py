"""The five parameters of the article's RNN, as plain NumPy arrays.

    h_t = tanh(Wx·x_t + Wh·h_{t−1} + b)        Wx (H, I), Wh (H, H), b (H,)
    y_t = W_out·h_t + b_out                    W_out (O, H), b_out (O,)

The same five arrays serve every time step. The scalar RNN of the article is the case
H = I = O = 1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from rnnlab.errors import ShapeError

PARAM_NAMES = ("wx", "wh", "b", "wout", "bout")


@dataclass(frozen=True)
class RNNParams:
    """Weights of a one-layer RNN with a dense output head.

    Attributes
    ----------
    wx : ndarray, shape (H, I)
        Input weights.
    wh : ndarray, shape (H, H)
        Recurrent (hidden-to-hidden) weights.
    b : ndarray, shape (H,)
        Hidden bias.
    wout : ndarray, shape (O, H)
        Output weights.
    bout : ndarray, shape (O,)
        Output bias.
    """

    wx: np.ndarray
    wh: np.ndarray
    b: np.ndarray
    wout: np.ndarray
    bout: np.ndarray

    def __post_init__(self) -> None:
        for f in fields(self):
            value = np.asarray(getattr(self, f.name), dtype=np.float64)
            if not np.all(np.isfinite(value)):
                raise ShapeError(f"{f.name} holds NaN or inf")
            object.__setattr__(self, f.name, value)
        if self.wx.ndim != 2:
            raise ShapeError(f"wx must be a matrix (H, I), got shape {self.wx.shape}")
        H, _ = self.wx.shape
        expected = {"wh": (H, H), "b": (H,), "bout": (None,), "wout": (None, H)}
        if self.wout.ndim != 2:
            raise ShapeError(f"wout must be a matrix (O, H), got shape {self.wout.shape}")
        O = self.wout.shape[0]
        expected["bout"] = (O,)
        expected["wout"] = (O, H)
        for name, shape in expected.items():
            got = getattr(self, name).shape
            if got != shape:
                raise ShapeError(
                    f"{name} has shape {got} but H={H} (from wx) and O={O} (from wout) need {shape}"
                )

    @property
    def hidden_size(self) -> int:
        """H, the number of hidden units."""
        return self.wx.shape[0]

    @property
    def input_size(self) -> int:
        """I, the number of input features per time step."""
        return self.wx.shape[1]

    @property
    def output_size(self) -> int:
        """O, the number of outputs per time step."""
        return self.wout.shape[0]

    @property
    def is_scalar(self) -> bool:
        """True for the article's scalar RNN, H = I = O = 1."""
        return self.hidden_size == self.input_size == self.output_size == 1

    def as_dict(self) -> dict[str, np.ndarray]:
        """The parameters by name, in the order of :data:`PARAM_NAMES`."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    @classmethod
    def scalar(
        cls, wx: float, wh: float, b: float = 0.0, wout: float = 1.0, bout: float = 0.0
    ) -> RNNParams:
        """The article's RNN with one input, one hidden unit and one output."""
        return cls(
            wx=np.array([[wx]]),
            wh=np.array([[wh]]),
            b=np.array([b]),
            wout=np.array([[wout]]),
            bout=np.array([bout]),
        )

    @classmethod
    def random(
        cls, hidden_size: int, input_size: int, output_size: int, seed: int, scale: float = 1.0
    ) -> RNNParams:
        """Gaussian weights with standard deviation ``scale / sqrt(fan_in)``, biases included."""
        rng = np.random.default_rng(seed)
        H, I, O = hidden_size, input_size, output_size
        return cls(
            wx=rng.normal(0.0, scale / np.sqrt(I), (H, I)),
            wh=rng.normal(0.0, scale / np.sqrt(H), (H, H)),
            b=rng.normal(0.0, 0.1 * scale, H),
            wout=rng.normal(0.0, scale / np.sqrt(H), (O, H)),
            bout=rng.normal(0.0, 0.1 * scale, O),
        )


def _array(value: object, name: str, source: str) -> np.ndarray:
    """A number or nested lists of numbers as a float64 array, or a clear error."""
    if isinstance(value, bool) or value is None or isinstance(value, str | dict):
        raise ShapeError(f"{source}: {name} must be a number or nested lists of numbers")
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ShapeError(
            f"{source}: {name} must be a number or nested lists of numbers of even length"
        ) from None
    if x.size == 0:
        raise ShapeError(f"{source}: {name} is empty")
    if not np.all(np.isfinite(x)):
        raise ShapeError(f"{source}: {name} holds NaN or inf")
    return x


def params_from_mapping(mapping: object, source: str = "weights") -> RNNParams:
    """Build parameters from a mapping with the keys ``wx, wh, b, wout, bout``.

    Each value is a number or nested lists. A number is a 1 x 1 matrix (or a 1-vector); a flat
    list for ``wx`` is a column (H inputs weights for one feature, shape (H, 1)); a flat list for
    ``wout`` is a row (one output, shape (1, H)). ``b`` and ``bout`` default to zeros.
    """
    if not isinstance(mapping, dict):
        raise ShapeError(f"{source}: expected a JSON object with keys {', '.join(PARAM_NAMES)}")
    unknown = sorted(set(mapping) - set(PARAM_NAMES))
    if unknown:
        raise ShapeError(
            f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(PARAM_NAMES)}"
        )
    missing = [k for k in ("wx", "wh", "wout") if k not in mapping]
    if missing:
        raise ShapeError(f"{source}: missing key(s) {', '.join(missing)}")
    arr = {k: _array(v, k, source) for k, v in mapping.items()}
    wx = arr["wx"].reshape(1, 1) if arr["wx"].ndim == 0 else arr["wx"]
    wx = wx[:, None] if wx.ndim == 1 else wx
    wh = np.atleast_2d(arr["wh"])
    wout = np.atleast_2d(arr["wout"])  # a flat list is one row: one output
    H, O = wx.shape[0], wout.shape[0]
    b = np.atleast_1d(arr["b"]) if "b" in arr else np.zeros(H)
    bout = np.atleast_1d(arr["bout"]) if "bout" in arr else np.zeros(O)
    try:
        return RNNParams(wx=wx, wh=wh, b=b, wout=wout, bout=bout)
    except ShapeError as exc:
        raise ShapeError(f"{source}: {exc}") from None
