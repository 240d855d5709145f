"""Gradient flow through time: Wh^k exactly, the glass box, finite differences, the bound,
gate paths, the fitted rate and the verdict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.cells import make_cell
from rnnlab.cells.base import Recurrence
from rnnlab.diagnostics.flow import gradient_flow
from rnnlab.diagnostics.jacobians import spectral_norms, state_jacobians
from rnnlab.diagnostics.theory import fit_rate, verdict
from rnnlab.glassbox import RNNParams, forward, jacobian_products


def scalar_rnn(wh: float):
    cell = make_cell("rnn", 1, 1).double()  # float64: Wh = −0.9 exactly, not its float32
    with torch.no_grad():
        cell.wh.fill_(wh)
        cell.wx.fill_(1.0)
        cell.b.zero_()
    return cell


@pytest.mark.parametrize("wh", [0.5, 1.5, -0.9])
def test_scalar_tanh_rnn_at_zero_input_is_wh_to_the_k(wh):
    T = 50
    J = state_jacobians(scalar_rnn(wh), np.zeros((T, 1)))
    k = np.arange(T + 1)
    np.testing.assert_allclose(J.dh[T - k, 0, 0], float(wh) ** k, rtol=1e-12, atol=0)
    flow = gradient_flow(scalar_rnn(wh), np.zeros((T, 1)), np.ones(1))
    np.testing.assert_allclose(flow.grad_norm, abs(wh) ** flow.lags, rtol=1e-12, atol=0)
    np.testing.assert_allclose(flow.theory, abs(wh) ** flow.lags, rtol=1e-12, atol=0)
    assert flow.theory_kind == "exact"
    assert flow.rate == pytest.approx(abs(wh), rel=1e-10)


def test_the_issue_numbers():
    flow = gradient_flow(scalar_rnn(0.5), np.zeros((50, 1)), np.ones(1))
    assert flow.grad_norm[49] == pytest.approx(1.7763568394002505e-15, rel=1e-12)
    assert flow.verdict.startswith(
        "vanishing: the gradient from 49 steps back is 1.78e-15 of the last step's"
    )
    flow = gradient_flow(scalar_rnn(1.5), np.zeros((50, 1)), np.ones(1))
    assert flow.grad_norm[49] == pytest.approx(1.5**49, rel=1e-12)  # 4.25e8
    assert flow.verdict.startswith("exploding: the gradient from 49 steps back is 4.25e+08")


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_torch_cell_agrees_with_the_glass_box(activation, with_h0):
    params = RNNParams.random(hidden_size=5, input_size=2, output_size=1, seed=7, scale=1.3)
    rng = np.random.default_rng(8)
    xs = rng.normal(size=(12, 2))
    h0 = rng.normal(size=5) if with_h0 else None
    reference = jacobian_products(params, forward(params, xs, h0=h0, activation=activation))
    cell = make_cell("rnn", 2, 5, nonlinearity=activation).double()
    with torch.no_grad():
        for name in ("wx", "wh", "b"):
            getattr(cell, name).copy_(torch.tensor(getattr(params, name)))
    J = state_jacobians(cell, xs, None if h0 is None else torch.tensor(h0))
    np.testing.assert_allclose(J.dh, reference, rtol=1e-12, atol=1e-15)


def _run_from(cell, x, t, state):
    """h_T (and c_T) after running steps t+1 … T from ``state`` (float64, batch of 1)."""
    for s in range(t, x.shape[0]):
        _, state = cell.step(x[None, s], state)
    return state


def _lstm_o(cell, x_t, h_prev):
    """The LSTM's output gate o_t = σ(W_io·x_t + b_io + W_ho·h_{t−1} + b_ho) (rows 3H … 4H)."""
    H = cell.hidden_size
    rows = slice(3 * H, 4 * H)
    pre = x_t @ cell.weight_ih[rows].T + cell.bias_ih[rows] + h_prev @ cell.weight_hh[rows].T
    return torch.sigmoid(pre + cell.bias_hh[rows])


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "irnn"])
def test_jacobians_match_central_differences(name):
    """∂h_T/∂h_t by re-running the steps from a nudged state: no autograd involved."""
    torch.manual_seed(3)
    H, T, eps = 4, 9, 1e-6
    cell = make_cell(name, 2, H).double()
    if name == "irnn":  # identity Wh with tiny Wx keeps most ReLUs at 0; spread them out
        with torch.no_grad():
            cell.wx.normal_(0, 1)
            cell.b.fill_(0.1)
    x = torch.randn(T, 2, dtype=torch.float64)
    J = state_jacobians(cell, x)
    with torch.no_grad():
        states = [cell.initial_state(x[None])]
        for t in range(T):
            states.append(cell.step(x[None, t], states[-1])[1])
        for t in (0, 3, T - 1):
            fd = np.zeros((H, H))
            fd_c = np.zeros((H, H))
            for j in range(H):
                e = torch.zeros(1, H, dtype=torch.float64)
                e[0, j] = eps
                if name == "lstm":
                    h, c = states[t]
                    hi = _run_from(cell, x, t, (h + e, c))[0]
                    lo = _run_from(cell, x, t, (h - e, c))[0]
                    if t > 0:  # nudge c_t and let h_t = o_t ⊙ tanh(c_t) follow it
                        o = _lstm_o(cell, x[None, t - 1], states[t - 1][0])
                        up = _run_from(cell, x, t, (o * torch.tanh(c + e), c + e))[1]
                        dn = _run_from(cell, x, t, (o * torch.tanh(c - e), c - e))[1]
                        fd_c[:, j] = ((up - dn) / (2 * eps))[0].numpy()
                else:
                    hi = _run_from(cell, x, t, states[t] + e)
                    lo = _run_from(cell, x, t, states[t] - e)
                fd[:, j] = ((hi - lo) / (2 * eps))[0].numpy()
            np.testing.assert_allclose(J.dh[t], fd, rtol=1e-6, atol=1e-8)
            if name == "lstm" and t > 0:
                np.testing.assert_allclose(J.dc[t], fd_c, rtol=1e-6, atol=1e-8)
    assert (J.dc is not None) == (name == "lstm")


def test_vanilla_norms_stay_under_the_sigma_max_bound():
    torch.manual_seed(0)
    cell = make_cell("rnn", 1, 16)
    with torch.no_grad():
        cell.wh.mul_(2.5)  # σ_max well above 1
    flow = gradient_flow(cell, np.random.default_rng(0).normal(size=(40, 1)), np.ones(16))
    sigma = np.linalg.svd(cell.wh.detach().double().numpy(), compute_uv=False)[0]
    assert flow.spectrum["sigma_max"] == pytest.approx(sigma, rel=1e-12)
    assert flow.theory_kind == "bound"
    assert np.all(flow.grad_norm <= np.array(flow.theory) * (1 + 1e-12))
    assert flow.grad_norm[-1] < 1e-3 * flow.theory[-1]  # tanh' < 1 where the states saturate


def test_loss_gradient_is_the_head_through_the_jacobian():
    torch.manual_seed(1)
    cell = make_cell("gru", 1, 6)
    x = np.random.default_rng(1).normal(size=(15, 1))
    head = np.random.default_rng(2).normal(size=6)
    flow = gradient_flow(cell, x, head)
    J = state_jacobians(cell, x).dh
    np.testing.assert_allclose(
        flow.loss_grad_norm, np.linalg.norm(head @ J[15 - flow.lags], axis=1)
    )
    assert flow.loss_grad_norm[0] == pytest.approx(np.linalg.norm(head), rel=1e-12)
    s = np.linalg.svd(J, compute_uv=False)
    np.testing.assert_allclose(spectral_norms(J)[0], s[:, 0])


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_gate_path_is_the_whole_jacobian_when_gates_are_blind_to_h(name):
    """With W_hh = 0: LSTM ∂c_T/∂c_t = diag(∏ f), GRU ∂h_T/∂h_t = diag(∏ z), exactly."""
    torch.manual_seed(2)
    cell = make_cell(name, 1, 5)
    with torch.no_grad():
        cell.weight_hh.zero_()
    T = 20
    x = np.random.default_rng(3).normal(size=(T, 1))
    flow = gradient_flow(cell, x, np.ones(5))
    gate = flow.gate
    assert gate.exact
    assert gate.state == ("c" if name == "lstm" else "h")
    J = state_jacobians(cell, x)
    measured = J.dc if name == "lstm" else J.dh
    for t in range(T + 1):
        product = np.prod(gate.values[t:], axis=0)  # ∏_{s=t+1}^{T} gate_s
        np.testing.assert_allclose(measured[t], np.diag(product), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(
        gate.path, [np.prod(gate.values[t:], axis=0).max() for t in range(T + 1)]
    )


class _Diagonal(Recurrence):
    """h_t = a_t ⊙ h_{t−1} + b_t with a_t = σ(W_a·x_t), b_t = W_b·x_t: a diagonal linear cell."""

    def __init__(self) -> None:
        super().__init__()
        self.input_size, self.hidden_size = 2, 3
        self.wa = torch.nn.Parameter(torch.randn(3, 2))
        self.wb = torch.nn.Parameter(torch.randn(3, 2))

    def coefficients(self, x):
        return torch.sigmoid(x @ self.wa.T), x @ self.wb.T

    def step(self, x_t, state):
        a, b = self.coefficients(x_t)
        h = a * state + b
        return h, h


def test_diagonal_linear_cells_get_the_exact_product_as_theory():
    torch.manual_seed(4)
    x = np.random.default_rng(4).normal(size=(30, 2))
    flow = gradient_flow(_Diagonal(), x, np.ones(3))
    assert flow.theory_kind == "exact"
    np.testing.assert_allclose(flow.grad_norm, flow.theory, rtol=1e-12)


def test_fit_rate_and_verdict():
    lags = np.arange(30)
    norms = 3.0 * 0.7**lags
    assert fit_rate(lags, norms) == pytest.approx(0.7, rel=1e-12)
    norms[20:] = 0.0  # switched off from lag 20: fitted before, reported as exactly 0
    assert fit_rate(lags, norms) == pytest.approx(0.7, rel=1e-12)
    text = verdict(lags, norms, fit_rate(lags, norms))
    assert "exactly 0 from 20 steps back" in text
    assert verdict(lags, 1.01**lags, 1.01).startswith("neither vanishing nor exploding")
