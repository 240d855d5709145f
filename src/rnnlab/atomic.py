"""Directories replaced as a whole: a reader (or a crash) sees the old one or the new one, never
half of each. Nothing here imports torch.

    write_dir(DIR, {name: bytes})
      1. write every file into a fresh sibling  .DIR.XXXXXXXX.tmp/  (each file fsync'ed)
      2. swap it with DIR in one step: renameat2(RENAME_EXCHANGE) on Linux; where the system
         has no such call, DIR -> .DIR.old, then .tmp -> DIR (and recover() puts .old back if a
         crash fell between the two renames)
      3. delete the sibling, which now holds the old files

A ``kill -9`` at any point leaves DIR complete (old or new) and at worst a ``.DIR.*.tmp``
sibling, which the next write removes. A system error (disk full, no permission, read-only
file system) becomes one :class:`~rnnlab.errors.RnnlabError` line naming the path; the
temporary files are removed and DIR is left as it was.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.fielderror import FieldError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h


def os_error(option: str, what: str, path: str | Path, exc: OSError) -> RnnlabError:
    """The one-line user error for a failed write: ``cannot write … PATH: reason``.

    ``option`` is the setting that gave the path: a field's name from the library (a
    :class:`~rnnlab.fielderror.FieldError`, which the command line says with the field's
    flag before ``cannot write …``), or a command's own option, put before it as it is."""
    reason = exc.strerror or str(exc)
    if option.startswith("-"):
        return RnnlabError(f"{option}: cannot write {what} {path}: {reason}")
    return FieldError(option, "cannot write {0} {1}: {2}", what, path, reason, lead=False)


@contextmanager
def write_errors(option: str, what: str, path: str | Path) -> Iterator[None]:
    """Turn an ``OSError`` raised inside the block (disk full, no permission) into the one-line
    user error of :func:`os_error`."""
    try:
        yield
    except OSError as exc:
        raise os_error(option, what, path, exc) from None


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file and flush it to the disk (fsync) before returning."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Write one file atomically: yields a temporary sibling to write to, then renames it over
    ``path`` (with the mode a new file gets, not mkstemp's private 0600). On any error the
    temporary file is removed and ``path`` is left as it was.

        with replacing(out / "plot.png") as tmp:
            fig.savefig(tmp, format="png")
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # this file system or kernel has no exchange: fall back
    raise OSError(err, os.strerror(err), str(b))


def _backup(path: Path) -> Path:
    return path.with_name(f".{path.name}.old")


def recover(path: str | Path) -> None:
    """If a crash fell between the two renames of the fallback swap, put the old DIR back."""
    path = Path(path)
    backup = _backup(path)
    if not path.exists() and backup.is_dir():
        os.replace(backup, path)


def _leftovers(path: Path) -> list[Path]:
    """Temporary siblings of interrupted writes (``.DIR.XXXXXXXX.tmp``, mkdtemp's names)."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    if not path.parent.is_dir():
        return []
    return [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]


def _remove(path: Path) -> None:
    """Remove a leftover: a directory with its files, or a file or link (never what a link
    points to; rmtree refuses links and would leave them)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_dir(path: str | Path, files: dict[str, bytes], what: str, option: str = "out") -> Path:
    """Replace the directory ``path`` by one holding exactly ``files``, atomically.

    ``what`` names the directory in error messages ("the checkpoint"); ``option`` the setting
    that gave the path (see :func:`os_error`). A symbolic link ``path`` is followed: the
    directory it points to is replaced and the link stays. Returns ``path`` as given.
    """
    given = path = Path(path)
    if path.is_symlink():  # a link is followed: the directory it points to is replaced
        path = Path(os.path.realpath(path))
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        recover(path)
        for old in _leftovers(path):
            _remove(old)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        umask = os.umask(0)
        os.umask(umask)
        for name, data in files.items():
            write_file(tmp / name, data)
            os.chmod(tmp / name, 0o666 & ~umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result is a plain dir
        _fsync_dir(tmp)
        if not path.exists():
            os.rename(tmp, path)
        elif not _exchange(tmp, path):
            os.replace(path, _backup(path))  # the window recover() closes
            os.rename(tmp, path)
            shutil.rmtree(_backup(path), ignore_errors=True)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise os_error(option, what, path, exc) from None
    finally:
        if tmp is not None and (tmp.exists() or tmp.is_symlink()):
            _remove(tmp)  # the new files on failure, else the old ones
    return given
