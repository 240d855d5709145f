"""The verdict: what the numbers of one ``rnnlab compare`` run say, in plain sentences.

Every sentence is built from the measured values of the run it describes; nothing here is a
conclusion written in advance. The cells may be any subset: a sentence about the Transformer
or the tanh RNN is left out when that cell was not run.
"""

from __future__ import annotations

import math

RECURRENT_NAMES = {"rnn": "the tanh RNN", "lstm": "the LSTM", "gru": "the GRU"}


def _name(cell: str) -> str:
    return RECURRENT_NAMES.get(cell, cell)


def _list(names: list[str]) -> str:
    names = [_name(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _ms(seconds: float) -> str:
    """``0.67 ms``, ``231 ms``, ``13.1 s``."""
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _where(s) -> str:
    """``1 thread(s)`` on the CPU, else the device."""
    return f"{s.threads} thread(s)" if s.device == "cpu" else s.device


def speed_sentence(result) -> str:
    s = result.speed
    first, last = s.lengths[0], s.lengths[-1]
    growth = {c: v[-1] / v[0] for c, v in s.seconds.items()}
    fastest = min(s.seconds, key=lambda c: s.seconds[c][-1])
    text = (
        f"Speed (B = {s.batch}, H = {s.hidden}, {_where(s)}): from T = {first} to "
        f"T = {last} a training step grew "
        + ", ".join(f"{growth[c]:.3g}× for {_name(c)}" for c in s.seconds)
        + f"; at T = {last} the fastest was {_name(fastest)} ({_ms(s.seconds[fastest][-1])})."
    )
    if "transformer" not in s.seconds or len(s.seconds) < 2:
        return text
    tf = s.seconds["transformer"][-1]
    depth = s.depth["transformer"][-1]
    others = [c for c in s.seconds if c != "transformer"]
    flips = []
    for c in others:
        T = s.crossover("transformer", c)
        if T is not None:
            later = "faster" if tf < s.seconds[c][-1] else "slower"
            flips.append(f"{later} than {_name(c)} from T = {T}")
    cross = (
        "; it became " + ", ".join(flips)
        if flips
        else f"; its order against every recurrence stayed the same from T = {first} to {last}"
    )
    return (
        f"{text} The transformer's {depth} sequential layers took {_ms(tf)} at T = {last} "
        f"against the recurrences' {last} sequential steps{cross}."
    )


def reach_sentence(result) -> str | None:
    reach = result.reach
    if not reach:
        return None
    T = result.config.reach_length
    parts = []
    for c, r in reach.items():
        ratio = r.init[-1] / r.init[1] if r.init[1] > 0 else math.nan
        parts.append(f"{_name(c)} ×{r.init_rate:.2f} per step (lag {T - 1}: {ratio:.1e} of lag 1)")
    text = "Reach-back at initialisation, ‖∂ŷ/∂x_t‖ by lag: " + "; ".join(parts) + "."
    trained = [(c, r) for c, r in reach.items() if r.trained_rate is not None]
    if trained:
        text += (
            f" After {trained[0][1].steps} Adam steps on the adding problem: "
            + "; ".join(f"{_name(c)} ×{r.trained_rate:.2f}" for c, r in trained)
            + "."
        )
    return text


def stability_sentence(result) -> str | None:
    st = result.stability
    if not st:
        return None
    blew = [c for c, s in st.items() if s.plain.diverged]
    held = [c for c, s in st.items() if not s.plain.diverged]
    clipped_ok = [c for c, s in st.items() if not s.clipped.diverged]
    text = (
        f"Stability (plain SGD, lr 0.1, H = {result.config.explode_hidden}, recurrent blocks at "
        "σ_max 1.5, no clipping): "
    )
    if blew:
        text += f"{_list(blew)} blew up (‖g‖ past 10⁴× the first step's, or a NaN/inf)"
    if held:
        most = max(st[c].growth for c in held)
        text += "; " if blew else ""
        text += f"{_list(held)} stayed bounded (‖g‖ grew at most {most:.3g}× the first step's)"
    text += f". With clipping at 1, {len(clipped_ok)} of {len(st)} ran to the end."
    return text


def tasks_sentences(result) -> list[str]:
    out = []
    for task, by in result.tasks.items():
        if not by:
            continue
        solved = [c for c, o in by.items() if o.result.solved]
        not_solved = [c for c, o in by.items() if not o.result.solved]
        T = next(iter(by.values())).length
        s = f"The {task} task at T = {T} ({result.config.task_budget:g} s per cell): "
        if solved:
            s += "solved by " + ", ".join(
                f"{_name(c)} ({by[c].result.steps} steps, {by[c].result.seconds:.1f} s)"
                for c in solved
            )
        if not_solved:
            s += "; " if solved else ""
            s += "not solved by " + _list(not_solved)
        out.append(s + ".")
    return out


def forecast_sentence(result) -> str:
    f = result.forecast
    return f"Forecast ({f.series.source}, {f.split.n_test} test points): {f.verdict()}"


def title_sentence(result) -> str | None:
    """What the run says about "why everyone stopped using them", from the booleans above."""
    cells = result.params
    if "transformer" not in cells or len(cells) < 2:
        return None
    recurrent = [c for c in cells if c != "transformer"]
    said = []
    r = result.reach
    if r:
        best = max(recurrent, key=lambda c: r[c].init_rate)
        if r["transformer"].init_rate > r[best].init_rate:
            said.append(
                f"attention keeps its reach-back where every recurrence here loses it (best: "
                f"{_name(best)}, ×{r[best].init_rate:.2f} per step)"
            )
        else:
            said.append(f"attention did not reach back further than {_name(best)} here")
    st = result.stability
    if st:
        blew = [c for c in recurrent if st[c].plain.diverged]
        if blew and not st["transformer"].plain.diverged:
            said.append(f"it did not blow up under the setting that blew up {_list(blew)}")
        elif st["transformer"].plain.diverged:
            saved = not st["transformer"].clipped.diverged
            said.append(
                "it blew up too under plain SGD at lr 0.1 without clipping, though it has no "
                "recurrent matrix to scale: attention is no cure for a too-large step ("
                + ("clipping at 1 saved it" if saved else "not even clipping at 1 saved it")
                + ")"
            )
    copy = result.tasks.get("copy", {})
    if copy:
        tf = copy["transformer"].result.solved
        rec = [c for c in recurrent if copy[c].result.solved]
        if tf and not rec:
            said.append("it solved the copy task that no recurrence solved in the same budget")
        elif tf:
            said.append(f"it solved the copy task, as did {_list(rec)}")
        else:
            said.append("it did not solve the copy task in this budget")
    s = result.speed
    last = s.lengths[-1]
    fastest = min(recurrent, key=lambda c: s.seconds[c][-1])
    ratio = s.seconds["transformer"][-1] / s.seconds[fastest][-1]
    if ratio > 1:
        said.append(
            f"but it is not faster on this machine: at T = {last} its step cost {ratio:.3g}× "
            f"{_name(fastest)}'s (its advantage is depth {s.depth['transformer'][-1]} against "
            f"{last}, which pays off on hardware that runs the positions in parallel)"
        )
    else:
        said.append(
            f"and it is faster here too: at T = {last} its step cost {ratio:.3g}× "
            f"{_name(fastest)}'s"
        )
    return "On this machine: " + "; ".join(said) + "."


def verdict(result) -> list[str]:
    """The run's verdict, one sentence (or two) per part, then the answer to the title."""
    parts = [
        speed_sentence(result),
        reach_sentence(result),
        stability_sentence(result),
        *tasks_sentences(result),
        forecast_sentence(result),
        title_sentence(result),
    ]
    return [p for p in parts if p]
