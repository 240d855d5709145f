"""The BLAS matrix multiply that the fused kernels call once per time step.

PyTorch's CPU wheels for x86-64 link Intel MKL into ``libtorch_cpu`` and export its Fortran
entry points ``SGEMM``/``DGEMM``. We bind them with ctypes and hand them to the numba kernels,
which call them per step without going back to Python: C ← α·op(A)·op(B) + β·C (column-major).
MKL's thread count follows ``torch.set_num_threads``. Where torch ships no MKL (other
platforms), :func:`gemm` returns None and the cells keep torch's own kernel.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import torch


@functools.cache
def _library() -> ctypes.CDLL | None:
    """libtorch_cpu, opened again (the process already has it loaded), or None."""
    if not torch.backends.mkl.is_available():
        return None
    for path in sorted((Path(torch.__file__).parent / "lib").glob("*torch_cpu.*")):
        try:
            return ctypes.CDLL(str(path))
        except OSError:
            continue
    return None


@functools.cache
def gemm(dtype: torch.dtype):
    """The ctypes function ``?GEMM`` for float32 (SGEMM) or float64 (DGEMM), or None.

    Fortran signature, every argument by pointer:
    ``(transa, transb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)``.
    """
    name = {torch.float32: "SGEMM", torch.float64: "DGEMM"}.get(dtype)
    lib = _library()
    if name is None or lib is None:
        return None
    try:
        fn = getattr(lib, name)
    except AttributeError:
        return None
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p] * 13
    return fn


def mkl_local_threads(n: int) -> int:
    """MKL's thread count for calls from this thread only (0: back to the global setting);
    returns the previous one. A no-op returning 0 where torch has no MKL. (The capitalized name
    is MKL's C entry point, taking the int by value; the lower-case one is the Fortran
    interface, by pointer, and crashes when called this way.)"""
    fn = _mkl_set_num_threads_local()
    return 0 if fn is None else fn(n)


@functools.cache
def _mkl_set_num_threads_local():
    """The ctypes function, bound once, or None."""
    lib = _library()
    fn = getattr(lib, "MKL_Set_Num_Threads_Local", None) if lib is not None else None
    if fn is not None:
        fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
    return fn


def fused_available(x: torch.Tensor) -> bool:
    """True where the fused kernels run: CPU tensors, float32/float64, MKL in torch."""
    return x.device.type == "cpu" and gemm(x.dtype) is not None
