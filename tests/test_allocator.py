"""The malloc tuning: it takes effect on glibc, once, and big blocks are then reused."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from rnnlab.allocator import keep_freed_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_big_blocks_are_reused_after_tuning():
    # In a fresh process: allocate and free a 200 MB block twice; with the tuning the second
    # allocation gets the same pages back (no new mmap: the minor page faults do not double).
    code = """
import ctypes, ctypes.util, resource, sys
from rnnlab.allocator import keep_freed_memory
tune = sys.argv[1] == "1"
if tune:
    assert keep_freed_memory() and keep_freed_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
n = 200 * 2**20
def touch():
    p = libc.malloc(n)
    ctypes.memset(p, 1, n)
    libc.free(p)
touch()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
touch()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
    faults = {}
    for tune in ("0", "1"):
        out = subprocess.run([sys.executable, "-c", code, tune], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        faults[tune] = int(out.stdout)
    pages = 200 * 2**20 // 4096
    assert faults["0"] > pages // 2  # untuned: the block is mapped afresh, page by page
    assert faults["1"] < pages // 20  # tuned: the same pages, already there


def test_keep_freed_memory_reports_whether_it_took_effect():
    assert keep_freed_memory() is GLIBC
    assert keep_freed_memory() is GLIBC  # a second call changes nothing
