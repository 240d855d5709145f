"""rnnlab.config: one declaration per setting gives the library's checks (naming the field),
the command-line options (naming the flag) and the --quick values."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

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
