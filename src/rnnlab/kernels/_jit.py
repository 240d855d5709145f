"""What the numba kernels share: the compile options, a vectorizable float32 tanh, raw
addresses, and the call of MKL's GEMM (bound by :mod:`rnnlab.kernels._blas`) from compiled code.

GEMM is Fortran, column-major, every argument by pointer: a row-major (m, n) array is the
column-major matrix of its transpose (n, m), with leading dimension n.
"""

from __future__ import annotations

import numpy as np
from numba import njit

JIT = {"cache": True, "fastmath": True, "error_model": "numpy", "nogil": True}

# tanh(x) ≈ x·p(x²)/q(x²) on [−c, c], saturated outside: a rational fit for float32 (the one
# Eigen uses), error ≲ 3e-7; pure multiply-adds and a division, so the loop vectorizes.
_C = np.float32(7.90531110763549805)
_P = (
    -2.76076847742355e-16,
    2.00018790482477e-13,
    -8.60467152213735e-11,
    5.12229709037114e-08,
    1.48572235717979e-05,
    6.37261928875436e-04,
    4.89352455891786e-03,
)
_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)
P0, P1, P2, P3, P4, P5, P6 = (np.float32(c) for c in _P)
Q0, Q1, Q2, Q3 = (np.float32(c) for c in _Q)


@njit(inline="always", **JIT)
def tanh_f32(x):
    """float32 tanh, vectorizable (see the rational fit above)."""
    x = _C if x > _C else x
    x = -_C if x < -_C else x
    x2 = x * x
    p = ((((((P0 * x2 + P1) * x2 + P2) * x2 + P3) * x2 + P4) * x2 + P5) * x2 + P6) * x
    q = ((Q0 * x2 + Q1) * x2 + Q2) * x2 + Q3
    return p / q


@njit(inline="always", **JIT)
def addr(a):
    """The address of an array's first element, as a signed 64-bit integer."""
    return np.int64(a.ctypes.data)


@njit(inline="always", **JIT)
def gemm_call(gemm, flags, dims, scal, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """C ← op(A)·op(B) + β·C, column-major, on the addresses a, b, c; β ∈ {0, 1} (an index
    into ``scal`` = [1, 0] in the arrays' dtype). ``flags`` = b"NT", ``dims`` int32 scratch."""
    dims[0], dims[1], dims[2], dims[3], dims[4], dims[5] = m, n, k, lda, ldb, ldc
    f, d, s = addr(flags), addr(dims), addr(scal)
    item = scal.itemsize
    gemm(f + ta, f + tb, d, d + 4, d + 8, s, a, d + 12, b, d + 16, s + (1 - beta) * item, c, d + 20)


@njit(inline="always", **JIT)
def gemm_scratch(h):
    """The GEMM arguments passed by address: flags b"NT", six int32 dims, [1, 0] in h's dtype."""
    flags, dims, scal = np.empty(2, np.uint8), np.empty(6, np.int32), np.empty(2, h.dtype)
    flags[0], flags[1] = ord("N"), ord("T")
    scal[0], scal[1] = 1, 0
    return flags, dims, scal
