"""numba kernels of the diagonal linear recurrence h_t = a_t ⊙ h_{t−1} + b_t (forward, backward),
and of minGRU/minLSTM, whose gates make a_t and b_t from the input.

Imported on first use only; compiled code is cached on disk. Layout (B, T, H), contiguous: the
inner loop runs over H, which the compiler vectorizes; the recurrence runs over T. The bare
recurrence is a few multiply-adds per element, bound by memory traffic; the cells' gates (two
σ per element each way) make theirs bound by arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rnnlab.kernels._jit import JIT, addr, gemm_call, gemm_scratch, tanh_f32


@njit(**JIT)
def diag_forward(a, b, h0, h):
    """h[:, t] = a[:, t] ⊙ h[:, t−1] + b[:, t], h[:, −1] = h0.  a, b, h (B, T, H); h0 (B, H)."""
    B, T, H = a.shape
    for i in range(B):
        prev = h0[i]
        for t in range(T):
            at, bt, ht = a[i, t], b[i, t], h[i, t]
            for j in range(H):
                ht[j] = at[j] * prev[j] + bt[j]
            prev = ht


@njit(**JIT)
def diag_backward(a, h, h0, g, da, db, dh0):
    """The gradients of the recurrence, backwards in time.

    g = dL/dh_t from outside (B, T, H). With d_t the total gradient reaching h_t:
        d_t = g_t + a_{t+1} ⊙ d_{t+1}      (the same recurrence, reversed in time)
        db_t = d_t                        ∂h_t/∂b_t = 1
        da_t = d_t ⊙ h_{t−1}              ∂h_t/∂a_t = h_{t−1}
        dh0 = a_1 ⊙ d_1                   ∂h_1/∂h_0 = a_1
    Writes da, db (B, T, H) and dh0 (B, H).
    """
    B, T, H = a.shape
    carry = np.empty(H, a.dtype)  # a_{t+1} ⊙ d_{t+1}
    for i in range(B):
        for j in range(H):
            carry[j] = 0
        for t in range(T - 1, -1, -1):
            at, gt, dbt, dat = a[i, t], g[i, t], db[i, t], da[i, t]
            prev = h0[i] if t == 0 else h[i, t - 1]
            for j in range(H):
                d = gt[j] + carry[j]
                dbt[j] = d
                dat[j] = d * prev[j]
                carry[j] = at[j] * d
        dh0[i, :] = carry


# ---- the minimal cells with their gates inside the kernel -------------------------------------
# One pass reads the gate pre-activations k (B, T, G·H) and writes h; the backward recomputes
# the gates from k instead of storing them. σ in float32 is ½ + ½·tanh(x/2) with the
# vectorizable tanh fit (absolute error ≲ 2e-7); float64 uses libm's exp.


@njit(inline="always", **JIT)
def _sigmoid(x, half, one, fast):
    """σ(x); ``fast`` (float32): ½ + ½·tanh(x/2) with the fit, else 1/(1 + e^{−x})."""
    if fast:
        return half + half * tanh_f32(half * x)
    return one / (one + math.exp(-x))


@njit(inline="always", **JIT)
def _constants(h):
    """½ and 1 in the array's dtype (a bare 1 − x would turn float32 into float64), and
    whether to take the float32 fast path."""
    c = np.empty(2, h.dtype)
    c[0], c[1] = 0.5, 1.0
    return c[0], c[1], h.itemsize == 4


@njit(inline="always", **JIT)
def _mingru_step(kz, kh, prev, ht, half, one, fast):
    """h_t = (1 − z) ⊙ h_{t−1} + z ⊙ g(k_h),  z = σ(k_z), for one batch row."""
    for j in range(ht.size):
        z, v = _sigmoid(kz[j], half, one, fast), kh[j]
        gk = v + half if v >= 0 else _sigmoid(v, half, one, fast)
        ht[j] = (one - z) * prev[j] + z * gk


@njit(inline="always", **JIT)
def _mingru_back(kz, kh, prev, gt, carry, dkz, dkh, half, one, fast):
    """One step back: d = g_t + carry; dk_z, dk_h; carry ← (1 − z) ⊙ d."""
    for j in range(gt.size):
        d = gt[j] + carry[j]
        z, v = _sigmoid(kz[j], half, one, fast), kh[j]
        s = _sigmoid(v, half, one, fast)
        gk, dgk = (v + half, one) if v >= 0 else (s, s * (one - s))
        dkz[j] = d * (gk - prev[j]) * z * (one - z)  # ∂h/∂z = h̃ − h_{t−1}, σ' = σ(1 − σ)
        dkh[j] = d * z * dgk  # ∂h/∂h̃ = z
        carry[j] = (one - z) * d  # ∂h_t/∂h_{t−1} = 1 − z


@njit(inline="always", **JIT)
def _minlstm_step(kf, ki, kh, prev, ht, half, one, fast):
    """h_t = (f ⊙ h_{t−1} + i ⊙ g(k_h)) / (f + i),  f, i = σ(k_f), σ(k_i), for one batch row."""
    for j in range(ht.size):
        f, i, v = _sigmoid(kf[j], half, one, fast), _sigmoid(ki[j], half, one, fast), kh[j]
        gk = v + half if v >= 0 else _sigmoid(v, half, one, fast)
        ht[j] = (f * prev[j] + i * gk) / (f + i)


@njit(inline="always", **JIT)
def _minlstm_back(kf, ki, kh, prev, gt, carry, dkf, dki, dkh, half, one, fast):
    """One step back; with s = f + i and w = d·(h_{t−1} − h̃)/s²:
    dk_f = w·i·f(1 − f), dk_i = −w·f·i(1 − i), dk_h = d·(i/s)·g'(k_h), carry ← (f/s) ⊙ d."""
    for j in range(gt.size):
        d = gt[j] + carry[j]
        f, i, v = _sigmoid(kf[j], half, one, fast), _sigmoid(ki[j], half, one, fast), kh[j]
        s = _sigmoid(v, half, one, fast)
        gk, dgk = (v + half, one) if v >= 0 else (s, s * (one - s))
        inv = one / (f + i)
        w = d * (prev[j] - gk) * inv * inv
        dkf[j] = w * i * f * (one - f)
        dki[j] = -w * f * i * (one - i)
        dkh[j] = d * i * inv * dgk
        carry[j] = f * inv * d


# ---- the whole layer: pre-activations by GEMM, a chunk of time steps at a time ------------------
# k = x·Wᵀ + b is never stored for the whole sequence: for each batch row the kernels compute
# k for C steps into a small buffer (one GEMM, the buffer stays in cache), run the recurrence
# over those steps, and in the backward accumulate dW, db and dx from the chunk's dk at once.
# Memory traffic is then x, h and dL/dh only; k and dk (B, T, G·H) never reach main memory.

CHUNK = 128  # time steps per GEMM: (C, G·H) buffers of 128 KB at G·H = 256 in float32


@njit(inline="always", **JIT)
def _preacts(gemm, flags, dims, scal, x, w, bias, n, t0, c, kbuf):
    """kbuf[:c] = x[n, t0 : t0 + c]·Wᵀ + b, (c, G·H) row-major. Column-major this is
    kbufᵀ (G·H, c) = W (G·H, I) · xᵀ (I, c); row-major W reads as Wᵀ: flags ('T', 'N')."""
    GH, I = w.shape
    for s in range(c):  # explicit loops here and below: numba's slice assignment is 4-8× slower
        ks = kbuf[s]
        for j in range(GH):
            ks[j] = bias[j]
    xa = addr(x) + (n * x.shape[1] + t0) * I * x.itemsize
    gemm_call(gemm, flags, dims, scal, 1, 0, GH, c, I, addr(w), I, xa, I, 1, addr(kbuf), GH)


# The loops over a chunk: one loop per cell with the branch on the cell outside it. With the
# branch inside one loop, around both cells' inlined steps, nothing vectorized (3-4× slower).


@njit(**JIT)
def _chunk(kind, kbuf, hn, prev, t0, c, half, one, fast):
    """h_t for t = t0 … t0 + c − 1 of one batch row hn (T, H); prev = h_{t0−1}."""
    H = hn.shape[1]
    if kind == 0:
        for s in range(c):
            _mingru_step(kbuf[s, :H], kbuf[s, H:], prev, hn[t0 + s], half, one, fast)
            prev = hn[t0 + s]
    else:
        for s in range(c):
            kf, ki, kh = kbuf[s, :H], kbuf[s, H : 2 * H], kbuf[s, 2 * H :]
            _minlstm_step(kf, ki, kh, prev, hn[t0 + s], half, one, fast)
            prev = hn[t0 + s]


@njit(**JIT)
def _chunk_back(kind, kbuf, dkbuf, hn, h0n, gn, goff, carry, t0, c, half, one, fast):
    """dk for t = t0 + c − 1 … t0 of one batch row into dkbuf from dL/dh_t = gn[t − goff];
    carry updated."""
    H = hn.shape[1]
    if kind == 0:
        for s in range(c - 1, -1, -1):
            t = t0 + s
            prev = h0n if t == 0 else hn[t - 1]
            kt, dkt = kbuf[s], dkbuf[s]
            _mingru_back(
                kt[:H], kt[H:], prev, gn[t - goff], carry, dkt[:H], dkt[H:], half, one, fast
            )
    else:
        for s in range(c - 1, -1, -1):
            t = t0 + s
            prev = h0n if t == 0 else hn[t - 1]
            kt, dkt = kbuf[s], dkbuf[s]
            kf, ki, kh = kt[:H], kt[H : 2 * H], kt[2 * H :]
            df, di, dh = dkt[:H], dkt[H : 2 * H], dkt[2 * H :]
            _minlstm_back(kf, ki, kh, prev, gn[t - goff], carry, df, di, dh, half, one, fast)


@njit(**JIT)
def minimal_forward(x, w, bias, h0, h, kind, gemm):
    """minGRU (kind 0) or minLSTM (kind 1) over x (B, T, I) from h0 (B, H); writes h (B, T, H).

    Gate pre-activations k = x·Wᵀ + b, W (G·H, I) with rows [z | h̃] or [f | i | h̃]:
        minGRU   h_t = (1 − z) ⊙ h_{t−1} + z ⊙ g(k_h),  z = σ(k_z)
        minLSTM  h_t = (f ⊙ h_{t−1} + i ⊙ g(k_h)) / (f + i),  f, i = σ(k_f), σ(k_i)
    g(v) = v + ½ (v ≥ 0), σ(v) (v < 0).
    """
    B, T, H = h.shape
    GH = w.shape[0]
    if w.shape[0] != (2 + kind) * H:  # the chunk loops index k by H: a mismatch runs off kbuf
        raise ValueError("weight must have (2 + kind)·H rows")
    half, one, fast = _constants(h)
    flags, dims, scal = gemm_scratch(h)
    kbuf = np.empty((CHUNK, GH), h.dtype)
    for n in range(B):
        for t0 in range(0, T, CHUNK):
            c = min(CHUNK, T - t0)
            _preacts(gemm, flags, dims, scal, x, w, bias, n, t0, c, kbuf)
            prev = h0[n] if t0 == 0 else h[n, t0 - 1]
            _chunk(kind, kbuf, h[n], prev, t0, c, half, one, fast)


@njit(inline="always", **JIT)
def _touch_rows(hn, lo, hi, sink):
    """Read rows lo … hi − 1 of hn in ascending order (their sum goes to ``sink[0]`` so that the
    reads are kept): a prefetch of the h_{t−1} a backward chunk needs. The chunk's loop walks
    backwards in time, and there each 512-byte row of h came from memory one after another,
    waiting on its latency; read ascending first, the rows stream in at memory bandwidth and
    the loop finds them in cache (B = 64, T = 4096, H = 128 float32, AMD Zen: minGRU's backward
    66 → 48 ms, minLSTM's 85 → 66 ms, the same numbers to the bit)."""
    acc = hn[0, 0] * 0
    for t in range(lo, hi):
        ht = hn[t]
        for j in range(ht.size):
            acc += ht[j]
    sink[0] = acc


@njit(**JIT)
def minimal_backward(x, w, bias, h0, h, g, dx, dw, db, dh0, kind, gemm):
    """The gradients of :func:`minimal_forward`, backwards in time, gates recomputed from x.

    g = dL/dh_t from outside (B, T, H). d_t = g_t + a_{t+1} ⊙ d_{t+1} is the total gradient
    reaching h_t (a = 1 − z, or f/(f + i)); per chunk of steps, with dk = dL/dk (c, G·H):
        db += Σ_s dk_s          dW += dkᵀ·x (G·H, I)          dx = dk·W (c, I)
    dw (G·H, I) and db (G·H,) are accumulated (zeros on entry); dx (B, T, I) and dh0 (B, H)
    are written; dx may have no rows when the input needs no gradient.
    """
    B, T, H = h.shape
    GH, I = w.shape
    if w.shape[0] != (2 + kind) * H:
        raise ValueError("weight must have (2 + kind)·H rows")
    half, one, fast = _constants(h)
    flags, dims, scal = gemm_scratch(h)
    kbuf, dkbuf = np.empty((CHUNK, GH), h.dtype), np.empty((CHUNK, GH), h.dtype)
    gbuf = np.empty((CHUNK, H), h.dtype)
    touched = np.empty(1, h.dtype)
    carry = np.empty(H, h.dtype)  # a_{t+1} ⊙ d_{t+1}
    want_dx = dx.shape[0] == B
    for n in range(B):
        carry[:] = 0
        for t0 in range((T - 1) // CHUNK * CHUNK, -1, -CHUNK):
            c = min(CHUNK, T - t0)
            _preacts(gemm, flags, dims, scal, x, w, bias, n, t0, c, kbuf)
            for s in range(c):  # g's chunk, contiguous in cache whatever g's strides
                for j in range(H):
                    gbuf[s, j] = g[n, t0 + s, j]
            _touch_rows(h[n], max(t0 - 1, 0), t0 + c - 1, touched)
            _chunk_back(kind, kbuf, dkbuf, h[n], h0[n], gbuf, t0, carry, t0, c, half, one, fast)
            for s in range(c):
                dks = dkbuf[s]
                for j in range(GH):
                    db[j] += dks[j]
            xa, dka = addr(x) + (n * T + t0) * I * x.itemsize, addr(dkbuf)
            # dWᵀ (I, G·H) += xᵀ (I, c) · dk (c, G·H); column-major dk reads as dkᵀ: ('N', 'T')
            gemm_call(gemm, flags, dims, scal, 0, 1, I, GH, c, xa, I, dka, GH, 1, addr(dw), I)
            if want_dx:  # dxᵀ (I, c) = Wᵀ (I, G·H) · dkᵀ (G·H, c): ('N', 'N')
                dxa = addr(dx) + (n * T + t0) * I * dx.itemsize
                gemm_call(gemm, flags, dims, scal, 0, 0, I, c, GH, addr(w), I, dka, GH, 0, dxa, I)
        dh0[n, :] = carry
