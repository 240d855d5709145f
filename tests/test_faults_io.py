"""A full disk, a read-only directory, a crash in the middle of a directory swap: one line
naming the path, exit 2, no traceback, no temporary litter, the old checkpoint intact."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from rnnlab import atomic
from rnnlab.forecast.checkpoint import load_checkpoint

QUICK = ("train", "--quick", "--epochs", "2", "--json")


def _disk_full_at(monkeypatch, nth: int) -> None:
    """The ``nth`` file written gets half its bytes, then ENOSPC (as on a full disk)."""
    real, calls = atomic.write_file, [0]

    def write_file(path, data):
        calls[0] += 1
        if calls[0] == nth:
            Path(path).write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data)

    monkeypatch.setattr(atomic, "write_file", write_file)


def _read_only(monkeypatch, directory: Path) -> None:
    """Make ``directory`` refuse new files. As root, whom chmod does not stop, the refusal is
    simulated where a write begins (tempfile's mkdtemp/mkstemp in that directory)."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return
    for name in ("mkdtemp", "mkstemp"):
        real = getattr(tempfile, name)

        def refuse(*args, _real=real, **kwargs):
            if Path(kwargs.get("dir", "")).resolve() == directory.resolve():
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(directory))
            return _real(*args, **kwargs)

        monkeypatch.setattr(tempfile, name, refuse)


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_write_dir_replaces_the_whole_directory(tmp_path, monkeypatch):
    path = tmp_path / "d"
    atomic.write_dir(path, {"a": b"1", "b": b"2"}, "the test dir")
    atomic.write_dir(path, {"a": b"3", "c": b"4"}, "the test dir")
    assert {p.name: p.read_bytes() for p in path.iterdir()} == {"a": b"3", "c": b"4"}
    assert _siblings(path) == ["d"]
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)  # no renameat2: the fallback
    atomic.write_dir(path, {"e": b"5"}, "the test dir")
    assert {p.name: p.read_bytes() for p in path.iterdir()} == {"e": b"5"}
    assert _siblings(path) == ["d"]


def test_a_crash_between_the_fallbacks_two_renames_is_recovered(tmp_path, monkeypatch):
    path = tmp_path / "d"
    atomic.write_dir(path, {"old": b"1"}, "the test dir")
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def crash(src, dst):  # the process dies after DIR -> .DIR.old, before .tmp -> DIR
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "rename", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_dir(path, {"new": b"2"}, "the test dir")
    monkeypatch.setattr(os, "rename", real_rename)
    assert not path.exists()
    assert (tmp_path / ".d.old" / "old").read_bytes() == b"1"
    atomic.recover(path)  # what train --resume (and the next write) do first
    assert [p.name for p in path.iterdir()] == ["old"]
    assert _siblings(path) == ["d"]


def test_disk_full_while_writing_a_checkpoint(tmp_path, monkeypatch, cli_here, user_error):
    path = tmp_path / "ckpt"
    assert cli_here(*QUICK, "--out", str(path)).code == 0
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    _disk_full_at(monkeypatch, 2)  # the second file of epoch 1's checkpoint
    r = cli_here(*QUICK, "--seed", "5", "--out", str(path))
    user_error(r, f"--out: cannot write the checkpoint {path}: No space left on device")
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before  # the old one, intact
    assert _siblings(path) == ["ckpt"]  # the half-written files are gone
    load_checkpoint(path)


def test_a_real_write_failure_from_the_kernel(tmp_path, user_error):
    """No simulation: a file size limit (RLIMIT_FSIZE) makes the kernel refuse the write
    (EFBIG, as a full disk refuses with ENOSPC) in a fresh process."""
    path = tmp_path / "ckpt"
    limited = (  # model.safetensors (~0.7 kB) fits, optimizer.safetensors (~1.9 kB) does not
        "import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024)); "
        "from rnnlab.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", limited, *QUICK, "--epochs", "1", "--out", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    user_error(
        SimpleNamespace(code=proc.returncode, out=proc.stdout, err=proc.stderr),
        f"--out: cannot write the checkpoint {path}: File too large",
    )
    assert list(tmp_path.iterdir()) == []  # nothing half-written, no temporary directory


def test_read_only_directory_for_a_checkpoint(tmp_path, monkeypatch, cli_here, user_error):
    locked = tmp_path / "locked"
    locked.mkdir()
    _read_only(monkeypatch, locked)
    try:
        r = cli_here(*QUICK, "--out", str(locked / "ckpt"))
        user_error(r, f"--out: cannot write the checkpoint {locked / 'ckpt'}: Permission denied")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_read_only_or_full_report_directory(tmp_path, monkeypatch, cli_here, user_error):
    from matplotlib.figure import Figure

    out = tmp_path / "report"
    out.mkdir()
    args = ("forecast", "--quick", "--models", "linear", "--json", "--out", str(out))
    with monkeypatch.context() as m:
        _read_only(m, out)
        try:
            r = cli_here(*args)
        finally:
            out.chmod(0o755)
    user_error(r, f"--out: cannot write the report in {out}: Permission denied")
    assert list(out.iterdir()) == []

    def full(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(fname))

    monkeypatch.setattr(Figure, "savefig", full)
    user_error(cli_here(*args), f"--out: cannot write the report in {out}: No space left")
    assert list(out.iterdir()) == []  # the half-written plot was removed


def test_replacing_writes_a_plain_file_or_leaves_the_old_one(tmp_path):
    from rnnlab.atomic import replacing

    path = tmp_path / "plot.png"
    path.write_bytes(b"old")
    umask = os.umask(0o022)
    try:
        with replacing(path) as tmp:
            tmp.write_bytes(b"new")
        assert path.read_bytes() == b"new"
        assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600

        def fail() -> None:
            with replacing(path) as tmp:
                tmp.write_bytes(b"half")
                raise OSError(28, "disk full")

        with pytest.raises(OSError, match="full"):
            fail()
    finally:
        os.umask(umask)
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


@pytest.mark.parametrize(
    "args",
    [
        ("gradients", "--wh", "0.5"),
        ("longmemory", "--quick", "--cell", "rnn", "--max-steps", "2"),
    ],
)
def test_a_full_disk_under_plot_is_one_line(args, tmp_path, monkeypatch, cli_here, user_error):
    from matplotlib.figure import Figure

    def full(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(fname))

    monkeypatch.setattr(Figure, "savefig", full)
    plot = tmp_path / "curves.png"
    user_error(cli_here(*args, "--plot", str(plot)), "cannot write the", f"{plot}: No space left")
    assert list(tmp_path.iterdir()) == []  # neither the plot nor its temporary file
