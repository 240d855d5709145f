"""A checkpoint is what was written or nothing: numbers Python cannot take are named by their
key, a flipped bit in a weights file is refused by its SHA-256, and the same run with the same
seed writes the same bytes (issue 11, cases 4, 9 and 11)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import rnnlab.forecast.checkpoint as checkpoint
from rnnlab.cli import main
from rnnlab.forecast.checkpoint import load_checkpoint

TRAIN = ("train", "--quick", "--hidden", "4", "--epochs", "3", "--patience", "0", "--json")
MARK = '"@@raw@@"'


def _train(out: Path, *extra: str, interrupt: bool = False) -> None:
    """``rnnlab train`` in this process; with ``interrupt``, stopped (as by Ctrl-C) after the
    last epoch's checkpoint, before the final save: a checkpoint with its state files."""
    if not interrupt:
        assert main([*TRAIN, "--out", str(out), *extra]) == 0
        return
    real = checkpoint.save_checkpoint

    def crash_before_the_final_save(f, path, state=None, run=None):
        if state is None:
            raise KeyboardInterrupt
        return real(f, path, state, run)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(checkpoint, "save_checkpoint", crash_before_the_final_save)
        assert main([*TRAIN, "--out", str(out), *extra]) == 130  # "rnnlab: interrupted"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Two finished runs with --seed 1 (a, b), one with --seed 2 (c), and two interrupted
    runs with --seed 1 (ia, ib)."""
    root = tmp_path_factory.mktemp("runs")
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        _train(root / name, "--seed", seed)
    for name in ("ia", "ib"):
        _train(root / name, "--seed", "1", interrupt=True)
    return root


@pytest.fixture
def ckpt(runs, tmp_path) -> Path:
    """A fresh copy of an interrupted run's checkpoint (all five hashed and JSON files)."""
    return Path(shutil.copytree(runs / "ia", tmp_path / "ckpt"))


def _predict(path: Path, cli_here) -> list[float]:
    r = cli_here("predict", "--model", str(path), "--horizon", "2", "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)["predictions"]


def set_raw(file: Path, keys: tuple, raw: str) -> None:
    """Put the JSON text ``raw`` (a number json.dumps would never write) at ``keys``."""
    obj = json.loads(file.read_text())
    target = obj
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = MARK.strip('"')
    file.write_text(json.dumps(obj, indent=2).replace(MARK, raw))


# -- case 4: numbers in config.json that Python cannot take ------------------------------------

DIGITS_5000 = "5" * 5000


NET, WHOLE = ("model", "net"), "is not a whole number"
BAD_NUMBERS = [
    ((*NET, "hidden_size"), DIGITS_5000,
     "config.json: model.net.hidden_size: an integer of 5000 digits is too large"),
    ((*NET, "hidden_size"), "true", f"model.net.hidden_size: true {WHOLE}"),
    ((*NET, "layers"), "-" + "9" * 400, "model.net.layers: an integer of 400 digits"),
    (("train", "lr"), "1e400", "config.json: train.lr: 1e400 is beyond the range of a float64"),
    (("train", "epochs"), "false", f"train.epochs: false {WHOLE}"),
    (("train", "clip_norm"), "true", "train.clip_norm: true is not a number or null"),
    (("history", "values", 0), "1" + "0" * 400, "history.values[0]: an integer of 401 digits"),
    (("training", "best_epoch"), "true", f"training.best_epoch: true {WHOLE} or null"),
    (("preprocessing", "scaler", "std"), "true", "preprocessing.scaler.std: true is not a number"),
    (("data", "rows"), "true", "'rows' has the wrong type (bool)"),
    (("optimizer", "param_groups", 0, "lr"), "true",
     "optimizer.param_groups[0].lr: true is not a number"),
]  # fmt: skip


@pytest.mark.parametrize(("keys", "raw", "needle"), BAD_NUMBERS)
def test_numbers_python_cannot_take_are_named_by_their_key(ckpt, cli_here, user_error, keys, raw,
                                                           needle):  # fmt: skip
    """Before: a 5000-digit hidden_size was a ValueError traceback (Python's int-parsing limit)
    in predict and train --resume; ``true`` (an int to Python) reached torch as empty(True)."""
    set_raw(ckpt / "config.json", keys, raw)
    user_error(cli_here("predict", "--model", str(ckpt), "--json"), f"--model: {ckpt}: ", needle)
    if keys[-1] == "hidden_size":
        r = cli_here("train", "--resume", str(ckpt), "--json")
        user_error(r, f"--resume: {ckpt}: ", needle)


def test_numbers_in_state_json_are_named_too(ckpt, cli_here, user_error):
    good = (ckpt / "state.json").read_text()
    set_raw(ckpt / "state.json", ("epoch",), DIGITS_5000)
    user_error(
        cli_here("train", "--resume", str(ckpt), "--json"),
        "state.json: epoch: an integer of 5000 digits is too large",
    )
    (ckpt / "state.json").write_text(good)
    set_raw(ckpt / "state.json", ("epoch",), "true")
    user_error(cli_here("train", "--resume", str(ckpt), "--json"), "state.json epoch must be")


def test_good_numbers_still_load(runs, ckpt, cli_here):
    """The same numbers written another legal way (19 digits, an exponent) load: the limit is
    on what no checkpoint holds, not on JSON's spelling."""
    before = _predict(ckpt, cli_here)
    set_raw(ckpt / "config.json", ("data", "rows"), "1" + "0" * 18)  # 19 digits
    set_raw(ckpt / "config.json", ("train", "lr"), "1.0e-3")
    assert _predict(ckpt, cli_here) == before
    g = load_checkpoint(ckpt)
    assert g.checkpoint_["data"]["rows"] == 10**18
    assert g.train_config.lr == 0.001


# -- case 9: the SHA-256 of every weights file ----------------------------------------------------


def _flip(file: Path, at: int = -1, bit: int = 0x40) -> None:
    """Flip one bit (by default an exponent bit of the file's last float32)."""
    raw = bytearray(file.read_bytes())
    raw[at] ^= bit
    file.write_bytes(bytes(raw))


def test_the_hashes_are_recorded(ckpt):
    sums = json.loads((ckpt / "config.json").read_text())["sha256"]
    names = ["model.safetensors", "optimizer.safetensors", "state.safetensors"]
    assert sorted(sums) == names
    for name in names:
        assert sums[name] == hashlib.sha256((ckpt / name).read_bytes()).hexdigest()


def test_a_flipped_bit_in_the_weights_is_refused(ckpt, cli_here, user_error):
    """Before: the file loaded and predicted 4.7e36."""
    good = _predict(ckpt, cli_here)
    _flip(ckpt / "model.safetensors")
    needle = "model.safetensors is damaged or was changed after it was written: its SHA-256 is"
    user_error(cli_here("predict", "--model", str(ckpt), "--json"), f"--model: {ckpt}: {needle}")
    user_error(cli_here("train", "--resume", str(ckpt), "--json"), f"--resume: {ckpt}: {needle}")
    r = cli_here("gradients", "--model", str(ckpt), "--no-plot", "--json")
    user_error(r, f"--model: {ckpt}: {needle}")
    # the hash is what caught it: recorded anew, the same file loads and predicts otherwise
    sums = json.loads((ckpt / "config.json").read_text())["sha256"]
    raw = (ckpt / "model.safetensors").read_bytes()
    sums["model.safetensors"] = hashlib.sha256(raw).hexdigest()
    set_raw(ckpt / "config.json", ("sha256",), json.dumps(sums))
    r = cli_here("predict", "--model", str(ckpt), "--horizon", "2", "--json")
    assert r.code != 0 or json.loads(r.out)["predictions"] != good


@pytest.mark.parametrize("name", ["optimizer.safetensors", "state.safetensors"])
def test_a_flipped_bit_in_the_other_tensor_files_is_refused(ckpt, cli_here, user_error, name):
    _flip(ckpt / name, at=-2, bit=0x01)
    r = cli_here("train", "--resume", str(ckpt), "--json")
    user_error(r, f"--resume: {ckpt}: {name} is damaged or was changed")
    if name == "state.safetensors":  # predict does not read the training state
        assert len(_predict(ckpt, cli_here)) == 2


NO_SHA, NOT_HEX = "config.json records no SHA-256 for", "sha256.model.safetensors: not a SHA-256"


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: s.pop("model.safetensors"), f"{NO_SHA} model.safetensors"),
        (lambda s: s.update({"model.safetensors": "00" * 31}), NOT_HEX),
        (lambda s: s.update({"model.safetensors": 7}), NOT_HEX),
        (lambda s: s.update({"evil.bin": "00" * 32}), "sha256: unknown key(s) 'evil.bin'"),
        (lambda s: s.clear(), f"{NO_SHA} model.safetensors"),
    ],
)
def test_a_bad_record_of_hashes_is_refused(ckpt, edit, needle, user_error, cli_here):
    config = json.loads((ckpt / "config.json").read_text())
    edit(config["sha256"])
    (ckpt / "config.json").write_text(json.dumps(config))
    user_error(cli_here("predict", "--model", str(ckpt), "--json"), needle)


def test_a_recorded_file_that_is_missing_is_refused(ckpt, cli_here, user_error):
    (ckpt / "optimizer.safetensors").unlink()
    r = cli_here("predict", "--model", str(ckpt), "--json")
    user_error(r, "optimizer.safetensors is missing (config.json records its SHA-256)")


# -- case 11: the same seed twice, the same bytes ----------------------------------------------

MODEL_FILES = ["config.json", "model.safetensors", "optimizer.safetensors"]
STATE_FILES = ["state.json", "state.safetensors"]


def test_the_same_seed_twice_writes_the_same_files(runs):
    """Before: config.json differed in its training seconds. Now the seconds measured are in
    timing.json, the one file that may differ; every other file is equal byte for byte, for
    the finished model and for a checkpoint written during training."""
    for a, b, files in (("a", "b", MODEL_FILES), ("ia", "ib", MODEL_FILES + STATE_FILES)):
        assert sorted(p.name for p in (runs / a).iterdir()) == sorted([*files, "timing.json"])
        for name in files:
            assert (runs / a / name).read_bytes() == (runs / b / name).read_bytes(), (a, name)
        seconds = json.loads((runs / a / "timing.json").read_text())
        assert list(seconds) == ["seconds"]
        assert seconds["seconds"] > 0
        assert "seconds" not in json.loads((runs / a / "config.json").read_text())["training"]
    # another seed: other weights (the comparison above is not vacuous)
    assert (runs / "a" / "model.safetensors").read_bytes() != (
        runs / "c" / "model.safetensors"
    ).read_bytes()


def test_the_seconds_survive_a_resume(runs, tmp_path, cli_here):
    """The measured seconds go on accumulating across a resume, read back from timing.json."""
    path = Path(shutil.copytree(runs / "ia", tmp_path / "run"))
    before = json.loads((path / "timing.json").read_text())["seconds"]
    assert load_checkpoint(path).history_.seconds == before
    r = cli_here("train", "--resume", str(path), "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["training"]["seconds"] >= before
    for name in MODEL_FILES:  # the resumed run ends exactly as the uninterrupted one
        assert (path / name).read_bytes() == (runs / "a" / name).read_bytes(), name


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"seconds": -1}', "seconds must be a finite number >= 0"),
        ('{"seconds": true}', 'timing.json must hold exactly {"seconds": a number}'),
        ('{"seconds": 1, "x": 2}', 'timing.json must hold exactly {"seconds": a number}'),
        ("[", "timing.json is not a small JSON object"),
    ],
)
def test_a_bad_timing_file_is_one_line(ckpt, cli_here, user_error, text, needle):
    (ckpt / "timing.json").write_text(text)
    user_error(cli_here("predict", "--model", str(ckpt), "--json"), needle)
