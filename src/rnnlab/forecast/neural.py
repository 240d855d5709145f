"""Neural forecasters: the recurrent one (any cell) and the memory-less MLP.

Both run the windowed pipeline of :class:`~rnnlab.forecast.base.WindowedForecaster` and the
shared training loop; they differ only in what they see:

    RecurrentForecaster   the window s_{t−W} … s_{t−1} as a sequence (B, W, 1)
    MLPForecaster         hand-made features of it (B, F): see :mod:`rnnlab.data.features`

The trained ``nn.Module`` is ``module_`` (usable on its own), the training record ``history_``,
Adam's state ``optimizer_state_`` (so that ``warm_start`` training goes on where it stopped;
its record ``history_`` goes on too). ``resume`` takes the ``TrainState`` of an interrupted fit
(from a checkpoint written during training) and finishes that fit as it would have gone.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnnlab.data.features import SPAN, feature_names, mlp_features
from rnnlab.data.windows import WindowConfig, windows
from rnnlab.errors import RnnlabError
from rnnlab.forecast.base import WindowedForecaster
from rnnlab.forecast.nets import MLPNet, NetConfig, RecurrentNet
from rnnlab.forecast.training import TrainConfig, TrainState, train


class NeuralForecaster(WindowedForecaster):
    """Shared by the two: build the module, train it, predict in batches (float32)."""

    def __init__(
        self,
        net: NetConfig | None = None,
        window: WindowConfig | None = None,
        train: TrainConfig | None = None,
        warm_start: bool = False,
        resume: TrainState | None = None,
    ) -> None:
        self.net = net
        self.window = window
        self.train = train
        self.warm_start = warm_start
        self.resume = resume  # an interrupted fit's state: fit goes on from it (implies warm)

    @property
    def name(self) -> str:  # type: ignore[override]
        """The cell's name, or "mlp"."""
        return self.net_config.kind

    @property
    def net_config(self) -> NetConfig:
        """The net config (the default one when None was given)."""
        return NetConfig(kind=self._default_kind) if self.net is None else self.net

    @property
    def train_config(self) -> TrainConfig:
        """The training config (the default one when None was given)."""
        return TrainConfig() if self.train is None else self.train

    _default_kind = "rnn"

    def build_module(self, n_features: int) -> nn.Module:
        """A fresh, untrained module for inputs with ``n_features`` features."""
        raise NotImplementedError

    def _tensor(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(X, dtype=torch.float32)

    def _fit_scaled(self, X, y, X_val, y_val, progress) -> None:
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
        )
        self.optimizer_state_ = optimizer.state_dict()

    @torch.no_grad()
    def _predict_scaled(self, X: np.ndarray) -> np.ndarray:
        self.module_.eval()
        out = [self.module_(self._tensor(X[i : i + 4096])) for i in range(0, len(X), 4096)]
        return torch.cat(out).double().numpy() if out else np.empty(0)


class RecurrentForecaster(NeuralForecaster):
    """The recurrent net on the raw window: ŝ_t = head(h_W) after reading s_{t−W} … s_{t−1}.

    >>> f = RecurrentForecaster(NetConfig(kind="gru", hidden_size=16))   # doctest: +SKIP
    >>> f.fit(series, val_size=300).predict(horizon=5)                 # doctest: +SKIP
    """

    def _inputs(self, s: np.ndarray, targets: np.ndarray, dates) -> np.ndarray:
        return windows(s, targets, self.config.window)[:, :, None]  # (n, W, 1)

    def build_module(self, n_features: int) -> RecurrentNet:
        """A :class:`RecurrentNet` reading ``n_features`` per step."""
        return RecurrentNet(self.net_config, input_size=n_features)

    @property
    def cells(self) -> nn.ModuleList:
        """The trained recurrent cells, first layer first."""
        return self.module_.cells


class MLPForecaster(NeuralForecaster):
    """The feed-forward net on hand-made features: no memory beyond them."""

    _default_kind = "mlp"

    def fit(self, series, val_size: int = 0, progress=None) -> MLPForecaster:
        """As for every windowed forecaster; the day-of-week features need the series' dates."""
        self.uses_dates_ = series.dates is not None
        return super().fit(series, val_size, progress)  # type: ignore[return-value]

    def _inputs(self, s: np.ndarray, targets: np.ndarray, dates) -> np.ndarray:
        if self.config.window < SPAN:
            raise RnnlabError(f"mlp: its features need --window >= {SPAN}")
        if self.uses_dates_ and dates is None:
            raise RnnlabError("mlp: it was trained with day-of-week features; give data with dates")
        return mlp_features(s, targets, dates if self.uses_dates_ else None)  # (n, F)

    def build_module(self, n_features: int) -> MLPNet:
        """An :class:`MLPNet` on ``n_features`` features."""
        return MLPNet(self.net_config, n_features)

    def feature_names(self) -> list[str]:
        """The names of the features, in the order the net sees them."""
        return feature_names(self.uses_dates_)
