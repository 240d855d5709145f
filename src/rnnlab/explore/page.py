"""The page writer: ``page.html`` with ``page.css``, ``rnn.js`` and ``view.js`` inlined into one
self-contained file (no network, works from ``file://``), and the data it starts from.

    page.html   the document, with the slots /*STYLE*/, /*SCRIPT*/, /*MODEL*/ and /*TRACE*/
    page.css    the look; one column under 900 px, controls beside the diagram above
    rnn.js      the maths: a second implementation of the glass box (forward, BPTT, scaling)
    view.js     the page: state from the URL query, controls, the SVG, the charts, #trace

``#trace`` starts as the glass box's trace for the page's first state (so a reader without
JavaScript still has the numbers); the page's own computation replaces it on load.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import numpy as np

from rnnlab.atomic import replacing, write_errors
from rnnlab.explore.trace import build_trace
from rnnlab.glassbox import RNNParams

ASSETS = ("page.html", "page.css", "rnn.js", "view.js")

# the page's default state: the article's toy (inputs 0, 0) with walkthrough's made-up weights
DEFAULT_STATE = {"inputs": [0.0, 0.0], "wx": 1.8, "wh": -0.5, "b": 0.0, "wout": 1.1, "bout": 0.0}


def _asset(name: str) -> str:
    return (files("rnnlab.explore") / name).read_text(encoding="utf-8")


def script_json(obj: object) -> str:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` escaped, so
    no name in the data can close the element."""
    text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def default_trace() -> dict:
    """The glass box's trace for the page's default state."""
    s = DEFAULT_STATE
    params = RNNParams.scalar(s["wx"], s["wh"], s["b"], s["wout"], s["bout"])
    return build_trace(params, np.array(s["inputs"])[:, None])


def page_html(model: dict | None = None, trace: dict | None = None) -> str:
    """The whole page as one string. ``model``: the data of a trained model
    (:func:`rnnlab.explore.model.model_data`), or None for the article's scalar RNN; ``trace``:
    the first trace (default: the default state's)."""
    html, css, rnn, view = (_asset(name) for name in ASSETS)
    script = f"{rnn}\n{view}"
    if "</script" in script.lower() or "</style" in css.lower():
        raise AssertionError("an asset closes its own element")
    first = default_trace() if trace is None else trace
    parts = {
        "/*STYLE*/": css,
        "/*MODEL*/": script_json(model),
        "/*TRACE*/": script_json(first),
        "/*SCRIPT*/": script,
    }
    for slot, text in parts.items():
        if html.count(slot) != 1:
            raise AssertionError(f"page.html must hold {slot} once")
        html = html.replace(slot, text)
    return html


def write_page(path: str | Path, model: dict | None = None, trace: dict | None = None) -> Path:
    """Write the page to ``path`` atomically (a reader sees the old file or the new one).
    A failed write is one :class:`~rnnlab.errors.RnnlabError` line about the field ``out``."""
    path = Path(path)
    data = page_html(model, trace).encode("utf-8")
    with write_errors("out", "the page", path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as tmp:
            tmp.write_bytes(data)
    return path
