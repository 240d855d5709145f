"""numba kernels of minGRU and minLSTM: the gates, the diagonal recurrence and its gradients in
one compiled pass each way, with the gates computed from x inside the pass.

Gate pre-activations k = x·Wᵀ + b, W (G·H, I) with rows [z | h̃] (G = 2) or [f | i | h̃] (G = 3):
    minGRU   h_t = (1 − z) ⊙ h_{t−1} + z ⊙ g(k_h),  z = σ(k_z)
    minLSTM  h_t = (f ⊙ h_{t−1} + i ⊙ g(k_h)) / (f + i),  f, i = σ(k_f), σ(k_i)
    g(v) = v + ½ (v ≥ 0), σ(v) (v < 0)

Imported on first use only; compiled code is cached on disk. Layout (B, T, ·), contiguous: the
inner loops run over H (or G·H), which the compiler vectorizes; the recurrence runs over T, one
batch row at a time. k is never stored for the whole sequence. For a narrow input (I ≤
``LOOP_MAX_INPUT``) loops compute it, and in the backward dW, db and dx, one step at a time
in buffers of G·H values (L1); for a wider one, one MKL GEMM per ``CHUNK`` steps each (buffers of
CHUNK·G·H values, L2). The backward recomputes k and the gates from x. Memory traffic is then
x, h and dL/dh only.

How the code is laid out is part of its speed (B = 64, T = 4096, H = 128, I = 1, AMD EPYC,
measured in docs/BENCHMARKS.md): each cell and each way to k has its own copy of the layer's
loops, made by inlining one function with ``kind`` a constant (a branch on the cell, or a GEMM
call never taken, around the loops cost the forward 30-40 %), and the loops' buffers are made
in the function whose loops use them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rnnlab.kernels._jit import (
    JIT,
    addr,
    gemm_call,
    gemm_scratch,
    is_c_contiguous,
    prefetch,
    sigmoid,
)

CHUNK = 128  # time steps per GEMM: (C, G·H) buffers of 128 KB at G·H = 256 in float32 (L2)
LOOP_CHUNK = 16  # time steps per forward chunk when loops compute k: 16 KB at G·H = 256 (L1)
LOOP_MAX_INPUT = 6  # I up to which loops compute k, dW and dx (measured: docs/BENCHMARKS.md)
PREFETCH_BYTES = 8192  # how far ahead of the backward's step the rows of h and dL/dh are fetched


# ---- one step of each cell, for one batch row; loops over H --------------------------------


@njit(inline="always", **JIT)
def _constants(h):
    """½ and 1 in the array's dtype (a bare 1 − x would turn float32 into float64)."""
    c = np.empty(2, h.dtype)
    c[0], c[1] = 0.5, 1.0
    return c[0], c[1]


@njit(inline="always", **JIT)
def _mingru_step(kz, kh, prev, ht, half, one):
    """h_t = (1 − z) ⊙ h_{t−1} + z ⊙ g(k_h),  z = σ(k_z)."""
    for j in range(ht.size):
        z, v = sigmoid(kz[j]), kh[j]
        gk = v + half if v >= 0 else sigmoid(v)
        ht[j] = (one - z) * prev[j] + z * gk


@njit(inline="always", **JIT)
def _mingru_back(kz, kh, prev, gt, carry, dkz, dkh, half, one):
    """One step back: d = g_t + carry; dk_z, dk_h; carry ← (1 − z) ⊙ d."""
    for j in range(gt.size):
        d = gt[j] + carry[j]
        z, v = sigmoid(kz[j]), kh[j]
        s = sigmoid(v)
        gk, dgk = (v + half, one) if v >= 0 else (s, s * (one - s))
        dkz[j] = d * (gk - prev[j]) * z * (one - z)  # ∂h/∂z = h̃ − h_{t−1}, σ' = σ(1 − σ)
        dkh[j] = d * z * dgk  # ∂h/∂h̃ = z
        carry[j] = (one - z) * d  # ∂h_t/∂h_{t−1} = 1 − z


@njit(inline="always", **JIT)
def _minlstm_step(kf, ki, kh, prev, ht, half, one):
    """h_t = (f ⊙ h_{t−1} + i ⊙ g(k_h)) / (f + i),  f, i = σ(k_f), σ(k_i)."""
    for j in range(ht.size):
        f, i, v = sigmoid(kf[j]), sigmoid(ki[j]), kh[j]
        gk = v + half if v >= 0 else sigmoid(v)
        ht[j] = (f * prev[j] + i * gk) / (f + i)


@njit(inline="always", **JIT)
def _minlstm_back(kf, ki, kh, prev, gt, carry, dkf, dki, dkh, half, one):
    """One step back; with s = f + i and w = d·(h_{t−1} − h̃)/s²:
    dk_f = w·i·f(1 − f), dk_i = −w·f·i(1 − i), dk_h = d·(i/s)·g'(k_h), carry ← (f/s) ⊙ d."""
    for j in range(gt.size):
        d = gt[j] + carry[j]
        f, i, v = sigmoid(kf[j]), sigmoid(ki[j]), kh[j]
        s = sigmoid(v)
        gk, dgk = (v + half, one) if v >= 0 else (s, s * (one - s))
        inv = one / (f + i)
        w = d * (prev[j] - gk) * inv * inv
        dkf[j] = w * i * f * (one - f)
        dki[j] = -w * f * i * (one - i)
        dkh[j] = d * i * inv * dgk
        carry[j] = f * inv * d


@njit(inline="always", **JIT)
def _step(kind, kt, prev, ht, half, one):
    """h_t from k_t (G·H,) of the cell ``kind`` (a constant where this is inlined)."""
    H = ht.size
    if kind == 0:
        _mingru_step(kt[:H], kt[H:], prev, ht, half, one)
    else:
        _minlstm_step(kt[:H], kt[H : 2 * H], kt[2 * H :], prev, ht, half, one)


@njit(inline="always", **JIT)
def _step_back(kind, kt, dkt, prev, gt, carry, half, one):
    """dk_t (G·H,) and the carry, one step back, of the cell ``kind`` (a constant)."""
    H = gt.size
    if kind == 0:
        _mingru_back(kt[:H], kt[H:], prev, gt, carry, dkt[:H], dkt[H:], half, one)
    else:
        kf, ki, kh = kt[:H], kt[H : 2 * H], kt[2 * H :]
        df, di, dh = dkt[:H], dkt[H : 2 * H], dkt[2 * H :]
        _minlstm_back(kf, ki, kh, prev, gt, carry, df, di, dh, half, one)


# ---- k, and dW, db, dx from dk: by loops over G·H for one step, or by GEMM for a chunk -------


@njit(inline="always", **JIT)
def _preacts_step(xt, wt, bias, kt):
    """k_t = b + Σ_i x_{t,i}·Wᵀ[i] (G·H,); wt = Wᵀ (I, G·H)."""
    x0, w0 = xt[0], wt[0]
    for j in range(kt.size):
        kt[j] = bias[j] + x0 * w0[j]
    for i in range(1, xt.size):
        xi, wi = xt[i], wt[i]
        for j in range(kt.size):
            kt[j] += xi * wi[j]


@njit(inline="always", **JIT)
def _grads_step(dkt, xt, wt, dbc, dwc, dxt, zero):
    """db += dk_t, dWᵀ[i] += x_{t,i}·dk_t (dwc (I, G·H)), dx_{t,i} = dk_t·Wᵀ[i].

    The first input's loop also sums db, written as a loop of its own: as a branch on i inside
    one loop over i, the whole backward took 1.7× as long (37 against 22 ms)."""
    x0, row, w0 = xt[0], dwc[0], wt[0]
    acc = zero
    for j in range(dkt.size):
        d = dkt[j]
        dbc[j] += d
        row[j] += x0 * d
        acc += d * w0[j]
    dxt[0] = acc
    for i in range(1, xt.size):
        xi, row, wi = xt[i], dwc[i], wt[i]
        acc = zero
        for j in range(dkt.size):
            row[j] += xi * dkt[j]
            acc += dkt[j] * wi[j]
        dxt[i] = acc


@njit(inline="always", **JIT)
def _preacts_gemm(gemm, flags, dims, scal, x, w, bias, n, t0, c, kbuf):
    """kbuf[:c] = x[n, t0 : t0 + c]·Wᵀ + b, (c, G·H) row-major. Column-major this is
    kbufᵀ (G·H, c) = W (G·H, I) · xᵀ (I, c); row-major W reads as Wᵀ: flags ('T', 'N')."""
    GH, I = w.shape
    for s in range(c):  # explicit loops here and below: numba's slice assignment is 4-8× slower
        ks = kbuf[s]
        for j in range(GH):
            ks[j] = bias[j]
    xa = addr(x) + (n * x.shape[1] + t0) * I * x.itemsize
    gemm_call(gemm, flags, dims, scal, 1, 0, GH, c, I, addr(w), I, xa, I, 1, addr(kbuf), GH)


@njit(inline="always", **JIT)
def _add_chunk(dbc, dwc, db_sum, dw_sum):
    """db_sum += dbc, dw_sum += dwc (float64 sums, (I, G·H) both), and the chunk's sums back to
    0; loops over G·H (a loop over I inside one over G·H does not vectorize)."""
    for j in range(dbc.size):
        db_sum[j] += dbc[j]
        dbc[j] = 0
    for i in range(dwc.shape[0]):
        ci, si = dwc[i], dw_sum[i]
        for j in range(ci.size):
            si[j] += ci[j]
            ci[j] = 0


# ---- the backward's walk through a chunk of steps, latest first -----------------------------


@njit(inline="always", **JIT)
def _prefetch_row(rows, t):
    """Ask for the cache lines of ``rows[t]`` (a C-contiguous row) if t ≥ 0."""
    if t >= 0:
        a = addr(rows[t])
        for off in range(0, rows.shape[1] * rows.itemsize, 64):
            prefetch(a + off)


@njit(inline="always", **JIT)
def _copy_rows(gn, t0, c, gbuf):
    """gbuf[s] = gn[t0 + s] for s < c, ascending (so that the rows stream in); rows of stride
    0 (dL/dh of Σ h is a broadcast 1) as one value."""
    H = gbuf.shape[1]
    if gn.strides[1] == 0:
        for s in range(c):
            v = gn[t0 + s, 0]
            for j in range(H):
                gbuf[s, j] = v
    else:
        for s in range(c):
            for j in range(H):
                gbuf[s, j] = gn[t0 + s, j]


@njit(inline="always", **JIT)
def _steps_back_loops(kind, xn, wt, bias, hn, h0n, gn, goff, g_ahead, t0, c, carry, kt, dkt,
                      dbc, dwc, dxn, ahead, half, one):  # fmt: skip
    """Steps t0 + c − 1 … t0 back, k and the gradients by loops: dL/dh_t = gn[t − goff].

    The backward walks backwards in time, and there each row of h and of dL/dh came from
    memory one after another, each waiting on the memory's latency (a hardware prefetcher
    follows ascending streams best): so each step asks for the rows ``ahead`` steps earlier,
    gn's too when ``g_ahead`` (gn is then dL/dh itself, not a copy in cache)."""
    zero = half - half
    for t in range(t0 + c - 1, t0 - 1, -1):
        _prefetch_row(hn, t - 1 - ahead)
        if g_ahead:
            _prefetch_row(gn, t - goff - ahead)
        prev = h0n if t == 0 else hn[t - 1]
        _preacts_step(xn[t], wt, bias, kt)
        _step_back(kind, kt, dkt, prev, gn[t - goff], carry, half, one)
        _grads_step(dkt, xn[t], wt, dbc, dwc, dxn[t], zero)


@njit(inline="always", **JIT)
def _steps_back_gemm(kind, kbuf, dkbuf, hn, h0n, gn, goff, g_ahead, t0, c, carry, ahead, half,
                     one):  # fmt: skip
    """Steps t0 + c − 1 … t0 back from k in kbuf into dk in dkbuf (row t − t0), dL/dh_t =
    gn[t − goff]; the prefetch as in :func:`_steps_back_loops`."""
    for t in range(t0 + c - 1, t0 - 1, -1):
        _prefetch_row(hn, t - 1 - ahead)
        if g_ahead:
            _prefetch_row(gn, t - goff - ahead)
        prev = h0n if t == 0 else hn[t - 1]
        _step_back(kind, kbuf[t - t0], dkbuf[t - t0], prev, gn[t - goff], carry, half, one)


# ---- the layer, per way to k; ``kind`` is a constant in every copy ---------------------------


@njit(inline="always", **JIT)
def _forward_loops(kind, x, wt, bias, h0, h):
    """The forward with k by loops, LOOP_CHUNK steps at a time; wt = Wᵀ (I, G·H)."""
    B, T = h.shape[:2]
    half, one = _constants(h)
    kbuf = np.empty((LOOP_CHUNK, wt.shape[1]), h.dtype)
    for n in range(B):
        hn, xn = h[n], x[n]
        for t0 in range(0, T, LOOP_CHUNK):
            c = min(LOOP_CHUNK, T - t0)
            for s in range(c):
                _preacts_step(xn[t0 + s], wt, bias, kbuf[s])
            prev = h0[n] if t0 == 0 else hn[t0 - 1]
            for s in range(c):
                _step(kind, kbuf[s], prev, hn[t0 + s], half, one)
                prev = hn[t0 + s]


@njit(inline="always", **JIT)
def _forward_gemm(kind, x, w, bias, h0, h, gemm):
    """The forward with k by one GEMM per CHUNK steps."""
    B, T = h.shape[:2]
    half, one = _constants(h)
    flags, dims, scal = gemm_scratch(h)
    kbuf = np.empty((CHUNK, w.shape[0]), h.dtype)
    for n in range(B):
        hn = h[n]
        for t0 in range(0, T, CHUNK):
            c = min(CHUNK, T - t0)
            _preacts_gemm(gemm, flags, dims, scal, x, w, bias, n, t0, c, kbuf)
            prev = h0[n] if t0 == 0 else hn[t0 - 1]
            for s in range(c):
                _step(kind, kbuf[s], prev, hn[t0 + s], half, one)
                prev = hn[t0 + s]


@njit(inline="always", **JIT)
def _backward_loops(kind, x, wt, bias, h0, h, g, dx, dw_sum, db_sum, dh0):
    """The backward with k, dW and dx by loops, one step at a time (buffers of G·H values, in
    L1); the sums of dWᵀ and db over LOOP_CHUNK steps are added into dw_sum (I, G·H) and
    db_sum (float64)."""
    B, T, H = h.shape
    I, GH = wt.shape
    half, one = _constants(h)
    C = LOOP_CHUNK
    kt, dkt, gbuf = np.empty(GH, h.dtype), np.empty(GH, h.dtype), np.empty((C, H), h.dtype)
    dbc, dwc = np.zeros(GH, h.dtype), np.zeros((I, GH), h.dtype)  # sums over the chunk
    carry = np.empty(H, h.dtype)  # a_{t+1} ⊙ d_{t+1}
    ahead = max(1, PREFETCH_BYTES // (H * h.itemsize))  # steps
    dx_unwanted = np.empty((T, I), h.dtype)  # written and dropped when no dx is wanted
    for n in range(B):
        carry[:] = 0
        hn, xn, gn = h[n], x[n], g[n]
        dxn = dx[n] if dx.shape[0] == B else dx_unwanted
        for t0 in range((T - 1) // C * C, -1, -C):
            c = min(C, T - t0)
            if is_c_contiguous(gn):
                _steps_back_loops(kind, xn, wt, bias, hn, h0[n], gn, 0, True, t0, c, carry, kt,
                                  dkt, dbc, dwc, dxn, ahead, half, one)  # fmt: skip
            else:
                _copy_rows(gn, t0, c, gbuf)
                _steps_back_loops(kind, xn, wt, bias, hn, h0[n], gbuf, t0, False, t0, c, carry,
                                  kt, dkt, dbc, dwc, dxn, ahead, half, one)  # fmt: skip
            _add_chunk(dbc, dwc, db_sum, dw_sum)
        dh0[n, :] = carry


@njit(inline="always", **JIT)
def _backward_gemm(kind, x, w, bias, h0, h, g, dx, dw_sum, db_sum, dh0, gemm):
    """The backward with k, dW and dx by GEMMs, CHUNK steps at a time; the chunks' dWᵀ and
    db are added into dw_sum (I, G·H) and db_sum (float64)."""
    B, T, H = h.shape
    GH, I = w.shape
    half, one = _constants(h)
    C = CHUNK
    flags, dims, scal = gemm_scratch(h)
    kbuf, dkbuf = np.empty((C, GH), h.dtype), np.empty((C, GH), h.dtype)
    gbuf = np.empty((C, H), h.dtype)  # a chunk of dL/dh when it is not C-contiguous
    dbc, dwc = np.zeros(GH, h.dtype), np.zeros((I, GH), h.dtype)  # the chunk's db and dWᵀ
    carry = np.empty(H, h.dtype)
    ahead = max(1, PREFETCH_BYTES // (H * h.itemsize))
    for n in range(B):
        carry[:] = 0
        hn, gn = h[n], g[n]
        for t0 in range((T - 1) // C * C, -1, -C):
            c = min(C, T - t0)
            _preacts_gemm(gemm, flags, dims, scal, x, w, bias, n, t0, c, kbuf)
            if is_c_contiguous(gn):
                _steps_back_gemm(kind, kbuf, dkbuf, hn, h0[n], gn, 0, True, t0, c, carry, ahead,
                                 half, one)  # fmt: skip
            else:
                _copy_rows(gn, t0, c, gbuf)
                _steps_back_gemm(kind, kbuf, dkbuf, hn, h0[n], gbuf, t0, False, t0, c, carry,
                                 ahead, half, one)  # fmt: skip
            for s in range(c):
                dks = dkbuf[s]
                for j in range(GH):
                    dbc[j] += dks[j]
            xa, dka = addr(x) + (n * T + t0) * I * x.itemsize, addr(dkbuf)
            # dWᵀ (I, G·H) row-major is column-major dW (G·H, I) = dkᵀ (G·H, c) · x (c, I);
            # column-major dk reads as dkᵀ, x as xᵀ: ('N', 'T')
            gemm_call(gemm, flags, dims, scal, 0, 1, GH, I, c, dka, GH, xa, I, 0, addr(dwc), GH)
            if dx.shape[0] == B:  # dxᵀ (I, c) = Wᵀ (I, G·H) · dkᵀ (G·H, c): ('N', 'N')
                dxa = addr(dx) + (n * T + t0) * I * dx.itemsize
                gemm_call(gemm, flags, dims, scal, 0, 0, I, c, GH, addr(w), I, dka, GH, 0, dxa, I)
            _add_chunk(dbc, dwc, db_sum, dw_sum)
        dh0[n, :] = carry


@njit(inline="always", **JIT)
def _check(w, h, kind):
    if w.shape[0] != (2 + kind) * h.shape[2]:  # the step loops index k by H
        raise ValueError("weight must have (2 + kind)·H rows")


@njit(**JIT)
def minimal_forward(x, w, bias, h0, h, kind, gemm):
    """minGRU (kind 0) or minLSTM (kind 1) over x (B, T, I) from h0 (B, H); writes h (B, T, H)
    (the formulas are in the module's docstring)."""
    _check(w, h, kind)
    if 1 <= w.shape[1] <= LOOP_MAX_INPUT:  # the loops read x_{t,0}: I = 0 takes the GEMM
        wt = np.ascontiguousarray(w.T)
        if kind == 0:  # four copies of the loops, each for one cell and one way to k
            _forward_loops(0, x, wt, bias, h0, h)
        else:
            _forward_loops(1, x, wt, bias, h0, h)
    elif kind == 0:
        _forward_gemm(0, x, w, bias, h0, h, gemm)
    else:
        _forward_gemm(1, x, w, bias, h0, h, gemm)


@njit(**JIT)
def minimal_backward(x, w, bias, h0, h, g, dx, dw, db, dh0, kind, gemm):
    """The gradients of :func:`minimal_forward`, backwards in time, gates recomputed from x.

    g = dL/dh_t from outside (B, T, H), any strides. d_t = g_t + a_{t+1} ⊙ d_{t+1} is the
    total gradient reaching h_t (a = 1 − z, or f/(f + i)); with dk = dL/dk (G·H per step):
        db += Σ_t dk_t          dW += Σ_t dk_tᵀ·x_t (G·H, I)          dx_t = dk_t·W (I,)
    The float32 sums over each chunk of steps are added into float64 sums, so that their
    rounding error grows with the number of chunks, not of steps. dw (G·H, I) and db (G·H,)
    are accumulated (zeros on entry); dx (B, T, I) and dh0 (B, H) are written; dx may have no
    rows when the input needs no gradient.
    """
    _check(w, h, kind)
    GH, I = w.shape
    dw_sum, db_sum = np.zeros((I, GH)), np.zeros(GH)  # float64
    if 1 <= I <= LOOP_MAX_INPUT:
        wt = np.ascontiguousarray(w.T)
        if kind == 0:
            _backward_loops(0, x, wt, bias, h0, h, g, dx, dw_sum, db_sum, dh0)
        else:
            _backward_loops(1, x, wt, bias, h0, h, g, dx, dw_sum, db_sum, dh0)
    elif kind == 0:
        _backward_gemm(0, x, w, bias, h0, h, g, dx, dw_sum, db_sum, dh0, gemm)
    else:
        _backward_gemm(1, x, w, bias, h0, h, g, dx, dw_sum, db_sum, dh0, gemm)
    for j in range(GH):
        db[j] += db_sum[j]
        for i in range(I):
            dw[j, i] += dw_sum[i, j]
