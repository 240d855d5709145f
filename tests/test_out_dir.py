"""The directory a command writes (``--out``): one run at a time (a lock that a killed run
never leaves behind), a symbolic link followed the same way by every command, nothing empty
left after a failure, and messages that name the right option (issue 11: cases 5, 7, 8, 10)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from rnnlab import outdir
from rnnlab.forecast.checkpoint import load_checkpoint

TRAIN = ("train", "--quick", "--hidden", "4", "--epochs", "2", "--json")
FORECAST = ("forecast", "--quick", "--models", "persistence,linear", "--json")
HOLD = """
import sys, time
from rnnlab.outdir import claim_out
with claim_out(sys.argv[1], "--out", "the test dir", inside=sys.argv[2] == "inside"):
    print("held", flush=True)
    time.sleep(120)
"""


def _listing(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


@pytest.fixture
def holder(tmp_path, request):
    """Start a process that holds ``--out DIR``'s lock (beside it, as train takes it, or with
    ``@pytest.mark.parametrize("holder", ["inside"], indirect=True)`` inside it, as forecast
    does); yields (process, DIR)."""
    out = tmp_path / "out"
    where = getattr(request, "param", "beside")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out), where], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc, out
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()


# -- case 5: two writers on one --out -------------------------------------------------------------


@pytest.mark.parametrize(
    ("holder", "args", "lock", "during"),
    [
        ("beside", TRAIN, ".out.lock", [".out.lock"]),  # a checkpoint: the lock beside it
        ("inside", FORECAST, "out/.rnnlab.lock", ["out"]),  # a report: inside
    ],
    indirect=["holder"],
)
def test_a_second_run_is_refused_at_once_naming_the_holder(holder, cli_here, user_error, args,
                                                           lock, during):  # fmt: skip
    proc, out = holder
    busy = f"--out: {out} is being written by another run (pid {proc.pid} on "
    started = time.perf_counter()
    user_error(cli_here(*args, "--out", str(out)), busy, "wait for it to end")
    assert time.perf_counter() - started < 5  # at the start, not after the training
    assert _listing(out.parent) == during  # the refused run wrote nothing
    # a lock left by a killed process never blocks: the kernel drops a dead process's flock
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (out.parent / lock).exists()  # its file is still there ...
    r = cli_here(*args, "--out", str(out))  # ... and does not matter
    assert r.code == 0, r.err
    assert _listing(out.parent) == ["out"]  # the lock file is removed by the run that ends
    if args is TRAIN:
        assert load_checkpoint(out).history_.epochs == 2
    else:
        assert "report.html" in _listing(out)
        assert ".rnnlab.lock" not in _listing(out)


@pytest.mark.slow
def test_two_train_runs_on_one_out(tmp_path, cli_here, user_error):
    """Before: both ran; one died with "No such file or directory" and its work was lost.
    Now the second is refused at its start and the first ends with a whole checkpoint."""
    out = tmp_path / "ckpt"
    first = subprocess.Popen(
        [sys.executable, "-m", "rnnlab", *TRAIN, "--epochs", "40", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = tmp_path / ".ckpt.lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.02)  # the first run has taken the lock and written who holds it
    second = cli_here(*TRAIN, "--out", str(out))
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    user_error(second, f"--out: {out} is being written by another run (pid {first.pid} on ")
    assert "--out " + str(out) in second.err  # the holder's command line
    assert json.loads(stdout)["training"]["epochs"] == 40
    assert load_checkpoint(out).history_.epochs == 40
    assert _listing(tmp_path) == ["ckpt"]  # no lock, no temporary directory


def test_the_lock_is_taken_on_the_real_directory(tmp_path, monkeypatch, holder, cli_here,
                                                 user_error):  # fmt: skip
    """Another spelling of the path (relative), or a link to it, meets the same lock."""
    proc, out = holder
    (tmp_path / "link").symlink_to(out)
    monkeypatch.chdir(tmp_path)
    for spelling in ("out", "link", str(tmp_path / "link")):
        user_error(cli_here(*TRAIN, "--out", spelling), f"(pid {proc.pid} on ")


# -- case 8: a symbolic link as --out ----------------------------------------------------------


def test_a_linked_out_is_followed_by_every_command(tmp_path, cli_here):
    """Before: train replaced the link with a directory and left a stray .NAME.*.tmp link;
    forecast wrote through it. Now both write into the directory the link points to."""
    (tmp_path / "disk").mkdir()
    link = tmp_path / "ckpt"
    link.symlink_to(tmp_path / "disk" / "ckpt")  # dangling until the first write
    for seed in ("1", "2"):  # a new checkpoint, then one replacing it
        r = cli_here(*TRAIN, "--seed", seed, "--out", str(link))
        assert r.code == 0, r.err
        assert link.is_symlink()
        assert os.readlink(link) == str(tmp_path / "disk" / "ckpt")
        assert _listing(tmp_path) == ["ckpt", "disk"]
        assert _listing(tmp_path / "disk") == ["ckpt"]  # no stray link or temporary dir
        assert load_checkpoint(link).train_config.seed == int(seed)
    report = tmp_path / "report"
    report.symlink_to(tmp_path / "disk" / "report")
    r = cli_here(*FORECAST, "--out", str(report))
    assert r.code == 0, r.err
    assert report.is_symlink()
    assert "report.html" in _listing(tmp_path / "disk" / "report")
    assert _listing(tmp_path / "disk") == ["ckpt", "report"]


def test_a_link_loop_or_a_file_is_one_line(tmp_path, cli_here, user_error):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for args in (TRAIN, FORECAST):
        r = cli_here(*args, "--out", str(tmp_path / "a"))
        user_error(r, f"--out: {tmp_path / 'a'} is a symbolic link that loops")
    (tmp_path / "file").write_text("x")
    r = cli_here(*FORECAST, "--out", str(tmp_path / "file"))
    user_error(r, f"--out: {tmp_path / 'file'} exists and is not a directory")
    assert _listing(tmp_path) == ["a", "b", "file"]


# -- case 7 (part): no empty --out after a failure ----------------------------------------------


def test_a_failed_run_leaves_no_empty_directory(tmp_path, monkeypatch, cli_here, user_error):
    out = tmp_path / "new" / "deeper" / "out"
    r = cli_here(*TRAIN, "--data", str(tmp_path / "missing.csv"), "--out", str(out))
    user_error(r, "missing.csv")
    r = cli_here(*FORECAST, "--data", str(tmp_path / "missing.csv"), "--out", str(out))
    user_error(r, "missing.csv")
    assert _listing(tmp_path) == []  # not new/, not new/deeper/, no lock file

    from matplotlib.figure import Figure

    def full(self, fname, **kwargs):  # the disk fills up at the first plot
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(fname))

    monkeypatch.setattr(Figure, "savefig", full)
    r = cli_here(*FORECAST, "--out", str(out))
    user_error(r, f"--out: cannot write the report in {out}: No space left on device")
    assert _listing(tmp_path) == []  # write_report had made out/: removed, with its parents
    mine = tmp_path / "mine"
    mine.mkdir()  # a directory the user made is the user's: kept
    user_error(cli_here(*FORECAST, "--out", str(mine)), "No space left on device")
    assert _listing(tmp_path) == ["mine"]
    assert _listing(mine) == []


def test_an_interrupted_train_keeps_its_checkpoint(tmp_path, monkeypatch, cli_here):
    """What the cleanup never removes: a directory with something in it (the checkpoint of
    the last complete epoch, to resume from)."""
    import rnnlab.forecast.checkpoint as checkpoint

    real = checkpoint.save_checkpoint

    def crash_before_the_final_save(f, path, state=None, run=None):
        if state is None:
            raise KeyboardInterrupt
        return real(f, path, state, run)

    monkeypatch.setattr(checkpoint, "save_checkpoint", crash_before_the_final_save)
    out = tmp_path / "new" / "ckpt"
    assert cli_here(*TRAIN, "--out", str(out)).code == 130
    assert load_checkpoint(out).history_.epochs == 1  # the last epoch it went on from
    assert _listing(out.parent) == ["ckpt"]


# -- case 10 (part): messages that name the right option and reason -----------------------------


def test_resume_problems_blame_resume(tmp_path, cli_here, user_error):
    """Before: `--resume /nonexistent` blamed --model, `--resume FILE` blamed --out."""
    missing = tmp_path / "nonexistent"
    r = cli_here("train", "--resume", str(missing))
    user_error(r, f"--resume: {missing}: no such checkpoint directory")
    assert "--model" not in r.err
    file = tmp_path / "config.json"
    file.write_text("{}")
    r = cli_here("train", "--resume", str(file))
    user_error(r, f"--resume: {file}: not a directory (a checkpoint is a directory)")
    assert "--out" not in r.err
    assert _listing(tmp_path) == ["config.json"]  # no lock file, nothing created


@pytest.mark.parametrize(
    "args",
    [
        ("train", "--quick", "--out="),
        ("train", "--resume="),
        ("forecast", "--quick", "--out="),
        ("predict", "--model="),
    ],
)
def test_an_empty_directory_option_is_named(args, tmp_path, monkeypatch, cli_here, user_error):
    """Before: `--out=` became Path("") = "." ("--out: . exists and is not an rnnlab
    checkpoint"; forecast wrote its report into the current directory)."""
    monkeypatch.chdir(tmp_path)
    option = args[-1].rstrip("=")
    user_error(cli_here(*args), f"{args[0]}: argument {option}: the path is empty")
    assert _listing(tmp_path) == []


def _read_only_mount(path: Path) -> bool:
    """Mount an empty read-only tmpfs on ``path`` (root only); False where that is not allowed."""
    path.mkdir()
    if os.geteuid() != 0:
        return False
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def test_a_read_only_file_system_is_called_so(tmp_path, cli_here, user_error):
    """Before: `--plot` on a read-only file system said "permission denied". No simulation:
    a real read-only mount (skipped where this user cannot mount)."""
    ro = tmp_path / "ro"
    if not _read_only_mount(ro):
        pytest.skip("cannot mount a read-only file system here")
    try:
        r = cli_here(*TRAIN, "--out", str(ro / "ckpt"))
        user_error(r, f"--out: cannot write the checkpoint {ro / 'ckpt'}: Read-only file system")
        r = cli_here(*FORECAST, "--out", str(ro / "report"))
        user_error(r, f"--out: cannot write the report in {ro / 'report'}: Read-only file system")
        r = cli_here("gradients", "--steps", "5", "--json", "--plot", str(ro / "g.png"))
        user_error(r, f"--plot: cannot write in {ro} (read-only file system)")
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_a_read_only_file_system_is_called_so_simulated(tmp_path, monkeypatch, cli_here,
                                                        user_error):  # fmt: skip
    """The same reasons where no mount is possible: EROFS from the kernel at the lock, and a
    parent directory whose file system is mounted read-only for --plot."""

    def erofs(lock, option, path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(lock))

    with monkeypatch.context() as m:
        m.setattr(outdir, "_acquire", erofs)
        r = cli_here(*TRAIN, "--out", str(tmp_path / "ckpt"))
        user_error(r, "--out: cannot write the checkpoint", ": Read-only file system")
    plot = tmp_path / "sub" / "g.png"
    with monkeypatch.context() as m:
        m.setattr(os, "access", lambda path, mode, **kw: False)  # what access(2) says on EROFS
        m.setattr(os, "statvfs", lambda path: SimpleNamespace(f_flag=os.ST_RDONLY))
        r = cli_here("gradients", "--steps", "5", "--json", "--plot", str(plot))
    user_error(r, f"--plot: cannot write in {tmp_path} (read-only file system)")
    assert _listing(tmp_path) == []
