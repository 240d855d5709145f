"""rnnlab.config: one declaration per setting gives the library's checks (naming the field),
the command-line options (naming the flag) and the --quick values."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import pytest

from rnnlab.config import ConfigError, add_options, check_fields, from_args, option
from rnnlab.data.windows import WindowConfig
from rnnlab.errors import RnnlabError
from rnnlab.forecast.nets import NetConfig
from rnnlab.forecast.training import TrainConfig
from rnnlab.tasks.runner import RunConfig


@dataclass(frozen=True)
class Inner:
    size: int = option(4, "units", low=1, high=10, flag="--hidden")
    rate: float | None = option(0.5, "a rate", low=0, above=True, off=0)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class Outer:
    inner: Inner = option(factory=Inner, cli=False)
    name: str = option("a", "a choice", choices=("a", "b"))
    flag: bool = option(False, "a switch")

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def quick(cls) -> Outer:
        return cls(inner=Inner(size=2))


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(exit_on_error=False)
    add_options(p, Outer, quick=Outer.quick(), groups={"inner": "the inner part"})
    return p.parse_args(argv)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: WindowConfig(window=0), "window must be at least 1 and at most 100000, got 0"),
        (lambda: WindowConfig(target="lvl"), "target must be one of level, diff, log-return"),
        (lambda: NetConfig(hidden_size=True), "hidden_size must be a whole number, got True"),
        (
            lambda: NetConfig(hidden_size=10**5000),
            "hidden_size must be at least 1 and at most 4096, got a number of about 500",
        ),
        (lambda: NetConfig(dropout=float("nan")), "dropout must be a finite number, got nan"),
        (lambda: TrainConfig(lr=0), "lr must be above 0 and at most 1e+06, got 0"),
        (lambda: TrainConfig(epochs=2.5), "epochs must be a whole number, got 2.5"),
        (lambda: TrainConfig(clip_norm=-1), "clip_norm must be above 0, got -1"),
        (lambda: RunConfig(optimizer="rmsprop"), "optimizer must be one of adam, sgd"),
        (lambda: RunConfig(explode_factor=0.5), "explode_factor must be above 1, got 0.5"),
    ],
)
def test_library_errors_name_the_field_not_a_flag(make, message):
    with pytest.raises(ConfigError) as info:
        make()
    assert str(info.value).startswith(message)
    assert "--" not in str(info.value)


def test_library_and_command_line_share_defaults():
    # one truth: the CLI's defaults are the dataclasses' own (they disagreed before)
    assert (WindowConfig().window, WindowConfig().target) == (50, "diff")
    assert (TrainConfig().epochs, TrainConfig().patience) == (100, 10)
    assert (NetConfig().hidden_size, NetConfig.quick().hidden_size) == (32, 8)


def test_options_are_generated_and_read_back():
    args = parse()
    assert from_args(Outer, args) == Outer()
    assert from_args(Outer, args, quick=True) == Outer.quick()
    args = parse("--hidden", "7", "--rate", "0", "--name", "b", "--flag")
    cfg = from_args(Outer, args, quick=True)
    assert cfg == Outer(inner=Inner(size=7, rate=None), name="b", flag=True)  # 0 = off
    assert from_args(Outer, parse("--rate", "2"), quick=True).inner == Inner(size=2, rate=2.0)


def test_bad_values_are_refused_while_parsing_with_the_flag():
    with pytest.raises(argparse.ArgumentError, match=r"at least 1 and at most 10"):
        parse("--hidden", "11")
    with pytest.raises(argparse.ArgumentError, match="'x' is not a whole number"):
        parse("--hidden", "x")
    with pytest.raises(argparse.ArgumentError, match=r"above 0"):
        parse("--rate", "-1")


def test_a_library_error_is_raised_again_naming_the_flag():
    @dataclass(frozen=True)
    class Pair:
        low: int = option(1, "low", low=0)
        high: int = option(2, "high", low=0)

        def __post_init__(self) -> None:
            check_fields(self)
            if self.high < self.low:
                raise ConfigError("high", f"must be at least low ({self.low}), got {self.high}")

    p = argparse.ArgumentParser()
    add_options(p, Pair)
    with pytest.raises(RnnlabError, match=r"^--high: must be at least low \(5\), got 2$"):
        from_args(Pair, p.parse_args(["--low", "5"]))


def test_help_shows_defaults_and_quick_values():
    p = argparse.ArgumentParser()
    add_options(p, Outer, quick=Outer.quick(), groups={"inner": "the inner part"})
    text = p.format_help()
    assert "the inner part" in text
    assert "units (default 4; --quick 2)" in text
    assert "a rate (default 0.5; 0 = off)" in text


@dataclass(frozen=True)
class Kinds:
    """The other kinds of field: a path, a list of names, off words, a switch, a default
    worked out later, and a message that names another field."""

    out: Path = option(Path("out/x"), "a folder", metavar="DIR")
    model: Path | None = option(None, "a checkpoint", metavar="DIR")
    cells: tuple[str, ...] = option(("a", "b"), "names", choices=("a", "b", "c"), flag="--cell")
    clip: float | None = option(None, "a norm", low=0, above=True, off=(0, "none"))
    lr: float | None = option(None, "a rate", low=0, above=True, default_text="1e-3; c 1e-4")
    chrono: bool = option(False, "a switch")
    stop: bool = option(True, "on unless told")
    inner: Inner = option(factory=Inner, cli=False)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.chrono and "c" not in self.cells:
            raise ConfigError("chrono", "needs c in {cells}; drop {chrono} or add it")


def kinds(*argv: str, skip=()) -> Kinds:
    p = argparse.ArgumentParser(exit_on_error=False)
    add_options(p, Kinds, skip=skip)
    return from_args(Kinds, p.parse_args(argv))


def test_paths_lists_off_words_and_switches():
    assert kinds() == Kinds()
    k = kinds("--out", "d", "--model", "m", "--cell", " c, a,c ,", "--clip", "None", "--chrono")
    assert (k.out, k.model, k.cells, k.clip, k.chrono) == (
        Path("d"),
        Path("m"),
        ("c", "a"),
        None,
        True,
    )
    assert kinds("--clip", "0").clip is None
    assert kinds("--clip", "2").clip == 2.0
    assert kinds("--no-stop").stop is False
    with pytest.raises(argparse.ArgumentError, match="unknown cell 'x'; choose from a, b, c"):
        kinds("--cell", "a,x")
    with pytest.raises(argparse.ArgumentError, match="the list is empty"):
        kinds("--cell", " , ")
    with pytest.raises(argparse.ArgumentError, match="inf is not a finite number"):
        kinds("--lr", "inf")
    with pytest.raises(argparse.ArgumentError, match="ignored explicit argument"):
        kinds("--chrono=1")  # a switch takes no value
    p = argparse.ArgumentParser()
    add_options(p, Kinds, skip=("inner.size",))  # skipped by its dotted path
    assert "--hidden" not in p.format_help()
    assert "--rate" in p.format_help()


def test_library_errors_for_the_new_kinds_name_the_field():
    with pytest.raises(ConfigError, match=r"^cells unknown cell 'x'; choose from a, b, c$"):
        Kinds(cells=("x",))
    with pytest.raises(ConfigError, match=r"^cells must name at least one$"):
        Kinds(cells=())
    with pytest.raises(ConfigError, match=r"^out must be a pathlib.Path, got 'd'$"):
        Kinds(out="d")  # type: ignore[arg-type]
    # a message naming another field: the field's name for Python, its flag on the command line
    with pytest.raises(ConfigError, match=r"^chrono needs c in cells; drop chrono or add it$"):
        Kinds(chrono=True)
    with pytest.raises(
        RnnlabError, match=r"^--chrono: needs c in --cell; drop --chrono or add it$"
    ):
        kinds("--chrono")


def test_help_of_the_new_kinds_and_quick():
    from rnnlab.config import add_quick_option

    p = argparse.ArgumentParser()
    add_options(p, Kinds)
    add_quick_option(p, Outer)
    text = " ".join(p.format_help().split())
    assert "--cell CELL names (default a,b)" in text
    assert "--clip CLIP a norm (default off; 0 or none = off)" in text
    assert "--lr LR a rate (default 1e-3; c 1e-4)" in text
    assert "--chrono a switch" in text
    assert "--no-chrono" not in text
    assert "--stop, --no-stop on unless told (default on)" in text
