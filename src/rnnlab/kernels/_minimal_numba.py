"""numba kernels of minGRU and minLSTM: the gates, the diagonal recurrence and its gradients in
one compiled pass each way, with the gates computed from x inside the pass.

Gate pre-activations k = x·Wᵀ + b, W (G·H, I) with rows [z | h̃] (G = 2) or [f | i | h̃] (G = 3):
    minGRU   h_t = (1 − z) ⊙ h_{t−1} + z ⊙ g(k_h),  z = σ(k_z)
    minLSTM  h_t = (f ⊙ h_{t−1} + i ⊙ g(k_h)) / (f + i),  f, i = σ(k_f), σ(k_i)
    g(v) = v + ½ (v ≥ 0), σ(v) (v < 0)

Imported on first use only; compiled code is cached on disk. Layout (B, T, ·), contiguous: the
inner loops run over H (or G·H), which the compiler vectorizes; the recurrence runs over T, one
batch row at a time. k is never stored for the whole sequence. For a narrow input (I ≤
``LOOP_MAX_INPUT``) loops compute it inside the step's loop, and in the backward dW, db and dx
there too (input 0) or one step at a time in buffers of G·H values (L1, the other inputs); for
a wider one, one MKL GEMM per ``CHUNK`` steps each (buffers of CHUNK·G·H values, L2). The
backward recomputes k and the gates from x. Memory traffic is then
x, h and dL/dh only.

The formulas of each cell are written once, per unit (``_unit_forward``, ``_unit_backward``);
the loops around them are written once per way to k. How the code is laid out is part of its
speed (B = 64, T = 4096, H = 128, I = 1, AMD EPYC, measured in docs/BENCHMARKS.md): each cell
and each way to k has its own compiled copy of the layer's loops, made by inlining one function
with ``kind`` (and the backward's ``multi``) a constant (a branch on the cell, or a GEMM call
never taken, around the loops cost the forward 30-40 %), and the loops' buffers are made in the
function whose loops use them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rnnlab.kernels._jit import (
    JIT,
    addr,
    flush_subnormals,
    gemm_call,
    gemm_scratch,
    is_c_contiguous,
    prefetch,
    set_mxcsr,
    sigmoid,
)

CHUNK = 128  # time steps per GEMM: (C, G·H) buffers of 128 KB at G·H = 256 in float32 (L2)
LOOP_CHUNK = 16  # time steps per forward chunk when loops compute k: 16 KB at G·H = 256 (L1)
LOOP_MAX_INPUT = 6  # I up to which loops compute k, dW and dx (measured: docs/BENCHMARKS.md)
PREFETCH_BYTES = 8192  # how far ahead of the backward's step the rows of h and dL/dh are fetched


# ---- one unit of each cell: the formulas, once ------------------------------------------------


@njit(inline="always", **JIT)
def _constants(h):
    """½ and 1 in the array's dtype (a bare 1 − x would turn float32 into float64)."""
    c = np.empty(2, h.dtype)
    c[0], c[1] = 0.5, 1.0
    return c[0], c[1]


@njit(inline="always", **JIT)
def _g(v, half, one):
    """g(v) and g'(v): v + ½ and 1 for v ≥ 0; σ(v) and σ(v)(1 − σ(v)) below."""
    s = sigmoid(v)
    return (v + half, one) if v >= 0 else (s, s * (one - s))


@njit(inline="always", **JIT)
def _unit_forward(kind, k1, k2, k3, prev, half, one):
    """h_t of one unit from its pre-activations (k_z, k_h, unused) or (k_f, k_i, k_h):
    minGRU (1 − z)·h_{t−1} + z·g(k_h), z = σ(k_z);
    minLSTM (f·h_{t−1} + i·g(k_h)) / (f + i), f, i = σ(k_f), σ(k_i)."""
    if kind == 0:
        z, gk = sigmoid(k1), _g(k2, half, one)[0]
        return (one - z) * prev + z * gk
    f, i, gk = sigmoid(k1), sigmoid(k2), _g(k3, half, one)[0]
    return (f * prev + i * gk) / (f + i)


@njit(inline="always", **JIT)
def _unit_backward(kind, k1, k2, k3, prev, d, half, one):
    """(dk1, dk2, dk3, a) of one unit, d = dL/dh_t in total, a = ∂h_t/∂h_{t−1}:
    minGRU  dk_z = d·(g − h_{t−1})·z(1 − z), dk_h = d·z·g', a = 1 − z (dk3 = 0);
    minLSTM with s = f + i and w = d·(h_{t−1} − g)/s²: dk_f = w·i·f(1 − f),
            dk_i = −w·f·i(1 − i), dk_h = d·(i/s)·g', a = f/s."""
    if kind == 0:
        z = sigmoid(k1)
        gk, dgk = _g(k2, half, one)
        return d * (gk - prev) * z * (one - z), d * z * dgk, half - half, one - z
    f, i = sigmoid(k1), sigmoid(k2)
    gk, dgk = _g(k3, half, one)
    inv = one / (f + i)
    w = d * (prev - gk) * inv * inv
    return w * i * f * (one - f), -w * f * i * (one - i), d * i * inv * dgk, f * inv


@njit(inline="always", **JIT)
def _third(kind, H):
    """Where the third gate's part of a (G·H,) vector starts: 2H (minLSTM), or H again
    (minGRU, whose third is never used).

    Which way the loops address the gates' parts was measured (B = 64, T = 4096, H = 128, AMD
    EPYC, same process): the loops that compute k themselves index one array at offsets (with
    a slice per gate, minGRU's backward at I = 1 took 26.1 ms against 21.3), the backward from
    a GEMM's buffer takes slices (with offsets, at I = 16: minGRU 86.5 against 70.8 ms, minLSTM
    118 against 108)."""
    return 2 * H if kind == 1 else H


# ---- one step of a batch row: loops over H ---------------------------------------------------
# k_t either comes from a buffer (a GEMM's) or is computed in the loop as base + x_{t,0}·Wᵀ[0],
# base = b (I = 1) or b + Σ_{i≥1} x_{t,i}·Wᵀ[i]: k is then never written to memory, and the
# backward sums input 0's gradients in the same loop. Fusing the backward's three loops per
# step (k, the step, the gradients) and the forward's two took minGRU from 24.8 to 21.1 ms
# backward and 16.9 to 14.2 ms forward, minLSTM from 36.9 to 31.9 and 26.6 to 20.5 ms (B = 64,
# T = 4096, H = 128, I = 1, same process; docs/BENCHMARKS.md).


@njit(inline="always", **JIT)
def _step_k(kind, kt, prev, ht, half, one):
    """h_t from k_t (G·H,) in a buffer."""
    H = ht.size
    H3 = _third(kind, H)
    for j in range(H):
        ht[j] = _unit_forward(kind, kt[j], kt[H + j], kt[H3 + j], prev[j], half, one)


@njit(inline="always", **JIT)
def _step_inline(kind, base, w0, x0, prev, ht, half, one):
    """h_t with k_t = base + x_{t,0}·Wᵀ[0] computed in the loop."""
    H = ht.size
    H3 = _third(kind, H)
    for j in range(H):
        k1, k2 = base[j] + x0 * w0[j], base[H + j] + x0 * w0[H + j]
        k3 = base[H3 + j] + x0 * w0[H3 + j]
        ht[j] = _unit_forward(kind, k1, k2, k3, prev[j], half, one)


@njit(inline="always", **JIT)
def _step_back_k(kind, kt, dkt, prev, gt, carry, half, one):
    """One step back from k_t in a buffer: dk_t into dkt, carry ← a ⊙ d, d = g_t + carry."""
    H = gt.size
    H3 = _third(kind, H)
    k1, k2, k3 = kt[:H], kt[H : 2 * H], kt[H3:]
    d1, d2, d3 = dkt[:H], dkt[H : 2 * H], dkt[H3:]
    for j in range(H):
        d = gt[j] + carry[j]
        dk1, dk2, dk3, a = _unit_backward(kind, k1[j], k2[j], k3[j], prev[j], d, half, one)
        carry[j] = a * d
        d1[j], d2[j] = dk1, dk2
        if kind == 1:
            d3[j] = dk3


@njit(inline="always", **JIT)
def _step_back_inline(kind, multi, base, w0, x0, prev, gt, carry, dkt, dbc, dwc0, half, one):
    """One step back with k_t = base + x_{t,0}·Wᵀ[0] computed in the loop, and input 0's
    gradients summed there too: db += dk_t, dWᵀ[0] += x_{t,0}·dk_t; returns dx_{t,0} =
    dk_t·Wᵀ[0]. dk_t is written to dkt only when ``multi`` (a constant: other inputs need it;
    storing it anyway cost I = 1 about 11 %)."""
    H = gt.size
    H3 = _third(kind, H)
    acc = half - half
    for j in range(H):
        j2, j3 = H + j, H3 + j
        k1, k2, k3 = base[j] + x0 * w0[j], base[j2] + x0 * w0[j2], base[j3] + x0 * w0[j3]
        d = gt[j] + carry[j]
        dk1, dk2, dk3, a = _unit_backward(kind, k1, k2, k3, prev[j], d, half, one)
        carry[j] = a * d
        dbc[j] += dk1
        dbc[j2] += dk2
        dwc0[j] += x0 * dk1
        dwc0[j2] += x0 * dk2
        acc += dk1 * w0[j] + dk2 * w0[j2]
        if kind == 1:
            dbc[j3] += dk3
            dwc0[j3] += x0 * dk3
            acc += dk3 * w0[j3]
        if multi:
            dkt[j], dkt[j2] = dk1, dk2
            if kind == 1:
                dkt[j3] = dk3
    return acc


# ---- k from the inputs after the first, and their gradients: loops over G·H ------------------


@njit(inline="always", **JIT)
def _preacts_rest(xt, wt, bias, kt):
    """k_t without input 0's term: b + Σ_{i≥1} x_{t,i}·Wᵀ[i] (G·H,); wt = Wᵀ (I, G·H), I ≥ 2."""
    x1, w1 = xt[1], wt[1]
    for j in range(kt.size):
        kt[j] = bias[j] + x1 * w1[j]
    for i in range(2, xt.size):
        xi, wi = xt[i], wt[i]
        for j in range(kt.size):
            kt[j] += xi * wi[j]


@njit(inline="always", **JIT)
def _grads_rest(dkt, xt, wt, dwc, dxt, zero):
    """For the inputs after the first: dWᵀ[i] += x_{t,i}·dk_t (dwc (I, G·H)), dx_{t,i} =
    dk_t·Wᵀ[i]."""
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
def _steps_back_loops(kind, multi, xn, wt, bias, hn, h0n, gn, goff, g_ahead, t0, c, carry, kt,
                      dkt, dbc, dwc, dxn, ahead, half, one):  # fmt: skip
    """Steps t0 + c − 1 … t0 back, k and the gradients by loops: dL/dh_t = gn[t − goff];
    ``multi`` (a constant): I ≥ 2.

    The backward walks backwards in time, and there each row of h and of dL/dh came from
    memory one after another, each waiting on the memory's latency (a hardware prefetcher
    follows ascending streams best): so each step asks for the rows ``ahead`` steps earlier,
    gn's too when ``g_ahead`` (gn is then dL/dh itself, not a copy in cache)."""
    zero = half - half
    w0 = wt[0]
    for t in range(t0 + c - 1, t0 - 1, -1):
        _prefetch_row(hn, t - 1 - ahead)
        if g_ahead:
            _prefetch_row(gn, t - goff - ahead)
        prev = h0n if t == 0 else hn[t - 1]
        xt = xn[t]
        if multi:
            _preacts_rest(xt, wt, bias, kt)
        base = kt if multi else bias
        dxn[t, 0] = _step_back_inline(kind, multi, base, w0, xt[0], prev, gn[t - goff], carry,
                                      dkt, dbc, dwc[0], half, one)  # fmt: skip
        if multi:
            _grads_rest(dkt, xt, wt, dwc, dxn[t], zero)


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
        _step_back_k(kind, kbuf[t - t0], dkbuf[t - t0], prev, gn[t - goff], carry, half, one)


# ---- the layer, per way to k; ``kind`` is a constant in every copy ---------------------------


@njit(inline="always", **JIT)
def _forward_loops(kind, x, wt, bias, h0, h):
    """The forward with k by loops; wt = Wᵀ (I, G·H). For I ≥ 2 the other inputs' terms of k
    are summed LOOP_CHUNK steps at a time into a buffer (in L1) before the steps."""
    B, T = h.shape[:2]
    I = wt.shape[0]
    half, one = _constants(h)
    kbuf = np.empty((LOOP_CHUNK, wt.shape[1]), h.dtype)
    w0 = wt[0]
    for n in range(B):
        hn, xn = h[n], x[n]
        for t0 in range(0, T, LOOP_CHUNK):
            c = min(LOOP_CHUNK, T - t0)
            if I > 1:
                for s in range(c):
                    _preacts_rest(xn[t0 + s], wt, bias, kbuf[s])
            prev = h0[n] if t0 == 0 else hn[t0 - 1]
            for s in range(c):
                base = kbuf[s] if I > 1 else bias
                _step_inline(kind, base, w0, xn[t0 + s, 0], prev, hn[t0 + s], half, one)
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
                _step_k(kind, kbuf[s], prev, hn[t0 + s], half, one)
                prev = hn[t0 + s]


@njit(inline="always", **JIT)
def _backward_loops(kind, multi, x, wt, bias, h0, h, g, dx, dw_sum, db_sum, dh0):
    """The backward with k, dW and dx by loops, one step at a time (buffers of G·H values, in
    L1); the sums of dWᵀ and db over LOOP_CHUNK steps are added into dw_sum (I, G·H) and
    db_sum (float64). ``multi`` (a constant): I ≥ 2."""
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
                _steps_back_loops(kind, multi, xn, wt, bias, hn, h0[n], gn, 0, True, t0, c,
                                  carry, kt, dkt, dbc, dwc, dxn, ahead, half, one)  # fmt: skip
            else:
                _copy_rows(gn, t0, c, gbuf)
                _steps_back_loops(kind, multi, xn, wt, bias, hn, h0[n], gbuf, t0, False, t0, c,
                                  carry, kt, dkt, dbc, dwc, dxn, ahead, half, one)  # fmt: skip
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


@njit(inline="always", **JIT)
def _forward(kind, way, x, w, bias, h0, h, gemm):
    """The forward of the cell ``kind`` with k computed the way ``way`` (constants)."""
    _check(w, h, kind)
    mxcsr = flush_subnormals()  # subnormals read and written as 0 (see rnnlab.kernels._jit)
    if way == 2:
        _forward_gemm(kind, x, w, bias, h0, h, gemm)
    else:
        _forward_loops(kind, x, np.ascontiguousarray(w.T), bias, h0, h)
    set_mxcsr(mxcsr)


@njit(inline="always", **JIT)
def _backward(kind, way, x, w, bias, h0, h, g, dx, dw, db, dh0, gemm):
    """The backward of the cell ``kind`` with k computed the way ``way`` (constants)."""
    _check(w, h, kind)
    GH, I = w.shape
    dw_sum, db_sum = np.zeros((I, GH)), np.zeros(GH)  # float64
    mxcsr = flush_subnormals()  # a vanishing gradient goes subnormal: flushed to 0
    if way == 2:
        _backward_gemm(kind, x, w, bias, h0, h, g, dx, dw_sum, db_sum, dh0, gemm)
    else:
        wt = np.ascontiguousarray(w.T)
        _backward_loops(kind, way == 1, x, wt, bias, h0, h, g, dx, dw_sum, db_sum, dh0)
    set_mxcsr(mxcsr)
    for j in range(GH):
        db[j] += db_sum[j]
        for i in range(I):
            dw[j, i] += dw_sum[i, j]


# ---- the compiled entry points -----------------------------------------------------------------
# numba compiles a function once per combination of its arguments' types. The cell and the way
# to k travel as tuples whose lengths are kind + 1 and way + 1 (``_TAG``): a tuple's length is
# part of its type, so each cell and way is compiled on its own, on its first use only, and
# len() is a constant inside it. One function holding all six copies of the backward took 43 s
# to compile; minGRU's backward alone (I = 1) now takes 15.8 s, its forward 2.8 s.

_TAG = ((0,), (0, 0), (0, 0, 0))


@njit(**JIT)
def _forward_entry(x, w, bias, h0, h, gemm, cell, way):
    _forward(len(cell) - 1, len(way) - 1, x, w, bias, h0, h, gemm)


@njit(**JIT)
def _backward_entry(x, w, bias, h0, h, g, dx, dw, db, dh0, gemm, cell, way):
    _backward(len(cell) - 1, len(way) - 1, x, w, bias, h0, h, g, dx, dw, db, dh0, gemm)


def way_to_k(I: int) -> int:
    """How the kernels compute k for inputs I wide: 0 by loops, one input (its gradients summed
    in the step's loop); 1 by loops, 2 ≤ I ≤ LOOP_MAX_INPUT; 2 by GEMM (I = 0 too, and wider)."""
    return 0 if I == 1 else 1 if 2 <= I <= LOOP_MAX_INPUT else 2


def minimal_forward(x, w, bias, h0, h, kind: int, gemm) -> None:
    """minGRU (kind 0) or minLSTM (kind 1) over x (B, T, I) from h0 (B, H); writes h (B, T, H)
    (the formulas are in the module's docstring); NumPy arrays, ``gemm`` from
    :func:`rnnlab.kernels._blas.gemm`."""
    way = 2 if way_to_k(w.shape[1]) == 2 else 0  # the forward's loops serve ways 0 and 1
    _forward_entry(x, w, bias, h0, h, gemm, _TAG[kind], _TAG[way])


def minimal_backward(x, w, bias, h0, h, g, dx, dw, db, dh0, kind: int, gemm) -> None:
    """The gradients of :func:`minimal_forward`, backwards in time, gates recomputed from x.

    g = dL/dh_t from outside (B, T, H), any strides. d_t = g_t + a_{t+1} ⊙ d_{t+1} is the
    total gradient reaching h_t (a = 1 − z, or f/(f + i)); with dk = dL/dk (G·H per step):
        db += Σ_t dk_t          dW += Σ_t dk_tᵀ·x_t (G·H, I)          dx_t = dk_t·W (I,)
    The float32 sums over each chunk of steps are added into float64 sums, so that their
    rounding error grows with the number of chunks, not of steps. dw (G·H, I) and db (G·H,)
    are accumulated (zeros on entry); dx (B, T, I) and dh0 (B, H) are written; dx may have no
    rows when the input needs no gradient.
    """
    way = way_to_k(w.shape[1])
    _backward_entry(x, w, bias, h0, h, g, dx, dw, db, dh0, gemm, _TAG[kind], _TAG[way])
