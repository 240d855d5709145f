"""numba kernels of the fused vanilla RNN: the whole forward and the whole BPTT in one call each.

Imported on first use only (``import numba`` and compiling cost about a second; the compiled
code is cached next to this file, or in numba's user-wide cache when that is read-only).
Layout: time-major and contiguous, so that each step's (B, H) slab is one block of memory and
each matrix product is one BLAS call with no copy.

Every matmul is ``gemm``, the MKL routine bound by :mod:`rnnlab.kernels._blas`, called in
column-major terms: a row-major (B, H) slab ``h`` is the column-major matrix hᵀ (H, B).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_JIT = {"cache": True, "fastmath": True, "error_model": "numpy", "nogil": True}
_N, _T = 0, 1  # offsets of the 'N' and 'T' characters in the flag array

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


@njit(inline="always", **_JIT)
def tanh_f32(x):
    """float32 tanh, vectorizable (see the rational fit above)."""
    x = _C if x > _C else x
    x = -_C if x < -_C else x
    x2 = x * x
    p = ((((((P0 * x2 + P1) * x2 + P2) * x2 + P3) * x2 + P4) * x2 + P5) * x2 + P6) * x
    q = ((Q0 * x2 + Q1) * x2 + Q2) * x2 + Q3
    return p / q


@njit(inline="always", **_JIT)
def _addr(a):
    """The address of an array's first element, as a signed 64-bit integer."""
    return np.int64(a.ctypes.data)


@njit(**_JIT)
def _activate(slab, relu):
    """slab ← φ(slab) in place: relu(a) = max(a, 0), or tanh (fast fit in float32, libm in
    float64 so that float64 results match torch to ~1e-16)."""
    zero = slab[0] * 0
    if relu:
        for i in range(slab.size):
            slab[i] = max(slab[i], zero)
    elif slab.itemsize == 4:
        for i in range(slab.size):
            slab[i] = tanh_f32(slab[i])
    else:
        for i in range(slab.size):
            slab[i] = math.tanh(slab[i])


@njit(**_JIT)
def rnn_forward(h0, hs, wh, relu, gemm):
    """h_t = φ(u_t + h_{t−1}·Whᵀ) for t = 1 … T, in place.

    h0 (B, H) the initial state; hs (T, B, H): u_t = x_t·Wxᵀ + b on entry, h_t on exit.
    GEMM per step, column-major: h_tᵀ (H, B) += Wh (H, H) · h_{t−1}ᵀ (H, B) → flags ('T', 'N')
    on the row-major Wh (which column-major reads as Whᵀ).
    """
    T, B, H = hs.shape
    flat = hs.reshape(T, B * H)
    flags = np.empty(2, np.uint8)
    flags[_N], flags[_T] = ord("N"), ord("T")
    dims = np.empty(6, np.int32)  # m, n, k, lda, ldb, ldc
    dims[0], dims[1], dims[2], dims[3], dims[4], dims[5] = H, B, H, H, H, H
    one = np.ones(1, hs.dtype)  # α = β = 1: the product adds onto u_t already in place
    f, d, o = _addr(flags), _addr(dims), _addr(one)
    step = np.int64(B * H * hs.itemsize)
    base, w = _addr(hs), _addr(wh)
    for t in range(T):
        prev = _addr(h0) if t == 0 else base + (t - 1) * step
        gemm(
            f + _T, f + _N, d, d + 4, d + 8, o, w, d + 12, prev, d + 16, o, base + t * step, d + 20
        )
        _activate(flat[t], relu)


@njit(**_JIT)
def rnn_backward(g, hs, wh, dh0, relu, gemm):
    """Backpropagation through time, in place.

    g (T, B, H): on entry dL/dh_t from outside the layer; on exit dL/da_t (a_t the
    pre-activation). dh0 (B, H): zeros on entry, dL/dh_0 on exit. hs (T, B, H) the states h_t.
    Backwards in time, with dh_t the total gradient reaching h_t:
        da_t = dh_t ⊙ φ'(a_t)         φ' = 1 − h_t² (tanh) or [h_t > 0] (relu)
        dh_{t−1} += da_t · Wh         column-major: dh_{t−1}ᵀ += Whᵀ · da_tᵀ → flags ('N', 'N')
    """
    T, B, H = g.shape
    gflat = g.reshape(T, B * H)
    hflat = hs.reshape(T, B * H)
    flags = np.empty(2, np.uint8)
    flags[_N], flags[_T] = ord("N"), ord("T")
    dims = np.empty(6, np.int32)
    dims[0], dims[1], dims[2], dims[3], dims[4], dims[5] = H, B, H, H, H, H
    one = np.ones(1, g.dtype)
    f, d, o = _addr(flags), _addr(dims), _addr(one)
    step = np.int64(B * H * g.itemsize)
    base, w = _addr(g), _addr(wh)
    c1, c0 = one[0], one[0] - one[0]  # 1 and 0 in the array's dtype (a bare 1 is float64)
    for t in range(T - 1, -1, -1):
        da, h = gflat[t], hflat[t]
        if relu:
            for i in range(da.size):
                da[i] = da[i] if h[i] > 0 else c0  # d relu(a)/da = [a > 0] = [h > 0]
        else:
            for i in range(da.size):
                da[i] *= c1 - h[i] * h[i]  # d tanh(a)/da = 1 − tanh(a)²
        prev = _addr(dh0) if t == 0 else base + (t - 1) * step
        gemm(
            f + _N, f + _N, d, d + 4, d + 8, o, w, d + 12, base + t * step, d + 16, o, prev, d + 20
        )
