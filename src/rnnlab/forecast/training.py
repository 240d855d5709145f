"""The training loop: Adam on the mean squared error (or another loss of
:mod:`rnnlab.forecast.losses`), early stopping, optional clipping.

It knows nothing of the model beyond ``module(X) -> (B,)`` predictions, so any part of rnnlab
can reuse it (the gradient diagnostics use it to show gradients exploding). Per optimisation
step it records the gradient's global L2 norm *before* clipping,

    ‖g‖ = sqrt(Σ_p ‖∂L/∂p‖²)        and, with clip_norm c, g ← g · min(1, c / ‖g‖),

and whether the clip fired. A NaN or inf loss (or gradient norm) stops training: the weights
go back to the best epoch so far (or stay at the last finite step if no epoch finished), and
the history says so in words instead of raising. The weights kept are those of the best epoch
so far; if no epoch finished, the last weights whose loss was finite.

After every epoch that training goes on from, the progress callback gets a :class:`TrainState`
(weights, best weights, Adam, counters, record, random generators): written to disk, it lets
``train(…, state=…)`` finish the run exactly as if it had never stopped. Inside a
``torch.distributed`` process group the loop is data-parallel (:mod:`.distributed`).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn

from rnnlab.devices import resolve_device
from rnnlab.errors import RnnlabError
from rnnlab.forecast import distributed
from rnnlab.forecast.losses import Loss, squared_error
from rnnlab.settings.training import TrainConfig
from rnnlab.stepper import Stepper


@dataclass
class TrainHistory:
    """What happened in training, epoch by epoch and step by step.

    ``status`` is "completed" (all epochs), "early-stopped" (patience ran out) or "diverged"
    (a NaN/inf loss or gradient; ``message`` says why and what to try).
    """

    train_loss: list[float] = field(default_factory=list)  # per epoch, mean over its steps
    val_loss: list[float] = field(default_factory=list)  # per epoch (empty without validation)
    grad_norm: list[float] = field(default_factory=list)  # per step, before clipping
    clipped: list[bool] = field(default_factory=list)  # per step, did the clip fire
    step_loss: list[float] = field(default_factory=list)  # per step
    best_epoch: int | None = None  # 1-based epoch whose weights were kept
    status: str = "completed"
    message: str | None = None
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        """Epochs finished."""
        return len(self.train_loss)

    @property
    def diverged(self) -> bool:
        """True if a NaN or inf stopped training."""
        return self.status == "diverged"

    @property
    def clip_fraction(self) -> float:
        """Share of steps whose gradient was clipped."""
        return sum(self.clipped) / len(self.clipped) if self.clipped else 0.0

    def summary(self) -> dict:
        """The headline numbers, JSON-able."""
        finite_val = [v for v in self.val_loss if math.isfinite(v)]
        return {
            "epochs": self.epochs,
            "best_epoch": self.best_epoch,
            "status": self.status,
            "message": self.message,
            "final_train_loss": self.train_loss[-1] if self.train_loss else None,
            "best_val_loss": min(finite_val) if finite_val else None,
            "clip_fraction": self.clip_fraction,
            "seconds": round(self.seconds, 3),
        }

    def to_dict(self) -> dict:
        """JSON-able form (non-finite numbers become None)."""

        def finite(xs):
            return [x if math.isfinite(x) else None for x in xs]

        d = asdict(self)
        for key in ("train_loss", "val_loss", "grad_norm", "step_loss"):
            d[key] = finite(d[key])
        return d


@dataclass
class TrainState:
    """Where training stands after a whole epoch: all the loop needs to go on bit for bit.

    :func:`train` passes one to its progress callback after every epoch that training goes on
    from; ``train(…, state=s)`` continues from it exactly as if never stopped. The tensors are
    the live ones during the callback (write them out there, or copy them).
    """

    epoch: int  # epochs finished in this call of train (config.epochs counts from 0)
    history: TrainHistory  # the record so far, earlier calls' epochs included
    best_loss: float  # best validation loss so far (training loss without validation)
    since_best: int  # epochs since it improved (early stopping's counter)
    best_weights: dict[str, Tensor] | None  # the module's state_dict at the best epoch
    weights: dict[str, Tensor]  # the module's state_dict now
    optimizer: dict  # Adam's state_dict now
    shuffle_rng: Tensor  # the batch order's torch.Generator state (uint8)
    torch_rng: list[Tensor]  # torch's global CPU generator (dropout), one per rank


@dataclass(frozen=True)
class EpochReport:
    """Passed to the progress callback after each epoch."""

    epoch: int
    epochs: int
    train_loss: float
    val_loss: float | None
    seconds: float
    state: TrainState | None = None  # to resume from after this epoch; None: training stops


def _batches(n: int, size: int, generator: torch.Generator | None) -> list[Tensor]:
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    return list(torch.split(order, size))


def _window_losses(pred: Tensor, y: Tensor, loss: Loss) -> Tensor:
    """(B,): each window's loss, the mean of ``loss``'s elements over its outputs (one for a
    one-step model; H steps, Q quantiles for others)."""
    elements = loss(pred, y)
    return elements.reshape(len(elements), -1).mean(dim=1)


@torch.no_grad()
def evaluate_loss(
    module: nn.Module, X: Tensor, y: Tensor, batch_size: int = 4096, loss: Loss = squared_error
) -> float:
    """The mean loss (default: squared error) of ``module`` on (X, y), in eval mode, in
    batches."""
    was_training = module.training
    module.eval()
    total = 0.0
    for i in range(0, len(y), batch_size):
        pred = module(X[i : i + batch_size])  # (B,) or (B, outputs)
        total += float(_window_losses(pred, y[i : i + batch_size], loss).sum())
    module.train(was_training)
    return total / max(len(y), 1)


def _diverged_message(what: str, epoch: int, step: int, norm: float | None, clip: float | None):
    norm_text = "" if norm is None else f" (gradient norm before clipping {norm:.3g})"
    advice = "lower the learning rate" + ("" if clip is not None else " or clip the gradient at 1")
    return (
        f"training stopped at epoch {epoch}, step {step}: the {what} became NaN or inf"
        f"{norm_text}. Likely cause: exploding gradients ({advice}) or bad data (NaN, inf or "
        "huge values in the inputs); the last good weights were kept"
    )


def _batch_loss(
    net: nn.Module,
    X: Tensor,
    y: Tensor,
    idx: Tensor,
    rank: int,
    size: int,
    loss: Loss = squared_error,
):
    """The loss to differentiate for the batch ``idx`` and its value as a float.

    One process: L = (1/B) Σ_i ℓ_i, ℓ_i the window's mean ``loss`` (squared error: the MSE,
    ℓ_i = (ŷ_i − y_i)²). With ``size`` ranks, this rank's shard only, scaled so that DDP's
    average of the ranks' gradients is ∇L (see :mod:`rnnlab.forecast.distributed`); the loss
    is summed over the ranks, the same on each.
    """
    if size == 1:
        value = _window_losses(net(X[idx]), y[idx], loss).mean()  # mean over the batch
        return value, float(value.detach())
    shard, weight = idx[rank::size], size / len(idx)  # windows r, r + N, … of the batch
    if len(shard) == 0:  # a last batch with fewer windows than ranks: join in with weight 0
        shard, weight = idx[:1], 0.0
    sse = _window_losses(net(X[shard]), y[shard], loss).sum()  # Σ over the shard of ℓ_i
    part = sse.detach().double() if weight else torch.zeros((), dtype=torch.float64)
    total = distributed.sum_over_ranks(part.to(sse.device))  # Σ over the whole batch
    return sse * weight, float(total) / len(idx)


def train(
    module: nn.Module,
    train_data: tuple[Tensor, Tensor],
    val_data: tuple[Tensor, Tensor] | None,
    config: TrainConfig,
    progress: Callable[[EpochReport], None] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    history: TrainHistory | None = None,
    state: TrainState | None = None,
    device: str = "auto",
    loss: Loss = squared_error,
) -> TrainHistory:
    """Fit ``module`` so that ``module(X)`` (B,) approaches y (B,) in mean squared error (or
    in ``loss``, element by element and averaged per window: (B, outputs) against y (B, H)
    for a direct or a quantile model; see :mod:`rnnlab.forecast.losses`).

    Adam with ``config.lr``; after each epoch the validation loss decides early stopping, and
    the weights of the best validation epoch are restored at the end. Without validation data
    the last epoch's weights are kept. Returns the :class:`TrainHistory`; never raises for a
    diverging loss.

    Pass ``optimizer`` to continue with its state (its learning rate and weight decay are set
    from ``config``), ``history`` to append this run to an earlier record (warm start), and
    ``state`` (from a progress report) to resume an interrupted run where it stood: weights,
    Adam, counters, record and random generators all come from it, so the result is the one
    the uninterrupted run gives. Inside a ``torch.distributed`` process group (torchrun) the
    loop is data-parallel: see :mod:`rnnlab.forecast.distributed`.

    ``device`` ("auto", "cpu" or "cuda") is where one process trains; under torchrun each rank
    trains where the process group puts it. The module ends on the CPU either way.
    """
    X, y = train_data
    for name, t in (("training inputs", X), ("training targets", y)):
        if not torch.isfinite(t).all():
            raise RnnlabError(f"bad data: the {name} hold NaN or inf")
    if len(y) == 0:
        raise RnnlabError("no training windows")
    rank, size = distributed.world()
    dev = distributed.device() if size > 1 else resolve_device(device)
    module.to(dev)
    X, y = X.to(dev), y.to(dev)
    if val_data is not None:
        val_data = (val_data[0].to(dev), val_data[1].to(dev))
    generator = torch.Generator().manual_seed(config.seed)
    if optimizer is None:
        optimizer = torch.optim.Adam(module.parameters())
    best_loss, best_state, since_best, done = math.inf, None, 0, 0
    if state is not None:
        module.load_state_dict(state.weights)
        optimizer.load_state_dict(state.optimizer)
        generator.set_state(state.shuffle_rng)
        torch.set_rng_state(state.torch_rng[rank if rank < len(state.torch_rng) else 0])
        best_loss, since_best, done = state.best_loss, state.since_best, state.epoch
        best_state = copy.deepcopy(state.best_weights)
        history = state.history
    history = TrainHistory() if history is None else copy.deepcopy(history)
    offset = history.epochs - done  # epochs of earlier calls in the record
    history.status, history.message = "running", None
    for group in optimizer.param_groups:
        group["lr"], group["weight_decay"] = config.lr, config.weight_decay
    params = [p for p in module.parameters() if p.requires_grad]
    net = module
    if size > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(module, device_ids=None if dev.type == "cpu" else [dev])
    stepper = Stepper(params, optimizer, history, clip=config.clip_norm)
    start, seconds = time.perf_counter(), history.seconds
    module.train()
    for epoch in range(done + 1, config.epochs + 1):
        epoch_losses = []
        for step, idx in enumerate(_batches(len(y), config.batch_size, generator), start=1):
            halt = stepper.step(lambda idx=idx: _batch_loss(net, X, y, idx, rank, size, loss))
            if halt is not None:
                history.status = "diverged"
                history.message = _diverged_message(
                    halt.kind, epoch, step, halt.norm, config.clip_norm
                )
                break
            epoch_losses.append(history.step_loss[-1])
        if history.diverged:
            break
        history.train_loss.append(sum(epoch_losses) / len(epoch_losses))
        val_loss = None
        if val_data is not None and len(val_data[1]):
            val_loss = evaluate_loss(module, *val_data, loss=loss)
            if size > 1:  # one decision for all ranks
                val_loss = distributed.from_rank0(val_loss, dev)
            history.val_loss.append(val_loss)
            if not math.isfinite(val_loss):
                history.status = "diverged"
                history.message = _diverged_message(
                    "validation loss", epoch, step, None, config.clip_norm
                )
                break
        score = val_loss if val_loss is not None else history.train_loss[-1]
        if score < best_loss or val_loss is None:
            best_loss, since_best = score, 0
            best_state = copy.deepcopy(module.state_dict())
            history.best_epoch = offset + epoch
        else:
            since_best += 1
        stop = bool(val_loss is not None and config.patience and since_best >= config.patience)
        if stop:
            history.status = "early-stopped"
        elapsed = time.perf_counter() - start
        history.seconds = seconds + elapsed
        snapshot = None
        if not stop and epoch < config.epochs:  # training goes on from here
            snapshot = TrainState(
                epoch,
                history,
                best_loss,
                since_best,
                best_state,
                module.state_dict(),
                optimizer.state_dict(),
                generator.get_state(),
                distributed.gather(torch.get_rng_state()),  # a collective: every rank calls it
            )
        if progress is not None:
            report = EpochReport(
                epoch, config.epochs, history.train_loss[-1], val_loss, elapsed, snapshot
            )
            progress(report)
        if stop:
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    if history.status == "running":
        history.status = "completed"
    module.to("cpu").eval()
    history.seconds = seconds + time.perf_counter() - start
    return history
