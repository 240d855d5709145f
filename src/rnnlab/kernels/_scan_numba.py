"""numba kernels of the diagonal linear recurrence h_t = a_t ⊙ h_{t−1} + b_t (forward, backward).

Imported on first use only; compiled code is cached on disk. Layout (B, T, H), contiguous: the
inner loop runs over H, which the compiler vectorizes; the recurrence runs over T. The work
is a few multiply-adds per element, so the speed is set by memory traffic, not arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rnnlab.kernels._rnn_numba import tanh_f32

_JIT = {"cache": True, "fastmath": True, "error_model": "numpy", "nogil": True}


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(inline="always", **_JIT)
def _sigmoid(x, half, one, fast):
    """σ(x); ``fast`` (float32): ½ + ½·tanh(x/2) with the fit, else 1/(1 + e^{−x})."""
    if fast:
        return half + half * tanh_f32(half * x)
    return one / (one + math.exp(-x))


@njit(inline="always", **_JIT)
def _constants(h):
    """½ and 1 in the array's dtype (a bare 1 − x would turn float32 into float64), and
    whether to take the float32 fast path."""
    c = np.empty(2, h.dtype)
    c[0], c[1] = 0.5, 1.0
    return c[0], c[1], h.itemsize == 4


@njit(inline="always", **_JIT)
def _mingru_step(kz, kh, prev, ht, half, one, fast):
    """h_t = (1 − z) ⊙ h_{t−1} + z ⊙ g(k_h),  z = σ(k_z), for one batch row."""
    for j in range(ht.size):
        z, v = _sigmoid(kz[j], half, one, fast), kh[j]
        gk = v + half if v >= 0 else _sigmoid(v, half, one, fast)
        ht[j] = (one - z) * prev[j] + z * gk


@njit(inline="always", **_JIT)
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


@njit(inline="always", **_JIT)
def _minlstm_step(kf, ki, kh, prev, ht, half, one, fast):
    """h_t = (f ⊙ h_{t−1} + i ⊙ g(k_h)) / (f + i),  f, i = σ(k_f), σ(k_i), for one batch row."""
    for j in range(ht.size):
        f, i, v = _sigmoid(kf[j], half, one, fast), _sigmoid(ki[j], half, one, fast), kh[j]
        gk = v + half if v >= 0 else _sigmoid(v, half, one, fast)
        ht[j] = (f * prev[j] + i * gk) / (f + i)


@njit(inline="always", **_JIT)
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


@njit(**_JIT)
def mingru_forward(k, h0, h):
    """minGRU from k = [k_z | k_h] (B, T, 2H): h_t = (1 − z) ⊙ h_{t−1} + z ⊙ g(k_h), z = σ(k_z).

    g(x) = x + ½ (x ≥ 0), σ(x) (x < 0). h0 (B, H); h (B, T, H) written.
    """
    B, T, H = h.shape
    half, one, fast = _constants(h)
    for n in range(B):
        prev = h0[n]
        for t in range(T):
            ht = h[n, t]
            _mingru_step(k[n, t, :H], k[n, t, H:], prev, ht, half, one, fast)
            prev = ht


@njit(**_JIT)
def mingru_backward(k, h0, h, g, dk, dh0):
    """dL/dk (B, T, 2H) and dL/dh_0 from g = dL/dh_t (B, T, H), backwards in time, gates
    recomputed from k. d_t = g_t + (1 − z_{t+1}) ⊙ d_{t+1} is the total gradient reaching h_t."""
    B, T, H = h.shape
    half, one, fast = _constants(h)
    carry = np.empty(H, h.dtype)  # (1 − z_{t+1}) ⊙ d_{t+1}
    for n in range(B):
        for j in range(H):
            carry[j] = 0
        for t in range(T - 1, -1, -1):
            prev = h0[n] if t == 0 else h[n, t - 1]
            kt, dkt = k[n, t], dk[n, t]
            _mingru_back(kt[:H], kt[H:], prev, g[n, t], carry, dkt[:H], dkt[H:], half, one, fast)
        for j in range(H):
            dh0[n, j] = carry[j]


@njit(**_JIT)
def minlstm_forward(k, h0, h):
    """minLSTM from k = [k_f | k_i | k_h] (B, T, 3H): f, i = σ(k_f), σ(k_i),
    h_t = f/(f + i) ⊙ h_{t−1} + i/(f + i) ⊙ g(k_h).  h0 (B, H); h (B, T, H) written."""
    B, T, H = h.shape
    half, one, fast = _constants(h)
    for n in range(B):
        prev = h0[n]
        for t in range(T):
            ht, kt = h[n, t], k[n, t]
            _minlstm_step(kt[:H], kt[H : 2 * H], kt[2 * H :], prev, ht, half, one, fast)
            prev = ht


@njit(**_JIT)
def minlstm_backward(k, h0, h, g, dk, dh0):
    """dL/dk (B, T, 3H) and dL/dh_0 from g = dL/dh_t (B, T, H), backwards in time, gates
    recomputed from k (``_minlstm_back``)."""
    B, T, H = h.shape
    half, one, fast = _constants(h)
    carry = np.empty(H, h.dtype)  # (f/s)_{t+1} ⊙ d_{t+1}
    for n in range(B):
        for j in range(H):
            carry[j] = 0
        for t in range(T - 1, -1, -1):
            prev = h0[n] if t == 0 else h[n, t - 1]
            kt, dkt = k[n, t], dk[n, t]
            _minlstm_back(kt[:H], kt[H : 2 * H], kt[2 * H :], prev, g[n, t], carry, dkt[:H],
                          dkt[H : 2 * H], dkt[2 * H :], half, one, fast)  # fmt: skip
        for j in range(H):
            dh0[n, j] = carry[j]
