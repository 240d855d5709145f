"""``rnnlab gradients``: vanishing and exploding gradients, measured next to the theory.

‖∂h_T/∂h_t‖ and ‖∂L/∂h_t‖ for every lag on a real network (fresh, or a checkpoint), the theory
line (Wh^k, or the bound (γ·σ_max(Wh))^k), the fitted growth rate per step, the gates at work,
a PNG plot and a one-line verdict; with ``--train``, exploding gradients in practice.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from rnnlab.commands.common import (
    MAX_WEIGHT,
    add_json_option,
    add_seed_option,
    fmt,
    make_console,
    output_file,
    parse_number,
    print_json,
    real,
    threads,
    user_text,
    whole,
)
from rnnlab.commands.data_options import MAX_BATCH, MAX_HIDDEN
from rnnlab.errors import RnnlabError

_FRESH = ("cell", "wh", "hidden", "steps", "init", "scale", "forget_bias", "nonlinearity")
# rnnlab.cells.init.INIT_SCHEMES, spelt out so that --help imports no torch (a test keeps
# the two equal).
INIT_SCHEMES = ("default", "normal", "orthogonal", "identity")
MAX_STEPS = 10_000  # T
MAX_JACOBIAN = 2**26  # T·H² entries of the Jacobians ∂h_T/∂h_t kept at once (512 MiB, float64)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``gradients`` command."""
    p = sub.add_parser(
        "gradients",
        help="vanishing and exploding gradients, measured, next to the theory",
        description=(
            "Measure ‖∂h_T/∂h_t‖ and ‖∂L/∂h_t‖ for every lag k = T − t on a real network and "
            "compare with the theory: Wh^k for the scalar tanh RNN at zero input, the bound "
            "(γ·σ_max(Wh))^k for matrices. Prints a table on a log scale, the fitted growth "
            "rate per step and a verdict, and writes a PNG plot."
        ),
    )
    p.add_argument("--cell", metavar="NAME", help="rnn (default), lstm, gru, irnn, … any cell")
    p.add_argument(
        "--wh",
        metavar="X",
        help="the scalar tanh RNN with this recurrent weight (H = 1, zero bias, zero input)",
    )
    p.add_argument(
        "--hidden", type=whole(1, MAX_HIDDEN), metavar="H", help="hidden units (default 32)"
    )
    p.add_argument(
        "--steps", type=whole(2, MAX_STEPS), metavar="T", help="sequence length T (default 50)"
    )
    p.add_argument(
        "--init",
        choices=INIT_SCHEMES,
        help="recurrent weights: the cell's own (default), normal, orthogonal or identity",
    )
    p.add_argument("--scale", metavar="S", help="times the --init scheme (default 1)")
    p.add_argument("--forget-bias", metavar="B", help="LSTM: the forget gate's bias")
    p.add_argument("--nonlinearity", choices=("tanh", "relu"), help="rnn: the activation")
    p.add_argument(
        "--input",
        choices=("zero", "noise", "data"),
        help="x_t = 0, x_t ~ N(0,1), or (with --model) the checkpoint's last window; "
        "default zero with --wh, data with --model, noise otherwise",
    )
    p.add_argument("--model", type=Path, metavar="DIR", help="a checkpoint from rnnlab train")
    p.add_argument(
        "--plot",
        type=Path,
        default=Path("gradients.png"),
        metavar="FILE.png",
        help="where to write the plot (default gradients.png)",
    )
    p.add_argument("--no-plot", action="store_true", help="write no plot")
    g = p.add_argument_group("exploding in practice (--train)")
    g.add_argument(
        "--train",
        action="store_true",
        help="also train this network on the adding problem twice, without and with clipping",
    )
    g.add_argument(
        "--train-length",
        type=whole(2, MAX_STEPS),
        default=10,
        help="adding problem's T (default 10)",
    )
    g.add_argument("--train-steps", type=whole(1), help="steps per run (default 1000)")
    g.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="default sgd")
    g.add_argument(
        "--lr", type=real(0, above=True), default=0.1, help="learning rate (default 0.1)"
    )
    g.add_argument(
        "--clip", type=real(0, above=True), default=1.0, help="the clipped run's norm (default 1)"
    )
    g.add_argument(
        "--batch-size", type=whole(1, MAX_BATCH), default=32, help="sequences per step (default 32)"
    )
    g.add_argument("--threads", type=threads, default=1, help="torch threads (default 1)")
    add_seed_option(p)
    add_json_option(p)
    p.set_defaults(run=run)


def _number(text: str | None, option: str) -> float | None:
    return None if text is None else parse_number(text, option, MAX_WEIGHT)


def check_options(args: argparse.Namespace) -> None:
    """Conflicting or invalid options, found before torch is imported."""
    if args.model is not None:
        given = [o for o in _FRESH if getattr(args, o) is not None]
        if given:
            raise RnnlabError(f"--{given[0].replace('_', '-')}: comes from --model; drop it")
        if args.train:
            raise RnnlabError("--train: trains a fresh network; not with --model")
    elif args.input == "data":
        raise RnnlabError("--input data: needs --model DIR (a checkpoint's window)")
    if _number(args.wh, "--wh") is not None:
        for option in ("cell", "hidden", "init", "scale", "forget_bias", "nonlinearity"):
            if getattr(args, option) is not None:
                name = option.replace("_", "-")
                raise RnnlabError(f"--{name}: --wh sets the scalar tanh RNN; drop --{name}")
    _number(args.scale, "--scale")
    if _number(args.forget_bias, "--forget-bias") is not None and args.cell != "lstm":
        raise RnnlabError(
            f"--forget-bias: only the LSTM has a forget gate, not {args.cell or 'rnn'}"
        )
    if not args.no_plot:
        output_file(args.plot, "--plot")


def probe_from_args(args: argparse.Namespace):
    """The :class:`Probe` the options describe (a checkpoint, or a fresh network)."""
    from rnnlab.diagnostics.probe import ProbeConfig, checkpoint_probe, random_probe

    if args.model is not None:
        return checkpoint_probe(args.model, args.input or "data", args.seed)
    wh = _number(args.wh, "--wh")
    config = ProbeConfig(
        cell=args.cell or "rnn",
        hidden=args.hidden if args.hidden is not None else 32,
        steps=args.steps if args.steps is not None else 50,
        init=args.init or "default",
        scale=_number(args.scale, "--scale") if args.scale is not None else 1.0,
        wh=wh,
        input=args.input or ("zero" if wh is not None else "noise"),
        forget_bias=_number(args.forget_bias, "--forget-bias"),
        cell_options={} if args.nonlinearity is None else {"nonlinearity": args.nonlinearity},
        seed=args.seed,
    )
    return random_probe(config)


def run(args: argparse.Namespace) -> int:
    """Measure, optionally train, plot, print."""
    check_options(args)
    from rnnlab.cells import cell_names

    if args.cell is not None and args.cell not in cell_names():
        known = ", ".join(cell_names())
        raise RnnlabError(f"--cell: unknown cell {args.cell!r}; choose from {known}")
    from rnnlab.commands.data_options import set_threads
    from rnnlab.diagnostics.flow import gradient_flow

    set_threads(args)
    probe = probe_from_args(args)
    T, H = probe.x.shape[0], probe.cell.hidden_size
    if T * H * H > MAX_JACOBIAN:
        raise RnnlabError(
            f"--steps, --hidden: T·H² = {T}·{H}² = {T * H * H} Jacobian entries, more than "
            f"{MAX_JACOBIAN} (memory T·H²·8 bytes, time T·H³); use fewer steps or units"
        )
    flow = gradient_flow(probe.cell, probe.x, probe.head)
    training = _train(args, probe) if args.train else None
    plot = None
    if not args.no_plot:
        from rnnlab.atomic import write_errors
        from rnnlab.diagnostics.plot import plot_gradient_flow

        runs = None if training is None else training[1:3]
        with write_errors("--plot", "the plot", args.plot):
            plot = plot_gradient_flow(flow, probe.description, args.plot, runs)
    if args.json:
        print_json(to_json(probe, flow, training, plot))
        return 0
    _print(probe, flow, training, plot)
    return 0


def _train(args: argparse.Namespace, probe):
    from rnnlab.diagnostics.explode import ExplodeConfig, exploding_in_practice
    from rnnlab.diagnostics.theory import spectrum
    from rnnlab.tasks.adding import AddingProblem
    from rnnlab.tasks.runner import build_net

    steps = args.train_steps if args.train_steps is not None else 1000
    wh = _number(args.wh, "--wh")
    config = ExplodeConfig(
        cell=probe.name,
        hidden=1 if wh is not None else (args.hidden or 32),
        init="identity" if wh is not None else (args.init or "default"),
        scale=wh if wh is not None else (_number(args.scale, "--scale") or 1.0),
        cell_options={} if args.nonlinearity is None else {"nonlinearity": args.nonlinearity},
        length=args.train_length,
        steps=steps,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        clip=args.clip,
        seed=args.seed,
    )
    net = build_net(AddingProblem(config.length), config.run_config(None))
    weights = [p for name, p in net.cell.named_parameters() if name in ("wh", "weight_hh")]
    sigma = spectrum(weights[0].detach().double().numpy())["sigma_max"] if weights else None
    plain, clipped, baseline = exploding_in_practice(config)
    return config, plain, clipped, baseline, sigma


def _finite(values) -> list:
    return [None if v is None or not math.isfinite(v) else float(v) for v in values]


def _run_json(r) -> dict:
    return {
        "status": r.status,
        "message": r.message,
        "steps": r.steps,
        "final_loss": _finite([r.final_loss])[0],
        "clipping": r.clipping.to_dict(),
        "grad_norm": _finite(r.grad_norm),
        "val_loss": [{"step": s, "loss": _finite([v])[0]} for s, _, _, v in r.curve],
    }


def to_json(probe, flow, training, plot) -> dict:
    """The ``--json`` object."""
    gate = flow.gate
    T = flow.steps
    out = {
        "cell": probe.name,
        "steps": T,
        "hidden": probe.cell.hidden_size,
        "description": probe.description,
        "lags": flow.lags.tolist(),
        "grad_norm": _finite(flow.grad_norm),
        "grad_min": _finite(flow.grad_min),
        "loss_grad_norm": _finite(flow.loss_grad_norm),
        "theory": _finite(flow.theory),
        "theory_kind": flow.theory_kind,
        "theory_name": flow.theory_name,
        "rate": flow.rate,
        "loss_rate": flow.loss_rate,
        "verdict": flow.verdict,
        "spectrum": flow.spectrum,
        "cell_state_norm": None if flow.cell_state_norm is None else _finite(flow.cell_state_norm),
        "gate": None
        if gate is None
        else {
            "name": gate.name,
            "state": gate.state,
            "exact": gate.exact,
            "mean": gate.values.mean(axis=1).tolist(),  # steps 1 … T
            "min": gate.values.min(axis=1).tolist(),
            "max": gate.values.max(axis=1).tolist(),
            "path": _finite(gate.path[T - flow.lags]),  # by lag
        },
        "plot": None if plot is None else str(plot),
        "training": None,
    }
    if training is not None:
        config, plain, clipped, baseline, sigma = training
        out["training"] = {
            "task": f"adding, T = {config.length}",
            "baseline": baseline,
            "sigma_max": sigma,
            "explode_factor": config.explode_factor,  # exploded: ‖g_k‖ > factor · ‖g_1‖
            "config": config.to_dict(),
            "no_clip": _run_json(plain),
            "clip": _run_json(clipped),
        }
    return out


def _lag_rows(T: int) -> list[int]:
    """Lags to show: all of them up to T = 16, else 0 … 5 and a dozen spread up to T − 1."""
    if T <= 16:
        return list(range(T))
    rows = set(range(6)) | {round(v) for v in np.linspace(0, T - 1, 12)}
    return sorted(rows)


def _bar(value: float, lo: float, hi: float, width: int = 24) -> str:
    if value is None or not math.isfinite(value) or value <= 0:
        return "·"
    if hi <= lo:
        return "█" * width
    frac = (math.log10(value) - lo) / (hi - lo)
    return "█" * max(1, round(frac * width))


def _print(probe, flow, training, plot) -> None:
    from rich.table import Table

    console = make_console()
    T = flow.steps
    console.print(f"[bold]Gradient flow through time[/]: {user_text(probe.description, 200)}")
    if flow.spectrum is not None:
        s = flow.spectrum
        console.print(
            f"Wh: σ_max = {fmt(s['sigma_max'], 4)}, σ_min = {fmt(s['sigma_min'], 4)}, "
            f"spectral radius max|λ| = {fmt(s['spectral_radius'], 4)}"
        )
    if flow.theory_name:
        console.print(f"Theory ({flow.theory_kind}): {flow.theory_name}")
    shown = _lag_rows(T)
    logs = [math.log10(v) for v in flow.grad_norm[shown] if math.isfinite(v) and v > 0]
    lo, hi = (min(logs), max(logs)) if logs else (0.0, 0.0)
    table = Table(title=None)
    cols = ["lag k", "t", "‖∂h_T/∂h_t‖", "theory", "σ_min", "‖∂L/∂h_t‖"]
    if flow.cell_state_norm is not None:
        cols.append("‖∂c_T/∂c_t‖")
    if flow.gate is not None:
        cols += ["∏ gate", "mean gate_t"]
    for c in cols:
        table.add_column(c, justify="right", no_wrap=True)
    table.add_column("log scale", no_wrap=True)
    for k in shown:
        t = T - k
        row = [str(k), str(t), fmt(flow.grad_norm[k], 4)]
        theory = flow.theory[k]
        row.append("—" if theory is None else fmt(theory, 4))
        row += [fmt(flow.grad_min[k], 4), fmt(flow.loss_grad_norm[k], 4)]
        if flow.cell_state_norm is not None:
            row.append(fmt(flow.cell_state_norm[k], 4))
        if flow.gate is not None:
            row += [fmt(flow.gate.path[t], 4), fmt(flow.gate.values[t - 1].mean(), 3)]
        row.append(_bar(flow.grad_norm[k], lo, hi))
        table.add_row(*row)
    console.print(table)
    rate = f"Fitted growth rate per step: ×{fmt(flow.rate, 4)}"
    if flow.theory_kind is not None and flow.spectrum is not None:
        rate += f" (theory: at most ×{fmt(flow.spectrum['sigma_max'], 4)}, σ_max(Wh))"
    console.print(rate + f"; ‖∂L/∂h_t‖: ×{fmt(flow.loss_rate, 4)} per step")
    if flow.gate is not None:
        g = flow.gate
        console.print(
            f"Gates at work — {g.name}: mean {g.values.mean():.3f} over steps and units "
            f"(min {g.values.min():.3f}, max {g.values.max():.3f}); "
            + (
                "here the gates do not see h_{t−1}, so this path is the whole Jacobian."
                if g.exact
                else "a gate near 1 keeps the gradient along this path; near 0.5 halves it "
                "every step."
            )
        )
    console.print(f"[bold]Verdict[/]: {flow.verdict}")
    if training is not None:
        _print_training(console, training)
    if plot is not None:
        console.print(f"Plot: {user_text(plot, None)}")


def _print_training(console, training) -> None:
    config, plain, clipped, baseline, sigma = training
    sig = "n/a" if sigma is None else fmt(sigma, 4)
    console.print(
        f"[bold]Exploding in practice[/]: {config.cell}, H = {config.hidden}, σ_max(Wh) = {sig} "
        f"at the start, on the adding problem T = {config.length} (baseline MSE "
        f"{baseline:.4f}), {config.optimizer} lr {config.lr:g}, batch {config.batch_size}, "
        f"{config.steps} steps, same seed for both runs; exploded means ‖g‖ past "
        f"{config.explode_factor:g}× the first step's"
    )
    for label, r in (("no clipping", plain), (f"clip at {config.clip:g}", clipped)):
        if r.diverged:
            what = f"[red]{r.status}[/] at {r.message} — caught, training stopped"
        else:
            first = r.curve[0][3] if r.curve else math.nan
            what = (
                f"trained {r.steps} steps: validation MSE {fmt(first, 4)} at step "
                f"{r.curve[0][0] if r.curve else 0} → {fmt(r.final_loss, 4)} at the end"
            )
        console.print(f"  {label:<12} {what}")
        console.print(f"  {'':<12} {r.clipping.describe()}")
