"""Reports: PNG plots (matplotlib, Agg backend) and the HTML page of a forecast run."""

from rnnlab.report.html import write_report

__all__ = ["write_report"]
