"""A trained model on the page (a checkpoint directory): its weights, the last window of its
data, and what its prediction means in the series' own units.

The page shows one layer (any H) of the cells ``rnn``, ``lstm``, ``gru``, ``mingru`` and
``minlstm``; stacks and other cells are refused in one line. The window is the model's input as it
sees it (the scaled values, changes or log-returns), and the page turns its output back:
real = scaler⁻¹(y_T), then the level (``diff``: last value + real; ``log-return``: last
value · exp(real)).

The vanilla ``rnn``'s numbers are recomputed in the page by ``rnn.js`` (held to the glass box).
A gated cell's are computed here, once, with the model itself in float64 (its ``step`` gives
h_t and the LSTM's c_t; the gates come from its weights by the cell's equations and are checked
against that step), and embedded as data: the page shows them, it does not recompute them.
Gate names and torch's conventions (the weights are torch's, rows in torch's gate order):

    lstm     input i, forget f, candidate g, output o   c_t = f⊙c_{t−1} + i⊙g, h_t = o⊙tanh(c_t)
    gru      reset r, update z, candidate n             h_t = (1 − z)⊙n + z⊙h_{t−1}
                                                        (torch's z weights the OLD state)
    mingru   update z, candidate h̃                      h_t = (1 − z)⊙h_{t−1} + z⊙h̃
                                                        (the paper's z weights the NEW one)
    minlstm  forget f, input i, candidate h̃             h_t = f'⊙h_{t−1} + i'⊙h̃, f' = f/(f+i)

The trace adds ``gates`` ({name: (T, H)}), ``c`` per step for the LSTM, ``grad_norm`` (by lag,
‖∂h_T/∂h_t‖_F from :func:`rnnlab.diagnostics.jacobians.state_jacobians`), ``cell_grad_norm``
(LSTM: ‖∂c_T/∂c_t‖_F) and ``gate_path`` (the gate's direct path max ∏ gate, by lag). Computed
numbers are written to 7 significant digits (the float32 weights to 9: exactly) to keep the page
small.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.data.windows import to_level
from rnnlab.errors import RnnlabError
from rnnlab.explore.trace import build_trace, safe_norm
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
    if net.kind not in CELLS:
        raise RnnlabError(
            f"{where}: the page shows the cells {', '.join(CELLS)}; {net.kind!r} is not yet "
            "supported"
        )
    if net.layers != 1:
        raise RnnlabError(
            f"{where}: the page shows one layer ({', '.join(CELLS)}); this model has {net.layers}"
        )
    why = []
    if f._direct_steps() > 1:
        why.append(f"forecasts {f._direct_steps()} steps at once (strategy direct)")
    if f._quantile_levels() is not None:
        why.append("outputs quantiles (loss pinball)")
    if getattr(f, "covariates_", None) is not None:
        why.append("reads covariates beside the series")
    if why:
        raise RnnlabError(
            f"{where}: the page shows a one-step model of the series alone; this one "
            + " and ".join(why)
        )
    if net.kind != "rnn":
        return _gated_data(f, where)
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
    model = {
        "name": f"{series.name}, {net.kind} H={params.hidden_size}",
        "series": series.name,
        "column": series.column,
        "cell": net.kind,
        "hidden": params.hidden_size,
        "activation": cell.nonlinearity,
        "weights": {k: v.tolist() for k, v in params.as_dict().items()},
        **_data_fields(series, window, levels, pre),
    }
    return model, trace


CELLS = ("rnn", "lstm", "gru", "mingru", "minlstm")

# the gates by name, in the order of their rows in the weights, with what the page says of each
GATES = {
    "lstm": (
        ("input", "i", "σ", "how much of the candidate g enters the cell state"),
        ("forget", "f", "σ", "how much of cₜ₋₁ the cell state keeps"),
        ("candidate", "g", "tanh", "the new content offered to the cell state"),
        ("output", "o", "σ", "how much of tanh(cₜ) is shown as hₜ"),
    ),
    "gru": (
        ("reset", "r", "σ", "how much of W_hn·hₜ₋₁ the candidate sees"),
        ("update", "z", "σ", "torch's convention: the share of the OLD state hₜ₋₁ kept"),
        ("candidate", "n", "tanh", "the new state offered, weighted by 1 − z"),
    ),
    "mingru": (
        ("update", "z", "σ", "the paper's convention: the share of the NEW candidate taken"),
        ("candidate", "h̃", "g", "the new state offered, from xₜ only"),
    ),
    "minlstm": (
        ("forget", "f", "σ", "before normalising: f' = f/(f + i) of hₜ₋₁ is kept"),
        ("input", "i", "σ", "before normalising: i' = i/(f + i) of the candidate is taken"),
        ("candidate", "h̃", "g", "the new state offered, from xₜ only"),
    ),
}
EQUATIONS = {
    "lstm": "cₜ = fₜ⊙cₜ₋₁ + iₜ⊙gₜ,  hₜ = oₜ⊙tanh(cₜ)",
    "gru": "hₜ = (1 − zₜ)⊙nₜ + zₜ⊙hₜ₋₁,  nₜ = tanh(W_in·xₜ + b_in + rₜ⊙(W_hn·hₜ₋₁ + b_hn))",
    "mingru": "hₜ = (1 − zₜ)⊙hₜ₋₁ + zₜ⊙h̃ₜ  (gates from xₜ only)",
    "minlstm": "hₜ = f'ₜ⊙hₜ₋₁ + i'ₜ⊙h̃ₜ,  f' = f/(f + i), i' = i/(f + i)  (gates from xₜ only)",
}
DIGITS = 7  # significant digits of the computed numbers on the page (ample for a picture)
WEIGHT_DIGITS = 9  # a float32 weight exactly


def rounded(a, digits: int = DIGITS) -> list | float:
    """``a`` as (nested) lists of floats to ``digits`` significant digits."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return float(f"{float(a):.{digits}g}")
    return [rounded(v, digits) for v in a]


def gate_values(cell, x, h_prev) -> dict[str, np.ndarray]:
    """The gates at each step by name, each (T, H), from the cell's own weights (float64).

    ``x`` (T, I) the inputs, ``h_prev`` (T, H) the states h_0 … h_{T−1} the cell saw.
    """
    import torch

    from rnnlab.cells.gated import LSTM
    from rnnlab.cells.minimal import MinGRU, g

    X = torch.as_tensor(x, dtype=torch.float64)
    if hasattr(cell, "weight_hh"):  # LSTM, GRU: torch's rows and equations
        w_ih, w_hh = cell.weight_ih.double(), cell.weight_hh.double()
        b_ih, b_hh = cell.bias_ih.double(), cell.bias_hh.double()
        Hp = torch.as_tensor(h_prev, dtype=torch.float64)
        gx, gh = X @ w_ih.T + b_ih, Hp @ w_hh.T + b_hh  # (T, G·H)
        if isinstance(cell, LSTM):
            i, f, gg, o = (gx + gh).chunk(4, dim=-1)
            values = (i.sigmoid(), f.sigmoid(), gg.tanh(), o.sigmoid())
        else:
            (xr, xz, xn), (hr, hz, hn) = gx.chunk(3, dim=-1), gh.chunk(3, dim=-1)
            r = (xr + hr).sigmoid()
            values = (r, (xz + hz).sigmoid(), (xn + r * hn).tanh())
    else:  # minGRU, minLSTM: one linear map of x_t, rows [z; h̃] or [f; i; h̃]
        pre = (X @ cell.weight.double().T + cell.bias.double()).chunk(cell.n_gates, dim=-1)
        if isinstance(cell, MinGRU):
            values = (pre[0].sigmoid(), g(pre[1]))
        else:
            values = (pre[0].sigmoid(), pre[1].sigmoid(), g(pre[2]))
    kind = type(cell).__name__.lower()
    return {spec[0]: v.detach().numpy() for spec, v in zip(GATES[kind], values, strict=True)}


def _state_from_gates(kind: str, gates: dict, h_prev: np.ndarray, c_prev) -> np.ndarray:
    """h_t again from the gates by the cell's equation: the check that they are the cell's."""
    if kind == "lstm":
        c = gates["forget"] * c_prev + gates["input"] * gates["candidate"]
        return gates["output"] * np.tanh(c)
    if kind == "gru":
        z = gates["update"]
        return (1 - z) * gates["candidate"] + z * h_prev
    if kind == "mingru":
        z = gates["update"]
        return (1 - z) * h_prev + z * gates["candidate"]
    f, i = gates["forget"], gates["input"]
    return f / (f + i) * h_prev + i / (f + i) * gates["candidate"]


def _gated_data(f, where: str) -> tuple[dict, dict]:
    """The page's data for one layer of a gated cell: states, gates and gradients, by torch."""
    import copy

    import torch

    from rnnlab.diagnostics.gates import gate_path
    from rnnlab.diagnostics.jacobians import state_jacobians

    kind, cell, head = f.net_config.kind, f.cells[0], f.module_.head
    if cell.input_size != 1:
        raise RnnlabError(f"{where}: the page shows one input per step; this model reads more")
    pre, series = f.preprocessor_, f.series_
    W = pre.config.window
    levels = series.values[-pre.config.first_target :]
    window = pre.transform(levels)[-W:]  # the model's input for the next value   (W,)
    x = window[:, None]  # (T, 1)
    T, H = x.shape[0], cell.hidden_size
    # the states by the model's own step, in float64
    c64 = copy.deepcopy(cell).double().eval()
    with torch.no_grad():
        X = torch.as_tensor(x, dtype=torch.float64)[None]  # (1, T, 1)
        state = c64.initial_state(X)
        hs, cs = [state[0] if kind == "lstm" else state], [state[1]] if kind == "lstm" else []
        for t in range(T):
            h, state = c64.step(X[:, t], state)
            hs.append(h)
            if kind == "lstm":
                cs.append(state[1])
        h = torch.cat(hs).numpy()  # (T+1, H): h_0 … h_T
        c = torch.cat(cs).numpy() if kind == "lstm" else None
        w_out, b_out = head.weight.detach().double().numpy(), head.bias.detach().double().numpy()
    gates = gate_values(c64, x, h[:-1])
    again = _state_from_gates(kind, gates, h[:-1], None if c is None else c[:-1])
    if not np.allclose(again, h[1:], rtol=1e-9, atol=1e-12):  # the equations are the step's
        raise AssertionError(f"{kind}: the gates do not reproduce the cell's own step")
    y = h[1:] @ w_out.T + b_out  # (T, 1)
    J = state_jacobians(cell, x)
    path = gate_path(cell, x, h)
    real = pre.scaler_.inverse_transform(y[-1])
    previous = float(levels[-1])
    steps = []
    for t in range(1, T + 1):
        step = {"t": t, "x": rounded(x[t - 1]), "h_prev": rounded(h[t - 1]), "h": rounded(h[t])}
        if c is not None:
            step["c"] = rounded(c[t])
        step["y"] = rounded(y[t - 1])
        steps.append(step)
    trace = {
        "cell": kind,
        "steps": steps,
        "prediction": y[-1].tolist(),
        "scale": pre.scaler_.to_dict(),
        "prediction_real_units": real.tolist(),
        "next_level": float(to_level(real[0], previous, pre.config.target)),
        "gates": {name: rounded(v) for name, v in gates.items()},
        "grad_norm": [rounded(safe_norm(J.dh[T - k])) for k in range(T)],
    }
    if J.dc is not None:
        trace["cell_grad_norm"] = [rounded(safe_norm(J.dc[T - k])) for k in range(T)]
    if path is not None:
        trace["gate_path"] = [rounded(path.path[T - k]) for k in range(T)]
    weights = {n: rounded(p.detach().numpy(), WEIGHT_DIGITS) for n, p in cell.named_parameters()}
    weights["w_out"] = rounded(head.weight.detach().numpy(), WEIGHT_DIGITS)
    weights["b_out"] = rounded(head.bias.detach().numpy(), WEIGHT_DIGITS)
    model = {
        "name": f"{series.name}, {kind} H={H}",
        "series": series.name,
        "column": series.column,
        "cell": kind,
        "hidden": H,
        "activation": None,
        "gates": [{"name": n, "symbol": s, "squash": q, "what": w} for n, s, q, w in GATES[kind]],
        "equation": EQUATIONS[kind],
        "path_gate": None if path is None else path.name,
        "weights": weights,
        **_data_fields(series, window, levels, pre),
    }
    return model, trace


def _data_fields(series, window: np.ndarray, levels: np.ndarray, pre) -> dict:
    """What every model page shows of the data: the last window, its levels, the target mode,
    the scaler (the maths outside the cell) and the next date."""
    dates = series.next_dates(1)
    return {
        "window": window.tolist(),
        "levels": levels.tolist(),
        "previous": float(levels[-1]),
        "target": pre.config.target,
        "scale": pre.scaler_.to_dict(),
        "next_date": None if dates is None else str(np.datetime_as_string(dates[0], unit="D")),
    }
