"""Tampered checkpoints are refused with one clear line; loading never unpickles or runs code,
and never allocates more than the weights file holds."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import resource
import shutil
import tokenize
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

import rnnlab
from rnnlab.data.series import Series
from rnnlab.data.windows import WindowConfig
from rnnlab.errors import RnnlabError
from rnnlab.forecast import checkpoint
from rnnlab.forecast.checkpoint import load_checkpoint, save_checkpoint
from rnnlab.forecast.models import make_forecaster
from rnnlab.forecast.nets import NetConfig
from rnnlab.forecast.training import TrainConfig

SRC = Path(rnnlab.__file__).parent


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A small trained rnn checkpoint (H = 4, window 8), with Adam's state."""
    rng = np.random.default_rng(0)
    x = 50 + np.cumsum(rng.normal(0, 1, 120))
    series = Series(x, name="toy", source="toy.csv", column="v")
    f = make_forecaster(
        "rnn", WindowConfig(window=8), NetConfig(hidden_size=4), TrainConfig(epochs=1)
    )
    return save_checkpoint(f.fit(series, val_size=20), tmp_path_factory.mktemp("c") / "rnn")


@pytest.fixture
def ckpt(saved, tmp_path) -> Path:
    """A fresh copy of the checkpoint to tamper with."""
    return Path(shutil.copytree(saved, tmp_path / "ckpt"))


def edit_config(path: Path, edit) -> None:
    config = json.loads((path / "config.json").read_text())
    edit(config)
    (path / "config.json").write_text(json.dumps(config))


def rehash(path: Path, name: str) -> None:
    """Record ``name``'s new SHA-256 in config.json, as a tamperer who edits both would: the
    checks below the hash must still hold."""
    digest = hashlib.sha256((path / name).read_bytes()).hexdigest()
    edit_config(path, lambda c: c["sha256"].update({name: digest}))


def edit_weights(path: Path, edit) -> None:
    weights = load_file(str(path / "model.safetensors"))
    edit(weights)
    save_file(weights, str(path / "model.safetensors"))
    rehash(path, "model.safetensors")


def refused(path: Path, *needles: str) -> str:
    with pytest.raises(RnnlabError) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


# -- nothing unpickles ------------------------------------------------------------------------

FORBIDDEN_NAMES = {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal", "allow_pickle"}
FORBIDDEN_TEXT = re.compile(
    r"torch\s*\.\s*load\b|weights_only\s*=\s*False|\bpickle\s*\.\s*loads?\b"
)


def test_the_source_never_unpickles():
    """No module of rnnlab names pickle (or its kin) in code, calls torch.load, or passes
    weights_only=False: tokens, so that a docstring saying "no pickle" does not count."""
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 40
    found = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        found += [f"{file.name}: {m.group()}" for m in FORBIDDEN_TEXT.finditer(text)]
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        for i, tok in enumerate(tokens):
            if tok.type == tokenize.NAME and tok.string in FORBIDDEN_NAMES:
                found.append(f"{file.name}:{tok.start[0]}: {tok.string}")
            if tok.string == "torch" and [t.string for t in tokens[i + 1 : i + 3]] == [".", "load"]:
                found.append(f"{file.name}:{tok.start[0]}: torch.load")
    assert found == []


class _Payload:
    """Unpickling this creates a file: what a hostile 'model' could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_in_place_of_the_weights_is_refused_and_never_run(ckpt, tmp_path, cli_here,
                                                                   user_error):  # fmt: skip
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(marker))
    (ckpt / "model.safetensors").write_bytes(payload)
    user_error(cli_here("predict", "--model", str(ckpt), "--json"),
               "model.safetensors is not a valid safetensors file")  # fmt: skip
    assert not marker.exists()
    pickle.loads(payload).close()  # the payload is real: unpickling it does run code
    assert marker.exists()


def test_a_torch_save_file_is_refused(ckpt):
    buffer = io.BytesIO()
    torch.save({"cells.0.wh": torch.zeros(4, 4)}, buffer)
    (ckpt / "model.safetensors").write_bytes(buffer.getvalue())
    refused(ckpt, "not a valid safetensors file")


# -- the config -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda c: c.update(exec="import os"), ["config.json: unknown key(s) 'exec'"]),
        (lambda c: c["model"].update(code="x"), ["model: unknown key(s) 'code'"]),
        (lambda c: c["data"].update(path="/etc"), ["data: unknown key(s) 'path'"]),
        (lambda c: c["history"].update(extra=[]), ["history: unknown key(s) 'extra'"]),
        (lambda c: c["train"].update(extra=1), ["train: expected exactly the keys"]),
        (lambda c: c["model"]["net"].update(hidden_size=-3), ["model.net", "hidden_size must be"]),
        (lambda c: c["model"]["net"].update(hidden_size=8.5), ["model.net", "whole number"]),
        (lambda c: c["train"].update(lr=float("nan")), ["train", "lr must be a finite number"]),
        (lambda c: c["training"].update(train_loss=["x"]), ["train_loss", "list of numbers"]),
        (lambda c: c["training"].update(best_epoch="1"), ["best_epoch", "wrong type"]),
        (lambda c: c["history"].update(values=[[1.0]] * 9), ["history.values", "numbers"]),
        (lambda c: c["history"].update(values=["a"] * 9), ["history.values", "numbers"]),
        (lambda c: c["history"].update(dates=[{}] * 9), ["history.dates"]),
        (lambda c: c["data"].update(rows="many"), ["'rows' has the wrong type"]),
        (lambda c: c["data"].pop("first"), ["no 'first'"]),
        (lambda c: c["data"].update(tail=0), ["data.tail must be at least 1"]),
        (lambda c: c["data"].update(tail="400"), ["'tail' has the wrong type"]),
        (lambda c: c["data"].update(fill="mean"), ["data.fill must be one of ffill, drop"]),
        (lambda c: c["preprocessing"]["window"].update(window="8"), ["preprocessing: window must"]),
        (lambda c: c["preprocessing"]["scaler"].update(std=1e400), ["preprocessing", "STD"]),
        (lambda c: c["optimizer"].update(param_groups="x"), ["param_groups"]),
    ],
)
def test_a_tampered_config_is_refused(ckpt, edit, needles):
    edit_config(ckpt, edit)
    refused(ckpt, *needles)


def test_a_config_nested_too_deeply_or_too_big_is_refused(ckpt, monkeypatch):
    (ckpt / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    refused(ckpt, "nested too deeply")
    monkeypatch.setattr(checkpoint, "MAX_CONFIG_BYTES", 100)
    (ckpt / "config.json").write_text(" " * 101)
    refused(ckpt, "config.json is 101 bytes")


@pytest.mark.parametrize(
    ("net", "needles"),
    [
        ({"hidden_size": 10**9}, ["model.net: hidden_size must be at least 1 and at most 4096"]),
        ({"layers": 10**6}, ["model.net: layers must be at least 1 and at most 64"]),
        ({"hidden_size": 4096}, ["does not fit the model", "dimension of 4096"]),  # in bounds
        ({"layers": 64}, ["does not fit the model", "fewer than the 64 layer(s)"]),
        ({"hidden_size": 3}, ["does not fit the model", "wrong shape ['cells.0.b'"]),
        ({"kind": "lstm"}, ["does not fit the model", "unexpected ['cells.0.b'"]),
    ],
)
def test_absurd_or_wrong_shapes_are_refused_before_allocating(ckpt, net, needles):
    """The shapes come from the safetensors header and the meta device: refusing a hidden size
    of 10⁹ (4·10¹⁸ bytes for Wh) or 10⁶ layers costs no memory and no time. Those are now past
    the settings' own bounds; 4096 and 64, within them, still meet the header check."""
    edit_config(ckpt, lambda c: c["model"]["net"].update(net))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, the peak so far
    refused(ckpt, *needles)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000


# -- the weights ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "needles"),
    [
        (lambda w: w.update({"cells.0.wh": torch.zeros(5, 5)}), ["wrong shape ['cells.0.wh']"]),
        (lambda w: w.pop("head.bias"), ["missing ['head.bias']"]),
        (lambda w: w.update(evil=torch.zeros(1)), ["unexpected ['evil']"]),
        (lambda w: w.update({"cells.0.wh": w["cells.0.wh"].double()}), ["not torch.float32"]),
        (lambda w: w.update({"cells.0.wh": torch.zeros(4, 4, dtype=torch.int64)}), ["I64"]),
        (lambda w: w.update({"head.bias": torch.tensor([float("nan")])}), ["NaN or inf"]),
    ],
)
def test_tampered_weights_are_refused(ckpt, edit, needles):
    edit_weights(ckpt, edit)
    refused(ckpt, *needles)


def test_truncated_or_padded_weights_are_refused(ckpt):
    raw = (ckpt / "model.safetensors").read_bytes()
    (ckpt / "model.safetensors").write_bytes(raw[:-7])
    refused(ckpt, "not a valid safetensors file")
    (ckpt / "model.safetensors").write_bytes(raw + b"\0" * 64)
    refused(ckpt, "not a valid safetensors file")
    (ckpt / "model.safetensors").write_bytes(raw)
    assert load_checkpoint(ckpt).predict(1).shape == (1,)  # untouched, it loads


def test_adam_state_of_the_wrong_shape_is_refused(ckpt):
    tensors = load_file(str(ckpt / "optimizer.safetensors"))
    tensors["state.0.exp_avg"] = torch.zeros(99)
    save_file(tensors, str(ckpt / "optimizer.safetensors"))
    refused(ckpt, "optimizer.safetensors", "'state.0.exp_avg' has shape (99,)")


@pytest.mark.parametrize("name", ["model.safetensors", "config.json", "optimizer.safetensors"])
def test_symbolic_links_are_refused(ckpt, tmp_path, name):
    """A checkpoint holds its own files: a link could point anywhere (a device, a huge log,
    another user's file)."""
    target = tmp_path / f"elsewhere-{name}"
    shutil.move(ckpt / name, target)
    os.symlink(target, ckpt / name)
    refused(ckpt, f"{name} is a symbolic link")


def test_the_command_line_shows_one_line(ckpt, cli_here, user_error):
    edit_config(ckpt, lambda c: c["model"]["net"].update(hidden_size=4096))
    user_error(cli_here("predict", "--model", str(ckpt), "--json"), "does not fit the model")
    user_error(cli_here("train", "--resume", str(ckpt), "--quick", "--json"), "does not fit")


def test_huge_weights_give_an_error_not_an_infinite_prediction(tmp_path, cli_here, user_error):
    """Finite weights (1e308) can still make the prediction overflow: predict says so."""
    rng = np.random.default_rng(1)
    series = Series(50 + np.cumsum(rng.normal(0, 1, 80)), name="toy", source="toy.csv")
    f = make_forecaster(
        "linear", WindowConfig(window=5, target="level"), NetConfig(), TrainConfig()
    )
    path = save_checkpoint(f.fit(series), tmp_path / "lin")
    edit_weights(path, lambda w: w["intercept_and_coef"].fill_(1e308))
    user_error(cli_here("predict", "--model", str(path), "--json"), "not a finite number")


# -- fuzzing ----------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(obj, prefix=()):
    """Every key path into a JSON object."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_edit_of_the_config_loads_or_is_one_clear_error(saved, tmp_path, data, cli_here,
                                                            clean_outcome):  # fmt: skip
    """Replace one value anywhere in config.json by any JSON value: predict either works (a
    finite prediction, clean JSON) or says what is wrong in one line."""
    path = tmp_path / "fuzz"
    if not path.exists():
        shutil.copytree(saved, path)
    config = json.loads((saved / "config.json").read_text())
    where = data.draw(st.sampled_from(list(_paths(config))))
    target = config
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = data.draw(_json_values)
    (path / "config.json").write_text(json.dumps(config))
    clean_outcome(cli_here("predict", "--model", str(path), "--horizon", "2", "--json"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.integers(0, 10_000),
    flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4),
)
def test_any_damage_to_the_weights_loads_or_is_one_clear_error(
    saved, tmp_path, cut, flips, cli_here, clean_outcome
):
    path = tmp_path / "fuzz"
    if not path.exists():
        shutil.copytree(saved, path)
    raw = bytearray((saved / "model.safetensors").read_bytes())
    for at, byte in flips:  # the header (its first bytes) and the start of the data
        raw[at % len(raw)] = byte
    (path / "model.safetensors").write_bytes(bytes(raw[: len(raw) - cut % len(raw)]))
    clean_outcome(cli_here("predict", "--model", str(path), "--json"))


@pytest.mark.parametrize(("betas", "needle"), [(None, "list of numbers"), ([0.9], "two numbers")])
def test_adams_betas_must_be_two_numbers(ckpt, betas, needle):
    # found by the config fuzzing above: betas = null crashed the loader
    edit_config(ckpt, lambda c: c["optimizer"]["param_groups"][0].update(betas=betas))
    with pytest.raises(RnnlabError, match=needle):
        load_checkpoint(ckpt)
