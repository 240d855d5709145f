"""Neural forecasters: the recurrent one (any cell) and the memory-less MLP.

Both run the windowed pipeline of :class:`~rnnlab.forecast.base.WindowedForecaster` and the
shared training loop; they differ only in what they see:

    RecurrentForecaster   the window s_{t−W} … s_{t−1} as a sequence (B, W, 1)
    MLPForecaster         hand-made features of it (B, F): see :mod:`rnnlab.data.features`

Their keyword arguments are the fields of :class:`~rnnlab.forecast.nets.NetConfig`,
:class:`~rnnlab.data.windows.WindowConfig` and :class:`~rnnlab.forecast.training.TrainConfig`,
flat, with the same defaults (``cell`` is NetConfig's ``kind``, ``clip`` its ``clip_norm``);
the configs are built from them at ``fit``. The older form, whole configs as
``(net, window, train)``, still works: a config given replaces the parameters it covers.

The trained ``nn.Module`` is ``module_`` (usable on its own), the training record ``history_``,
Adam's state ``optimizer_state_`` (so that ``warm_start`` training goes on where it stopped;
its record ``history_`` goes on too). ``resume`` takes the ``TrainState`` of an interrupted fit
(from a checkpoint written during training) and finishes that fit as it would have gone.

**Threads.** ``threads=1`` (the default, as for the command line's threads setting) runs fit and
predict on one torch thread and puts torch's setting back afterwards. These nets are small, and
torch's default (a thread per core) pays off only on an idle machine: two GRU epochs on the
default data (aapl, 3270 points, H=32, W=50) took 1.3–1.7 s on one thread, 0.7 s on torch's
two threads on an idle 2-core machine, and 15.6–52.8 s on two threads while other processes
held the cores. ``threads=None`` leaves torch's setting as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from rnnlab.data.features import SPAN, feature_names, mlp_features
from rnnlab.data.series import Series
from rnnlab.data.windows import WindowConfig, windows
from rnnlab.devices import resolve_device
from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError
from rnnlab.forecast.base import _WINDOW, WindowedForecaster, check_strategy, named
from rnnlab.forecast.losses import quantile_loss, squared_error
from rnnlab.forecast.nets import MLPNet, NetConfig, RecurrentNet
from rnnlab.forecast.training import TrainConfig, TrainState, train
from rnnlab.settings.devices import DEVICES
from rnnlab.settings.forecasting import LOSSES

_NET, _TRAIN = NetConfig(), TrainConfig()  # the library's defaults, read by the constructors
NET_PARAMS = {"hidden_size": "hidden_size", "layers": "layers", "dropout": "dropout"}
TRAIN_PARAMS = {
    "epochs": "epochs",
    "lr": "lr",
    "batch_size": "batch_size",
    "patience": "patience",
    "clip": "clip_norm",
    "weight_decay": "weight_decay",
    "seed": "seed",
}  # parameter -> TrainConfig field


def _on_cpu(obj):
    """A state dict (nested dicts and lists of tensors) with every tensor on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.cpu()
    if isinstance(obj, dict):
        return {k: _on_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_on_cpu(v) for v in obj)
    return obj


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``n`` inside the block, put back after; None: as is."""
    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class NeuralForecaster(WindowedForecaster):
    """Shared by the two: build the configs and the module, train, predict in batches
    (float32), each on ``threads`` torch threads."""

    net: NetConfig | None
    train: TrainConfig | None
    hidden_size: int
    layers: int
    dropout: float
    threads: int | None

    @classmethod
    def from_configs(
        cls,
        net: NetConfig | None = None,
        window: WindowConfig | None = None,
        train: TrainConfig | None = None,
        **params,
    ):
        """The forecaster the configs describe, as keyword parameters (so ``repr`` and
        ``get_params`` show them); ``params`` adds others (``threads``, ``warm_start``)."""
        net = _NET if net is None else net
        window = _WINDOW if window is None else window
        train = _TRAIN if train is None else train
        flat = {param: getattr(net, field) for param, field in NET_PARAMS.items()}
        flat |= {param: getattr(train, field) for param, field in TRAIN_PARAMS.items()}
        flat |= {"window": window.window, "target": window.target, "scaler": window.scaler}
        if "cell" in cls._param_names():
            flat |= {"cell": net.kind, "cell_options": dict(net.cell_options) or None}
        return cls(**flat, **params)

    @property
    def name(self) -> str:  # type: ignore[override]
        """The cell's name, or "mlp"."""
        return self.net.kind if isinstance(self.net, NetConfig) else self._kind()

    def _kind(self) -> str:
        raise NotImplementedError

    def _cell_options(self) -> dict:
        return {}

    @property
    def net_config(self) -> NetConfig:
        """The net config the parameters describe (``net`` itself when given)."""
        if self.net is not None:
            return self.net
        options = self._cell_options()
        if not isinstance(options, dict):
            raise RnnlabError(f"cell_options must be a dict, got {options!r}")
        flat = {field: getattr(self, param) for param, field in NET_PARAMS.items()}
        return named(NetConfig, kind=self._kind(), cell_options=options, **flat)

    @property
    def train_config(self) -> TrainConfig:
        """The training config the parameters describe (``train`` itself when given)."""
        if self.train is not None:
            return self.train
        return named(TrainConfig, **{field: getattr(self, p) for p, field in TRAIN_PARAMS.items()})

    def _validate(self) -> None:
        super()._validate()
        self.net_config  # noqa: B018 (built to check it)
        self.train_config  # noqa: B018
        t = self.threads
        if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 1):
            raise RnnlabError(f"threads must be a whole number at least 1, or None; got {t!r}")
        if self.device not in DEVICES:
            raise RnnlabError(f"device must be one of {', '.join(DEVICES)}; got {self.device!r}")
        check_strategy(getattr(self, "strategy", "recursive"), getattr(self, "horizon", 1))
        loss = getattr(self, "loss", "mse")
        if loss not in LOSSES:
            raise RnnlabError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
        quantiles = getattr(self, "quantiles", None)
        if quantiles is not None:
            ok = isinstance(quantiles, tuple | list) and all(
                isinstance(q, float | int) and not isinstance(q, bool) and 0 < q < 1
                for q in quantiles
            )
            if not ok or not quantiles:
                raise RnnlabError(
                    f"quantiles must be numbers between 0 and 1 (exclusive), got {quantiles!r}"
                )
            if loss != "pinball":
                raise RnnlabError("quantiles are what loss='pinball' learns; set loss='pinball'")

    def _quantile_levels(self) -> tuple[float, ...] | None:
        """With the pinball loss, the quantiles the net outputs (sorted, the median among
        them: the point forecast); None for the mean-squared-error nets."""
        if getattr(self, "loss", "mse") != "pinball":
            return None
        given = getattr(self, "quantiles", None) or ()
        return tuple(sorted({0.5, *(float(q) for q in given)}))

    def _outputs(self) -> int:
        """K = H·Q outputs: one per step of a direct model, per quantile of a quantile one."""
        quantiles = self._quantile_levels()
        return self._direct_steps() * (1 if quantiles is None else len(quantiles))

    def _loss(self):
        """The training loss: squared error, or the pinball loss at the net's quantiles."""
        quantiles = self._quantile_levels()
        return squared_error if quantiles is None else quantile_loss(quantiles)

    def build_module(self, n_features: int) -> nn.Module:
        """A fresh, untrained module for inputs with ``n_features`` features."""
        raise NotImplementedError

    def _tensor(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(X, dtype=torch.float32)

    def _fit_scaled(self, X, y, X_val, y_val, progress) -> None:
        with torch_threads(self.threads):
            self._train(X, y, X_val, y_val, progress)

    def _train(self, X, y, X_val, y_val, progress) -> None:
        config = self.train_config
        torch.manual_seed(config.seed)  # the initial weights
        warm = (self.warm_start or self.resume is not None) and hasattr(self, "module_")
        if not warm:
            self.module_ = self.build_module(X.shape[-1])
        optimizer = torch.optim.Adam(self.module_.parameters())
        if warm and self.resume is None and getattr(self, "optimizer_state_", None) is not None:
            optimizer.load_state_dict(self.optimizer_state_)  # Adam's moments go on too
        val = None
        if len(y_val):
            val = (self._tensor(X_val), torch.as_tensor(y_val, dtype=torch.float32))
        self.history_ = train(
            self.module_,
            (self._tensor(X), torch.as_tensor(y, dtype=torch.float32)),
            val,
            config,
            progress,
            optimizer,
            history=getattr(self, "history_", None) if warm else None,  # the record goes on
            state=self.resume,
            device=self.device,
            loss=self._loss(),
        )
        # on the CPU like the weights, wherever training ran: a checkpoint loads anywhere
        self.optimizer_state_ = _on_cpu(optimizer.state_dict())

    @torch.no_grad()
    def _predict_scaled(self, X: np.ndarray) -> np.ndarray:
        device = resolve_device(self.device)
        module = self.module_.to(device).eval()
        try:
            with torch_threads(self.threads):
                out = [
                    module(self._tensor(X[i : i + 4096]).to(device)).cpu()
                    for i in range(0, len(X), 4096)
                ]
        finally:
            self.module_.to("cpu")  # the fitted module stays on the CPU between calls
        return torch.cat(out).double().numpy() if out else np.empty(0)


class RecurrentForecaster(NeuralForecaster):
    """The recurrent net on the raw window: ŝ_t = head(h_W) after reading s_{t−W} … s_{t−1}.

    Arguments (all keyword; defaults are the library's config defaults)
    ---------
    cell : str             any name of :func:`rnnlab.cells.cell_names` (rnn, lstm, gru, …)
    hidden_size : int      H, units per layer
    layers : int           stacked cells
    dropout : float        between layers, in training only
    cell_options : dict    passed to the cell (``{"nonlinearity": "relu"}`` for rnn); None: {}
    window : int           W, the past steps the net reads
    target : str           "level", "diff" or "log-return" (:mod:`rnnlab.data.windows`)
    scaler : str           "standard" or "minmax", fitted on the training part only
    epochs, lr, batch_size, patience, clip, weight_decay, seed
                           :class:`~rnnlab.forecast.training.TrainConfig` (``clip`` is its
                           ``clip_norm``: None for no clipping)
    threads : int or None  torch threads during fit and predict (default 1, as the CLI's
                           threads setting: fastest for these small nets); None: torch's setting
    device : str           where fit and predict compute: "auto" (a CUDA GPU when torch sees
                           one), "cpu" or "cuda"; the fitted module rests on the CPU
    strategy : str         "recursive" (one output, fed back for more steps) or "direct" (one
                           output per step h = 1 … ``horizon``, trained on the H targets)
    horizon : int          H, the steps a direct model forecasts (unused when recursive)
    loss : str             "mse", or "pinball": the quantile loss, the median the point
                           forecast (:mod:`rnnlab.forecast.losses`)
    quantiles : tuple      with the pinball loss, the quantiles to output besides the median
                           (0.1, 0.9 for an 80 % interval)
    covariates : tuple     names (:mod:`rnnlab.data.covariates`): past covariates by column
                           (a DataFrame's given to fit, an rnnlab Series' own), and
                           "calendar"; step τ then reads [s_τ, c_τ, calendar(τ+1)]; None: none
    warm_start : bool      a second ``fit`` trains on from the fitted weights and scaler
    resume : TrainState    an interrupted fit's state: ``fit`` finishes that fit
    net, window, train     the older form: whole configs (a NetConfig, a WindowConfig, a
                           TrainConfig); one given replaces the parameters it covers

    >>> f = RecurrentForecaster(cell="gru", hidden_size=16, window=20)   # doctest: +SKIP
    >>> f.fit(prices, val_size=300).predict(5)                          # doctest: +SKIP
    2024-01-08    101.2
    …
    """

    def __init__(
        self,
        net: NetConfig | None = None,
        window: int | WindowConfig = _WINDOW.window,
        train: TrainConfig | None = None,
        *,
        cell: str = _NET.kind,
        hidden_size: int = _NET.hidden_size,
        layers: int = _NET.layers,
        dropout: float = _NET.dropout,
        cell_options: dict | None = None,
        target: str = _WINDOW.target,
        scaler: str = _WINDOW.scaler,
        epochs: int = _TRAIN.epochs,
        lr: float = _TRAIN.lr,
        batch_size: int = _TRAIN.batch_size,
        patience: int = _TRAIN.patience,
        clip: float | None = _TRAIN.clip_norm,
        weight_decay: float = _TRAIN.weight_decay,
        seed: int = _TRAIN.seed,
        threads: int | None = 1,
        device: str = "auto",
        strategy: str = "recursive",
        horizon: int = 1,
        loss: str = "mse",
        quantiles: tuple[float, ...] | None = None,
        covariates: tuple[str, ...] | None = None,
        warm_start: bool = False,
        resume: TrainState | None = None,
    ) -> None:
        self.net = net
        self.window = window
        self.train = train
        self.cell = cell
        self.hidden_size = hidden_size
        self.layers = layers
        self.dropout = dropout
        self.cell_options = cell_options
        self.target = target
        self.scaler = scaler
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.patience = patience
        self.clip = clip
        self.weight_decay = weight_decay
        self.seed = seed
        self.threads = threads
        self.device = device
        self.strategy = strategy
        self.horizon = horizon
        self.loss = loss
        self.quantiles = quantiles
        self.covariates = covariates
        self.warm_start = warm_start
        self.resume = resume  # an interrupted fit's state: fit goes on from it (implies warm)

    def _kind(self) -> str:
        return self.cell

    def _cell_options(self) -> dict:
        return {} if self.cell_options is None else self.cell_options

    def _validate(self) -> None:
        super()._validate()
        from rnnlab.cells import cell_names

        kind = self.net_config.kind
        if kind not in cell_names():
            raise RnnlabError(f"cell must be one of {', '.join(cell_names())}; got {kind!r}")

    def _inputs(self, s: np.ndarray, targets: np.ndarray, dates, exog=None) -> np.ndarray:
        """Step τ = t − W … t − 1 reads x_τ = [s_τ] (n, W, 1), or with covariates
        x_τ = [s_τ, E_τ] = [s_τ, c_τ, calendar(τ+1)] (n, W, 1 + E)."""
        W = self.config.window
        x = windows(s, targets, W)[:, :, None]  # (n, W, 1)
        if exog is None:
            return x
        idx = np.asarray(targets)[:, None] - W + np.arange(W)[None, :]  # (n, W): τ
        return np.concatenate([x, exog[idx]], axis=2)  # (n, W, 1 + E)

    def build_module(self, n_features: int) -> RecurrentNet:
        """A :class:`RecurrentNet` reading ``n_features`` per step."""
        return RecurrentNet(self.net_config, input_size=n_features, outputs=self._outputs())

    @property
    def cells(self) -> nn.ModuleList:
        """The trained recurrent cells, first layer first."""
        return self.module_.cells


class MLPForecaster(NeuralForecaster):
    """The feed-forward net on hand-made features: no memory beyond them.

    The arguments are :class:`RecurrentForecaster`'s without ``cell`` and ``cell_options``
    (``layers`` counts hidden layers of ReLU units).
    """

    def __init__(
        self,
        net: NetConfig | None = None,
        window: int | WindowConfig = _WINDOW.window,
        train: TrainConfig | None = None,
        *,
        hidden_size: int = _NET.hidden_size,
        layers: int = _NET.layers,
        dropout: float = _NET.dropout,
        target: str = _WINDOW.target,
        scaler: str = _WINDOW.scaler,
        epochs: int = _TRAIN.epochs,
        lr: float = _TRAIN.lr,
        batch_size: int = _TRAIN.batch_size,
        patience: int = _TRAIN.patience,
        clip: float | None = _TRAIN.clip_norm,
        weight_decay: float = _TRAIN.weight_decay,
        seed: int = _TRAIN.seed,
        threads: int | None = 1,
        device: str = "auto",
        strategy: str = "recursive",
        horizon: int = 1,
        loss: str = "mse",
        quantiles: tuple[float, ...] | None = None,
        covariates: tuple[str, ...] | None = None,
        warm_start: bool = False,
        resume: TrainState | None = None,
    ) -> None:
        self.net = net
        self.window = window
        self.train = train
        self.hidden_size = hidden_size
        self.layers = layers
        self.dropout = dropout
        self.target = target
        self.scaler = scaler
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.patience = patience
        self.clip = clip
        self.weight_decay = weight_decay
        self.seed = seed
        self.threads = threads
        self.device = device
        self.strategy = strategy
        self.horizon = horizon
        self.loss = loss
        self.quantiles = quantiles
        self.covariates = covariates
        self.warm_start = warm_start
        self.resume = resume

    def _kind(self) -> str:
        return "mlp"

    def _fit(self, series: Series, val_size: int, progress) -> None:
        """As for every windowed forecaster; the day-of-week features need the series' dates."""
        self.uses_dates_ = series.dates is not None
        super()._fit(series, val_size, progress)

    def _inputs(self, s: np.ndarray, targets: np.ndarray, dates, exog=None) -> np.ndarray:
        """The hand-made features of target t (n, F), and with covariates E_{t−1}: the last
        values c_{t−1} and the target's day of year (its day of week is a feature already)."""
        if self.config.window < SPAN:
            raise FieldError("window", "mlp: its features need {window} >= {0}", SPAN, lead=False)
        if self.uses_dates_ and dates is None:
            raise RnnlabError("mlp: it was trained with day-of-week features; give data with dates")
        X = mlp_features(s, targets, dates if self.uses_dates_ else None)  # (n, F)
        if exog is None:
            return X
        keep = [i for i, c in enumerate(self.covariates_.columns) if not c.startswith("dow")]
        return np.concatenate([X, exog[np.asarray(targets) - 1][:, keep]], axis=1)  # (n, F+E)

    def build_module(self, n_features: int) -> MLPNet:
        """An :class:`MLPNet` on ``n_features`` features."""
        return MLPNet(self.net_config, n_features, outputs=self._outputs())

    def feature_names(self) -> list[str]:
        """The names of the features, in the order the net sees them."""
        names = feature_names(self.uses_dates_)
        fitted = getattr(self, "covariates_", None)
        if fitted is None:
            return names
        return names + [c if c.startswith("doy") else f"{c}_(t-1)"
                        for c in fitted.columns if not c.startswith("dow")]  # fmt: skip
