"""Initialisation schemes on recurrent weights, the forget-gate bias, the IRNN cell, and the
clipping statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnlab.cells import make_cell
from rnnlab.cells.base import Recurrence
from rnnlab.cells.init import chrono_init, init_recurrent, recurrent_weights, set_forget_bias
from rnnlab.diagnostics.clipping import ClipStats
from rnnlab.diagnostics.gates import gate_path
from rnnlab.errors import RnnlabError


def blocks(cell) -> list[np.ndarray]:
    (_, W), *_ = recurrent_weights(cell)
    H = cell.hidden_size
    W = W.detach().double().numpy()
    return [W[k * H : (k + 1) * H] for k in range(W.shape[0] // H)]


@pytest.mark.parametrize(("name", "n_blocks"), [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_orthogonal_blocks_have_every_singular_value_equal_to_scale(name, n_blocks):
    cell = init_recurrent(make_cell(name, 2, 6).double(), "orthogonal", 1.7, seed=1)
    got = blocks(cell)
    assert len(got) == n_blocks
    for W in got:
        np.testing.assert_allclose(W @ W.T, 1.7**2 * np.eye(6), atol=1e-12)
    assert not np.allclose(got[0], got[-1]) or n_blocks == 1  # each block its own draw


def test_identity_and_normal_and_default_scaling():
    cell = init_recurrent(make_cell("gru", 1, 5).double(), "identity", 0.9)
    for W in blocks(cell):
        np.testing.assert_array_equal(W, 0.9 * np.eye(5))
    H = 64
    W = blocks(init_recurrent(make_cell("rnn", 1, H).double(), "normal", 2.0, seed=3))[0]
    assert W.mean() == pytest.approx(0.0, abs=4 * 2.0 / H)  # 4 standard errors
    assert W.std() == pytest.approx(2.0 / math.sqrt(H), rel=0.05)
    torch.manual_seed(0)
    scaled = init_recurrent(make_cell("lstm", 1, 4).double(), "default", 3.0)
    torch.manual_seed(0)
    plain = make_cell("lstm", 1, 4).double()
    np.testing.assert_allclose(blocks(scaled)[2], 3.0 * blocks(plain)[2], rtol=1e-15)


class _NoRecurrentMatrix(Recurrence):
    """A cell whose gates see only x_t (like minGRU): no recurrent weight matrix."""

    def __init__(self) -> None:
        super().__init__()
        self.input_size, self.hidden_size = 1, 3
        self.weight = torch.nn.Parameter(torch.randn(6, 1))

    def step(self, x_t, state):
        a, b = torch.sigmoid(x_t @ self.weight.T).chunk(2, dim=-1)
        h = a * state + b
        return h, h


def test_schemes_on_a_cell_without_recurrent_weights_are_an_error():
    cell = _NoRecurrentMatrix()
    assert recurrent_weights(cell) == []
    assert init_recurrent(cell, "default", 1.0) is cell  # nothing asked, nothing done
    with pytest.raises(RnnlabError, match="no recurrent weight matrix"):
        init_recurrent(cell, "orthogonal", 1.0)
    with pytest.raises(RnnlabError, match="unknown scheme"):
        init_recurrent(make_cell("rnn", 1, 2), "xavier", 1.0)


def test_forget_bias_sets_the_gate_at_rest():
    cell = set_forget_bias(make_cell("lstm", 1, 3), 5.0)
    gate = gate_path(cell, np.zeros((4, 1)), np.zeros((5, 3)))  # x = 0, h = 0: f = σ(b_f)
    np.testing.assert_allclose(gate.values, 1 / (1 + math.exp(-5.0)), rtol=1e-6)
    with pytest.raises(RnnlabError, match="only the LSTM"):
        set_forget_bias(make_cell("gru", 1, 3), 1.0)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_chrono_spreads_memory_timescales_over_1_to_t_max(name):
    T_max, H = 200, 64
    cell = chrono_init(make_cell(name, 1, H).double(), T_max, seed=3)
    gate = gate_path(cell, np.zeros((2, 1)), np.zeros((3, H)))  # at rest: σ(b) of the keep gate
    g = gate.values[0]
    timescale = 1 / (1 - g)  # σ(log u) = u / (1 + u) keeps a memory of 1 + u steps
    assert timescale.min() >= 2 - 1e-9
    assert timescale.max() <= T_max + 1e-9
    assert timescale.max() > T_max / 2  # spread, not bunched at one end
    b = cell.bias_ih.detach().numpy()
    np.testing.assert_array_equal(cell.bias_hh.detach().numpy()[H : 2 * H], 0.0)
    if name == "lstm":
        np.testing.assert_allclose(b[:H], -b[H : 2 * H])  # input gate b_i = −b_f
    with pytest.raises(RnnlabError, match="LSTM and GRU only"):
        chrono_init(make_cell("rnn", 1, 3), T_max)
    with pytest.raises(RnnlabError, match="T_max >= 3"):
        chrono_init(make_cell(name, 1, 3), 2)


def test_irnn_is_a_relu_rnn_with_identity_recurrence():
    torch.manual_seed(0)
    cell = make_cell("irnn", 2, 50)
    assert cell.nonlinearity == "relu"
    np.testing.assert_array_equal(cell.wh.detach().numpy(), np.eye(50))
    np.testing.assert_array_equal(cell.b.detach().numpy(), np.zeros(50))
    assert cell.wx.detach().std().item() == pytest.approx(0.001, rel=0.15)
    x = torch.rand(1, 3, 2)  # positive inputs and zero bias: h_t = h_{t−1} + Wx·x_t where > 0
    out, _ = cell(x)
    a = torch.relu(x[0, 0] @ cell.wx.T)
    torch.testing.assert_close(out[0, 0], a)


def test_clip_stats_count_and_summarise():
    norms = [0.5, 2.0, 3.0, float("nan"), 0.9, float("inf")]
    s = ClipStats.from_norms(norms, clip=1.0)
    assert (s.steps, s.fired, s.nonfinite) == (4, 2, 2)
    assert s.fraction == 0.5
    assert s.median == pytest.approx(np.median([0.5, 2.0, 3.0, 0.9]))
    assert s.max == 3.0
    assert "fired in 2/4 steps (50.0%)" in s.describe()
    none = ClipStats.from_norms(norms, clip=None)
    assert (none.fired, none.fraction) == (0, 0.0)
    assert none.describe().startswith("no clipping")
