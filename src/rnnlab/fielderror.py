""":class:`FieldError`: a :class:`~rnnlab.config.ConfigError` whose message holds the user's own
text (a path, a column's name, a cell of a CSV) exactly as it is.

A :class:`~rnnlab.config.ConfigError` reads ``{name}`` in its message as a field, so a file
called ``{data}.csv`` would lose its braces there. Here the user's text goes in ``values`` and
the message says where, as ``{0}``, ``{1}``…; ``{name}`` still names a field (its name for a
Python caller, its flag on the command line)::

    FieldError("column", "{0} has no column {1}", path, repr(column), lead=False)

``lead=False`` is for trouble with what a field *gave* (a file, a directory, a name): the
message leads with that thing rather than the field's name (``x.csv: no such file``), and the
command line puts the field's flag before it. Nothing here
imports torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rnnlab.config import ConfigError
from rnnlab.errors import RnnlabError

_SLOT = re.compile(r"\{(\d+)\}")


class FieldError(ConfigError):
    """A :class:`~rnnlab.config.ConfigError` about ``field`` whose ``message`` takes the user's
    text from ``values`` (``{0}``, ``{1}``…, never read as field names); ``lead=False``: the
    message is said without the field's name before it."""

    def __init__(self, field: str, message: str, *values: object, lead: bool = True) -> None:
        self.values = tuple(str(v) for v in values)
        super().__init__(field, message)
        if not lead:
            self.args = (self.text(str),)

    def text(self, name: Callable[[str], str]) -> str:
        """The message with each ``{field}`` written as ``name(field)`` and each ``{i}`` as the
        i-th value, as it is."""
        return _SLOT.sub(lambda m: self.values[int(m.group(1))], super().text(name))


@contextmanager
def about(field: str) -> Iterator[None]:
    """Raise an :class:`~rnnlab.errors.RnnlabError` from the block again as a
    :class:`FieldError` about ``field``, its text as it is (``ckpt: config.json is missing``;
    on the command line the field's flag comes first)."""
    try:
        yield
    except RnnlabError as exc:
        raise FieldError(field, "{0}", str(exc), lead=False) from None
