"""The direction task: classify the next move as down / flat / up with a softmax head.

For the moves m_t = x_t − x_{t−1} and a threshold ``flat`` ≥ 0:

    flat > 0:  down if m_t < −flat,  flat if |m_t| ≤ flat,  up if m_t > flat     (K = 3)
    flat = 0:  down if m_t ≤ 0,  up if m_t > 0                                     (K = 2)

Each classifier reads the window m_{t−W} … m_{t−1} (divided by the standard deviation of the
training part's moves) through a recurrent cell and puts the article's head on its last state,
p = softmax(W_out·h_T + b_out) (K outputs); it trains on cross-entropy, −log p[class].

The baseline is the majority class: the most frequent class of the training part, always
called. The bar for the p-value is stricter, the no-information rate p₀: the share of the test
part's most frequent class, which is what always calling the best class in hindsight scores
(the training part's majority class can be the test part's minority: a rising year followed by
a falling quarter). With k of n test moves called right, the one-sided binomial p-value (as
caret's ``confusionMatrix`` computes it against the no-information rate) is

    P(X ≥ k),  X ~ Binomial(n, p₀),  = Σ_{i=k..n} C(n, i)·p₀^i·(1 − p₀)^(n−i)

computed exactly term by term (math.comb, summed in log space so no term underflows).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from rnnlab.data.series import Series
from rnnlab.errors import RnnlabError
from rnnlab.settings.forecasting import ForecastConfig

SIGNIFICANCE = 0.05


def direction_classes(flat: float) -> tuple[str, ...]:
    """("down", "flat", "up") for a positive threshold, ("down", "up") for 0."""
    return ("down", "flat", "up") if flat > 0 else ("down", "up")


def direction_labels(moves: np.ndarray, flat: float) -> np.ndarray:
    """Class indices (into :func:`direction_classes`) of the moves m_t."""
    m = np.asarray(moves, dtype=np.float64)
    if flat > 0:
        return np.where(m < -flat, 0, np.where(m > flat, 2, 1))
    return (m > 0).astype(np.int64)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), exactly: Σ_{i=k..n} C(n, i) p^i (1 − p)^(n − i).

    >>> binomial_tail(2, 2, 0.5), binomial_tail(0, 5, 0.3), round(binomial_tail(3, 4, 0.5), 12)
    (0.25, 1.0, 0.3125)
    """
    if k < 0 or n < 0:
        raise ValueError(f"need 0 ≤ k and n ≥ 0, got k={k}, n={n}")
    if k == 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    logs = [math.log(math.comb(n, i)) + i * lp + (n - i) * lq for i in range(k, n + 1)]
    top = max(logs)
    return min(1.0, math.exp(top) * math.fsum(math.exp(v - top) for v in logs))


@dataclass
class ClassifierResult:
    """One classifier on the test moves."""

    name: str
    predicted: np.ndarray  # (n_test,) class indices
    accuracy: float
    correct: int
    p_value: float | None  # binomial, against the no-information rate; None for the baseline
    seconds: float

    def to_dict(self, classes: tuple[str, ...]) -> dict:
        """JSON-able: accuracy, counts, p-value and how often each class was called."""
        calls = np.bincount(self.predicted, minlength=len(classes)) / max(len(self.predicted), 1)
        return {
            "accuracy": self.accuracy,
            "correct": self.correct,
            "p_value": self.p_value,
            "called": dict(zip(classes, calls.tolist(), strict=True)),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class DirectionResult:
    """The direction task's outcome: classes, test labels, each classifier's scores."""

    series: Series
    config: ForecastConfig
    classes: tuple[str, ...]
    actual: np.ndarray  # (n_test,) class indices of the test moves
    majority: str  # the training part's most frequent class
    results: dict[str, ClassifierResult]
    seconds: float
    shares: dict[str, float] = field(default_factory=dict)  # class shares in the test part

    @property
    def base_rate(self) -> float:
        """p₀, the no-information rate: the share of the test part's most frequent class."""
        return max(self.shares.values())

    def verdict(self) -> str:
        """One sentence: is any classifier better than always calling the majority class?"""
        n = len(self.actual)
        others = sorted(
            (r for r in self.results.values() if r.name != "majority"),
            key=lambda r: -r.accuracy,
        )
        if not others:
            return "Only the majority class was run: there is nothing to compare it with."
        best = others[0]
        top = max(self.shares, key=self.shares.__getitem__)
        head = (
            f"{best.name} calls {100 * best.accuracy:.1f}% of the {n} test moves right; always "
            f"calling '{top}' would call {100 * self.base_rate:.1f}%"
        )
        if best.p_value is not None and best.p_value < SIGNIFICANCE:
            return f"{head}: better than that (binomial p = {best.p_value:.2g})."
        p = "n/a" if best.p_value is None else f"{best.p_value:.2g}"
        return (
            f"{head} (binomial p = {p}): no better than a constant call, as expected for the "
            "next move of a price."
        )

    def to_dict(self) -> dict:
        """JSON-able (the direction task's JSON)."""
        return {
            "task": "direction",
            "dataset": self.series.source,
            "classes": list(self.classes),
            "flat": self.config.flat,
            "test_moves": len(self.actual),
            "test_shares": self.shares,
            "majority_class": self.majority,
            "no_information_rate": self.base_rate,
            "test": {n: r.to_dict(self.classes) for n, r in self.results.items()},
            "verdict": self.verdict(),
            "seconds": round(self.seconds, 3),
        }


def _windows(z: np.ndarray, targets: np.ndarray, W: int) -> np.ndarray:
    """(n, W, 1): the W scaled moves before each target index."""
    idx = targets[:, None] - W + np.arange(W)[None, :]  # (n, W)
    return z[idx][..., None]


def fit_classifier(name, X, y, Xv, yv, K: int, config: ForecastConfig):
    """A recurrent cell and a K-way softmax head trained on cross-entropy (Adam, the epochs
    and seed of ``config.train``); the weights of the epoch with the lowest validation loss are
    kept (training stops after ``patience`` epochs without a better one). Returns the
    function x (B, W, 1) -> logits (B, K)."""
    import torch
    from torch import nn

    from rnnlab.forecast.nets import RecurrentNet
    from rnnlab.forecast.training import TrainHistory
    from rnnlab.stepper import Stepper

    tc = config.train
    torch.manual_seed(tc.seed)
    options = dict(config.cell_options.get(name, {}))
    net = RecurrentNet(replace(config.net, kind=name, cell_options=options))
    net.head = nn.Linear(config.net.hidden_size, K)  # the softmax head: K logits

    def logits(x):
        return net.head(net.hidden_states(x)[:, -1])  # (B, K)

    X, Xv = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Xv, dtype=torch.float32)
    y, yv = torch.as_tensor(y), torch.as_tensor(yv)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=tc.lr)
    stepper = Stepper(params, opt, TrainHistory(), clip=tc.clip_norm)
    gen = torch.Generator().manual_seed(tc.seed)
    ce = nn.functional.cross_entropy  # mean of −log softmax(z)[class]
    best, best_state, since = math.inf, None, 0
    for _ in range(tc.epochs):
        net.train()
        for idx in torch.randperm(len(X), generator=gen).split(tc.batch_size):

            def loss_fn(idx=idx):
                loss = ce(logits(X[idx]), y[idx])
                return loss, float(loss.detach())

            if stepper.step(loss_fn) is not None:
                break
        net.eval()
        with torch.no_grad():
            val = float(ce(logits(Xv), yv)) if len(Xv) else 0.0
        if val < best:
            best, best_state, since = val, {k: v.clone() for k, v in net.state_dict().items()}, 0
        else:
            since += 1
            if tc.patience and since >= tc.patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return logits


def run_direction(series: Series, config: ForecastConfig | None = None) -> DirectionResult:
    """The majority class and a softmax classifier per recurrent model of ``config.models``
    (mlp and the value baselines have no classifier here), on the same chronological split
    as ``run_forecast``; test moves are classified from their actual past."""
    import torch

    from rnnlab.settings.cells import known_cells

    config = ForecastConfig(task="direction") if config is None else config
    start = time.perf_counter()
    split = config.split(len(series))
    x = series.values
    moves = np.diff(x, prepend=x[0])  # moves[t] = x_t − x_{t−1} (moves[0] = 0, never a target)
    classes = direction_classes(config.flat)
    labels = direction_labels(moves, config.flat)
    W = config.window.window
    first = W + 1  # a target needs W earlier moves, each with a value before it
    if split.train_end - first < 2:
        raise RnnlabError(f"too few training points for a window of {W} moves")
    scale = float(np.std(moves[1 : split.train_end])) or 1.0
    z = moves / scale
    tr = np.arange(first, split.train_end)
    va = np.arange(split.train_end, split.val_end)
    te = np.arange(split.val_end, len(x))
    actual = labels[te]
    majority = int(np.argmax(np.bincount(labels[tr], minlength=len(classes))))
    results: dict[str, ClassifierResult] = {}

    def add(name: str, predicted: np.ndarray, seconds: float) -> None:
        correct = int(np.sum(predicted == actual))
        acc = correct / len(actual)
        p = None if name == "majority" else binomial_tail(correct, len(actual), base)
        results[name] = ClassifierResult(name, predicted, acc, correct, p, seconds)

    counts = np.bincount(actual, minlength=len(classes)) / len(actual)
    base = float(counts.max())  # p₀, the no-information rate
    add("majority", np.full(len(actual), majority), 0.0)
    for name in config.models:
        if name not in known_cells():
            continue
        t0 = time.perf_counter()
        logits = fit_classifier(
            name,
            _windows(z, tr, W),
            labels[tr],
            _windows(z, va, W),
            labels[va],
            len(classes),
            config,
        )
        with torch.no_grad():
            Xt = torch.as_tensor(_windows(z, te, W), dtype=torch.float32)
            predicted = logits(Xt).argmax(dim=1).numpy()  # the class with the highest p
        add(name, predicted, time.perf_counter() - t0)
    shares = dict(zip(classes, counts.tolist(), strict=True))
    return DirectionResult(
        series,
        config,
        classes,
        actual,
        classes[majority],
        results,
        time.perf_counter() - start,
        shares,
    )
