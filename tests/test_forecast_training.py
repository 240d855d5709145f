"""The training loop: gradient norms before clipping, early stopping, divergence, seeds."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnnlab.errors import RnnlabError
from rnnlab.forecast.training import TrainConfig, evaluate_loss, train


class Line(nn.Module):
    """ŷ = w·x + b on one feature."""

    def __init__(self, w: float = 0.0, b: float = 0.0) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))
        self.b = nn.Parameter(torch.tensor(b))

    def forward(self, x):
        return self.w * x[:, 0] + self.b


def _data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, generator=g)
    return x, 3 * x[:, 0] + 1 + 0.1 * torch.randn(n, generator=g)


def test_gradient_norm_is_recorded_before_clipping():
    x, y = _data()
    cfg = TrainConfig(epochs=1, lr=1e-3, batch_size=len(y), clip_norm=0.5, patience=0)
    h = train(Line(), (x, y), None, cfg)
    # By hand at w = b = 0: L = mean((y - 0)^2), dL/dw = -2 mean(y x), dL/db = -2 mean(y).
    gw, gb = -2 * (y * x[:, 0]).mean(), -2 * y.mean()
    assert h.grad_norm[0] == pytest.approx(float(torch.sqrt(gw**2 + gb**2)), rel=1e-5)
    assert h.clipped == [True]
    h = train(Line(), (x, y), None, TrainConfig(epochs=1, batch_size=len(y), clip_norm=None))
    assert h.clipped == [False]
    assert h.grad_norm[0] == pytest.approx(float(torch.sqrt(gw**2 + gb**2)), rel=1e-5)


def test_clipping_bounds_the_step():
    x, y = _data()
    module = Line()
    cfg = TrainConfig(epochs=1, lr=0.1, batch_size=len(y), clip_norm=1e-3, patience=0)
    train(module, (x, y), None, cfg)
    # Adam's first step moves each parameter by lr·sign(g) whatever the scale of g.
    assert abs(module.w.item()) == pytest.approx(0.1, rel=1e-3)


def test_early_stopping_keeps_the_best_epoch():
    x, y = _data(64, 0)
    xv, yv = _data(32, 1)
    yv = yv + 5 * torch.sin(10 * xv[:, 0])  # a validation set the line can only partly fit
    module = Line()
    cfg = TrainConfig(epochs=40, lr=0.05, batch_size=16, patience=3, clip_norm=None)
    h = train(module, (x, y), (xv, yv), cfg)
    assert h.best_epoch == 1 + min(range(h.epochs), key=lambda i: h.val_loss[i])
    assert evaluate_loss(module, xv, yv) == pytest.approx(min(h.val_loss), rel=1e-6)
    if h.status == "early-stopped":
        assert h.epochs == h.best_epoch + 3


def test_a_nan_loss_stops_training_and_keeps_good_weights():
    x, _ = _data()
    y = torch.full((len(x),), 3e38)  # squares overflow float32: the loss is inf
    module = Line(0.25, 0.5)
    h = train(module, (x, y), None, TrainConfig(epochs=5, batch_size=16))
    assert h.diverged
    assert h.epochs == 0
    assert h.best_epoch is None
    assert "exploding gradients" in h.message
    assert "bad data" in h.message
    assert module.w.item() == 0.25
    assert module.b.item() == 0.5
    assert all(math.isfinite(p.item()) for p in module.parameters())


def test_exploding_after_good_epochs_restores_the_best():
    x, y = _data()
    xv, yv = _data(16, 2)
    module = Line()

    calls = {"n": 0}
    original = Line.forward

    def forward(self, inp):  # from the 9th training batch on (epoch 3), the output blows up
        calls["n"] += self.training
        out = original(self, inp)
        return out * (1e30 if self.training and calls["n"] > 8 else 1.0)

    Line.forward = forward
    try:
        h = train(module, (x, y), (xv, yv), TrainConfig(epochs=10, batch_size=16, lr=0.1))
    finally:
        Line.forward = original
    assert h.diverged
    assert h.epochs == 2
    assert "epoch 3, step 1" in h.message
    assert h.best_epoch == 1 + min(range(2), key=lambda i: h.val_loss[i])
    assert evaluate_loss(module, xv, yv) == pytest.approx(min(h.val_loss), rel=1e-6)


def test_bad_data_is_a_user_error():
    x, y = _data()
    y[3] = float("nan")
    with pytest.raises(RnnlabError, match="bad data: the training targets hold NaN"):
        train(Line(), (x, y), None, TrainConfig(epochs=1))


def test_same_seed_same_history():
    x, y = _data()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
        runs.append(train(net, (x, y), None, TrainConfig(epochs=3, batch_size=8, seed=7)))
    assert runs[0].step_loss == runs[1].step_loss
    assert runs[0].grad_norm == runs[1].grad_norm
