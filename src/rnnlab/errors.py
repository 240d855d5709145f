"""The one exception type that reaches the user as a one-line message.

Library code raises :class:`RnnlabError` (or a subclass) for anything the user can fix: a bad
option, a malformed file, shapes that do not fit. The command line prints it as
``rnnlab: error: <message>`` on stderr and exits with code 2; it never shows a traceback for it.
"""

from __future__ import annotations


class RnnlabError(Exception):
    """A problem with the user's input, explained in one line."""


def check_options(checks: dict[str, bool], where: object) -> None:
    """Raise for the first option whose check is False: "<option>: invalid value in <where>"."""
    for option, ok in checks.items():
        if not ok:
            raise RnnlabError(f"{option}: invalid value in {where}")


class ShapeError(RnnlabError, ValueError):
    """Arrays whose shapes do not fit together."""
