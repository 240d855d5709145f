"""Initialisation schemes for a cell's recurrent weights, and the IRNN cell.

A recurrent weight matrix multiplies the state at every step, so its scale decides whether
signals (and gradients) shrink or grow with time. The schemes, applied to each H x H block of
the recurrent weights (one block per gate for the LSTM and GRU):

    default      the cell's own initialisation, multiplied by ``scale``
    normal       W_ij ~ N(0, scale² / H)           σ_max(W) ≈ 2·scale for large H (Marchenko–Pastur)
    orthogonal   W = scale · Q, Q orthogonal        every singular value equals scale (Saxe 2014)
    identity     W = scale · I                      (Le, Jaitly & Hinton 2015)

``irnn`` is the ReLU RNN of Le, Jaitly & Hinton (2015), "A simple way to initialize recurrent
networks of rectified linear units": Wh = I, b = 0, Wx ~ N(0, 0.001²).

Which parameters are recurrent: ``wh`` (one H x H block, the vanilla RNN) and ``weight_hh``
(k·H x H, k gate blocks: LSTM, GRU). A cell without them (minGRU, minLSTM: their gates see only
x_t) has no recurrent matrix, and a scheme other than ``default`` is an error for it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnlab.cells.base import Recurrence, register_cell
from rnnlab.cells.vanilla import VanillaRNN
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError

INIT_SCHEMES = ("default", "normal", "orthogonal", "identity")
RECURRENT_NAMES = ("wh", "weight_hh")  # parameter names of recurrent (H_out x H) matrices


def recurrent_weights(cell: Recurrence) -> list[tuple[str, nn.Parameter]]:
    """The cell's recurrent weight matrices by name: shape (k·H, H), k ≥ 1 gate blocks."""
    H = cell.hidden_size
    found = []
    for name, p in cell.named_parameters():
        if name in RECURRENT_NAMES and p.ndim == 2 and p.shape[1] == H and p.shape[0] % H == 0:
            found.append((name, p))
    return found


def _unknown(scheme: object) -> FieldError:
    """The error for a scheme that is not one of :data:`INIT_SCHEMES` (the field ``init``)."""
    return FieldError(
        "init",
        "unknown scheme {0}; choose one of {1}",
        repr(scheme),
        ", ".join(INIT_SCHEMES),
        lead=False,
    )


def scheme_block(scheme: str, H: int, scale: float, generator: torch.Generator) -> Tensor:
    """One H x H block drawn by ``scheme`` (not ``default``), float64."""
    if scheme == "normal":
        return torch.randn(H, H, generator=generator, dtype=torch.float64) * (scale / H**0.5)
    if scheme == "orthogonal":
        A = torch.randn(H, H, generator=generator, dtype=torch.float64)
        Q, R = torch.linalg.qr(A)
        Q = Q * torch.sign(torch.diagonal(R))  # sign fix: Q is Haar-distributed (Mezzadri 2007)
        return scale * Q
    if scheme == "identity":
        return scale * torch.eye(H, dtype=torch.float64)
    raise _unknown(scheme)


@torch.no_grad()
def init_recurrent(cell: Recurrence, scheme: str = "default", scale: float = 1.0, seed: int = 0):
    """Set every H x H block of the cell's recurrent weights by ``scheme`` times ``scale``.

    Returns the cell. ``default`` keeps the cell's own draw and multiplies it by ``scale``.
    """
    if scheme not in INIT_SCHEMES:
        raise _unknown(scheme)
    if not math.isfinite(scale):
        raise FieldError("scale", "must be a finite number, got {0}", scale)
    weights = recurrent_weights(cell)
    if not weights and (scheme != "default" or scale != 1.0):
        raise FieldError(
            "init",
            "this cell ({0}) has no recurrent weight matrix (its gates see only x_t), so there "
            "is nothing for {init} or {scale} to initialise",
            type(cell).__name__,
            lead=False,
        )
    generator = torch.Generator().manual_seed(seed)
    H = cell.hidden_size
    for _, p in weights:
        if scheme == "default":
            p.mul_(scale)
            continue
        for k in range(p.shape[0] // H):  # one block per gate: rows k·H … (k+1)·H − 1
            p[k * H : (k + 1) * H] = scheme_block(scheme, H, scale, generator).to(p.dtype)
    return cell


@torch.no_grad()
def set_forget_bias(cell: Recurrence, value: float) -> Recurrence:
    """LSTM: the forget gate's total bias b_f = ``value`` (Gers et al. 2000; Jozefowicz 2015).

    In torch's gate order (i, f, g, o) the forget gate is rows H … 2H − 1 of ``bias_ih`` and
    ``bias_hh``; b_f = bias_ih[f] + bias_hh[f], so bias_ih[f] = value and bias_hh[f] = 0.
    At zero input and state f = σ(b_f): b_f = 1 gives 0.73, b_f = 5 gives 0.993.
    """
    from rnnlab.cells.gated import LSTM

    if not isinstance(cell, LSTM):
        raise FieldError(
            "forget_bias", "only the LSTM has a forget gate, not {0}", type(cell).__name__
        )
    H = cell.hidden_size
    cell.bias_ih[H : 2 * H] = value
    cell.bias_hh[H : 2 * H] = 0.0
    return cell


@torch.no_grad()
def chrono_init(cell: Recurrence, t_max: int, seed: int = 0) -> Recurrence:
    """Chrono initialisation (Tallec & Ollivier 2018, "Can recurrent neural networks warp
    time?", §4): gate biases that spread the units' memory timescales over 1 … T_max.

        LSTM   b_f ~ log U(1, T_max − 1),  b_i = −b_f
        GRU    b_z ~ log U(1, T_max − 1)   (torch's z keeps the old state)

    A unit with b = log u keeps σ(log u) = u/(1 + u) = 1 − 1/(1 + u) of its state per step: a
    memory of about 1 + u steps at rest. The biases sit in ``bias_ih``; ``bias_hh`` of those
    gates is set to 0.
    """
    from rnnlab.cells.gated import GRU, LSTM

    if not isinstance(cell, LSTM | GRU):
        raise RnnlabError(f"chrono: for the LSTM and GRU only, not {type(cell).__name__}")
    if t_max < 3:
        raise RnnlabError(f"chrono: needs T_max >= 3, got {t_max}")
    H = cell.hidden_size
    generator = torch.Generator().manual_seed(seed)
    u = 1 + (t_max - 2) * torch.rand(H, generator=generator, dtype=torch.float64)
    b = torch.log(u).to(cell.bias_ih.dtype)  # (H,) in [0, log(T_max − 1)]
    f = slice(H, 2 * H)  # LSTM order i, f, g, o; GRU order r, z, n: both rows H … 2H − 1
    cell.bias_ih[f], cell.bias_hh[f] = b, 0.0
    if isinstance(cell, LSTM):
        cell.bias_ih[:H], cell.bias_hh[:H] = -b, 0.0  # input gate: b_i = −b_f
    return cell


@register_cell("irnn")
def _irnn(input_size: int, hidden_size: int, scale: float = 1.0) -> VanillaRNN:
    """ReLU RNN with Wh = scale·I, b = 0, Wx ~ N(0, 0.001²) (Le, Jaitly & Hinton 2015, §3)."""
    cell = VanillaRNN(input_size, hidden_size, nonlinearity="relu")
    with torch.no_grad():
        cell.wh.copy_(scale * torch.eye(hidden_size))
        cell.b.zero_()
        cell.wx.normal_(0.0, 0.001)
    return cell
