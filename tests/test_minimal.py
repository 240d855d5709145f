"""minGRU and minLSTM: the loop, the log-space scan and the fused kernel agree, with gradients."""

from __future__ import annotations

import pytest
import torch

from rnnlab.cells import MinGRU, MinLSTM, cell_names, make_cell
from rnnlab.kernels.scan import MinimalCellFunction


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


def _assert_fused_equals_loop(name, B, T, I, H, seed, tol=1e-10):
    """The fused path's h, h_T and gradients against the loop's, float64, random h_0."""
    torch.manual_seed(seed)
    x = torch.randn(B, T, I, dtype=torch.float64)
    g = torch.randn(B, T, H, dtype=torch.float64)
    state = _state("random", B, H, torch.float64)
    cell = make_cell(name, I, H, path="loop").double()
    ref = _outputs_and_grads(cell, x, state, g)
    cell.path = "fused"
    for i, (a, b) in enumerate(zip(_outputs_and_grads(cell, x, state, g), ref, strict=True)):
        assert _rel(a, b) < tol, (T, i, _rel(a, b))


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


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_fused_across_chunk_boundaries_with_wide_input(name):
    """The kernels compute k = x·Wᵀ + b a chunk of steps at a time, by loops (I ≤
    LOOP_MAX_INPUT, LOOP_CHUNK steps) or by a GEMM (CHUNK steps): sequences ending just before,
    on and just after a chunk boundary equal the loop, on both ways."""
    from rnnlab.kernels._minimal_numba import CHUNK, LOOP_CHUNK, LOOP_MAX_INPUT

    for I, C in ((1, LOOP_CHUNK), (LOOP_MAX_INPUT, LOOP_CHUNK), (LOOP_MAX_INPUT + 1, CHUNK)):
        for T in (C - 1, C, C + 1, 2 * C):
            _assert_fused_equals_loop(name, B=2, T=T, I=I, H=6, seed=T)


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_fused_takes_incoming_gradients_of_any_strides(name):
    """Σ h hands the backward an expanded (stride 0) gradient, a transposed loss a transposed
    one; the kernel reads either in place and matches the loop's gradients."""
    torch.manual_seed(1)
    B, T, I, H = 3, 40, 2, 5
    x = torch.randn(B, T, I, dtype=torch.float64)
    w_t = torch.randn(B, H, T, dtype=torch.float64)
    losses = {
        "sum": lambda h: h.sum(),  # grad: ones expanded, strides (0, 0, 0)
        "transposed": lambda h: (h.transpose(1, 2) * w_t).sum(),  # grad: a transposed view
    }
    for what, loss in losses.items():
        grads = {}
        for path in ("loop", "fused"):
            cell = make_cell(name, I, H, path=path).double()
            torch.manual_seed(2)
            cell.reset_parameters()
            xr = x.clone().requires_grad_(True)
            loss(cell(xr)[0]).backward()
            grads[path] = [xr.grad, cell.weight.grad, cell.bias.grad]
        for a, b in zip(grads["fused"], grads["loop"], strict=True):
            assert _rel(a, b) < 1e-10, what


def test_fused_without_input_gradient_skips_dx():
    torch.manual_seed(3)
    cell = make_cell("mingru", 3, 4, path="fused").double()
    x = torch.randn(2, 9, 3, dtype=torch.float64)  # requires_grad False: dx is not computed
    cell(x)[0].pow(2).sum().backward()
    got = [cell.weight.grad.clone(), cell.bias.grad.clone()]
    cell.zero_grad()
    cell.path = "loop"
    cell(x)[0].pow(2).sum().backward()
    assert _rel(got[0], cell.weight.grad) < 1e-10
    assert _rel(got[1], cell.bias.grad) < 1e-10
    assert x.grad is None


def test_fused_gradcheck():
    torch.manual_seed(4)
    for name in ("mingru", "minlstm"):
        cell = make_cell(name, 2, 3, path="fused").double()
        x = torch.randn(2, 6, 2, dtype=torch.float64, requires_grad=True)
        h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(
            lambda x, h0, w, b, cell=cell: MinimalCellFunction.apply(x, w, b, h0, cell.kind),
            (x, h0, cell.weight, cell.bias),
        )


def test_fused_path_needs_mkl_gemm(monkeypatch):
    """Without MKL in torch, auto falls back to the log-space scan; an explicit 'fused' says why."""
    from rnnlab.kernels import _blas

    monkeypatch.setattr(_blas, "gemm", lambda dtype: None)
    cell = make_cell("mingru", 1, 3)
    h, _ = cell(torch.randn(2, 5, 1))
    assert "MinimalCell" not in type(h.grad_fn).__name__
    cell.path = "fused"
    with pytest.raises(ValueError, match="needs a float32/float64 CPU tensor and torch built"):
        cell(torch.randn(2, 5, 1))


def test_kernel_refuses_weights_of_the_wrong_height():
    """The chunk loops index k by H; weights with other than (2 + kind)·H rows are refused
    before anything is read out of bounds."""
    import numpy as np

    from rnnlab.kernels import _blas
    from rnnlab.kernels import _minimal_numba as K

    x, h0, h = np.zeros((1, 4, 1)), np.zeros((1, 3)), np.zeros((1, 4, 3))
    w, b = np.zeros((6, 1)), np.zeros(6)  # minGRU's 2·H rows, passed as minLSTM (kind 1)
    with pytest.raises(ValueError, match=r"\(2 \+ kind\)·H rows"):
        K.minimal_forward(x, w, b, h0, h, 1, _blas.gemm(torch.float64))


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", ["mingru", "minlstm"])
def test_fused_splits_the_batch_over_torch_threads_and_still_equals_the_loop(name, two_threads):
    from rnnlab.kernels import _threads

    B, T, I, H = 5, 500, 2, 128  # B·T·G·H ≥ PARALLEL_MIN_WORK: the batch is split in two
    assert len(_threads.batch_parts(B, B * T * 2 * H)) == 2
    assert len(_threads.batch_parts(B, _threads.PARALLEL_MIN_WORK - 1)) == 1  # too little
    _assert_fused_equals_loop(name, B, T, I, H, seed=5)


def test_parallel_parts_wait_for_each_other_and_reraise():
    from rnnlab.kernels._threads import run_parts

    done = []

    def fail():
        done.append("worker")
        raise ZeroDivisionError("in a worker")

    with pytest.raises(ZeroDivisionError, match="in a worker"):
        run_parts([lambda: done.append("main"), fail])
    assert sorted(done) == ["main", "worker"]


def test_mkl_thread_count_is_set_for_this_thread_and_given_back():
    from rnnlab.kernels._blas import _library, mkl_local_threads

    if _library() is None:
        assert mkl_local_threads(1) == 0  # no MKL: a no-op
        return
    before = mkl_local_threads(1)
    try:
        assert mkl_local_threads(1) == 1  # the value just set comes back as the previous one
    finally:
        mkl_local_threads(before)
