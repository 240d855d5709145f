"""An output directory (``out``) claimed by one run: its path checked, a lock so that two runs
never write it at once, and no empty directory left behind when the run fails. Nothing here
imports torch.

    with claim_out(path, option, "the checkpoint") as out:
        ...  # long work, then write into ``out`` (atomically, rnnlab.atomic)

The policy, the same for every command that writes a directory (``train``, ``forecast``):

- an empty path is refused while parsing (:func:`directory`): ``Path("")`` would be ``.``;
- a symbolic link is followed: the run locks and writes the directory it points to, and the
  link stays a link (an output directory linked onto a bigger disk keeps working); a link
  that loops is refused;
- an existing path that is not a directory is refused before any work;
- the lock is a file held with ``flock(LOCK_EX | LOCK_NB)`` from the start of the run to its
  end: ``.NAME.lock`` beside a checkpoint directory (which is swapped whole, so its parent
  must be writable anyway), ``DIR/.rnnlab.lock`` inside a report directory (whose parent may
  not be writable: a report into the home directory). The kernel drops a flock when its
  process ends, however it ends (``kill -9`` included), so a lock left by a dead run never
  blocks. The file holds the holder's pid, host and command line, which a second run names
  when it refuses; the holder removes it when it finishes;
- when the run fails, the directories the claim or the run created (the directory itself, its
  missing parents) are removed again if they are still empty.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from rnnlab.atomic import os_error
from rnnlab.errors import RnnlabError


def directory(text: str) -> Path:
    """An argparse ``type`` for a directory option: any path but the empty one, which
    ``Path("")`` would turn into ``.`` (the current directory)."""
    if text == "":
        raise argparse.ArgumentTypeError("empty; name a directory")
    return Path(text)


def lock_path(path: str | Path, inside: bool = False) -> Path:
    """The lock file of the directory ``path``: ``.NAME.lock`` beside its real location, or
    ``.rnnlab.lock`` inside it."""
    real = Path(os.path.realpath(path))
    return real / ".rnnlab.lock" if inside else real.with_name(f".{real.name}.lock")


def _target(path: Path, option: str) -> Path:
    """The directory to write: ``path``, or where it points if it is a symbolic link."""
    if not path.is_symlink():
        return path
    real = Path(os.path.realpath(path))
    if real.is_symlink():  # realpath gives up on a loop and returns a link
        raise RnnlabError(f"{option}: {path} is a symbolic link that loops; name a directory")
    return real


def _missing_parents(path: Path) -> list[Path]:
    """The ancestors of ``path`` that do not exist yet, nearest first."""
    missing = []
    for parent in path.absolute().parents:
        if parent.exists() or parent.is_symlink():
            break
        missing.append(parent)
    return missing


def _program() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return "rnnlab" if name == "__main__.py" else name


def _holder(fd: int) -> str:
    """Who holds the lock, from what the holder wrote into the lock file."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        pid, host, command = int(info["pid"]), str(info["host"]), str(info["command"])
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"  # it holds the lock and has not written who it is yet
    if len(command) > 200:
        command = command[:199] + "…"
    return f"pid {pid} on {host}: {command}"


def _acquire(lock: Path, option: str, path: Path) -> int:
    """Open and flock ``lock``; the file descriptor that holds it."""
    for _ in range(100):
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise RnnlabError(
                f"{option}: {path} is being written by another run ({holder}); wait for it to "
                f"end, or choose another {option}"
            ) from None
        # the holder before us removes the file when it ends: if it did so after we opened it,
        # we hold the lock of a file no one else can find; lock the one on disk instead
        try:
            on_disk, ours = os.stat(lock, follow_symlinks=False), os.fstat(fd)
            if (on_disk.st_dev, on_disk.st_ino) == (ours.st_dev, ours.st_ino):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise RnnlabError(f"{option}: cannot lock {path}: its lock file {lock} keeps changing")


def _release(fd: int, lock: Path) -> None:
    with suppress(OSError):
        os.unlink(lock)  # while still holding it (see _acquire)
    os.close(fd)  # closing drops the flock


def _tidy(created: list[Path]) -> None:
    """Remove the directories in ``created`` (deepest first) that are empty."""
    for d in created:
        with suppress(OSError):  # not empty (it holds something worth keeping), or gone
            os.rmdir(d)


@contextmanager
def claim_out(path: str | Path, option: str, what: str, inside: bool = False) -> Iterator[Path]:
    """Hold the directory ``path`` for this run; yields the directory to write (``path``, or the
    directory it links to). See the module's docstring for the policy.

    ``option`` names the option that gave the path in messages; ``what`` the directory written
    ("the checkpoint"), for a failed write; ``inside``: the lock file inside the directory
    (which is then made now), not beside it.
    """
    path = _target(Path(path), option)
    if path.exists() and not path.is_dir():
        raise RnnlabError(f"{option}: {path} exists and is not a directory")
    if not Path(os.path.realpath(path)).name:
        raise RnnlabError(f"{option}: {path} is the root directory; name one below it")
    created = [path, *_missing_parents(path)] if not path.exists() else []
    lock = lock_path(path, inside)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(lock, option, path)
    except OSError as exc:
        _tidy(created)
        if exc.errno == errno.ELOOP:
            raise RnnlabError(f"{option}: {lock} is a symbolic link; remove it") from None
        raise os_error(option, what, path, exc) from None
    except BaseException:
        _tidy(created)
        raise
    try:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join([_program(), *sys.argv[1:]]),
            "since": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
    except OSError:
        pass  # a full disk: the lock holds all the same, only the holder goes unnamed
    try:
        yield path
    except BaseException:
        _release(fd, lock)
        _tidy(created)
        raise
    _release(fd, lock)
