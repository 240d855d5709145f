"""``rnnlab gradients``: vanishing and exploding gradients, measured next to the theory.

‖∂h_T/∂h_t‖ and ‖∂L/∂h_t‖ for every lag on a real network (fresh, or a checkpoint), the theory
line (Wh^k, or the bound (γ·σ_max(Wh))^k), the fitted growth rate per step, the gates at work,
a PNG plot and a one-line verdict; with ``--train``, exploding gradients in practice.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from rnnlab.commands.common import (
    add_json_option,
    fmt,
    make_console,
    output_file,
    print_json,
    threads,
    user_text,
)
from rnnlab.config import add_options, from_args
from rnnlab.errors import RnnlabError
from rnnlab.settings.cells import INIT_SCHEMES
from rnnlab.settings.gradients import FROM_PROBE, GradientsConfig, jacobian_size_error

__all__ = ["INIT_SCHEMES", "register", "run", "to_json"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``gradients`` command: its options are :class:`GradientsConfig`'s fields."""
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
    add_options(
        p,
        GradientsConfig,
        groups={"practice": "exploding in practice (--train)"},
        skip=[f"practice.{name}" for name in FROM_PROBE],
    )
    p.add_argument("--threads", type=threads, default=1, help="torch threads (default 1)")
    add_json_option(p)
    p.set_defaults(run=run, settings=GradientsConfig)


def run(args: argparse.Namespace) -> int:
    """Measure, print, optionally train (saying so first), plot."""
    config = from_args(GradientsConfig, args)
    from rnnlab.devices import resolve_device

    resolve_device(config.device)  # cuda without a GPU: one line naming --device, before any work
    plot_path = config.plot_path
    if plot_path is not None:
        output_file(plot_path, "--plot")
    from rnnlab.commands.data_options import set_threads
    from rnnlab.diagnostics.flow import gradient_flow
    from rnnlab.diagnostics.probe import checkpoint_probe, random_probe

    set_threads(args)
    if config.model is not None:
        probe = checkpoint_probe(config.model, config.input_kind, config.probe.seed)
        T, H = probe.x.shape[0], probe.cell.hidden_size
        if (why := jacobian_size_error(T, H)) is not None:
            raise RnnlabError(f"--model: {why}")
    else:
        probe = random_probe(config.probe_config())
    flow = gradient_flow(probe.cell, probe.x, probe.head)
    parts = None
    if config.contributions:
        from rnnlab.diagnostics.contributions import wh_contributions_of

        parts = wh_contributions_of(probe.cell, probe.x, probe.head, config.long_lag)
    console = None if args.json else make_console()
    if not config.train:  # the plot first: a failed write leaves stdout empty
        plot = _plot(plot_path, flow, probe, None)
        if console is not None:
            _print(console, probe, flow)
            if parts is not None:
                _print_contributions(console, parts)
            if plot is not None:
                console.print(f"Plot: {user_text(plot, None)}")
        else:
            print_json(to_json(probe, flow, None, plot, parts))
        return 0
    if console is not None:  # the measurement while the training runs: said before it starts
        _print(console, probe, flow)
        if parts is not None:
            _print_contributions(console, parts)
    explode = config.explode_config()
    if console is not None:
        console.print(
            f"[bold]Exploding in practice[/]: training {explode.cell} twice on the adding "
            f"problem T = {explode.length}, {explode.steps} {explode.optimizer} steps each, "
            f"without and with clipping at {explode.clip:g} …"
        )
    training = _train(explode)
    if console is not None:
        _print_training(console, training)
    plot = _plot(plot_path, flow, probe, training[1:3])
    if console is None:
        print_json(to_json(probe, flow, training, plot, parts))
    elif plot is not None:
        console.print(f"Plot: {user_text(plot, None)}")
    return 0


def _plot(path, flow, probe, runs):
    """Write the PNG (None: no plot asked for); returns its path."""
    if path is None:
        return None
    from rnnlab.atomic import write_errors
    from rnnlab.diagnostics.plot import plot_gradient_flow

    with write_errors("--plot", "the plot", path):
        return plot_gradient_flow(flow, probe.description, path, runs, cell=probe.name)


GATE_ORDER = {"lstm": "i, f, g, o", "gru": "r, z, n"}  # torch's order of W_hh's blocks


def block_sigmas(cell) -> list[float]:
    """σ_max of each H × H block of the cell's recurrent weights: the vanilla RNN's Wh is one
    block; the LSTM's W_hh (4H × H) four and the GRU's (3H × H) three, one per gate in torch's
    order (:data:`GATE_ORDER`); none for a cell whose gates see only x_t (minGRU, minLSTM)."""
    from rnnlab.cells.init import recurrent_weights

    H = cell.hidden_size
    sigmas = []
    for _, p in recurrent_weights(cell):
        W = p.detach().double().numpy()  # (k·H, H)
        sigmas += [float(np.linalg.norm(W[k * H : (k + 1) * H], 2)) for k in range(len(W) // H)]
    return sigmas


def _train(config):
    from rnnlab.diagnostics.explode import exploding_in_practice
    from rnnlab.tasks.adding import AddingProblem
    from rnnlab.tasks.runner import build_net

    net = build_net(AddingProblem(config.length), config.run_config(None))
    sigmas = block_sigmas(net.cell)  # the weights both runs start from (same seed)
    plain, clipped, baseline = exploding_in_practice(config)
    return config, plain, clipped, baseline, sigmas


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


def to_json(probe, flow, training, plot, contributions=None) -> dict:
    """The ``--json`` object (``contributions``: the --contributions split, or None)."""
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
        "contributions": None if contributions is None else contributions.to_dict(),
    }
    if training is not None:
        config, plain, clipped, baseline, sigmas = training
        out["training"] = {
            "task": f"adding, T = {config.length}",
            "baseline": baseline,
            "sigma_max": max(sigmas, default=None),  # the largest over the gate blocks
            "sigma_max_blocks": sigmas,  # per H × H block of W_hh, torch's gate order
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


def _table(columns: list[tuple[str, list[str]]], bar: list[float] | None, width: int):
    """A rich table of right-aligned columns, and a log-scale bar as wide as the console has
    room for (24 at most; none under 6)."""
    from rich import box
    from rich.table import Table

    def build(bar_width: int) -> Table:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for name, _ in columns:
            table.add_column(name, justify="right", no_wrap=True)
        if bar_width:
            table.add_column("log scale", no_wrap=True)
        for i in range(len(columns[0][1])):
            row = [cells[i] for _, cells in columns]
            if bar_width:
                row.append(_bar(bar[i], lo, hi, bar_width))  # type: ignore[index]
            table.add_row(*row)
        return table

    logs = [math.log10(v) for v in bar or [] if math.isfinite(v) and v > 0]
    lo, hi = (min(logs), max(logs)) if logs else (0.0, 0.0)
    if bar is None:
        return build(0)
    from rich.console import Console

    room = width - Console(width=1000).measure(build(0)).maximum - 3  # the bar column's pad
    return build(min(24, room) if room >= 6 else 0)


def _print(console, probe, flow) -> None:
    """The measurement: Wh's spectrum, the table by lag (the gate path in a second table, so
    each fits 80 columns), the fitted rates, the gates at work, the verdict."""
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
    lags = [("lag k", [str(k) for k in shown]), ("t", [str(T - k) for k in shown])]
    cols = [*lags, ("‖∂h_T/∂h_t‖", [fmt(flow.grad_norm[k], 4) for k in shown])]
    if any(flow.theory[k] is not None for k in shown):
        cols.append(
            ("theory", ["—" if flow.theory[k] is None else fmt(flow.theory[k], 4) for k in shown])
        )
    cols += [
        ("σ_min", [fmt(flow.grad_min[k], 4) for k in shown]),
        ("‖∂L/∂h_t‖", [fmt(flow.loss_grad_norm[k], 4) for k in shown]),
    ]
    console.print(_table(cols, [flow.grad_norm[k] for k in shown], console.width))
    if flow.cell_state_norm is not None or flow.gate is not None:
        gates = list(lags)
        if flow.cell_state_norm is not None:
            gates.append(("‖∂c_T/∂c_t‖", [fmt(flow.cell_state_norm[k], 4) for k in shown]))
        if flow.gate is not None:
            g = flow.gate
            gates.append(("∏ gate", [fmt(g.path[T - k], 4) for k in shown]))
            gates.append(("mean gate_t", [fmt(g.values[T - k - 1].mean(), 3) for k in shown]))
        console.print(_table(gates, None, console.width))
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


def _print_training(console, training) -> None:
    config, plain, clipped, baseline, sigmas = training
    if not sigmas:  # minGRU, minLSTM: the gates see only x_t
        sig = "no recurrent weight matrix"
    elif len(sigmas) == 1:
        sig = f"σ_max(Wh) = {fmt(sigmas[0], 4)} at the start"
    else:
        gates = GATE_ORDER.get(config.cell, "per gate")
        values = ", ".join(fmt(v, 4) for v in sigmas)
        sig = f"σ_max of W_hh's blocks ({gates}) = {values} at the start"
    console.print(
        f"{config.cell}, H = {config.hidden}, {sig}; baseline MSE "
        f"{baseline:.4f}; lr {config.lr:g}, batch {config.batch_size}, same seed for both "
        f"runs; exploded means ‖g‖ past {config.explode_factor:g}× the first step's"
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


def _print_contributions(console, parts) -> None:
    """∂L/∂Wh term by term (values for the scalar RNN, norms for matrices), the sum against
    autograd, the long-range share and the verdict."""
    c = parts.split
    T, H = len(c.terms), c.total.shape[0]
    console.print(
        "[bold]∂L/∂Wh by lag[/] (a unit error on the last output, dL/dŷ_T = 1): "
        "∂L/∂Wh = Σ_k δ_(T−k)·h_(T−k−1), δ_t = dL/da_t"
    )
    shown = _lag_rows(T)
    norms = c.norms
    whole = norms.sum()
    after = np.cumsum(norms[::-1])[::-1]  # Σ_{j≥k} ‖term_j‖
    if H == 1:
        delta = [fmt(c.delta[k, 0], 4) for k in shown]
        hp = [fmt(c.h_prev[k, 0], 4) for k in shown]
        term = [fmt(c.terms[k, 0, 0], 4) for k in shown]
        names = ("δ_t", "h_(t−1)", "term k")
    else:
        delta = [fmt(np.linalg.norm(c.delta[k]), 4) for k in shown]
        hp = []
        term = [fmt(norms[k], 4) for k in shown]
        names = ("‖δ_t‖", "", "‖term k‖")
    cols = [("lag k", [str(k) for k in shown]), ("t", [str(T - k) for k in shown])]
    cols += [(names[0], delta)] + ([(names[1], hp)] if H == 1 else []) + [(names[2], term)]
    cols.append(("share ≥ k", [f"{after[k] / whole:.3g}" if whole else "—" for k in shown]))
    console.print(_table(cols, [norms[k] for k in shown], console.width))
    total = fmt(c.total[0, 0], 6) if H == 1 else f"‖·‖ = {fmt(np.linalg.norm(c.total), 6)}"
    auto = (
        fmt(parts.autograd[0, 0], 6)
        if H == 1
        else f"‖·‖ = {fmt(np.linalg.norm(parts.autograd), 6)}"
    )
    console.print(
        f"Sum of the {T} terms: {total}; torch autograd through the cell's step (float64): "
        f"{auto}; largest difference {parts.max_difference:.2g}."
    )
    console.print(
        f"Lags ≥ {c.long_lag} (--long-lag): {100 * c.share_long:.3g}% of the terms' total size "
        "(share ≥ k: Σ_(j≥k) ‖term j‖ / Σ_j ‖term j‖)."
    )
    console.print(f"[bold]Verdict (contributions)[/]: {c.verdict()}")
