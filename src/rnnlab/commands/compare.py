"""``rnnlab compare``: recurrent cells against a causal Transformer, the three problems measured.

Four tables (speed against T, reach-back by lag, stability without clipping, what each cell
achieves on the adding and copy tasks and the stock forecast), each with every model's parameter
count, then the verdict drawn from those numbers. ``--json`` prints the same as one object.
"""

from __future__ import annotations

import argparse

from rnnlab.commands.common import (
    add_json_option,
    make_console,
    output_file,
    print_json,
    threads,
    user_text,
)
from rnnlab.config import add_options, add_quick_option, from_args
from rnnlab.settings.compare import CompareConfig


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` command: its options are :class:`CompareConfig`'s fields."""
    p = sub.add_parser(
        "compare",
        help="rnn, lstm, gru, mingru against a causal Transformer: speed, reach-back, "
        "stability, and what each achieves",
        description=(
            "The article's three problems measured side by side on this machine: a training "
            "step's time and sequential depth against T; the gradient ‖∂ŷ/∂x_t‖ reaching back "
            "k steps; divergence without clipping under one aggressive setting; then the adding "
            "and copy tasks and the stock forecast (Diebold-Mariano p-values). Ends with a "
            "verdict drawn from the numbers. The full run takes several minutes (about 10 on "
            "2 cores); --quick takes seconds."
        ),
    )
    add_options(p, CompareConfig, quick=CompareConfig.quick())
    p.add_argument("--threads", type=threads, default=1, help="torch threads (default 1)")
    add_quick_option(p, CompareConfig)
    add_json_option(p)
    p.set_defaults(run=run, settings=CompareConfig)


def run(args: argparse.Namespace) -> int:
    """Measure the four parts, then print the tables and the verdict (or JSON)."""
    config = from_args(CompareConfig, args, quick=args.quick)
    if config.plot is not None:
        output_file(config.plot, "--plot")
    err = make_console(stderr=True)

    from rnnlab.commands.data_options import set_threads
    from rnnlab.compare import run_compare

    set_threads(args)
    say = (lambda text: err.print(f"[dim]{text}[/]")) if err.is_terminal else None
    result = run_compare(config, say)
    d = result.to_dict()
    if config.plot is not None:
        from rnnlab.atomic import write_errors
        from rnnlab.compare.plot import plot_compare

        with write_errors("--plot", "the comparison plot", config.plot):
            plot_compare(d, config.plot)
    if args.json:
        print_json(d)
        return 0
    _print(d)
    if config.plot is not None:
        make_console().print(f"Plot: {user_text(config.plot, None)}")
    return 0


def _k(n: int) -> str:
    """A parameter count in few characters: 88, 1.2k, 17k."""
    return str(n) if n < 1000 else f"{n / 1000:.2g}k" if n < 10_000 else f"{n // 1000}k"


def _e(x: float | None) -> str:
    return "—" if x is None else f"{x:.1e}"


def _table(*columns: str):
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i == 0 else "right")
    return t


def _print(d: dict) -> None:
    """The four tables and the verdict, each table under 80 columns."""
    console = make_console()
    cells, params = list(d["params"]), d["params"]
    short = {"transformer": "transf."}

    # 1. speed
    s = d["speed"]
    where = f"{s['threads']} thread(s)" if s["device"] == "cpu" else s["device"]
    console.print(
        f"[bold]1. Speed[/]: ms per training step (forward + backward), B = {s['batch']}, "
        f"H = {s['hidden']}, {where}; interleaved medians"
    )
    extra = ["attn MiB"] if s["attention_mib"] else []
    t = _table("T", *(short.get(c, c) for c in cells), *extra)
    t.add_row("params", *(_k(params[c]) for c in cells), *([""] if extra else []))
    t.add_row("depth", *(_depth_text(c, s) for c in cells), *([""] if extra else []))
    t.add_section()
    for i, T in enumerate(s["lengths"]):
        row = [f"{s['seconds'][c][i] * 1e3:.3g}" for c in cells]
        mib = [f"{s['attention_mib'][i]:.3g}"] if extra else []
        t.add_row(str(T), *row, *mib)
    console.print(t)
    cross = {c: T for c, T in d["crossover"].items() if T is not None}
    if "transformer" in cells:
        console.print(
            "crossover (the transformer's order against a cell changes): "
            + (", ".join(f"{c} at T = {T}" for c, T in cross.items()) or "none in this range")
        )
    console.print("attn MiB: one layer's B·heads·T² scores in float32, were they stored.\n")

    # 2. reach-back
    T = d["config"]["reach_length"]
    lags = sorted({1, min(10, T - 1), T // 2, T - 1})
    console.print(
        f"[bold]2. Reach-back[/]: ‖∂ŷ/∂x_t‖ at lag k = T − t (adding-problem net, T = {T}, "
        "mean of 32 sequences); ×/step: the fitted factor per step"
    )
    t = _table("cell", "params", *(f"k={k}" for k in lags), "×/step")
    for c in cells:
        r = d["reach"][c]
        t.add_row(c, _k(r["params"]), *(_e(r["init"][k]) for k in lags), f"{r['init_rate']:.2f}")
        if r["trained"] is not None:
            t.add_row(
                f"  trained ({r['steps']})", "", *(_e(r["trained"][k]) for k in lags),
                f"{r['trained_rate']:.2f}",
            )  # fmt: skip
    console.print(t)
    console.print("")

    # 3. stability
    steps = d["config"]["explode_steps"]
    console.print(
        f"[bold]3. Stability[/]: SGD lr 0.1, adding T = 10, H = {d['config']['explode_hidden']}, "
        f"{steps} steps, W_hh blocks orthogonal × 1.5; exploded: ‖g_k‖ > 10⁴·‖g_1‖"
    )
    t = _table("cell", "params", "no clip", "step", "‖g‖/‖g₁‖", "clip 1", "fired", "×base")
    for c in cells:
        st = d["stability"][c]
        plain, clip = st["no_clip"], st["clip"]
        frac = clip["fraction_of_baseline"]
        t.add_row(
            c, _k(st["params"]), plain["status"], str(plain["steps"]), _e(st["growth"]),
            clip["status"], f"{100 * clip['clipping']['fraction']:.0f}%",
            "—" if frac is None else f"{frac:.2f}",
        )  # fmt: skip
    console.print(t)
    console.print(
        "‖g‖/‖g₁‖: the largest gradient norm over the first step's, without clipping; fired: "
        "steps clipped; ×base: the clipped run's final loss over the memoryless baseline.\n"
    )

    # 4. what it buys
    tasks = d["tasks"]
    L = d["config"]["task_length"]
    console.print(
        f"[bold]4. What it buys[/]: adding and copy at T = {L} (Adam, at most "
        f"{d['config']['task_steps']} steps and {d['config']['task_budget']:g} s per cell)"
    )
    t = _table("task", "cell", "params", "solved", "steps", "seconds", "× baseline")
    for n, by in tasks.items():
        for i, c in enumerate(cells):
            o = by[c]
            frac = o["fraction_of_baseline"]
            t.add_row(
                n if i == 0 else "", c, _k(o["params"]),
                "[green]yes[/]" if o["solved"] else "[red]no[/]", str(o["steps"]),
                f"{o['seconds']:.1f}", "—" if frac is None else f"{frac:.3f}",
                end_section=i == len(cells) - 1,
            )  # fmt: skip
    console.print(t)
    f = d["forecast"]
    console.print(f"Forecast: {f['dataset']}, {f['test_points']} test points, one step ahead")
    t = _table("model", "params", "RMSE", "skill", "p (DM)")
    for name, sc in f["test"].items():
        p = sc["p_value"]
        skill = sc["skill"]
        t.add_row(
            name, _k(params[name]) if name in params else "0", f"{sc['rmse']:.4f}",
            "—" if skill is None else f"{skill:+.4f}", "—" if p is None else f"{p:.3g}",
        )  # fmt: skip
    console.print(t)
    console.print(
        "skill = 1 − RMSE/RMSE(persistence); p (DM): Diebold-Mariano p-value that the model "
        "beats persistence.\n"
    )
    console.print("[bold]Verdict[/]")
    for line in d["verdict"]:
        console.print(f"- {line}")
    console.print(f"Done in {d['seconds']:.1f} s.")


def _depth_text(cell: str, s: dict) -> str:
    """Sequential depth as a formula: T (a recurrence), log₂T (a parallel scan), or the
    number of layers (the Transformer)."""
    depth = s["depth"][cell]
    if depth == s["lengths"]:
        return "T"
    return str(depth[0]) if len(set(depth)) == 1 else "log₂T"
