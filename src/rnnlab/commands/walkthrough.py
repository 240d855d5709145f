"""``rnnlab walkthrough``: the unrolled cell with every number, step by step.

Defaults reproduce the classic toy: yesterday's and today's (squashed) price 0 and 0, made-up
weights with zero biases, and the prediction for tomorrow is 0.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rnnlab.commands.common import (
    add_json_option,
    fmt,
    make_console,
    parse_number,
    parse_numbers,
    parse_pair,
    print_json,
)
from rnnlab.errors import RnnlabError

# Made-up weights of the classic toy (zero biases): any weights give 0 for the inputs 0, 0.
TOY = {"wx": 1.8, "wh": -0.5, "b": 0.0, "wout": 1.1, "bout": 0.0}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``walkthrough`` command."""
    p = sub.add_parser(
        "walkthrough",
        help="the unrolled RNN with every number, step by step",
        description=(
            "Print the unrolled computation h_t = tanh(Wx·x_t + Wh·h_{t-1} + b), "
            "y_t = W_out·h_t + b_out for each step on your inputs and weights. "
            "Defaults: the classic toy, prices 0, 0 -> prediction 0."
        ),
    )
    p.add_argument(
        "--inputs",
        default="0,0",
        help="the sequence: '0,0' (one feature per step), or '1,2;3,4' (steps split by ';', "
        "features by ',') (default 0,0)",
    )
    for name, label in (
        ("wx", "input weight Wx"),
        ("wh", "recurrent weight Wh"),
        ("b", "hidden bias b"),
        ("wout", "output weight W_out"),
        ("bout", "output bias b_out"),
    ):
        p.add_argument(f"--{name}", metavar="X", help=f"{label} (default {TOY[name]})")
    p.add_argument(
        "--weights",
        metavar="FILE.json",
        type=Path,
        help="matrices as a JSON object with the keys wx, wh, b, wout, bout (numbers or lists)",
    )
    p.add_argument("--h0", metavar="H", help="initial hidden state, e.g. '0.5' or '0.1,0.2'")
    p.add_argument("--activation", choices=["tanh", "relu"], default="tanh")
    scale = p.add_mutually_exclusive_group()
    scale.add_argument(
        "--scale",
        metavar="MIN,MAX",
        help="the min-max scale the values were squashed with; shows the prediction in real "
        "units, MIN + y·(MAX − MIN)",
    )
    scale.add_argument(
        "--standard",
        metavar="MEAN,STD",
        help="the mean/std scale the values were standardised with; real = MEAN + y·STD",
    )
    add_json_option(p)
    p.set_defaults(run=run)


def _params(args: argparse.Namespace):
    from rnnlab.glassbox import RNNParams
    from rnnlab.glassbox.params import params_from_mapping

    given = [name for name in TOY if getattr(args, name) is not None]
    if args.weights is None:
        values = {
            name: TOY[name]
            if getattr(args, name) is None
            else parse_number(getattr(args, name), f"--{name}")
            for name in TOY
        }
        return RNNParams.scalar(**values)
    if given:
        raise RnnlabError(f"--weights: give either a weights file or --{given[0]}, not both")
    path: Path = args.weights
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
    from rnnlab.glassbox import forward, step_records

    params = _params(args)
    xs = _inputs(args.inputs, params.input_size)
    h0 = None
    if args.h0 is not None:
        h0 = np.array(parse_numbers(args.h0, "--h0"))
        if h0.size != params.hidden_size:
            raise RnnlabError(f"--h0: expected {params.hidden_size} value(s), got {h0.size}")
    scaler = None
    if args.scale is not None:
        low, high = parse_pair(args.scale, "--scale", ("MIN", "MAX"))
        scaler = MinMaxScaler(low=low, high=high)
    elif args.standard is not None:
        mean, std = parse_pair(args.standard, "--standard", ("MEAN", "STD"))
        scaler = StandardScaler(mean=mean, std=std)

    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        cache = forward(params, xs, h0=h0, activation=args.activation)
        steps = step_records(cache)
        prediction = cache.y[-1]
        real = None if scaler is None else scaler.inverse_transform(prediction)
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

    # Quantities are plain numbers for the scalar RNN (H = I = O = 1), lists otherwise.
    def out(v: np.ndarray) -> float | list:
        return float(v.ravel()[0]) if params.is_scalar else np.asarray(v).tolist()

    if args.json:
        result = {
            "activation": args.activation,
            "weights": {k: out(v) for k, v in params.as_dict().items()},
            "steps": [
                {
                    "t": s.t,
                    "x": out(s.x),
                    "h_prev": out(s.h_prev),
                    "wx_x": out(s.wx_x),
                    "wh_h": out(s.wh_h),
                    "pre_activation": out(s.pre_activation),
                    "h": out(s.h),
                    "y": out(s.y),
                }
                for s in steps
            ],
            "prediction": out(prediction),
        }
        if scaler is not None:
            result["scale"] = scaler.to_dict()
            result["prediction_real_units"] = out(real)
        print_json(result)
        return 0
    _print_tables(params, steps, prediction, args.activation, scaler, real)
    return 0


def _print_tables(params, steps, prediction, activation, scaler, real) -> None:
    from rich.table import Table

    console = make_console()

    def show(v: np.ndarray) -> str:  # plain numbers for the scalar RNN, lists otherwise
        return fmt(np.asarray(v).ravel()[0]) if params.is_scalar else fmt(v)

    H, I, O = params.hidden_size, params.input_size, params.output_size
    act = "tanh" if activation == "tanh" else "relu"
    console.print(
        f"[bold]The unrolled RNN[/] (H={H} hidden, I={I} input, O={O} output): "
        f"h_t = {act}(Wx·x_t + Wh·h_(t-1) + b),  y_t = W_out·h_t + b_out"
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
    table = Table(title=None, show_lines=False)
    for col in (
        "t",
        "x_t",
        "h_(t-1)",
        "Wx·x_t",
        "Wh·h_(t-1)",
        "a_t = sum + b",
        f"h_t = {act}(a_t)",
        "y_t",
    ):
        table.add_column(col, justify="right", no_wrap=True)
    for s in steps:
        table.add_row(
            str(s.t),
            show(s.x),
            show(s.h_prev),
            show(s.wx_x),
            show(s.wh_h),
            show(s.pre_activation),
            show(s.h),
            show(s.y),
        )
    console.print(table)
    T = len(steps)
    console.print(
        f"Prediction of the next value (y_{T}, the output after the last input): "
        f"[bold]{show(prediction)}[/]"
    )
    if scaler is not None:
        if scaler.kind == "minmax":
            how = f"{fmt(scaler.low)} + y·({fmt(scaler.high)} − {fmt(scaler.low)})"
        else:
            how = f"{fmt(scaler.mean)} + y·{fmt(scaler.std)}"
        console.print(
            f"The maths outside the cell: real = {how} = [bold]{show(real)}[/] in real units"
        )
