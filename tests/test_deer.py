"""DEER and quasi-DEER converge to the sequential trajectory of the tanh RNN."""

from __future__ import annotations

import pytest
import torch

from rnnlab.cells import make_cell
from rnnlab.kernels import deer


@pytest.mark.parametrize("quasi", [False, True])
@pytest.mark.parametrize("T", [1, 2, 17, 100])
@pytest.mark.parametrize("with_h0", [False, True])
def test_converges_to_the_sequential_loop(quasi, T, with_h0):
    torch.manual_seed(T)
    cell = make_cell("rnn", 2, 6).double()
    x = torch.randn(3, T, 2, dtype=torch.float64)
    h0 = torch.randn(3, 6, dtype=torch.float64) if with_h0 else None
    with torch.no_grad():
        ref, _ = cell.loop(x, h0)
    res = deer(x, h0, cell.wx, cell.wh, cell.b, quasi=quasi, tol=1e-10)
    assert res.converged
    assert float((res.h - ref).abs().max()) < 1e-6
    assert res.iterations <= T + 1  # exact after T iterations (one more to see no change)
    assert res.depth == res.iterations * max(1, (T - 1).bit_length())


def test_newton_needs_fewer_iterations_than_quasi_newton():
    torch.manual_seed(0)
    cell = make_cell("rnn", 1, 8).double()
    with torch.no_grad():
        cell.wh.mul_(3.0)  # strong recurrent coupling: off-diagonal terms matter
    x = torch.randn(2, 200, 1, dtype=torch.float64)
    full = deer(x, None, cell.wx, cell.wh, cell.b, quasi=False, tol=1e-10)
    diag = deer(x, None, cell.wx, cell.wh, cell.b, quasi=True, tol=1e-10)
    assert full.converged
    assert diag.converged
    assert full.iterations < diag.iterations
    assert full.iterations < 200  # far fewer than T
    torch.testing.assert_close(full.h, diag.h, rtol=0, atol=1e-8)


def test_stops_at_max_iter_unconverged():
    cell = make_cell("rnn", 1, 4).double()
    x = torch.randn(1, 50, 1, dtype=torch.float64)
    res = deer(x, None, cell.wx, cell.wh, cell.b, quasi=True, max_iter=1)
    assert res.iterations == 1
    assert not res.converged
    assert len(res.changes) == 1
