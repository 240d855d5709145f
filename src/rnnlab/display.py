"""User text made safe to show: on a terminal, in a plot, in an error line.

Names come from outside (a CSV's column names, file names, a checkpoint's config) and are shown
back. Two things go wrong with them unless they pass through here:

- **Control characters** reach the terminal raw: ``ESC ] 0 ; … BEL`` sets the window's title,
  ``ESC [ 2 J`` clears the screen. :func:`printable` writes each one as its escape (``\\x1b``),
  so the sequence is shown, not obeyed, and the rest of the name is kept.
- **Absurd lengths**: a 2,000-character column name as a plot title made a 22354×18022 px PNG
  (75 s). :func:`shorten` cuts the middle to ``limit`` characters, keeping both ends.

Nothing here imports anything heavy.
"""

from __future__ import annotations

import re

# C0 (NUL … US), DEL, C1 (U+0080 … U+009F, 0x9B is a one-byte CSI on some terminals), and the
# bidirectional overrides and isolates, which reorder what the terminal shows ("Trojan
# source"). Ordinary Unicode (accents, CJK, emoji) is kept.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

NAME_LIMIT = 80  # a name in a plot title, a label, a table cell, a line of text
ELLIPSIS = "…"


def _escape(match: re.Match[str]) -> str:
    return ascii(match.group())[1:-1]  # '\x1b' -> \x1b, '\n' -> \n, '\u202e' -> \u202e


def has_control(text: str, keep: str = "") -> bool:
    """Whether ``text`` holds a control character (other than those in ``keep``)."""
    return any(c not in keep for c in _CONTROL.findall(text))


def printable(text: str, keep: str = "") -> str:
    """``text`` with every control character written as its escape (ESC as ``\\x1b``, a line
    break as ``\\n``); the characters in ``keep`` (e.g. ``"\\n"`` for text of several lines)
    are left as they are.

    >>> printable("\\x1b]0;pwned\\x07\\x1b[2Jclose")
    '\\\\x1b]0;pwned\\\\x07\\\\x1b[2Jclose'
    >>> printable("收盘价 📈")
    '收盘价 📈'
    """
    if not _CONTROL.search(text):
        return text
    if keep:
        return "".join(c if c in keep else _CONTROL.sub(_escape, c) for c in text)
    return _CONTROL.sub(_escape, text)


def shorten(text: str, limit: int = NAME_LIMIT) -> str:
    """``text`` cut in the middle to at most ``limit`` characters (both ends kept, ``…``
    between them).

    >>> shorten("a" * 50 + "b" * 50, 11)
    'aaaaa…bbbbb'
    """
    if len(text) <= limit:
        return text
    head = (limit - len(ELLIPSIS) + 1) // 2
    tail = limit - len(ELLIPSIS) - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


def name(text: object, limit: int = NAME_LIMIT) -> str:
    """A user's name as shown anywhere: printable, then at most ``limit`` characters."""
    return shorten(printable(str(text)), limit)
