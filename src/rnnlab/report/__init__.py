"""Reports: PNG plots (matplotlib, Agg backend) and the HTML page of a forecast run.

``rnnlab.report.plots`` is torch-free (other commands draw with it); ``write_report`` reads a
forecast's result, so it is loaded on first use.
"""

from __future__ import annotations

__all__ = ["write_report"]


def __getattr__(name: str):
    """``write_report`` from :mod:`rnnlab.report.html`, imported when first asked for."""
    if name == "write_report":
        from rnnlab.report.html import write_report

        return write_report
    raise AttributeError(f"module 'rnnlab.report' has no attribute {name!r}")
