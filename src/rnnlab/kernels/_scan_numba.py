"""numba kernels of the diagonal linear recurrence h_t = a_t ⊙ h_{t−1} + b_t (forward, backward).
minGRU and minLSTM, whose gates make a_t and b_t from the input, have their own kernels
(:mod:`rnnlab.kernels._minimal_numba`).

Imported on first use only; compiled code is cached on disk. Layout (B, T, H), contiguous: the
inner loop runs over H, which the compiler vectorizes; the recurrence runs over T. The bare
recurrence is a few multiply-adds per element, bound by memory traffic.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rnnlab.kernels._jit import JIT


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
