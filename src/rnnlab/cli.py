"""The command line: thin. Parses options, calls the library, prints tables or one JSON object.

User errors (:class:`rnnlab.errors.RnnlabError`, and argparse's own) print one line,
``rnnlab: error: …``, on stderr and exit with code 2; no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence

from rnnlab import __version__
from rnnlab.config import ConfigError, cli_error
from rnnlab.display import printable, shorten
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
    "compare",
    "explore",
)


# An argument that starts like a negative number is a value, never an option: argparse's own
# test (r'^-\d+$|^-\d*\.\d+$') misses `-1e3`, `-1,1` and `-inf`, so `--wh -1e3` was "expected
# one argument". No option of rnnlab starts with a digit or a dot, nor is `-inf`/`-nan`.
NEGATIVE_NUMBER = re.compile(r"^-(\d|\.\d|inf(inity)?$|nan$)", re.IGNORECASE)

MAX_ERROR = 1000  # characters in an error line; a longer one (a huge name) is cut in the middle


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) and exit code 2, and that
    takes ``-1e3`` or ``-1,1`` as an option's value."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER

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
        try:
            return int(args.run(args) or 0)
        except ConfigError as exc:  # a field checked while running: said with its flag
            settings = getattr(args, "settings", None)
            if settings is None:
                raise
            raise cli_error(settings, exc) from None
    except RnnlabError as exc:
        print(f"rnnlab: error: {error_line(str(exc))}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as exc:
        # torch reports a failed allocation as a RuntimeError ("… can't allocate memory …")
        if not isinstance(exc, MemoryError) and "can't allocate memory" not in str(exc):
            raise
        print(f"rnnlab: error: {error_line(out_of_memory(exc))}", file=sys.stderr)
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


def error_line(message: str) -> str:
    """The message as the terminal gets it: one line, control characters as escapes (a column
    name's ``ESC [ 2 J`` does not clear the screen), at most :data:`MAX_ERROR` characters."""
    return shorten(printable(one_line(message)), MAX_ERROR)


_TORCH_BYTES = re.compile(r"tried to allocate (\d+) bytes")
_NUMPY_SIZE = re.compile(r"Unable to allocate ([\d.]+ [KMGTPE]?i?B)")


def _bytes(n: int) -> str:
    """``n`` bytes in binary units, as numpy writes them (``72.8 TiB``)."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    i = 0
    while n >= 1024 ** (i + 1) and i < len(units) - 1:
        i += 1
    return f"{n} bytes" if i == 0 else f"{n / 1024**i:.3g} {units[i]}"


def out_of_memory(exc: BaseException) -> str:
    """What is known about a failed allocation, and nothing more: its size (numpy and torch say
    it) and where it happened (the library, and the rnnlab function that asked). The cause may
    be a size the user chose, or not (a 20,000-character name once made matplotlib ask for a
    huge canvas), so the message does not guess at it."""
    text = str(exc)
    size = None
    if m := _TORCH_BYTES.search(text):
        size = _bytes(int(m.group(1)))
    elif m := _NUMPY_SIZE.search(text):
        size = m.group(1)
    modules = []
    tb = exc.__traceback__
    while tb is not None:
        modules.append((tb.tb_frame.f_globals.get("__name__", "?"), tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    ours = [f"{m}.{f}" for m, f in modules if m.startswith("rnnlab.") and m != __name__]
    library = modules[-1][0].split(".")[0] if modules else "rnnlab"
    where = []
    if library != "rnnlab":
        where.append(f"in {library}")
    if ours:
        where.append(f"called from {ours[-1]}" if where else f"in {ours[-1]}")
    what = "out of memory" + (f": an allocation of {size} failed" if size else "")
    return what + (f" ({', '.join(where)})" if where else "")
