"""The glass box against hand-computed numbers, finite differences and torch autograd."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnlab.errors import ShapeError
from rnnlab.glassbox import RNNParams, bptt, forward, jacobian_products, step_records


def _case(H, I, O, T, head, seed):
    rng = np.random.default_rng(seed)
    params = RNNParams.random(H, I, O, seed=seed, scale=0.8)
    xs = rng.normal(size=(T, I))
    return params, xs, rng


def _targets(head, on, T, O, rng):
    n = 1 if on == "last" else T
    if head == "linear":
        return rng.normal(size=(n, O))
    return rng.integers(0, O, size=n)


def _rel(a, b):
    a, b = np.ravel(a), np.ravel(b)
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)


def test_toy_prices_zero_predict_zero():
    params = RNNParams.scalar(wx=1.8, wh=-0.5, b=0.0, wout=1.1, bout=0.0)
    cache = forward(params, [0.0, 0.0])
    assert cache.y[-1, 0] == 0.0
    assert np.all(cache.h == 0.0)


def test_forward_by_hand_scalar():
    params = RNNParams.scalar(wx=1.8, wh=-0.5, b=0.1, wout=1.1, bout=0.2)
    cache = forward(params, [0.2, 0.5], h0=[0.3])
    a1 = 1.8 * 0.2 + -0.5 * 0.3 + 0.1
    h1 = np.tanh(a1)
    a2 = 1.8 * 0.5 + -0.5 * h1 + 0.1
    h2 = np.tanh(a2)
    assert cache.a[:, 0] == pytest.approx([a1, a2], abs=1e-15)
    assert cache.h[:, 0] == pytest.approx([0.3, h1, h2], abs=1e-15)
    assert cache.y[:, 0] == pytest.approx([1.1 * h1 + 0.2, 1.1 * h2 + 0.2], abs=1e-15)
    steps = step_records(cache)
    assert [s.t for s in steps] == [1, 2]
    assert steps[1].wx_x[0] == pytest.approx(0.9)
    assert steps[1].wh_h[0] == pytest.approx(-0.5 * h1)
    assert steps[1].h_prev[0] == pytest.approx(h1)


def test_same_weights_every_step_matches_matrix_formula():
    params, xs, _ = _case(H=3, I=2, O=2, T=5, head="linear", seed=1)
    cache = forward(params, xs)
    h = np.zeros(3)
    for t in range(5):
        h = np.tanh(params.wx @ xs[t] + params.wh @ h + params.b)
        np.testing.assert_allclose(cache.h[t + 1], h, rtol=0, atol=1e-15)
    np.testing.assert_allclose(cache.y[-1], params.wout @ h + params.bout, atol=1e-15)


CASES = list(
    itertools.product(
        [(1, 1, 1, 2), (3, 2, 1, 6), (4, 3, 3, 9)],  # (H, I, O, T)
        ["linear", "softmax"],
        ["last", "all"],
        [False, True],  # with h0
    )
)


@pytest.mark.parametrize(("sizes", "head", "on", "with_h0"), CASES)
def test_bptt_matches_finite_differences(sizes, head, on, with_h0):
    H, I, O, T = sizes
    if head == "softmax" and O < 2:
        O = 2
    params, xs, rng = _case(H, I, O, T, head, seed=H * 7 + T)
    h0 = rng.normal(size=H) if with_h0 else None
    targets = _targets(head, on, T, O, rng)
    grads = bptt(params, forward(params, xs, h0=h0, head=head), targets, on=on)

    def loss_at(p):
        return bptt(p, forward(p, xs, h0=h0, head=head), targets, on=on).loss

    eps = 1e-5
    for name, value in params.as_dict().items():
        fd = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[idx] += eps
            minus[idx] -= eps
            fd[idx] = (
                loss_at(RNNParams(**{**params.as_dict(), name: plus}))
                - loss_at(RNNParams(**{**params.as_dict(), name: minus}))
            ) / (2 * eps)
        assert _rel(getattr(grads, name), fd) < 1e-7, name


@pytest.mark.parametrize(("sizes", "head", "on", "with_h0"), CASES)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_bptt_matches_torch_autograd(torch_reference, sizes, head, on, with_h0, activation):
    H, I, O, T = sizes
    if head == "softmax" and O < 2:
        O = 2
    params, xs, rng = _case(H, I, O, T, head, seed=H * 11 + T)
    h0 = rng.normal(size=H) if with_h0 else None
    targets = _targets(head, on, T, O, rng)
    cache = forward(params, xs, h0=h0, activation=activation, head=head)
    ours = bptt(params, cache, targets, on=on)
    ref = torch_reference(params, xs, h0, activation, head, targets, on)
    assert ours.loss == pytest.approx(ref.loss, rel=1e-12)
    for name, g in ref.grads.items():
        assert _rel(getattr(ours, name), g) < 1e-10, name
    start = 0 if with_h0 else 1  # with h0 = zeros torch still reports dL/dh_0; compare it too
    assert _rel(ours.dh[start:], ref.dh[start:]) < 1e-10


@pytest.mark.parametrize("truncate", [1, 2, 4, 50])
@pytest.mark.parametrize("on", ["last", "all"])
@pytest.mark.parametrize("head", ["linear", "softmax"])
def test_truncated_bptt_matches_torch_with_detach(torch_reference, truncate, on, head):
    H, I, O, T = 3, 2, 3, 8
    params, xs, rng = _case(H, I, O, T, head, seed=truncate)
    h0 = rng.normal(size=H)
    targets = _targets(head, on, T, O, rng)
    ours = bptt(params, forward(params, xs, h0=h0, head=head), targets, on=on, truncate=truncate)
    ref = torch_reference(params, xs, h0, "tanh", head, targets, on, truncate=truncate)
    assert ours.loss == pytest.approx(ref.loss, rel=1e-12)
    for name, g in ref.grads.items():
        assert _rel(getattr(ours, name), g) < 1e-10, name
    assert _rel(ours.dh[1:], ref.dh[1:]) < 1e-10
    if truncate >= T:  # a window longer than the sequence changes nothing
        full = bptt(params, forward(params, xs, h0=h0, head=head), targets, on=on)
        np.testing.assert_allclose(ours.wh, full.wh, rtol=1e-12, atol=1e-15)
    else:
        full = bptt(params, forward(params, xs, h0=h0, head=head), targets, on=on)
        assert _rel(ours.wh, full.wh) > 1e-6  # truncation really cut something


def test_truncation_to_one_step_keeps_only_the_last_step():
    params = RNNParams.scalar(wx=0.7, wh=0.9, b=0.0, wout=1.0)
    xs = [0.5, -0.2, 0.3]
    cache = forward(params, xs)
    g = bptt(params, cache, [1.0], on="last", truncate=1)
    dy = 2 * (cache.y[-1, 0] - 1.0)
    da = dy * 1.0 * (1 - cache.h[3, 0] ** 2)
    assert g.wh[0, 0] == pytest.approx(da * cache.h[2, 0], rel=1e-14)
    assert g.wx[0, 0] == pytest.approx(da * 0.3, rel=1e-14)
    assert g.dh[0, 0] == 0.0
    assert g.dh[1, 0] == 0.0
    assert g.dh[2, 0] == 0.0


@pytest.mark.parametrize("wh", [0.5, 1.5, -0.8])
def test_scalar_jacobian_is_wh_to_the_k(wh):
    params = RNNParams.scalar(wx=1.0, wh=wh)
    T = 50
    J = jacobian_products(params, forward(params, np.zeros(T)))
    k = T - np.arange(T + 1)
    np.testing.assert_allclose(J[:, 0, 0], wh**k, rtol=1e-12, atol=0)
    assert J[1, 0, 0] == pytest.approx(wh**49, rel=1e-12)  # 0.5^49 ≈ 1.78e−15, 1.5^49 ≈ 4.26e8


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_jacobian_products_match_autograd(activation):
    import torch

    params, xs, rng = _case(H=4, I=2, O=1, T=7, head="linear", seed=3)
    h0 = rng.normal(size=4)
    J = jacobian_products(params, forward(params, xs, h0=h0, activation=activation))
    wx, wh, b = (torch.tensor(v) for v in (params.wx, params.wh, params.b))
    x = torch.tensor(xs)
    act = torch.tanh if activation == "tanh" else torch.relu
    hs = [torch.tensor(h0)]
    with torch.no_grad():
        for t in range(7):
            hs.append(act(wx @ x[t] + wh @ hs[-1] + b))
    for t in range(8):

        def from_t(h, t=t):
            for s in range(t, 7):
                h = act(wx @ x[s] + wh @ h + b)
            return h

        ref = torch.autograd.functional.jacobian(from_t, hs[t]).numpy()
        np.testing.assert_allclose(J[t], ref, rtol=1e-12, atol=1e-14)


def test_clipping_by_global_norm_reports_norm_before():
    params, xs, _rng = _case(H=3, I=1, O=1, T=10, head="linear", seed=5)
    cache = forward(params, xs)
    free = bptt(params, cache, [30.0], on="last")
    assert free.norm > 1.0
    assert not free.clipped
    clipped = bptt(params, cache, [30.0], on="last", clip=1.0)
    assert clipped.clipped
    assert clipped.norm == pytest.approx(free.norm, rel=1e-15)
    after = np.sqrt(sum(np.sum(g**2) for g in clipped.as_dict().values()))
    assert after == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(clipped.wh, free.wh / free.norm, rtol=1e-12)
    loose = bptt(params, cache, [30.0], on="last", clip=free.norm * 2)
    assert not loose.clipped
    np.testing.assert_array_equal(loose.wh, free.wh)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"wh": np.zeros((2, 2))}, "wh has shape"),
        ({"b": np.zeros(3)}, "b has shape"),
        ({"wout": np.zeros((1, 2))}, "wout has shape"),
        ({"bout": np.zeros(2)}, "bout has shape"),
        ({"wx": np.array([[np.nan]])}, "NaN or inf"),
    ],
)
def test_bad_shapes_are_named(kwargs, message):
    base = RNNParams.scalar(1.0, 0.5).as_dict()
    with pytest.raises(ShapeError, match=message):
        RNNParams(**{**base, **kwargs})


def test_softmax_head_needs_two_outputs():
    with pytest.raises(ShapeError, match="at least 2 outputs"):
        forward(RNNParams.scalar(1.0, 0.5), [1.0], head="softmax")
