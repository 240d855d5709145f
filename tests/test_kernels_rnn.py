"""The fused vanilla RNN kernel against autograd of the step loop, nn.RNN and gradcheck."""

from __future__ import annotations

import pytest
import torch

from rnnlab.cells import make_cell
from rnnlab.kernels import FusedRNNFunction, _blas, fused_available, fused_rnn

pytestmark = pytest.mark.skipif(
    not fused_available(torch.zeros(1)), reason="no MKL GEMM in this torch build"
)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a − b| / max |b|: the relative error of a whole tensor."""
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max()) / max(float(b.abs().max()), 1e-300)


def _run(path, cell, x, h0, g, gT):
    """Outputs and the gradients of Σ g·h + Σ g_T·h_T w.r.t. x, h0 and the parameters."""
    x = x.clone().requires_grad_(True)
    h0 = None if h0 is None else h0.clone().requires_grad_(True)
    out, last = path(x, h0)
    loss = (out * g).sum() + (last * gT).sum()
    wrt = [x, cell.wx, cell.wh, cell.b] + ([] if h0 is None else [h0])
    return [out.detach(), last.detach(), *torch.autograd.grad(loss, wrt)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("h0", ["none", "zeros", "random"])
@pytest.mark.parametrize("T", [1, 2, 17, 60])
def test_fused_equals_autograd_of_step_loop(dtype, nonlinearity, h0, T):
    torch.manual_seed(T)
    B, I, H = 3, 2, 8
    cell = make_cell("rnn", I, H, nonlinearity=nonlinearity).to(dtype)
    x = torch.randn(B, T, I, dtype=dtype)
    state = {"none": None, "zeros": torch.zeros(B, H, dtype=dtype)}.get(h0)
    if h0 == "random":
        state = torch.randn(B, H, dtype=dtype)
    g, gT = torch.randn(B, T, H, dtype=dtype), torch.randn(B, H, dtype=dtype)
    ours = _run(cell.forward, cell, x, state, g, gT)
    ref = _run(cell.loop, cell, x, state, g, gT)
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    names = ["h", "h_T", "dx", "dWx", "dWh", "db", "dh0"][: len(ref)]
    for name, a, b in zip(names, ours, ref, strict=True):
        assert a.dtype == dtype
        assert _rel(a, b) < tol, (name, _rel(a, b))


def test_cell_forward_runs_the_fused_kernel():
    cell = make_cell("rnn", 1, 4)
    out, _ = cell(torch.randn(2, 5, 1))
    assert type(out.grad_fn).__name__ == "TransposeBackward0"
    assert isinstance(out.grad_fn.next_functions[0][0], FusedRNNFunction._backward_cls)


def test_falls_back_to_torch_kernel_without_mkl(monkeypatch):
    torch.manual_seed(0)
    cell = make_cell("rnn", 2, 5).double()
    x = torch.randn(3, 7, 2, dtype=torch.float64)
    fused, _ = cell(x)
    monkeypatch.setattr(_blas, "gemm", lambda dtype: None)
    assert not fused_available(x)
    plain, _ = cell(x)
    assert "Fused" not in type(plain.grad_fn).__name__
    torch.testing.assert_close(fused, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_gradcheck(nonlinearity):
    torch.manual_seed(1)
    B, T, I, H = 2, 5, 3, 4
    args = [
        torch.randn(B, T, I, dtype=torch.float64, requires_grad=True),
        torch.randn(B, H, dtype=torch.float64, requires_grad=True),
        torch.randn(H, I, dtype=torch.float64, requires_grad=True),
        (0.5 * torch.randn(H, H, dtype=torch.float64)).requires_grad_(True),
        torch.randn(H, dtype=torch.float64, requires_grad=True),
    ]
    if nonlinearity == "relu":  # keep pre-activations away from the kink at 0
        args[0].data += 0.3 * torch.sign(args[0].data)
    assert torch.autograd.gradcheck(
        lambda *a: fused_rnn(*a, nonlinearity=nonlinearity)[0], args, eps=1e-6, atol=1e-7
    )


def test_equals_nn_rnn_with_copied_weights_in_float32():
    torch.manual_seed(2)
    ref = torch.nn.RNN(1, 64, batch_first=True)
    x = torch.randn(16, 50, 1)
    out, h_n = ref(x)
    ours, last = fused_rnn(
        x, torch.zeros(16, 64), ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0 + ref.bias_hh_l0
    )
    assert _rel(ours, out) < 1e-5
    assert _rel(last, h_n[0]) < 1e-5


def test_modifying_the_output_in_place_is_caught():
    cell = make_cell("rnn", 1, 3)
    out, _ = cell(torch.randn(2, 4, 1))
    out.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
