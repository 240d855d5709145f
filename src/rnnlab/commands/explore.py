"""``rnnlab explore``: the unrolled RNN as one self-contained interactive HTML page.

Without ``--model`` the page is the article's scalar RNN (no torch imported, written in well
under a second); with ``--model DIR`` it embeds a trained one-layer rnn, lstm, gru, mingru or
minlstm: its weights, the last window of its data and (gated cells) its gates over that window.
"""

from __future__ import annotations

import argparse
import time
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from rnnlab.config import add_options, check_fields, from_args, option
from rnnlab.errors import RnnlabError


@dataclass(frozen=True)
class ExploreConfig:
    """Where the page goes, whether to open it, and the trained model it shows (if any)."""

    out: Path = option(Path("out/explore.html"), "the HTML file to write", metavar="FILE.html")
    open: bool = option(False, "open the page in the default web browser once written")
    model: Path | None = option(
        None, "a checkpoint directory (rnnlab train --out DIR) to show", metavar="DIR"
    )

    def __post_init__(self) -> None:
        check_fields(self)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``explore`` command: its options are :class:`ExploreConfig`'s fields."""
    p = sub.add_parser(
        "explore",
        help="the unrolled RNN as an interactive page (one HTML file, works offline)",
        description=(
            "Write one self-contained HTML page: the unrolled cell with every number, sliders "
            "for the weights, step-through-time, and the gradient through time on a log scale. "
            "The URL's query sets the state (?inputs=0.2,0.5&wx=1.8&wh=-0.5&...). With --model "
            "DIR: a trained one-layer rnn, lstm, gru, mingru or minlstm over its last window: "
            "its hidden states, its gates (computed by rnnlab) and its gradient reach-back."
        ),
    )
    add_options(p, ExploreConfig)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(run=run, settings=ExploreConfig)


def run(args: argparse.Namespace) -> int:
    """Write the page (and open it if asked); print where it went."""
    from rnnlab.commands.common import print_json
    from rnnlab.explore.page import write_page

    config = from_args(ExploreConfig, args)
    if config.out.is_dir():
        example = config.out / "explore.html"
        raise RnnlabError(f"--out: {config.out} is a directory; give a file name, e.g. {example}")
    start = time.perf_counter()
    model = trace = None
    if config.model is not None:
        from rnnlab.explore.model import model_data

        model, trace = model_data(config.model)
    path = write_page(config.out, model, trace)
    seconds = time.perf_counter() - start
    size = path.stat().st_size
    if args.json:
        print_json(
            {"out": str(path), "bytes": size, "seconds": seconds, "model": model is not None}
        )
    else:
        print(f"Wrote {path} ({size / 1024:.0f} KB in {seconds:.2f} s); open it in a browser.")
    if config.open:
        webbrowser.open(path.resolve().as_uri())
    return 0
