"""``rnnlab explore``: the unrolled RNN as one self-contained interactive HTML page.

The page's HTML, CSS and JavaScript are package data (``page.html``, ``page.css``, ``rnn.js``,
``view.js``), inlined into one file by :func:`write_page`. ``rnn.js`` is a second implementation
of the glass box; :func:`build_trace` is the Python side the tests hold it to.
"""

from rnnlab.explore.page import page_html, write_page
from rnnlab.explore.trace import build_trace

__all__ = ["build_trace", "page_html", "write_page"]
