"""``rnnlab datasets``: the embedded real series, measured from the files themselves.

Source, license and frequency are recorded with each dataset; length and date range are read
from the shipped files on every run (so they cannot drift from the data). No torch.
"""

from __future__ import annotations

import argparse

from rnnlab.commands.common import add_json_option


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` command."""
    p = sub.add_parser(
        "datasets",
        help="the embedded real series: source, frequency, length, date range, license",
        description=(
            "List the series that ship with rnnlab's dependencies (no network): daily stock "
            "prices and several non-financial series. Use one with `--dataset NAME` (and "
            "`--column NAME` for another column)."
        ),
    )
    add_json_option(p)
    p.set_defaults(run=run)


def describe_all() -> list[dict]:
    """One dict per dataset, with the measured length and date range."""
    from rnnlab.data.sources import DATASETS, load_dataset

    out = []
    for name, info in DATASETS.items():
        s = load_dataset(name)
        out.append(
            {
                "name": name,
                "title": info.title,
                "frequency": s.frequency,
                "rows": len(s),
                "first": s.label(0),
                "last": s.label(len(s) - 1),
                "columns": list(info.columns),
                "default_column": info.default_column,
                "source": info.source,
                "license": info.license,
                "file": info.file,
                "notes": info.notes,
            }
        )
    return out


def run(args: argparse.Namespace) -> int:
    """Print the table (or one JSON object)."""
    from rnnlab.data.sources import DEFAULT_DATASET, PACKAGE

    rows = describe_all()
    if args.json:
        from rnnlab.commands.common import print_json

        print_json({"default": DEFAULT_DATASET, "package": PACKAGE, "datasets": rows})
        return 0
    from rich import box
    from rich.table import Table

    from rnnlab.commands.common import make_console

    console = make_console()
    console.print(
        "[bold]Embedded datasets[/] (no network: files shipped by the bokeh_sampledata wheel)"
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("name", "rows", "from", "to"):
        table.add_column(
            col, justify="right" if col == "rows" else "left", no_wrap=col != "frequency"
        )
    for d in rows:
        table.add_row(d["name"], str(d["rows"]), d["first"], d["last"])
    console.print(table)
    about = Table.grid(padding=(0, 2))  # what each one is: wraps in its column, never cut
    about.add_column(no_wrap=True)
    about.add_column()
    for d in rows:
        cols = ", ".join(f"[bold]{c}[/]" if c == d["default_column"] else c for c in d["columns"])
        about.add_row(d["name"], f"{d['title']}; {d['frequency']}; columns {cols}; {d['license']}")
    console.print(about)
    console.print(f"Default: --dataset {DEFAULT_DATASET} (bold: each dataset's default column).")
    groups: dict[tuple[str, str], list[str]] = {}
    for d in rows:
        groups.setdefault((d["source"], d["notes"]), []).append(d["name"])
    for (source, notes), names in groups.items():
        console.print(f"  {', '.join(names)}: {source}; {notes}")
    return 0
