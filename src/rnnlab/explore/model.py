"""A trained model on the page (``rnnlab explore --model DIR``): its weights, the last window of
its data, and what its prediction means in the series' own units.

For now the page shows the vanilla ``rnn`` cell with one layer (any H); other cells and stacks are
refused in one line. The window is the model's input as it sees it (the scaled values, changes or
log-returns), and the page turns its output back: real = scaler⁻¹(y_T), then the level
(``diff``: last value + real; ``log-return``: last value · exp(real)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.data.windows import to_level
from rnnlab.errors import RnnlabError
from rnnlab.explore.trace import build_trace
from rnnlab.fielderror import about
from rnnlab.glassbox import RNNParams


def model_data(path: str | Path) -> tuple[dict, dict]:
    """(the page's ``model`` object, the glass box's trace of its last window) for a checkpoint.

    Imports torch (the checkpoint loader does); raises :class:`RnnlabError` for a checkpoint
    the page cannot show.
    """
    from rnnlab.forecast.checkpoint import load_checkpoint

    with about("model"):
        return _model_data(load_checkpoint(path), Path(path))


def _model_data(f, path: Path) -> tuple[dict, dict]:
    from rnnlab.forecast.neural import RecurrentForecaster

    where = str(path)
    if not isinstance(f, RecurrentForecaster):
        raise RnnlabError(f"{where}: a {f.name} model has no recurrent cell to show")
    net = f.net_config
    if net.kind != "rnn":
        raise RnnlabError(
            f"{where}: the page shows the vanilla rnn cell; {net.kind!r} is not yet supported"
        )
    if net.layers != 1:
        raise RnnlabError(f"{where}: the page shows one layer; this model has {net.layers}")
    cell, head = f.cells[0], f.module_.head
    params = RNNParams(
        wx=cell.wx.detach().double().numpy(),  # (H, I)
        wh=cell.wh.detach().double().numpy(),  # (H, H)
        b=cell.b.detach().double().numpy(),  # (H,)
        wout=head.weight.detach().double().numpy(),  # (1, H)
        bout=head.bias.detach().double().numpy(),  # (1,)
    )
    if params.input_size != 1:
        raise RnnlabError(f"{where}: the page shows one input per step; this model reads more")
    pre, series = f.preprocessor_, f.series_
    W = pre.config.window
    levels = series.values[-pre.config.first_target :]
    window = pre.transform(levels)[-W:]  # the model's input for the next value   (W,)
    trace = build_trace(params, window[:, None], None, cell.nonlinearity, pre.scaler_)
    previous = float(levels[-1])
    trace["next_level"] = float(
        to_level(trace["prediction_real_units"][0], previous, pre.config.target)
    )
    dates = series.next_dates(1)
    model = {
        "name": f"{series.name}, {net.kind} H={params.hidden_size}",
        "series": series.name,
        "column": series.column,
        "cell": net.kind,
        "hidden": params.hidden_size,
        "activation": cell.nonlinearity,
        "weights": {k: v.tolist() for k, v in params.as_dict().items()},
        "window": window.tolist(),
        "levels": levels.tolist(),
        "previous": previous,
        "target": pre.config.target,
        "scale": pre.scaler_.to_dict(),
        "next_date": None if dates is None else str(np.datetime_as_string(dates[0], unit="D")),
    }
    return model, trace
