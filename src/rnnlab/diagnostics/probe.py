"""What the gradients are measured on: a cell, one input sequence and an output head.

Either a fresh network (a cell with its recurrent weights drawn by a chosen scheme and scale,
or the scalar tanh RNN with a chosen Wh), or the trained network of a checkpoint, measured on
the window it forecasts from.

Inputs: ``zero`` (x_t = 0: with zero bias and h_0 = 0 the scalar tanh RNN stays at 0 and
∂h_T/∂h_t = Wh^k exactly), ``noise`` (x_t ~ N(0, 1), seeded), or ``data`` (a checkpoint's
last window, scaled as in training).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnlab.cells.base import Recurrence
from rnnlab.fielderror import FieldError
from rnnlab.settings.gradients import INPUTS, ProbeConfig

__all__ = ["INPUTS", "Probe", "ProbeConfig", "checkpoint_probe", "random_probe"]


@dataclass(frozen=True)
class Probe:
    """A cell, its input x (T, I), the head w_out (H,), and a description in words."""

    cell: Recurrence
    x: np.ndarray
    head: np.ndarray
    description: str
    name: str


def random_probe(config: ProbeConfig) -> Probe:
    """A fresh network: the cell, seeded weights by the scheme, the input, a N(0, 1/H) head."""
    from rnnlab.cells.init import init_recurrent, set_forget_bias
    from rnnlab.tasks.model import build_cell

    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    T = config.steps
    if config.wh is not None:
        cell = build_cell("rnn", 1, 1, {"nonlinearity": "tanh"}).double()  # Wh exactly
        with torch.no_grad():
            cell.wh.fill_(config.wh)
            cell.wx.fill_(1.0)
            cell.b.zero_()
        H, what = 1, f"the scalar tanh RNN, Wh = {config.wh:g}, Wx = 1, b = 0"
    else:
        cell = build_cell(config.cell, 1, config.hidden, config.cell_options)
        init_recurrent(cell, config.init, config.scale, seed=config.seed)
        if config.forget_bias is not None:
            set_forget_bias(cell, config.forget_bias)
        H = config.hidden
        scheme = "the cell's own" if config.init == "default" else config.init
        what = f"{config.cell}, H = {H}, recurrent weights: {scheme} × {config.scale:g}"
        if config.forget_bias is not None:
            what += f", forget-gate bias {config.forget_bias:g}"
    x = np.zeros((T, 1)) if config.input == "zero" else rng.normal(size=(T, 1))
    head = rng.normal(0.0, 1.0 / np.sqrt(H), size=H)
    inputs = "x_t = 0" if config.input == "zero" else "x_t ~ N(0, 1)"
    name = "rnn" if config.wh is not None else config.cell
    return Probe(cell, x, head, f"{what}; T = {T}, {inputs}, h_0 = 0", name)


def checkpoint_probe(path, input: str = "data", seed: int = 0) -> Probe:
    """The trained network of a checkpoint, on its last window (or zero / noise inputs).

    The recurrent net's last layer is measured; the layers below (if any) turn the window into
    its inputs and are held fixed. The head is the trained one.
    """
    from rnnlab.forecast.checkpoint import load_checkpoint
    from rnnlab.forecast.neural import RecurrentForecaster

    f = load_checkpoint(path)
    if not isinstance(f, RecurrentForecaster):
        raise FieldError(
            "model",
            "{0} holds a {1} model; gradients through time need a recurrent one",
            path,
            f.name,
            lead=False,
        )
    if getattr(f, "covariates_", None) is not None:
        raise FieldError(
            "model",
            "{0} reads covariates beside the series; gradients through time are measured on "
            "models that read the series alone",
            path,
            lead=False,
        )
    net = f.module_.double().eval()
    W = f.preprocessor_.config.window
    s = f.preprocessor_.transform(f.series_.values)[-W:]  # the last window, scaled (W,)
    if input == "data":
        x = s[:, None]
    elif input == "zero":
        x = np.zeros((W, 1))
    else:
        x = np.random.default_rng(seed).normal(size=(W, 1))
    with torch.no_grad():  # the layers below the last one make its inputs
        h = torch.as_tensor(x, dtype=torch.float64)[None]  # (1, W, 1)
        for cell in net.cells[:-1]:
            h, _ = cell(h)  # (1, W, H)
    cell = net.cells[-1]
    layers = len(net.cells)
    where = f", layer {layers} of {layers}" if layers > 1 else ""
    inputs = {"data": "its last window (scaled)", "zero": "x_t = 0", "noise": "x_t ~ N(0, 1)"}
    what = f"{f.name} from {path}{where}, H = {cell.hidden_size}; T = {W}, {inputs[input]}"
    # the outputs run step by step, each step's quantiles together: step 1's point forecast
    # (its median for a quantile model) is row 0, or the median's row
    taus = f._quantile_levels()
    row = 0 if taus is None else taus.index(0.5)
    if f._outputs() > 1:
        what += "; through its step-1 point forecast" + (" (the median)" if taus else "")
    return Probe(cell, h[0].numpy(), net.head.weight.detach()[row].numpy(), what, f.name)
