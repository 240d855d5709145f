"""The minimal cells' kernels: their float32 σ against libm's, and gates deep in σ's tail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from numba import njit

from rnnlab.cells import make_cell
from rnnlab.kernels._jit import sigmoid


@njit(fastmath=True, error_model="numpy")
def _sigmoids(x, out):
    for j in range(x.size):
        out[j] = sigmoid(x[j])


def _sigmoid_of(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _sigmoids(x, out)
    return out


def test_float32_sigmoid_is_within_2_ulp_of_libm_and_never_subnormal():
    x = np.concatenate([np.linspace(-200, 200, 400_001), np.linspace(-10, 10, 200_001)])
    x = np.concatenate([x, [0.0, 1e-30, -1e-30, 40.0, -40.0, 1e30, -1e30, np.inf, -np.inf]])
    got = _sigmoid_of(x.astype(np.float32)).astype(np.float64)
    x64 = x.astype(np.float32).astype(np.float64)  # the float32 inputs the kernel saw
    with np.errstate(over="ignore"):
        ref = 1 / (1 + np.exp(-x64))
    assert np.abs(got - ref).max() < 2.5e-7  # 9e-8 with FMA (AVX2, AVX-512), 2e-7 without (SSE2)
    tail = x64 >= -40  # clamped below −40: σ(−40) = 4.2e-18 for anything lower
    assert (np.abs(got - ref)[tail] / ref[tail]).max() < 3e-6
    assert got.min() > np.finfo(np.float32).tiny  # no subnormal, nothing rounded to 0
    assert np.all(np.diff(got[:400_001]) >= 0)  # monotone over the sweep


def test_float64_sigmoid_is_libm():
    x = np.linspace(-30, 30, 1001)
    np.testing.assert_allclose(_sigmoid_of(x), 1 / (1 + np.exp(-x)), rtol=1e-15, atol=0)


def test_minlstm_gates_deep_in_the_tail_keep_their_ratio():
    """f' = f/(f + i) with both gates near σ(−30): ≈ 1e-13 each, their ratio far from ½. The
    float32 kernel's σ keeps relative precision there (a σ via ½ + ½·tanh(x/2) sat at 6e-8
    and made every such ratio ½)."""
    cell = make_cell("minlstm", 1, 4, path="loop")
    with torch.no_grad():
        cell.weight.zero_()
        cell.bias.copy_(torch.tensor([-30.0, -29.0, -28.0, -27.0] + [-27.0] * 4 + [0.5] * 4))
    x, h0 = torch.zeros(2, 5, 1), torch.full((2, 4), 3.0)  # h̃ = g(½) = 1
    ref, _ = cell.double()(x.double(), h0.double())  # f' = σ(k_f)/(σ(k_f) + σ(k_i))
    cell.float().path = "fused"
    with torch.no_grad():
        got, _ = cell(x, h0)
    torch.testing.assert_close(got.double(), ref, rtol=1e-5, atol=1e-6)
    assert abs(float(got[0, 0, 0]) - 2.0) > 0.5  # not ½·h0 + ½·h̃ (it is 1.095)


def _unflushed(name, cell, x):
    """dL/dx of the same loss through torch's own float32 code (no flush-to-zero): the loop
    path of a minimal cell, ``nn.RNN`` with the fused cell's weights."""
    x = x.detach().clone().requires_grad_(True)
    if name == "rnn":
        ref = torch.nn.RNN(1, cell.wh.shape[0], batch_first=True)
        with torch.no_grad():
            ref.weight_ih_l0.copy_(cell.wx)
            ref.weight_hh_l0.copy_(cell.wh)
            ref.bias_ih_l0.copy_(cell.b)
            ref.bias_hh_l0.zero_()
    else:
        ref = make_cell(name, 1, cell.hidden_size, path="loop")
        ref.load_state_dict(cell.state_dict())
    ref(x)[0][:, -1].sum().backward()
    return x.grad


@pytest.mark.parametrize("name", ["mingru", "minlstm", "rnn"])
def test_kernels_flush_subnormal_gradients_and_give_the_thread_its_mode_back(name):
    """With the loss at the last step only, dL/dh halves at each step back (a = 1 − z ≈ ½, or
    Wh = ½·I) and falls below float32's smallest normal number, 1.18e-38, about 126 steps
    back. torch's own code carries such subnormal values on (down to 1.4e-45); inside the fused
    kernels they are flushed to 0 (Intel cores slow down on subnormal operands), so the input
    gradients 127-140 steps back are exactly 0 here and not in torch's; the rest agree; after
    the call the thread computes subnormals again."""
    torch.manual_seed(0)
    B, T, I, H = 2, 300, 1, 4
    cell = make_cell(name, I, H)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(0.01 * torch.randn_like(p))
        if name == "rnn":
            cell.wh.copy_(0.5 * torch.eye(H))
    x = torch.randn(B, T, I, requires_grad=True)
    cell(x)[0][:, -1].sum().backward()
    ref = _unflushed(name, cell, x)
    window = slice(T - 141, T - 127)  # 127 … 140 steps back from the last
    tiny = torch.finfo(torch.float32).tiny  # 1.18e-38
    assert bool((ref[:, window] != 0).any())  # torch's: subnormal, not 0
    assert bool((ref[:, window].abs() < tiny).all())
    assert bool((x.grad[:, window] == 0).all())  # ours: flushed
    if name != "rnn":  # the kernel computes dx itself: none of it subnormal
        dx = x.grad.abs()
        assert bool(((dx == 0) | (dx >= tiny)).all())
    recent = slice(T - 100, T)  # well above the flush: the same gradients
    torch.testing.assert_close(x.grad[:, recent], ref[:, recent], rtol=1e-4, atol=0)
    assert np.float32(1e-40) * np.float32(1.0) != 0  # the thread's mode given back
