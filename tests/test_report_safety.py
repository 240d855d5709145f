"""The forecast report with hostile names: files stay inside --out, and report.html escapes
every string the user gave (column names from the CSV, the file's name)."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

FILES = {"report.html", "metrics.json", "series.png", "test.png", "skill.png"}


def _csv(path, column: str) -> None:
    x = 50 + np.cumsum(np.random.default_rng(2).normal(0, 1, 90))
    dates = np.arange("2022-01-03", 90, dtype="datetime64[D]")
    quoted = '"' + column.replace('"', '""') + '"'
    path.write_text(
        f"date,{quoted}\n" + "".join(f"{d},{v:.3f}\n" for d, v in zip(dates, x, strict=True))
    )


@pytest.mark.parametrize(
    ("file", "column"),
    [
        ("<img src=x onerror=alert(2)>.csv", "<script>alert(1)</script>"),
        ("evil.csv", "../../evil"),
        ("slash.csv", "/etc/passwd $x^$ a/b"),
        ("q'uote\".csv", "'\"><b onmouseover=alert(3)>&amp;"),
    ],
)
def test_hostile_names_stay_inside_out_and_are_escaped(tmp_path, cli_here, file, column):
    data_dir, out = tmp_path / "data", tmp_path / "a" / "b" / "out"
    data_dir.mkdir()
    _csv(data_dir / file, column)
    before = {p for p in tmp_path.rglob("*")}
    r = cli_here("forecast", "--data", str(data_dir / file), "--column", column, "--quick",
                 "--models", "linear", "--out", str(out), "--json")  # fmt: skip
    assert r.code == 0, r.err
    written = {p for p in tmp_path.rglob("*")} - before
    assert {p.name for p in written if p.is_file()} == FILES
    assert all(p.parent == out for p in written if p.is_file())
    assert not list((tmp_path / "a").rglob("*evil*"))  # nothing named after the column
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "data"]  # nor above --out
    page = (out / "report.html").read_text(encoding="utf-8")
    for raw in (column, file):
        if any(c in raw for c in "<>&'\""):
            assert raw not in page  # never verbatim…
        assert html.escape(raw) in page or raw not in page  # …but escaped where shown
    assert html.escape(f"{file} {column}") in page  # the series' name, in the title
    for tag in ("<script", "<b on", "<img src=x"):
        assert tag not in page
    assert re.findall(r"<img src='([^']*)'", page) == ["series.png", "test.png", "skill.png"]
