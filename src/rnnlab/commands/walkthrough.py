"""``rnnlab walkthrough``: the unrolled cell with every number, step by step.

Defaults reproduce the classic toy: yesterday's and today's (squashed) price 0 and 0, made-up
weights with zero biases, and the prediction for tomorrow is 0.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from rnnlab.commands.common import (
    add_json_option,
    fmt,
    make_console,
    parse_numbers,
    parse_pair,
    print_json,
    user_text,
)
from rnnlab.config import add_options, from_args
from rnnlab.errors import RnnlabError
from rnnlab.glassbox.head import WHY_LINEAR
from rnnlab.settings.walkthrough import WalkthroughConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``walkthrough`` command: its options are :class:`WalkthroughConfig`'s fields."""
    p = sub.add_parser(
        "walkthrough",
        help="the unrolled RNN with every number, step by step",
        description=(
            "Print the unrolled computation h_t = tanh(Wx·x_t + Wh·h_{t-1} + b), "
            "y_t = W_out·h_t + b_out (or p_t = softmax(W_out·h_t + b_out) over classes with "
            "--head softmax) for each step on your inputs and weights. "
            "Defaults: the classic toy, prices 0, 0 -> prediction 0."
        ),
    )
    add_options(p, WalkthroughConfig)
    add_json_option(p)
    p.set_defaults(run=run, settings=WalkthroughConfig)


def _params(config: WalkthroughConfig):
    """The weights; for the softmax head W_out has one row per class."""
    from dataclasses import replace

    from rnnlab.glassbox import RNNParams, class_weights

    classes = config.class_names()
    if config.weights is None:
        params = RNNParams.scalar(**config.scalars())
        if not classes:
            return params
        wout, bout = class_weights(config.wout, config.bout, len(classes))
        return replace(params, wout=wout, bout=bout)
    params = _file_params(config)
    if classes and params.output_size != len(classes):
        raise RnnlabError(
            f"--weights: wout has {params.output_size} row(s) but --classes names "
            f"{len(classes)}: the softmax head needs one row of W_out per class"
        )
    return params


def _file_params(config: WalkthroughConfig):
    from rnnlab.glassbox.params import params_from_mapping

    path = config.weights
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RnnlabError(f"--weights: {path}: no such file") from None
    except IsADirectoryError:
        raise RnnlabError(f"--weights: {path}: is a directory, not a JSON file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RnnlabError(f"--weights: {path}: cannot read it ({exc.__class__.__name__})") from None
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RnnlabError(
            f"--weights: {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return params_from_mapping(mapping, source=f"--weights: {path}")


def _inputs(text: str, input_size: int) -> np.ndarray:
    """'0,0' is two steps of one feature; '1,2;3,4' is two steps of two features."""
    if not text.strip():
        raise RnnlabError("--inputs: the list is empty")
    if ";" not in text and input_size == 1:
        return np.array(parse_numbers(text, "--inputs"))[:, None]
    rows = []
    for t, chunk in enumerate(text.split(";"), start=1):
        row = parse_numbers(chunk, f"--inputs step {t}")
        if len(row) != input_size:
            raise RnnlabError(
                f"--inputs: step {t} has {len(row)} value(s) but Wx expects {input_size} "
                "feature(s) per step"
            )
        rows.append(row)
    return np.array(rows)


def run(args: argparse.Namespace) -> int:
    """Parse the options, run the glass box, print the steps."""
    from rnnlab.data.scaling import MinMaxScaler, StandardScaler
    from rnnlab.glassbox import forward, softmax_head, step_records

    config = from_args(WalkthroughConfig, args)
    classes = config.class_names()
    if classes and (config.scale is not None or config.standard is not None):
        raise RnnlabError(
            "--scale/--standard turn a price back into real units; the softmax "
            "head gives class probabilities, which have none"
        )
    params = _params(config)
    xs = _inputs(config.inputs, params.input_size)
    h0 = None
    if config.h0 is not None:
        h0 = np.array(parse_numbers(config.h0, "--h0"))
        if h0.size != params.hidden_size:
            raise RnnlabError(f"--h0: expected {params.hidden_size} value(s), got {h0.size}")
    scaler = None
    if config.scale is not None:
        low, high = parse_pair(config.scale, "--scale", ("MIN", "MAX"))
        scaler = MinMaxScaler(low=low, high=high)
    elif config.standard is not None:
        mean, std = parse_pair(config.standard, "--standard", ("MEAN", "STD"))
        scaler = StandardScaler(mean=mean, std=std)

    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        cache = forward(params, xs, h0=h0, activation=config.activation, head=config.head)
        steps = step_records(cache)
        prediction = cache.p[-1]
        real = None if scaler is None or classes else scaler.inverse_transform(prediction)
        head = None
        if classes:
            head = softmax_head(cache.h[-1], params.wout, params.bout, classes)
    for s in steps:
        parts = (s.wx_x, s.wh_h, s.pre_activation, s.h, s.y)
        if not all(np.all(np.isfinite(v)) for v in parts):
            raise RnnlabError(
                f"step {s.t}: the numbers overflow float64 (Wx·x_t, Wh·h_(t-1) or y_t beyond "
                "1.8e308); use smaller weights, inputs or --h0"
            )
    if real is not None and not np.all(np.isfinite(real)):
        raise RnnlabError(
            "the prediction in real units overflows float64; check --scale/--standard"
        )

    if args.json:
        from rnnlab.glassbox.steps import steps_json

        result = steps_json(
            params, steps, prediction, config.activation, scaler if head is None else None
        )
        if head is not None:
            result["head"] = {"kind": "softmax", **head.to_dict()}
        print_json(result)
        return 0
    _print_tables(params, steps, prediction, config.activation, scaler, real, head)
    return 0


def _print_tables(params, steps, prediction, activation, scaler, real, head) -> None:
    """The weights, then one row per step (a block per step where the row would not fit the
    terminal), then the prediction."""
    from rich.console import Console
    from rich.table import Table

    console = make_console()

    def show(v: np.ndarray) -> str:  # plain numbers for the scalar RNN, lists otherwise
        return fmt(np.asarray(v).ravel()[0]) if params.is_scalar else fmt(v)

    H, I, O = params.hidden_size, params.input_size, params.output_size
    act = "tanh" if activation == "tanh" else "relu"
    out_eq = "y_t = W_out·h_t + b_out"
    if head is not None:
        out_eq = "p_t = softmax(W_out·h_t + b_out)"
    console.print(
        f"[bold]The unrolled RNN[/] (H={H} hidden, I={I} input, O={O} output): "
        f"a_t = Wx·x_t + Wh·h_(t-1) + b,  h_t = {act}(a_t),  {out_eq}"
    )
    console.print(
        "The same Wx, Wh and b serve every step (and the same W_out, b_out every output):"
    )
    for name, label in (
        ("wx", "Wx"),
        ("wh", "Wh"),
        ("b", "b"),
        ("wout", "W_out"),
        ("bout", "b_out"),
    ):
        value = getattr(params, name)
        shape = "" if params.is_scalar else f"  {tuple(value.shape)}"
        console.print(f"  {label:<5} = {show(value)}{shape}")
    last = "y_t" if head is None else "p_t"
    names = ("t", "x_t", "h_(t-1)", "Wx·x_t", "Wh·h_(t-1)", "a_t", "h_t", last)
    rows = [
        [str(s.t)] + [show(v) for v in (s.x, s.h_prev, s.wx_x, s.wh_h, s.pre_activation)]
        for s in steps
    ]
    table = Table(box=None, pad_edge=False)
    for col in names:
        table.add_column(col, justify="right", no_wrap=True)
    for row, s in zip(rows, steps, strict=True):
        row += [show(s.h), show(s.y)]
        table.add_row(*row)
    if Console(width=1000).measure(table).maximum <= console.width:
        console.print(table)
    else:  # too wide for this terminal (long numbers, matrices): one block per step
        for row in rows:
            console.print(f"[bold]t = {row[0]}[/]")
            for name, value in zip(names[1:], row[1:], strict=True):
                console.print(f"  {name:<10} = {value}")
    T = len(steps)
    if head is not None:
        _print_head(console, head, T)
        return
    console.print(
        f"Prediction of the next value (y_{T}, the output after the last input): "
        f"[bold]{show(prediction)}[/]"
    )
    console.print(f"Why a linear head: {WHY_LINEAR}.")
    if scaler is not None:
        if scaler.kind == "minmax":
            how = f"{fmt(scaler.low)} + y·({fmt(scaler.high)} − {fmt(scaler.low)})"
        else:
            how = f"{fmt(scaler.mean)} + y·{fmt(scaler.std)}"
        console.print(
            f"The maths outside the cell: real = {how} = [bold]{show(real)}[/] in real units"
        )


def _print_head(console, head, T: int) -> None:
    """The softmax head on h_T, one row per class: W_out·h, the logit, exp, the probability."""
    from rich.table import Table

    console.print(
        f"The softmax head on h_{T}: z_k = W_out[k]·h_{T} + b_out[k], "
        "p_k = exp(z_k − max z) / Σ_j exp(z_j − max z)"
    )
    table = Table(box=None, pad_edge=False)
    for col in ("class", f"W_out·h_{T}", "z_k", "z_k − max z", "exp", "p_k"):
        table.add_column(col, justify="left" if col == "class" else "right", no_wrap=True)
    for k, name in enumerate(head.classes):
        cells = (head.w_h[k], head.logits[k], head.shifted[k], head.exps[k])
        table.add_row(user_text(name), *(fmt(v) for v in cells), fmt(head.probabilities[k]))
    console.print(table)
    total = float(head.probabilities.sum())
    top = [
        n
        for n, p in zip(head.classes, head.probabilities, strict=True)
        if p == max(head.probabilities)
    ]
    called = (
        f"[bold]{user_text(head.predicted)}[/]"
        if len(top) == 1
        else f"none, a tie between {', '.join(user_text(n) for n in top)}"
    )
    console.print(
        f"Σ exp = {fmt(head.exps.sum())}; the probabilities sum to {fmt(total, 15)}. "
        f"Predicted class: {called}"
    )
    console.print(f"Why a price takes the linear head instead: {WHY_LINEAR}.")
