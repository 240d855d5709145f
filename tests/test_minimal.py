"""minGRU and minLSTM: the loop, the log-space scan and the fused kernel agree, with gradients."""

from __future__ import annotations

import pytest
import torch

from rnnlab.cells import MinGRU, MinLSTM, cell_names, make_cell


def _state(kind: str, B: int, H: int, dtype: torch.dtype) -> torch.Tensor | None:
    if kind == "none":
        return None
    if kind == "zeros":
        return torch.zeros(B, H, dtype=dtype)
    return torch.randn(B, H, dtype=dtype, generator=torch.Generator().manual_seed(7))


def _outputs_and_grads(cell, x, state, g):
    x = x.clone().requires_grad_(True)
    state = None if state is None else state.clone().requires_grad_(True)
    h, last = cell(x, state)
    loss = (h * g).sum() + 0.5 * (last * g[:, -1]).sum()
    wrt = [x, cell.weight, cell.bias] + ([] if state is None else [state])
    return [h.detach(), last.detach(), *torch.autograd.grad(loss, wrt)]


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return float((a - b).abs().max()) / max(float(b.abs().max()), 1e-300)


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
@pytest.mark.parametrize("h0", ["none", "zeros", "random"])
@pytest.mark.parametrize("T", [1, 2, 17, 1000])
def test_three_paths_agree_in_float64(name, h0, T):
    torch.manual_seed(T)
    B, I, H = 2, 3, 4
    x = torch.randn(B, T, I, dtype=torch.float64)
    g = torch.randn(B, T, H, dtype=torch.float64)
    state = _state(h0, B, H, torch.float64)
    cell = make_cell(name, I, H, path="loop").double()
    ref = _outputs_and_grads(cell, x, state, g)
    for path in ("scan", "fused"):
        cell.path = path
        got = _outputs_and_grads(cell, x, state, g)
        tol = 1e-10 if path == "fused" else 1e-9  # the scan adds and subtracts Σ log a
        for i, (a, b) in enumerate(zip(got, ref, strict=True)):
            assert _rel(a, b) < tol, (path, i, _rel(a, b))


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_fused_in_float32_matches_loop(name):
    torch.manual_seed(0)
    cell = make_cell(name, 2, 8, path="loop")
    x, state = torch.randn(3, 100, 2), torch.randn(3, 8)
    g = torch.randn(3, 100, 8)
    ref = _outputs_and_grads(cell, x, state, g)
    cell.path = "fused"
    for a, b in zip(_outputs_and_grads(cell, x, state, g), ref, strict=True):
        assert a.dtype == torch.float32
        assert _rel(a, b) < 1e-5
    cell.path = "scan"  # in float32 the log-space scan loses digits as Σ log a grows
    h_scan, _ = cell(x, state)
    assert _rel(h_scan.detach(), ref[0]) < 1e-4


def test_mingru_gate_convention_by_hand():
    cell = MinGRU(1, 1, path="loop").double()
    with torch.no_grad():
        cell.weight.zero_()
        cell.bias.copy_(torch.tensor([0.0, 1.0]))  # z = σ(0) = ½, h̃ = g(1) = 1.5
    h, _ = cell(torch.zeros(1, 1, 1, dtype=torch.float64), torch.full((1, 1), 2.0).double())
    assert float(h.detach()) == pytest.approx(0.5 * 2.0 + 0.5 * 1.5)  # (1 − z)·h_0 + z·h̃
    with torch.no_grad():
        cell.bias.copy_(torch.tensor([0.0, -1.0]))  # h̃ = g(−1) = σ(−1) > 0
    h, _ = cell(torch.zeros(1, 1, 1, dtype=torch.float64), torch.zeros(1, 1).double())
    assert float(h.detach()) == pytest.approx(0.5 * torch.sigmoid(torch.tensor(-1.0)).item())


def test_minlstm_normalised_gates_by_hand():
    cell = MinLSTM(1, 1, path="loop").double()
    with torch.no_grad():
        cell.weight.zero_()
        cell.bias.copy_(torch.tensor([1.0, -1.0, 2.0]))  # f = σ(1), i = σ(−1), h̃ = 2.5
    f, i = torch.sigmoid(torch.tensor(1.0)).item(), torch.sigmoid(torch.tensor(-1.0)).item()
    h, last = cell(torch.zeros(1, 1, 1, dtype=torch.float64), torch.full((1, 1), 3.0).double())
    assert float(h.detach()) == pytest.approx(f / (f + i) * 3.0 + i / (f + i) * 2.5)
    assert float(last.detach()) == float(h.detach())


def test_registered_and_auto_path_uses_fused_on_cpu():
    assert {"mingru", "minlstm"} <= set(cell_names())
    cell = make_cell("mingru", 1, 3)
    h, _ = cell(torch.randn(2, 5, 1))
    assert "MinimalCell" in type(h.grad_fn).__name__
    with pytest.raises(ValueError, match="path must be"):
        make_cell("minlstm", 1, 3, path="parallel")
