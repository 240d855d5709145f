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

from rnnlab.kernels._jit import (
    JIT,
    addr,
    flush_subnormals,
    gemm_call,
    gemm_scratch,
    set_mxcsr,
    tanh_f32,
)


@njit(**JIT)
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


@njit(**JIT)
def rnn_forward(h0, hs, wh, relu, gemm):
    """h_t = φ(u_t + h_{t−1}·Whᵀ) for t = 1 … T, in place.

    h0 (B, H) the initial state; hs (T, B, H): u_t = x_t·Wxᵀ + b on entry, h_t on exit.
    GEMM per step, column-major: h_tᵀ (H, B) += Wh (H, H) · h_{t−1}ᵀ (H, B) → flags ('T', 'N')
    on the row-major Wh (which column-major reads as Whᵀ); β = 1 adds onto u_t in place.
    """
    T, B, H = hs.shape
    flat = hs.reshape(T, B * H)
    flags, dims, scal = gemm_scratch(hs)
    step = np.int64(B * H * hs.itemsize)
    base, w = addr(hs), addr(wh)
    mxcsr = flush_subnormals()  # MKL's GEMM too, where it runs on this thread (see _jit)
    for t in range(T):
        prev = addr(h0) if t == 0 else base + (t - 1) * step
        gemm_call(gemm, flags, dims, scal, 1, 0, H, B, H, w, H, prev, H, 1, base + t * step, H)
        _activate(flat[t], relu)
    set_mxcsr(mxcsr)


@njit(**JIT)
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
    flags, dims, scal = gemm_scratch(g)
    step = np.int64(B * H * g.itemsize)
    base, w = addr(g), addr(wh)
    c1, c0 = scal[0], scal[1]  # 1 and 0 in the array's dtype (a bare 1 is float64)
    mxcsr = flush_subnormals()  # a vanishing dL/dh goes subnormal: flushed to 0 (see _jit)
    for t in range(T - 1, -1, -1):
        da, h = gflat[t], hflat[t]
        if relu:
            for i in range(da.size):
                da[i] = da[i] if h[i] > 0 else c0  # d relu(a)/da = [a > 0] = [h > 0]
        else:
            for i in range(da.size):
                da[i] *= c1 - h[i] * h[i]  # d tanh(a)/da = 1 − tanh(a)²
        prev = addr(dh0) if t == 0 else base + (t - 1) * step
        gemm_call(gemm, flags, dims, scal, 0, 0, H, B, H, w, H, base + t * step, H, 1, prev, H)
    set_mxcsr(mxcsr)
