"""Every cell: fast path = step loop; vanilla = glass box; gated = torch's nn modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab.cells import cell_names, make_cell
from rnnlab.glassbox import RNNParams, bptt, forward


def _state(cell, x, kind):
    """The initial state: None, zeros, or random (a tuple for the LSTM)."""
    if kind == "none":
        return None
    gen = torch.Generator().manual_seed(1)
    shape = (x.shape[0], cell.hidden_size)

    def one():
        if kind == "zeros":
            return torch.zeros(shape, dtype=x.dtype)
        return torch.randn(shape, dtype=x.dtype, generator=gen)

    return (one(), one()) if isinstance(cell.initial_state(x), tuple) else one()


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("h0", ["none", "zeros", "random"])
@pytest.mark.parametrize("T", [1, 2, 17])
def test_forward_equals_step_loop(name, h0, T):
    torch.manual_seed(0)
    cell = make_cell(name, 3, 5).double()
    x = torch.randn(4, T, 3, dtype=torch.float64)
    state = _state(cell, x, h0)
    out, last = cell(x, state)
    ref, ref_last = cell.loop(x, state)
    assert out.shape == (4, T, 5)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    for a, b in zip(
        torch.utils._pytree.tree_leaves(last),
        torch.utils._pytree.tree_leaves(ref_last),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_registry_lists_the_cells():
    assert {"rnn", "lstm", "gru"} <= set(cell_names())


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_vanilla_equals_glass_box_forward_and_gradients(nonlinearity):
    params = RNNParams.random(4, 2, 1, seed=3, scale=0.8)
    xs = np.random.default_rng(3).normal(size=(9, 2))
    h0 = np.random.default_rng(4).normal(size=4)
    cache = forward(params, xs, h0=h0, activation=nonlinearity)
    grads = bptt(params, cache, [0.7], on="last")

    cell = make_cell("rnn", 2, 4, nonlinearity=nonlinearity).double()
    with torch.no_grad():
        cell.wx.copy_(torch.tensor(params.wx))
        cell.wh.copy_(torch.tensor(params.wh))
        cell.b.copy_(torch.tensor(params.b))
    wout = torch.tensor(params.wout, requires_grad=True)
    bout = torch.tensor(params.bout, requires_grad=True)
    out, _ = cell(torch.tensor(xs)[None], torch.tensor(h0)[None])
    np.testing.assert_allclose(out[0].detach().numpy(), cache.h[1:], rtol=1e-13, atol=1e-14)
    y = out[0, -1] @ wout.T + bout
    loss = ((y - 0.7) ** 2).mean()
    loss.backward()
    assert float(loss.detach()) == pytest.approx(grads.loss, rel=1e-13)
    for ours, theirs in (
        (grads.wx, cell.wx),
        (grads.wh, cell.wh),
        (grads.b, cell.b),
        (grads.wout, wout),
        (grads.bout, bout),
    ):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_cells_equal_torch_modules_with_copied_weights(name):
    torch.manual_seed(0)
    ours = make_cell(name, 3, 6).double()
    ref = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[name](3, 6, batch_first=True).double()
    with torch.no_grad():
        if name == "rnn":
            ref.weight_ih_l0.copy_(ours.wx)
            ref.weight_hh_l0.copy_(ours.wh)
            ref.bias_ih_l0.copy_(ours.b * 0.25)  # nn.RNN's two biases add up to our one b
            ref.bias_hh_l0.copy_(ours.b * 0.75)
        else:
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(ref, f"{n}_l0").copy_(getattr(ours, n))
    x = torch.randn(5, 11, 3, dtype=torch.float64)
    out, _ = ours(x)
    ref_out, _ = ref(x)
    torch.testing.assert_close(out, ref_out, rtol=1e-12, atol=1e-12)
    out.square().sum().backward()
    ref_out.square().sum().backward()
    mine = ours.wh.grad if name == "rnn" else ours.weight_hh.grad
    torch.testing.assert_close(mine, ref.weight_hh_l0.grad, rtol=1e-10, atol=1e-12)


def test_unknown_cell_is_a_user_error():
    from rnnlab.errors import RnnlabError

    with pytest.raises(RnnlabError, match="unknown cell 'tcn'"):
        make_cell("tcn", 1, 1)


def _first_row_state(state):
    return tuple(s[0] for s in state) if isinstance(state, tuple) else state[0]


@pytest.mark.parametrize("name", cell_names())
@pytest.mark.parametrize("h0", ["none", "random"])
def test_unbatched_input_equals_the_batch_first_row(name, h0):
    """(T, I) in, (T, H) and the state (H,) out, as nn.RNN takes and gives them."""
    torch.manual_seed(0)
    cell = make_cell(name, 2, 3).double()
    x = torch.randn(4, 6, 2, dtype=torch.float64)  # (B, T, I)
    state = _state(cell, x, h0)
    h, final = cell(x, state)
    h1, final1 = cell(x[0], None if state is None else _first_row_state(state))
    assert h1.shape == (6, 3)
    torch.testing.assert_close(h1, h[0], rtol=1e-12, atol=1e-12)
    for got, want in zip(
        final1 if isinstance(final1, tuple) else (final1,),
        _first_row_state(final) if isinstance(final, tuple) else (final[0],),
        strict=True,
    ):
        assert got.shape == (3,)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", cell_names())
def test_wrong_shapes_are_named(name):
    from rnnlab.errors import ShapeError

    cell = make_cell(name, 2, 3)
    with pytest.raises(
        ShapeError, match=r"expected input with I=2 features \(last dimension\), got 3"
    ):
        cell(torch.randn(4, 6, 3))
    with pytest.raises(ShapeError, match=r"expected input \(B, T, I\) or unbatched \(T, I\)"):
        cell(torch.randn(6))
    state = cell.initial_state(torch.randn(4, 6, 2))
    bad = tuple(s[:2] for s in state) if isinstance(state, tuple) else state[:2]  # B = 2, not 4
    with pytest.raises(ShapeError, match=r"expected a state of shape \(4, 3\)"):
        cell(torch.randn(4, 6, 2), bad)


def test_repr_shows_sizes():
    assert repr(make_cell("rnn", 1, 32)) == "VanillaRNN(1, 32, nonlinearity=tanh)"
    assert repr(make_cell("rnn", 1, 32, nonlinearity="relu")) == (
        "VanillaRNN(1, 32, nonlinearity=relu)"
    )
    assert repr(make_cell("gru", 2, 8)) == "GRU(2, 8)"
    assert repr(make_cell("lstm", 2, 8)) == "LSTM(2, 8)"
