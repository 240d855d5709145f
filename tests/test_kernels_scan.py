"""The diagonal linear recurrence: fused kernel, log-space scan and parallel scans = the loop."""

from __future__ import annotations

import pytest
import torch

from rnnlab.kernels.scan import affine_scan, linear_recurrence, log_space_scan


def _loop(A, b, h0):
    """The reference: h_t = A_t h_{t−1} + b_t, one step at a time (diagonal or dense A)."""
    h = torch.zeros_like(b[:, 0]) if h0 is None else h0
    out = []
    for t in range(b.shape[1]):
        At = A[:, t]
        h = (At * h if At.dim() == 2 else (At @ h[..., None])[..., 0]) + b[:, t]
        out.append(h)
    return torch.stack(out, dim=1)


def _coefficients(T, dtype, seed=0):
    gen = torch.Generator().manual_seed(seed)
    a = 0.05 + 0.9 * torch.rand(3, T, 5, generator=gen, dtype=dtype)  # (B, T, H) in (0, 1)
    b = 0.01 + torch.rand(3, T, 5, generator=gen, dtype=dtype)  # positive, for the log scan
    h0 = torch.randn(3, 5, generator=gen, dtype=dtype)
    return a, b, h0


@pytest.mark.parametrize("T", [1, 2, 3, 17, 1000])
@pytest.mark.parametrize("with_h0", [False, True])
def test_all_diagonal_paths_equal_the_loop(T, with_h0):
    a, b, h0 = _coefficients(T, torch.float64, seed=T)
    h0 = h0 if with_h0 else None
    ref = _loop(a, b, h0)
    torch.testing.assert_close(linear_recurrence(a, b, h0), ref, rtol=1e-13, atol=1e-14)
    torch.testing.assert_close(affine_scan(a, b, h0), ref, rtol=1e-13, atol=1e-14)
    torch.testing.assert_close(log_space_scan(a.log(), b.log(), h0), ref, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("T", [1, 2, 5, 16, 33])
def test_dense_affine_scan_equals_the_loop(T):
    gen = torch.Generator().manual_seed(T)
    A = 0.4 * torch.randn(2, T, 4, 4, generator=gen, dtype=torch.float64)  # (B, T, H, H)
    b = torch.randn(2, T, 4, generator=gen, dtype=torch.float64)
    h0 = torch.randn(2, 4, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(affine_scan(A, b, h0), _loop(A, b, h0), rtol=1e-12, atol=1e-12)


def test_fused_float32_equals_loop_and_keeps_dtype():
    a, b, h0 = _coefficients(200, torch.float32)
    h = linear_recurrence(a, b, h0)
    assert h.dtype == torch.float32
    torch.testing.assert_close(h, _loop(a, b, h0), rtol=1e-5, atol=1e-6)


def test_fused_gradients_gradcheck():
    a, b, h0 = _coefficients(6, torch.float64)
    args = [t.clone().requires_grad_(True) for t in (a, b, h0)]
    assert torch.autograd.gradcheck(linear_recurrence, args)


def test_fused_gradients_equal_autograd_of_loop_on_long_sequence():
    a, b, h0 = (t.requires_grad_(True) for t in _coefficients(300, torch.float64, seed=3))
    g = torch.randn(3, 300, 5, dtype=torch.float64)
    ours = torch.autograd.grad((linear_recurrence(a, b, h0) * g).sum(), [a, b, h0])
    ref = torch.autograd.grad((_loop(a, b, h0) * g).sum(), [a, b, h0])
    for x, y in zip(ours, ref, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-11, atol=1e-12)


def test_log_space_scan_gradcheck():
    a, b, h0 = _coefficients(5, torch.float64)
    args = [a.log().requires_grad_(True), b.log().requires_grad_(True), h0.requires_grad_(True)]
    assert torch.autograd.gradcheck(log_space_scan, args)
