"""The command line: thin. Parses options, calls the library, prints tables or one JSON object.

User errors (:class:`rnnlab.errors.RnnlabError`, and argparse's own) print one line,
``rnnlab: error: …``, on stderr and exit with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from rnnlab import __version__
from rnnlab.errors import RnnlabError

# Command modules under rnnlab.commands, in the order `rnnlab --help` lists them.
COMMANDS = (
    "walkthrough",
    "forecast",
    "train",
    "predict",
    "datasets",
    "gradients",
    "longmemory",
    "bench",
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) and exit code 2."""

    def _get_values(self, action: argparse.Action, arg_strings: list[str]):
        # `--opt=--` is the value "--": argparse would drop the "--" and hand the command [].
        if action.nargs is None and action.option_strings and arg_strings == ["--"]:
            value = self._get_value(action, "--")
            self._check_value(action, value)
            return value
        return super()._get_values(action, arg_strings)

    def error(self, message: str) -> None:  # type: ignore[override]
        where = self.prog.removeprefix("rnnlab").strip()
        raise RnnlabError(f"{where}: {message}" if where else message)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command registered (importing no torch)."""
    parser = _Parser(
        prog="rnnlab",
        description="See, train and diagnose recurrent neural networks.",
    )
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"rnnlab.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit code (0 success, 2 user error)."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        return int(args.run(args) or 0)
    except RnnlabError as exc:
        print(f"rnnlab: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as exc:
        # torch reports a failed allocation as a RuntimeError ("… can't allocate memory …")
        if not isinstance(exc, MemoryError) and "can't allocate memory" not in str(exc):
            raise
        print("rnnlab: error: out of memory; try smaller sizes", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `rnnlab … | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0


def one_line(message: str) -> str:
    """The message on one line: line breaks (from a file name or a column name) shown as ⏎."""
    return " ⏎ ".join(message.splitlines())
