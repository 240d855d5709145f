"""The causal Transformer cell: causal by values, attention against the formula, gradcheck,
forward against the step loop, and the forecasters' conformance test run on it."""

from __future__ import annotations

import math

import pytest
import torch
from test_forecast_models import test_conformance as _conformance

from rnnlab.cells import make_cell
from rnnlab.cells.transformer import CausalTransformer, causal_attention


def _cell(positions="sinusoidal", **kw):
    torch.manual_seed(0)
    return make_cell("transformer", 3, 8, positions=positions, **kw).double()


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
@pytest.mark.parametrize("h0", ["none", "zeros", "random"])
@pytest.mark.parametrize("T", [1, 2, 9])
def test_forward_equals_step_loop(positions, h0, T):
    cell = _cell(positions)
    x = torch.randn(4, T, 3, dtype=torch.float64)
    state = {"none": None, "zeros": torch.zeros(4, 8, dtype=torch.float64)}.get(
        h0, torch.randn(4, 8, dtype=torch.float64)
    )
    out, last = cell(x, state)
    ref, ref_last = cell.loop(x, state)
    assert out.shape == (4, T, 8)
    assert last.shape == (4, 8)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(last, ref_last, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(last, out[:, -1], rtol=0, atol=0)  # the state is h_T
    if h0 == "zeros":
        torch.testing.assert_close(out, cell(x)[0], rtol=0, atol=0)  # None means zeros


@pytest.mark.parametrize("positions", ["sinusoidal", "learned"])
def test_changing_the_future_never_changes_the_past(positions):
    cell = _cell(positions)
    x = torch.randn(2, 12, 3, dtype=torch.float64)
    out, _ = cell(x)
    for t in (0, 5, 10):
        y = x.clone()
        y[:, t + 1 :] = 100 * torch.randn_like(y[:, t + 1 :])  # x_{t+1..T} replaced
        changed, _ = cell(y)
        torch.testing.assert_close(changed[:, : t + 1], out[:, : t + 1], rtol=0, atol=1e-13)
        assert (changed[:, t + 1 :] - out[:, t + 1 :]).abs().min() > 1e-6  # the future did move


def test_hand_written_attention_matches_scaled_dot_product_attention():
    g = torch.Generator().manual_seed(3)
    B, heads, T, d = 2, 3, 7, 5
    q, k, v = (torch.randn(B, heads, T, d, generator=g) for _ in range(3))
    mask = torch.full((T, T), -math.inf).triu(1)  # M_ij = −∞ for j > i, else 0
    by_hand = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + mask, dim=-1) @ v
    torch.testing.assert_close(causal_attention(q, k, v), by_hand, rtol=0, atol=1e-6)


def test_block_attention_by_hand():
    """The block's multi-head attention written out: Q, K, V per head, the mask, W_o."""
    cell = _cell()
    block = cell.blocks[0]
    u = torch.randn(2, 6, 8, dtype=torch.float64)
    W, b = block.qkv.weight, block.qkv.bias  # (3H, H), (3H,)
    heads, d = block.heads, 8 // block.heads
    mask = torch.full((6, 6), -math.inf, dtype=torch.float64).triu(1)
    outs = []
    for n in range(heads):
        rows = slice(n * d, (n + 1) * d)
        q = u @ W[:8][rows].T + b[:8][rows]  # (B, T, d)
        k = u @ W[8:16][rows].T + b[8:16][rows]
        v = u @ W[16:][rows].T + b[16:][rows]
        outs.append(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + mask, -1) @ v)
    want = block.proj(torch.cat(outs, dim=-1))  # (B, T, H)
    torch.testing.assert_close(block.attention(u), want, rtol=1e-12, atol=1e-12)


def test_gradcheck_on_a_tiny_block():
    torch.manual_seed(1)
    cell = CausalTransformer(2, 4, layers=1, heads=2, ff_mult=1).double()
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    s0 = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, s: cell(x, s)[0], (x, s0))
    w = cell.blocks[0].qkv.weight
    assert torch.autograd.gradcheck(
        lambda w: torch.func.functional_call(cell, {"blocks.0.qkv.weight": w}, (x,))[0], (w,)
    )


def test_sizes_and_options():
    cell = make_cell("transformer", 1, 32)
    assert repr(cell).startswith("CausalTransformer(\n  1, 32, layers=2, heads=4")
    H, I = 32, 1
    per_block = (
        2 * 2 * H + (3 * H * H + 3 * H) + (H * H + H) + (2 * H * H + 2 * H) + (2 * H * H + H)
    )
    assert sum(p.numel() for p in cell.parameters()) == (I * H + H) + 2 * per_block + 2 * H
    assert make_cell("transformer", 1, 6).heads == 2  # 4 does not divide 6
    with pytest.raises(ValueError, match="heads must divide"):
        make_cell("transformer", 1, 6, heads=4)
    short = make_cell("transformer", 1, 4, positions="learned", max_len=5)
    short(torch.randn(1, 4, 1))  # 4 steps + the state token
    with pytest.raises(ValueError, match="learned positions cover 5 steps"):
        short(torch.randn(1, 5, 1))


@pytest.mark.parametrize("target", ["level", "diff"])
def test_forecaster_conformance(target):
    """The conformance test every forecaster passes, on the transformer."""
    _conformance("transformer", target)


def test_state_jacobians_refuse_the_transformer():
    from rnnlab.diagnostics.jacobians import state_jacobians
    from rnnlab.errors import RnnlabError

    with pytest.raises(RnnlabError, match="carries no state h_t"):
        state_jacobians(make_cell("transformer", 1, 4), torch.zeros(3, 1))
