"""Settings as frozen dataclasses: one field per option, carrying its default, bounds and help.

Every setting of rnnlab is a field of one config dataclass, declared with :func:`option`::

    @dataclass(frozen=True)
    class WindowConfig:
        window: int = option(50, "past steps per input", low=1, high=100_000, metavar="W")

        def __post_init__(self) -> None:
            check_fields(self)

From that one declaration come

- the library's validation (:func:`check_fields`): the error names the *field*
  (``window must be at least 1, got 0``), since a Python caller never typed ``--window``;
- the command line (:func:`add_options` turns the fields into argparse options, the flag being
  the field's name with dashes, and :func:`from_args` turns the parsed options back into the
  config); only :func:`from_args` speaks of flags, by mapping the field to its flag once;
- ``--quick``: a second instance of the same dataclass, whose values stand in for the defaults.

Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from rnnlab.errors import RnnlabError

C = TypeVar("C")
_NOTHING = dataclasses.MISSING
OFF = object()  # what the parser hands back for an X | None field's "off" value (--clip 0)


_REFERENCE = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


class ConfigError(RnnlabError, ValueError):
    """A field of a config holds a value it may not: ``field`` names it (a dotted path such as
    ``run.lr`` for a field of a nested config).

    The message may name other fields as ``{name}``: a Python caller reads the field's name
    (``chrono sets the forget-gate bias itself; drop forget_bias``), the command line its flag
    (``--chrono: … drop --forget-bias``).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.detail = message
        super().__init__(f"{field} {self.text(str)}")

    def text(self, name: Callable[[str], str]) -> str:
        """The message with each ``{field}`` written as ``name(field)``."""
        return _REFERENCE.sub(lambda m: name(m.group(1)), self.detail)


def option(
    default: Any = _NOTHING,
    help: str = "",
    *,
    factory: Callable[[], Any] | None = None,
    low: float | None = None,
    high: float | None = None,
    above: bool = False,
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None,
    flag: str | None = None,
    metavar: str | None = None,
    off: float | str | tuple[float | str, ...] | None = None,
    default_text: str | None = None,
    cli: bool = True,
) -> Any:
    """A dataclass field that is also an option.

    Arguments:
        default, factory: the default value (``factory`` for a mutable one).
        help: one line for ``--help``; the default is appended by the builder.
        low, high: bounds for a number (inclusive; ``above=True`` makes ``low`` exclusive).
        choices: the allowed strings (or a function returning them, called when checked); for
            a ``tuple[str, ...]`` field, the allowed items (given as ``a,b,c``).
        flag: the option's flag when it is not ``--`` + the name with dashes.
        metavar: the placeholder in ``--help``.
        off: for an ``X | None`` field, the command-line value(s) that mean None (``--clip 0``,
            ``--clip none``): a number, a word, or a tuple of them.
        default_text: what ``--help`` says the default is, where None stands for a value
            worked out later (``lr``: "1e-3; irnn 1e-4").
        cli: False keeps the field out of the command line (set by code, not by users).

    A ``bool`` field is a switch: ``--name`` when its default is False, ``--name/--no-name``
    when it is True. A ``Path`` field takes a path; a ``tuple[str, ...]`` field a comma-separated
    list.
    """
    meta = {
        "help": help,
        "low": low,
        "high": high,
        "above": above,
        "choices": choices,
        "flag": flag,
        "metavar": metavar,
        "off": off,
        "default_text": default_text,
        "cli": cli,
    }
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _kinds(annotation: Any) -> tuple[type, bool]:
    """(the base type, whether None is allowed) of an annotation such as ``float | None``."""
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        return typing.get_origin(rest[0]) or rest[0], len(rest) < len(args)
    return typing.get_origin(annotation) or annotation, False


def _item_kind(annotation: Any) -> type:
    """The item type of a ``tuple[X, ...]`` field (``tuple[float, ...] | None`` too): str or
    float."""
    args = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in args if a is not type(None))
        args = typing.get_args(annotation)
    return float if args and args[0] is float else str


def _choices(meta: dict) -> Sequence[str] | None:
    choices = meta.get("choices")
    return choices() if callable(choices) else choices


def _bounds_text(meta: dict) -> str:
    low, high, above = meta.get("low"), meta.get("high"), meta.get("above")
    parts = []
    if low is not None:
        parts.append(f"{'above' if above else 'at least'} {low:g}")
    if high is not None:
        parts.append(f"at most {high:g}")
    return " and ".join(parts)


def _shown(value: Any) -> str:
    """``repr(value)``, a huge whole number as its number of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        digits = math.floor(abs(value).bit_length() * math.log10(2)) + 1  # str() may refuse
        return f"a number of about {digits} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_value(name: str, value: Any, annotation: Any, meta: dict) -> None:
    """Raise :class:`ConfigError` when ``value`` does not fit the field's type and bounds."""
    kind, nullable = _kinds(annotation)
    if value is None:
        if nullable:
            return
        raise ConfigError(name, "must be given, got None")
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(name, f"must be true or false, got {_shown(value)}")
        return
    if kind in (int, float):
        # bool is an int to Python, never a size to us; a float is no count of things
        ok = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            what = "a whole number" if kind is int else "a number"
            raise ConfigError(name, f"must be {what}, got {_shown(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(name, f"must be a finite number, got {_shown(value)}")
        low, high, above = meta.get("low"), meta.get("high"), meta.get("above")
        if (low is not None and (value <= low if above else value < low)) or (
            high is not None and value > high
        ):
            raise ConfigError(name, f"must be {_bounds_text(meta)}, got {_shown(value)}")
        return
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(name, f"must be a string, got {_shown(value)}")
        choices = _choices(meta)
        if choices is not None and value not in choices:
            raise ConfigError(name, f"must be one of {', '.join(choices)}; got {_shown(value)}")
        return
    if kind is Path:
        if not isinstance(value, Path):
            raise ConfigError(name, f"must be a pathlib.Path, got {_shown(value)}")
        if not str(value).strip():
            raise ConfigError(name, "must be a path, got an empty one")
        return
    if kind is tuple and _item_kind(annotation) is float:
        numbers = isinstance(value, tuple) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        )
        if not numbers:
            raise ConfigError(name, f"must be a tuple of numbers, got {_shown(value)}")
        if not value:
            raise ConfigError(name, "must hold at least one number")
        if len(set(value)) < len(value):
            raise ConfigError(name, f"holds one number twice: {_shown(value)}")
        for item in value:
            try:
                check_value(name, float(item), float, meta)
            except ConfigError as exc:
                raise ConfigError(name, f"{exc.detail} (in {_shown(value)})") from None
        return
    if kind is tuple:
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(name, f"must be a tuple of strings, got {_shown(value)}")
        if not value:
            raise ConfigError(name, "must name at least one")
        if len(set(value)) < len(value):
            raise ConfigError(name, f"names one twice: {_shown(value)}")
        choices = _choices(meta)
        for item in value:
            if choices is not None and item not in choices:
                raise ConfigError(name, _unknown(name, item, choices))
        return
    if kind is dict and not isinstance(value, dict):
        raise ConfigError(name, f"must be a mapping, got {_shown(value)}")


def _unknown(name: str, item: str, choices: Sequence[str]) -> str:
    """``unknown cell 'x'; choose from …`` (an item of the field ``cells`` is a cell)."""
    noun = name.rsplit(".", 1)[-1].removesuffix("s")
    return f"unknown {noun} {_shown(item)}; choose from {', '.join(choices)}"


def check_fields(config: Any) -> None:
    """Check every field of ``config`` against its declaration (call it in __post_init__)."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        if dataclasses.is_dataclass(hints[f.name]):
            continue  # a nested config checked itself when it was built
        check_value(f.name, getattr(config, f.name), hints[f.name], dict(f.metadata))


# --- the command line ---------------------------------------------------------------------


def flag_of(f: dataclasses.Field) -> str:
    """The field's flag: ``--`` + its name with dashes, unless it declares another."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def leaves(cls: type) -> Iterator[tuple[tuple[str, ...], dataclasses.Field, Any]]:
    """(path, field, annotation) of every option of ``cls``, nested configs flattened."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            for path, leaf, annotation in leaves(hints[f.name]):
                yield (f.name, *path), leaf, annotation
        elif f.metadata.get("cli", False):
            yield (f.name,), f, hints[f.name]


def _default(f: dataclasses.Field) -> Any:
    if f.default is not _NOTHING:
        return f.default
    if f.default_factory is not _NOTHING:
        return f.default_factory()
    return _NOTHING


def _value_of(obj: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        obj = getattr(obj, name)
    return obj


def _offs(meta: dict) -> tuple[float | str, ...]:
    off = meta.get("off")
    return () if off is None else off if isinstance(off, tuple) else (off,)


def _is_off(text: str, meta: dict) -> bool:
    """Whether ``text`` is one of the field's values that mean None (``0``, ``none``)."""
    for off in _offs(meta):
        if isinstance(off, str) and text.lower() == off.lower():
            return True
        if not isinstance(off, str):
            try:
                if float(text) == off:
                    return True
            except ValueError:
                pass
    return False


def _parser_for(name: str, annotation: Any, meta: dict) -> Callable[[str], Any]:
    """An argparse ``type``: the text as the field's type, checked as the library checks it
    (so a bad value is refused while parsing, before any data is read)."""
    kind, _ = _kinds(annotation)

    def parse(text: str) -> Any:
        cleaned = text.strip().replace("\u2212", "-")
        if _is_off(cleaned, meta):
            return OFF
        if kind is Path:
            if not cleaned:
                raise argparse.ArgumentTypeError("the path is empty")
            return Path(text)
        if kind is tuple:
            items = list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
            if not items:
                raise argparse.ArgumentTypeError("the list is empty")
            if _item_kind(annotation) is float:
                numbers = []
                for item in items:
                    try:
                        numbers.append(float(item.replace("\u2212", "-")))
                    except ValueError:
                        raise argparse.ArgumentTypeError(f"{item!r} is not a number") from None
                try:
                    check_value(name, tuple(numbers), annotation, meta)
                except ConfigError as exc:
                    raise argparse.ArgumentTypeError(exc.text(str)) from None
                return tuple(numbers)
            choices = _choices(meta)
            for item in items:
                if choices is not None and item not in choices:
                    raise argparse.ArgumentTypeError(_unknown(name, item, choices))
            return tuple(items)
        if kind is str:
            try:
                check_value(name, text, annotation, meta)
            except ConfigError as exc:
                raise argparse.ArgumentTypeError(exc.text(str)) from None
            return text
        if kind is int:
            try:
                value: Any = int(cleaned)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        else:
            try:
                value = float(cleaned)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
            if not math.isfinite(value):
                raise argparse.ArgumentTypeError(f"{cleaned} is not a finite number")
        try:
            check_value(name, value, annotation, meta)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(exc.text(str)) from None
        return value

    return parse


def _default_note(meta: dict, default: Any, quick: Any, has_quick: bool) -> str:
    """``default 4; --quick 2; 0 = off`` for the help line."""

    def shown(value: Any) -> Any:
        if value is None:
            return "off"
        if value is True:
            return "on"
        if isinstance(value, tuple):
            return ",".join(v if isinstance(v, str) else f"{v:g}" for v in value)
        return value

    text = meta.get("default_text")
    note = f"default {text if text is not None else shown(default)}"
    if has_quick and quick != default:
        note += f"; --quick {shown(quick)}"
    offs = [f"{o:g}" if isinstance(o, int | float) else o for o in _offs(meta)]
    if offs:
        note += f"; {' or '.join(offs)} = off"
    return note


def add_options(
    parser: argparse.ArgumentParser,
    cls: type,
    quick: Any = None,
    groups: dict[str, str] | None = None,
    skip: Sequence[str] = (),
) -> None:
    """Add an option for every field of ``cls`` (nested configs flattened), ``--help`` showing
    its default (and the ``--quick`` one where it differs). Every option defaults to None, so
    :func:`from_args` knows what the user gave. ``groups`` titles the nested configs' option
    groups; ``skip`` leaves fields out, by name (``seed``) or by dotted path (``run.seed``)."""
    base = cls()
    made: dict[str, argparse._ArgumentGroup] = {}
    for path, f, annotation in leaves(cls):
        if f.name in skip or ".".join(path) in skip:
            continue
        title = (groups or {}).get(path[0]) if len(path) > 1 else None
        target: Any = parser
        if title is not None:
            target = made.setdefault(path[0], parser.add_argument_group(title))
        meta = dict(f.metadata)
        kind, _ = _kinds(annotation)
        default = _value_of(base, path)
        q = _value_of(quick, path) if quick is not None else default
        note = _default_note(meta, default, q, quick is not None)
        text = f"{meta['help']} ({note})" if meta["help"] else f"({note})"
        kwargs: dict[str, Any] = {"default": None, "help": text.replace("%", "%%")}
        if meta.get("metavar"):
            kwargs["metavar"] = meta["metavar"]
        elif _choices(meta) is None or kind is tuple:  # the flag's name, not the nested dest
            kwargs["metavar"] = flag_of(f).lstrip("-").replace("-", "_").upper()
        if kind is bool:
            if default is True:
                kwargs["action"] = argparse.BooleanOptionalAction
            else:  # a switch: present or not
                kwargs["action"] = "store_const"
                kwargs["const"] = True
                kwargs["help"] = meta["help"].replace("%", "%%") or None
        elif kind is str and not _offs(meta):
            choices = _choices(meta)
            if choices is not None:
                kwargs["choices"] = tuple(choices)
        elif kind in (int, float, str, Path, tuple):
            kwargs["type"] = _parser_for(".".join(path), annotation, meta)
        else:
            continue  # mappings and the like are set by code
        target.add_argument(flag_of(f), dest="__".join(path), **kwargs)


def from_args(cls: type[C], args: argparse.Namespace, quick: bool = False, **fixed: Any) -> C:
    """The config the parsed options describe: the user's values over the defaults (over the
    ``cls.quick()`` values with ``quick``); ``fixed`` sets fields (top level) that code chose.
    A library error about a field is raised again naming the field's flag (and any field its
    message names, as ``{field}``, by its flag too)."""
    base = cls.quick() if quick and hasattr(cls, "quick") else cls()  # type: ignore[attr-defined]
    flags: dict[str, str] = {}  # by dotted path, and by bare name where that is unambiguous
    for path, f, _ in leaves(cls):
        flags[".".join(path)] = flag_of(f)
        flags.setdefault(f.name, flag_of(f))

    def flag(name: str) -> str:
        return flags.get(name, name)

    def build(klass: type, obj: Any, prefix: tuple[str, ...]) -> Any:
        hints = typing.get_type_hints(klass)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(klass):
            path = (*prefix, f.name)
            if dataclasses.is_dataclass(hints[f.name]):
                values[f.name] = build(hints[f.name], getattr(obj, f.name), path)
                continue
            given = getattr(args, "__".join(path), None)
            if given is OFF:
                given = values[f.name] = None
            else:
                values[f.name] = given if given is not None else getattr(obj, f.name)
        if not prefix:
            values.update(fixed)
        try:
            return klass(**values)
        except ConfigError as exc:
            full = ".".join((*prefix, exc.field))
            where = full if full in flags else exc.field
            if where in flags:
                raise RnnlabError(f"{flags[where]}: {exc.text(flag)}") from None
            raise

    return build(cls, base, ())


def to_dict(config: Any) -> dict:
    """JSON-able form of a config (nested configs as nested objects)."""
    return dataclasses.asdict(config)


def add_quick_option(parser: argparse.ArgumentParser, cls: type) -> None:
    """``--quick``: ``cls.quick()`` in place of the defaults; the help is its docstring's first
    line (what the small run is, for users)."""
    doc = (cls.quick.__doc__ or "A small, fast run.").strip().splitlines()[0]  # type: ignore[attr-defined]
    parser.add_argument("--quick", action="store_true", help=doc[0].lower() + doc[1:])


def flags_of(cls: type) -> dict[str, str]:
    """Each option's flag, by its field's dotted path (``net.hidden_size`` -> ``--hidden``) and
    by its bare name where that is unambiguous."""
    flags: dict[str, str] = {}
    for path, f, _ in leaves(cls):
        flags[".".join(path)] = flag_of(f)
        flags.setdefault(f.name, flag_of(f))
    return flags


def given_fields(cls: type, args: argparse.Namespace) -> frozenset[str]:
    """The dotted paths of the fields of ``cls`` the user gave on the command line (the
    options :func:`add_options` made, which all default to None)."""
    return frozenset(
        ".".join(path)
        for path, _, _ in leaves(cls)
        if getattr(args, "__".join(path), None) is not None
    )


def cli_error(cls: type, exc: ConfigError) -> RnnlabError:
    """A library :class:`ConfigError` about a field of ``cls`` (raised after the config was
    built), as the command line says it: ``--flag: message``, other fields by their flags."""
    flags = flags_of(cls)
    where = flags.get(exc.field)
    text = exc.text(lambda name: flags.get(name, name))
    return RnnlabError(f"{where}: {text}" if where else f"{exc.field} {text}")
