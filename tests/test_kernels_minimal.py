"""The minimal cells' kernels: their float32 σ against libm's, and gates deep in σ's tail."""

from __future__ import annotations

import numpy as np
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
