"""minGRU and minLSTM on a GPU: Triton kernels, forward and backward, gates computed inside.

The same cells, gate convention and g() as :mod:`rnnlab.cells.minimal` (and the same
arguments as :class:`rnnlab.kernels.scan.MinimalCellFunction`): with k = x·Wᵀ + b,

    minGRU   a_t = 1 − σ(k_z),            b_t = σ(k_z)·g(k_h)
    minLSTM  a_t = f/(f + i),             b_t = i/(f + i)·g(k_h),   f, i = σ(k_f), σ(k_i)
    h_t = a_t ⊙ h_{t−1} + b_t,            g(v) = v + ½ (v ≥ 0), σ(v) (v < 0)

Two variants (``TUNING["variant"]``); scripts/gpu_check.sh times both and keeps the faster.

"walk" (the default; one pass per direction): a program per (BH hidden units, batch row,
segment of time), one unit per thread, walks its segment step by step with the state in a
register: per training step h written once, h_{t−1} read once, dL/dh read once (twice with
S > 1 segments: the segment map, then the walk; free under Σh, stride 0), x a few times; dW
and db summed in registers over the whole segment, so their shares are (B·S, G·H, I), not
(B·T/C, G·H, I); dx per step, a shuffle reduction over the block's units. Launches: forward
1 (S = 1) or 3 (map, _carry over the S segment maps, walk), backward the same plus torch's
sums of the small shares. Bytes ≈ 2·B·T·H·e under Σh (3 with a real dL/dh), the floor's.

"chunked": a chunked scan, parallel over batch × hidden × chunks of time (Blelloch 1990; the usual
three-pass form of a scan over a long axis). Each program owns a (C, BH) tile: C time steps of
BH hidden units of one batch row.

    1. local   per tile: a_t, b_t from x (k never leaves registers), the tile's affine map
               h ↦ A·h + Bc by an associative scan (A = ∏ a, Bc = the tile's h from 0)
    2. carry   per (batch row, hidden block): the maps composed across the T/C chunks, a scan
               of BC chunk maps at a time (T/(C·BC) dependent steps): h at each chunk's end
    3. apply   per tile: the scan again, now from the carried state; h written

The backward is the same three passes in reversed time on d_t = dL/dh_t (total),

    d_t = g_t + a_{t+1}·d_{t+1}                     (g_t: the gradient arriving from outside)
    minGRU   dk_z = d·(h̃ − h_{t−1})·z(1 − z),       dk_h = d·z·g'(k_h)
    minLSTM  w = d·(h_{t−1} − h̃)/(f + i)²:  dk_f = w·i·f(1 − f),  dk_i = −w·f·i(1 − i),
             dk_h = d·i/(f + i)·g'(k_h)
    dh_0 = a_0·d_0,   db = Σ dk,   dW = Σ dkᵀ·x,   dx = dk·W

with a_{t+1} and the gates recomputed from x; dW and db are summed per tile, then over tiles by
torch (deterministic, no atomics). Stored between forward and backward: x, W, b, h_0 and h
(as the CPU kernel). Memory traffic per training step: h written once (pass 3), then h and the
incoming gradient read back in the backward (the gradient twice: passes 1 and 3; free when it is
Σh's broadcast ones, stride 0); x (B·T·I) is read a few times, negligible at small I.

The gates are computed from x by an I-term loop in registers: meant for small I (a first layer
on a univariate series has I = 1; I is a compile-time constant, so the loop unrolls). ``auto``
in the cells takes this kernel on CUDA up to :data:`rnnlab.kernels.TRITON_MAX_INPUT`; wider
inputs (a stacked layer's I = H) go to the log-space scan.

Importing this module imports triton: only the cells' CUDA path and the tests do.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

# Tile sizes; module-level so that a sweep (scripts/gpu_check.sh) or a test can change them.
# variant "walk" (one pass per direction, see _walk_forward) or "chunked" (the three-pass
# chunked scan: _local, _carry, _*_apply); chunk, block_h, num_warps are the chunked variant's
# tiles, walk_* the walk's (walk_block_h = 32·walk_warps: one hidden unit per thread), and
# walk_programs the number of programs the walk aims at (segments of time per batch row:
# about walk_programs / (B·H/walk_block_h), at least one).
TUNING = {
    "variant": "walk",
    "chunk": 16,
    "block_h": 64,
    "block_c": 64,
    "num_warps": 4,
    "walk_block_h": 32,
    "walk_warps": 1,
    "unroll": 8,
    "walk_programs": 2048,
}


# ---- device helpers ---------------------------------------------------------------------------


@triton.jit
def _affine(a1, b1, a2, b2):
    """h ↦ a1·h + b1, then h ↦ a2·h + b2: the composed map (associative, not commutative)."""
    return a1 * a2, a2 * b1 + b2


@triton.jit
def _sigmoid(v):
    return 1.0 / (1.0 + tl.exp(-v))


@triton.jit
def _g(v):
    """g(v) = v + ½ (v ≥ 0), σ(v) (v < 0), and g'(v) = 1 or σ(1 − σ)."""
    s = _sigmoid(v)
    return tl.where(v >= 0, v + 0.5, s), tl.where(v >= 0, 1.0, s * (1.0 - s))


@triton.jit
def _preact(x_ptr, w_ptr, b_ptr, xrow, tmask, rows, jmask, I: tl.constexpr, C: tl.constexpr,
            BH: tl.constexpr, ACC: tl.constexpr):  # fmt: skip
    """k (C, BH) = x[t]·W[rows]ᵀ + b[rows]: I rank-one updates, x (C,) and W (BH,) columns."""
    k = tl.zeros((C, BH), ACC) + tl.load(b_ptr + rows, mask=jmask, other=0.0).to(ACC)[None, :]
    for i in tl.static_range(I):
        xi = tl.load(x_ptr + xrow * I + i, mask=tmask, other=0.0).to(ACC)  # (C,)
        wi = tl.load(w_ptr + rows * I + i, mask=jmask, other=0.0).to(ACC)  # (BH,)
        k += xi[:, None] * wi[None, :]
    return k


@triton.jit
def _gates(x_ptr, w_ptr, b_ptr, xrow, tmask, j, jmask, H, I: tl.constexpr,
           KIND: tl.constexpr, C: tl.constexpr, BH: tl.constexpr, ACC: tl.constexpr):  # fmt: skip
    """The gates at rows xrow: (σ(k_z), σ(k_z), k_h) for minGRU, (σ(k_f), σ(k_i), k_h) for
    minLSTM, each (C, BH)."""
    if KIND == 0:
        p = _sigmoid(_preact(x_ptr, w_ptr, b_ptr, xrow, tmask, j, jmask, I, C, BH, ACC))
        q = p
        kh = _preact(x_ptr, w_ptr, b_ptr, xrow, tmask, H + j, jmask, I, C, BH, ACC)
    else:
        p = _sigmoid(_preact(x_ptr, w_ptr, b_ptr, xrow, tmask, j, jmask, I, C, BH, ACC))
        q = _sigmoid(_preact(x_ptr, w_ptr, b_ptr, xrow, tmask, H + j, jmask, I, C, BH, ACC))
        kh = _preact(x_ptr, w_ptr, b_ptr, xrow, tmask, 2 * H + j, jmask, I, C, BH, ACC)
    return p, q, kh


@triton.jit
def _decay(p, q, KIND: tl.constexpr):
    """a_t from the gates: 1 − z (minGRU) or f/(f + i) (minLSTM)."""
    return 1.0 - p if KIND == 0 else p / (p + q)


@triton.jit
def _pairs(x_ptr, w_ptr, b_ptr, g_ptr, sgb, sgt, sgh, n, c, j, jmask, T, H,
           I: tl.constexpr, KIND: tl.constexpr, REVERSE: tl.constexpr, C: tl.constexpr,
           BH: tl.constexpr, ACC: tl.constexpr):  # fmt: skip
    """The tile's (coefficient, input) pairs in scan order and its time steps t (C,).

    Forward: (a_t, b_t) at t = c·C + r. Backward (reversed time): (a_{t+1}, g_t) at
    t = T − 1 − (c·C + r), a_T = 0. Rows past the sequence are (1, 0) forward and (0, 0)
    backward, so that they leave the scan's state unchanged (it is 0 wherever they occur)."""
    r = c * C + tl.arange(0, C)
    valid = r < T
    if REVERSE:
        t = T - 1 - r
        nxt = valid & (t + 1 < T)
        p, q, kh = _gates(x_ptr, w_ptr, b_ptr, n * T + t + 1, nxt, j, jmask, H, I, KIND, C, BH,
                          ACC)  # fmt: skip
        coef = tl.where(nxt[:, None], _decay(p, q, KIND), 0.0)
        goff = n.to(tl.int64) * sgb + t.to(tl.int64)[:, None] * sgt + j[None, :] * sgh
        m = valid[:, None] & jmask[None, :]
        inp = tl.load(g_ptr + goff, mask=m, other=0.0).to(ACC)
    else:
        t = r
        p, q, kh = _gates(x_ptr, w_ptr, b_ptr, n * T + t, valid, j, jmask, H, I, KIND, C, BH,
                          ACC)  # fmt: skip
        gk, _ = _g(kh)
        inp = p * gk if KIND == 0 else q / (p + q) * gk  # z·h̃ or i'·h̃
        coef = tl.where(valid[:, None], _decay(p, q, KIND), 1.0)
        inp = tl.where(valid[:, None], inp, 0.0)
    return coef, inp, t, valid


@triton.jit
def _last_row(v, C: tl.constexpr):
    return tl.sum(tl.where((tl.arange(0, C) == C - 1)[:, None], v, 0.0), axis=0)


# ---- the three passes -------------------------------------------------------------------------


@triton.jit
def _local(x_ptr, w_ptr, b_ptr, g_ptr, sgb, sgt, sgh, sa_ptr, sb_ptr, T, H, NC,
           I: tl.constexpr, KIND: tl.constexpr, REVERSE: tl.constexpr, C: tl.constexpr,
           BH: tl.constexpr, ACC: tl.constexpr):  # fmt: skip
    """Pass 1: each tile's map h ↦ A·h + Bc into sa, sb (B, NC, H)."""
    c, hb, n = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    j = hb * BH + tl.arange(0, BH)
    jmask = j < H
    coef, inp, _, _ = _pairs(x_ptr, w_ptr, b_ptr, g_ptr, sgb, sgt, sgh, n, c, j, jmask, T, H, I,
                             KIND, REVERSE, C, BH, ACC)  # fmt: skip
    A, Bc = tl.associative_scan((coef, inp), 0, _affine)  # (C, BH) each
    off = (n * NC + c) * H + j
    tl.store(sa_ptr + off, _last_row(A, C), mask=jmask)
    tl.store(sb_ptr + off, _last_row(Bc, C), mask=jmask)


@triton.jit
def _carry(sa_ptr, sb_ptr, s0_ptr, end_ptr, H, NC, BC: tl.constexpr, BH: tl.constexpr,
           ACC: tl.constexpr):  # fmt: skip
    """Pass 2: the state at the end of every chunk, end (B, NC, H), from s0 (B, H) through the
    chunk maps, BC chunks per scan."""
    hb, n = tl.program_id(0), tl.program_id(1)
    j = hb * BH + tl.arange(0, BH)
    jmask = j < H
    s = tl.load(s0_ptr + n * H + j, mask=jmask, other=0.0).to(ACC)  # (BH,)
    c0 = 0
    while c0 < NC:  # a while loop, not range(NC): Triton 3.6's interpreter fails on the latter
        c = c0 + tl.arange(0, BC)
        m = (c < NC)[:, None] & jmask[None, :]
        off = (n * NC + c)[:, None] * H + j[None, :]
        A = tl.load(sa_ptr + off, mask=m, other=1.0)  # padding chunks: the identity map
        Bc = tl.load(sb_ptr + off, mask=m, other=0.0)
        PA, PB = tl.associative_scan((A, Bc), 0, _affine)
        ends = PA * s[None, :] + PB  # (BC, BH)
        tl.store(end_ptr + off, ends, mask=m)
        s = _last_row(ends, BC)
        c0 += BC


@triton.jit
def _forward_apply(x_ptr, w_ptr, b_ptr, h0_ptr, end_ptr, h_ptr, T, H, NC, I: tl.constexpr,
                   KIND: tl.constexpr, C: tl.constexpr, BH: tl.constexpr,
                   ACC: tl.constexpr):  # fmt: skip
    """Pass 3 forward: h (B, T, H) = the tile's scan from the state carried into it."""
    c, hb, n = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    j = hb * BH + tl.arange(0, BH)
    jmask = j < H
    coef, inp, t, valid = _pairs(x_ptr, w_ptr, b_ptr, x_ptr, 0, 0, 0, n, c, j, jmask, T, H, I,
                                 KIND, False, C, BH, ACC)  # fmt: skip
    A, Bc = tl.associative_scan((coef, inp), 0, _affine)
    if c == 0:
        start = tl.load(h0_ptr + n * H + j, mask=jmask, other=0.0).to(ACC)
    else:
        start = tl.load(end_ptr + (n * NC + c - 1) * H + j, mask=jmask, other=0.0).to(ACC)
    h = A * start[None, :] + Bc  # (C, BH)
    off = (n.to(tl.int64) * T + t)[:, None] * H + j[None, :]
    tl.store(h_ptr + off, h.to(h_ptr.dtype.element_ty), mask=valid[:, None] & jmask[None, :])


@triton.jit
def _backward_apply(x_ptr, w_ptr, b_ptr, g_ptr, sgb, sgt, sgh, h0_ptr, h_ptr, end_ptr,
                    dh0_ptr, dw_ptr, db_ptr, dx_ptr, T, H, NC, I: tl.constexpr,
                    KIND: tl.constexpr, C: tl.constexpr, BH: tl.constexpr,
                    ACC: tl.constexpr):  # fmt: skip
    """Pass 3 backward: d_t from the carried d, then dk; this tile's shares of dW (B·NC, G·H,
    I), db (B·NC, G·H) and dx (H/BH, B, T, I); dh_0 from the tile holding t = 0."""
    c, hb, n = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    j = hb * BH + tl.arange(0, BH)
    jmask = j < H
    coef, inp, t, valid = _pairs(x_ptr, w_ptr, b_ptr, g_ptr, sgb, sgt, sgh, n, c, j, jmask, T,
                                 H, I, KIND, True, C, BH, ACC)  # fmt: skip
    P, D = tl.associative_scan((coef, inp), 0, _affine)
    if c == 0:
        after = tl.zeros((BH,), ACC)  # d_T = 0
    else:
        after = tl.load(end_ptr + (n * NC + c - 1) * H + j, mask=jmask, other=0.0).to(ACC)
    m = valid[:, None] & jmask[None, :]
    d = tl.where(m, P * after[None, :] + D, 0.0)  # (C, BH) dL/dh_t, total
    # h_{t−1}: h0 on the row with t = 0
    poff = (n.to(tl.int64) * T + t - 1)[:, None] * H + j[None, :]
    prev = tl.load(h_ptr + poff, mask=m & (t >= 1)[:, None], other=0.0).to(ACC)
    first = tl.load(h0_ptr + n * H + j, mask=jmask, other=0.0).to(ACC)
    prev = tl.where((t == 0)[:, None], first[None, :], prev)
    p, q, kh = _gates(x_ptr, w_ptr, b_ptr, n * T + t, valid, j, jmask, H, I, KIND, C, BH, ACC)
    gk, dgk = _g(kh)
    if KIND == 0:
        dk0 = d * (gk - prev) * p * (1.0 - p)  # ∂h/∂z = h̃ − h_{t−1}, σ' = σ(1 − σ)
        dk1 = d * p * dgk  # ∂h/∂h̃ = z
        dk2 = dk1  # unused
    else:
        inv = 1.0 / (p + q)
        w = d * (prev - gk) * inv * inv
        dk0 = w * q * p * (1.0 - p)  # ∂h/∂f = i·(h_{t−1} − h̃)/(f + i)²
        dk1 = -w * p * q * (1.0 - q)  # ∂h/∂i = −f·(h_{t−1} − h̃)/(f + i)²
        dk2 = d * q * inv * dgk  # ∂h/∂h̃ = i/(f + i)
    has0 = c == (T - 1) // C
    dh0 = tl.sum(tl.where((t == 0)[:, None], _decay(p, q, KIND) * d, 0.0), axis=0)
    tl.store(dh0_ptr + n * H + j, dh0.to(dh0_ptr.dtype.element_ty), mask=jmask & has0)
    G = 2 + KIND
    part = n * NC + c
    tl.store(db_ptr + part * G * H + j, tl.sum(dk0, axis=0), mask=jmask)
    tl.store(db_ptr + part * G * H + H + j, tl.sum(dk1, axis=0), mask=jmask)
    if KIND == 1:
        tl.store(db_ptr + part * G * H + 2 * H + j, tl.sum(dk2, axis=0), mask=jmask)
    for i in tl.static_range(I):
        xi = tl.load(x_ptr + (n * T + t) * I + i, mask=valid, other=0.0).to(ACC)[:, None]
        wrow = (part * G * H + j) * I + i
        tl.store(dw_ptr + wrow, tl.sum(dk0 * xi, axis=0), mask=jmask)
        tl.store(dw_ptr + wrow + H * I, tl.sum(dk1 * xi, axis=0), mask=jmask)
        w0 = tl.load(w_ptr + j * I + i, mask=jmask, other=0.0).to(ACC)
        w1 = tl.load(w_ptr + (H + j) * I + i, mask=jmask, other=0.0).to(ACC)
        dxi = tl.sum(dk0 * w0[None, :] + dk1 * w1[None, :], axis=1)  # (C,)
        if KIND == 1:
            tl.store(dw_ptr + wrow + 2 * H * I, tl.sum(dk2 * xi, axis=0), mask=jmask)
            w2 = tl.load(w_ptr + (2 * H + j) * I + i, mask=jmask, other=0.0).to(ACC)
            dxi += tl.sum(dk2 * w2[None, :], axis=1)
        xoff = ((hb * tl.num_programs(2) + n).to(tl.int64) * T + t) * I + i
        tl.store(dx_ptr + xoff, dxi, mask=valid)


# ---- the walk: one program per (hidden block, batch row, segment of time) ------------------------
#
# Each thread owns one hidden unit and walks its segment of time one step at a time, the state in
# a register (UNROLL steps per loop iteration, straight-line, so that the loads of x and h_{t−1}
# and the gates of later steps overlap the one dependent FMA per step). No associative scan, no
# (C, BH) tile. With S > 1 segments per row (for parallelism: B·H/BH·S programs), the segment's
# map h ↦ A·h + Bm is computed first (MAP: x read, nothing of size B·T·H written), the maps
# composed across segments by _carry, and the walk repeated from the carried state.


@triton.jit
def _wcol(w_ptr, b_ptr, gate: tl.constexpr, j, jmask, H, I: tl.constexpr, IP: tl.constexpr,
          ACC: tl.constexpr):  # fmt: skip
    """Gate ``gate``'s rows of W (BH, IP) and b (BH,), loaded once per program."""
    ii = tl.arange(0, IP)
    rows = gate * H + j
    m = jmask[:, None] & (ii < I)[None, :]
    w = tl.load(w_ptr + rows[:, None] * I + ii[None, :], mask=m, other=0.0).to(ACC)
    return w, tl.load(b_ptr + rows, mask=jmask, other=0.0).to(ACC)


@triton.jit
def _walk_forward(x_ptr, w_ptr, b_ptr, h0_ptr, end_ptr, sa_ptr, sb_ptr, h_ptr, T, H, L, S,
                  I: tl.constexpr, IP: tl.constexpr, KIND: tl.constexpr, MAP: tl.constexpr,
                  U: tl.constexpr, BH: tl.constexpr, ACC: tl.constexpr):  # fmt: skip
    """MAP: the segment's map into sa, sb (B, S, H). Else h over the segment from h0 (s = 0) or
    end[s − 1] (the state after the previous segment, from _carry)."""
    hb, n, s = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    j = hb * BH + tl.arange(0, BH)
    jmask = j < H
    ii = tl.arange(0, IP)
    w0, b0 = _wcol(w_ptr, b_ptr, 0, j, jmask, H, I, IP, ACC)
    w1, b1 = _wcol(w_ptr, b_ptr, 1, j, jmask, H, I, IP, ACC)
    if KIND == 1:
        w2, b2 = _wcol(w_ptr, b_ptr, 2, j, jmask, H, I, IP, ACC)
    else:
        w2, b2 = w1, b1
    t0 = s * L
    t1 = tl.minimum(t0 + L, T)
    A = tl.full((BH,), 1.0, ACC)
    if MAP:
        h = tl.zeros((BH,), ACC)
    elif s == 0:
        h = tl.load(h0_ptr + n * H + j, mask=jmask, other=0.0).to(ACC)
    else:
        h = tl.load(end_ptr + (n * S + s - 1) * H + j, mask=jmask, other=0.0).to(ACC)
    row = n.to(tl.int64) * T
    t = t0
    while t < t1:
        for r in tl.static_range(U):
            tt = t + r
            ok = tt < t1
            xv = tl.load(x_ptr + (row + tt) * I + ii, mask=(ii < I) & ok, other=0.0).to(ACC)
            p = _sigmoid(tl.sum(w0 * xv[None, :], axis=1) + b0)
            if KIND == 0:
                q = p
                kh = tl.sum(w1 * xv[None, :], axis=1) + b1
            else:
                q = _sigmoid(tl.sum(w1 * xv[None, :], axis=1) + b1)
                kh = tl.sum(w2 * xv[None, :], axis=1) + b2
            gk, _ = _g(kh)
            if KIND == 0:
                a = 1.0 - p
                inp = p * gk
            else:
                inv = 1.0 / (p + q)
                a = p * inv
                inp = q * inv * gk
            a = tl.where(ok, a, 1.0)
            h = a * h + tl.where(ok, inp, 0.0)
            if MAP:
                A = A * a
            else:
                tl.store(h_ptr + (row + tt) * H + j, h.to(h_ptr.dtype.element_ty),
                         mask=jmask & ok)  # fmt: skip
        t += U
    if MAP:
        off = (n * S + s) * H + j
        tl.store(sa_ptr + off, A, mask=jmask)
        tl.store(sb_ptr + off, h, mask=jmask)


@triton.jit
def _walk_backward(x_ptr, w_ptr, b_ptr, g_ptr, sgb, sgt, sgh, h0_ptr, h_ptr, end_ptr, sa_ptr,
                   sb_ptr, dh0_ptr, dw_ptr, db_ptr, dx_ptr, T, H, L, S, I: tl.constexpr,
                   IP: tl.constexpr, KIND: tl.constexpr, MAP: tl.constexpr, U: tl.constexpr,
                   BH: tl.constexpr, ACC: tl.constexpr):  # fmt: skip
    """The segment walked in reversed time, carrying c_t = a_t·d_t (what step t passes to t − 1):
    d_t = g_t + c_{t+1}, c_t = a_t·d_t. MAP: the segment's map c ↦ A·c + Bm into sa, sb at
    index S − 1 − s (so that _carry runs from the last segment down). Else dk at every step;
    dx (H/BH, B, T, I) per step; this program's shares of dW (B·S, G·H, I) and db (B·S, G·H)
    summed over its steps in registers; dh_0 = c_0 from segment 0."""
    hb, n, s = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    j = hb * BH + tl.arange(0, BH)
    jmask = j < H
    ii = tl.arange(0, IP)
    imask = ii < I
    w0, b0 = _wcol(w_ptr, b_ptr, 0, j, jmask, H, I, IP, ACC)
    w1, b1 = _wcol(w_ptr, b_ptr, 1, j, jmask, H, I, IP, ACC)
    if KIND == 1:
        w2, b2 = _wcol(w_ptr, b_ptr, 2, j, jmask, H, I, IP, ACC)
    else:
        w2, b2 = w1, b1
    t0 = s * L
    t1 = tl.minimum(t0 + L, T)
    A = tl.full((BH,), 1.0, ACC)
    if MAP or s == S - 1:
        c = tl.zeros((BH,), ACC)
    else:
        c = tl.load(end_ptr + (n * S + S - 2 - s) * H + j, mask=jmask, other=0.0).to(ACC)
    first = tl.load(h0_ptr + n * H + j, mask=jmask, other=0.0).to(ACC)
    db0 = tl.zeros((BH,), ACC)
    db1 = tl.zeros((BH,), ACC)
    db2 = tl.zeros((BH,), ACC)
    dw0 = tl.zeros((BH, IP), ACC)
    dw1 = tl.zeros((BH, IP), ACC)
    dw2 = tl.zeros((BH, IP), ACC)
    row = n.to(tl.int64) * T
    dxrow = (hb * tl.num_programs(1) + n).to(tl.int64) * T
    tb = t1
    while tb > t0:
        for r in tl.static_range(U):
            tt = tb - 1 - r
            ok = tt >= t0
            xv = tl.load(x_ptr + (row + tt) * I + ii, mask=imask & ok, other=0.0).to(ACC)
            gv = tl.load(g_ptr + n.to(tl.int64) * sgb + tt.to(tl.int64) * sgt + j * sgh,
                         mask=jmask & ok, other=0.0).to(ACC)  # fmt: skip
            p = _sigmoid(tl.sum(w0 * xv[None, :], axis=1) + b0)
            if KIND == 0:
                q = p
                kh = tl.sum(w1 * xv[None, :], axis=1) + b1
            else:
                q = _sigmoid(tl.sum(w1 * xv[None, :], axis=1) + b1)
                kh = tl.sum(w2 * xv[None, :], axis=1) + b2
            a = _decay(p, q, KIND)
            d = tl.where(ok & jmask, gv + c, 0.0)  # dL/dh_t, total
            if MAP:
                A = tl.where(ok, A * a, A)
            else:
                prev = tl.load(h_ptr + (row + tt - 1) * H + j, mask=jmask & ok & (tt >= 1),
                               other=0.0).to(ACC)  # fmt: skip
                prev = tl.where(tt == 0, first, prev)
                gk, dgk = _g(kh)
                if KIND == 0:
                    dk0 = d * (gk - prev) * p * (1.0 - p)
                    dk1 = d * p * dgk
                    dk2 = dk1
                else:
                    inv = 1.0 / (p + q)
                    wv = d * (prev - gk) * inv * inv
                    dk0 = wv * q * p * (1.0 - p)
                    dk1 = -wv * p * q * (1.0 - q)
                    dk2 = d * q * inv * dgk
                db0 += dk0
                db1 += dk1
                dw0 += dk0[:, None] * xv[None, :]
                dw1 += dk1[:, None] * xv[None, :]
                dxv = dk0[:, None] * w0 + dk1[:, None] * w1
                if KIND == 1:
                    db2 += dk2
                    dw2 += dk2[:, None] * xv[None, :]
                    dxv += dk2[:, None] * w2
                tl.store(dx_ptr + (dxrow + tt) * I + ii, tl.sum(dxv, axis=0), mask=imask & ok)
            c = tl.where(ok, a * d, c)
        tb -= U
    if MAP:
        off = (n * S + S - 1 - s) * H + j
        tl.store(sa_ptr + off, A, mask=jmask)
        tl.store(sb_ptr + off, c, mask=jmask)
    else:
        if s == 0:
            tl.store(dh0_ptr + n * H + j, c.to(dh0_ptr.dtype.element_ty), mask=jmask)
        G = 2 + KIND
        part = n * S + s
        tl.store(db_ptr + part * G * H + j, db0, mask=jmask)
        tl.store(db_ptr + part * G * H + H + j, db1, mask=jmask)
        wrow = (part * G * H + j)[:, None] * I + ii[None, :]
        wm = jmask[:, None] & imask[None, :]
        tl.store(dw_ptr + wrow, dw0, mask=wm)
        tl.store(dw_ptr + wrow + H * I, dw1, mask=wm)
        if KIND == 1:
            tl.store(db_ptr + part * G * H + 2 * H + j, db2, mask=jmask)
            tl.store(dw_ptr + wrow + 2 * H * I, dw2, mask=wm)


# ---- the host side ----------------------------------------------------------------------------


def _sizes(T: int, H: int) -> tuple[int, int, int]:
    """(C, BH, NC): time steps and hidden units per tile (powers of two), number of chunks."""
    C = min(TUNING["chunk"], max(16, triton.next_power_of_2(T)))
    BH = min(TUNING["block_h"], triton.next_power_of_2(H))
    return C, BH, triton.cdiv(T, C)


def _acc(dtype: torch.dtype):
    """The accumulation type: float64 for float64, float32 for everything narrower."""
    return tl.float64 if dtype == torch.float64 else tl.float32


def _scan(x, weight, bias, s0, g, kind, reverse, C, BH, NC):
    """Passes 1 and 2 for either direction: the state at the end of every chunk (B, NC, H)
    (forward: h; backward, in reversed time: d). None for a single chunk."""
    B, T, I = x.shape
    H = s0.shape[1]
    if NC == 1:
        return None
    acc = torch.float64 if x.dtype == torch.float64 else torch.float32
    sa, sb, end = (torch.empty(B, NC, H, device=x.device, dtype=acc) for _ in range(3))
    gs = g.stride() if g is not None else (0, 0, 0)
    w = TUNING["num_warps"]
    _local[(NC, triton.cdiv(H, BH), B)](
        x, weight, bias, x if g is None else g, *gs, sa, sb, T, H, NC,
        I=I, KIND=kind, REVERSE=reverse, C=C, BH=BH, ACC=_acc(x.dtype), num_warps=w,
    )  # fmt: skip
    BC = min(TUNING["block_c"], max(16, triton.next_power_of_2(NC)))
    _carry[(triton.cdiv(H, BH), B)](
        sa, sb, s0, end, H, NC, BC=BC, BH=BH, ACC=_acc(x.dtype), num_warps=w
    )
    return end


def _walk_sizes(B: int, T: int, H: int) -> tuple[int, int, int, int, int]:
    """(BH, NH, U, L, S) of the walk: hidden units per program, hidden blocks, steps per loop
    iteration, steps per segment (a multiple of U), segments per batch row (none empty)."""
    BH = min(TUNING["walk_block_h"], triton.next_power_of_2(H))
    NH = triton.cdiv(H, BH)
    U = TUNING["unroll"]
    S = max(1, min(triton.cdiv(T, U), TUNING["walk_programs"] // (NH * B)))
    L = triton.cdiv(triton.cdiv(T, S), U) * U
    return BH, NH, U, L, triton.cdiv(T, L)


def _walk_common(x, weight, BH):
    I = x.shape[2]
    warps = max(1, min(TUNING["walk_warps"], BH // 32))
    return dict(I=I, IP=triton.next_power_of_2(I), U=TUNING["unroll"], BH=BH, ACC=_acc(x.dtype),
                num_warps=warps)  # fmt: skip


def _walk_forward_host(x, weight, bias, h0, kind):
    B, T, _ = x.shape
    H = h0.shape[1]
    BH, NH, _, L, S = _walk_sizes(B, T, H)
    kw = _walk_common(x, weight, BH) | {"KIND": kind}
    h = torch.empty(B, T, H, device=x.device, dtype=x.dtype)
    end = h
    if S > 1:
        acc = torch.float64 if x.dtype == torch.float64 else torch.float32
        sa, sb, end = (torch.empty(B, S, H, device=x.device, dtype=acc) for _ in range(3))
        _walk_forward[(NH, B, S)](x, weight, bias, h0, end, sa, sb, h, T, H, L, S, MAP=True, **kw)
        BC = min(TUNING["block_c"], max(16, triton.next_power_of_2(S)))
        _carry[(NH, B)](sa, sb, h0, end, H, S, BC=BC, BH=BH, ACC=kw["ACC"],
                        num_warps=kw["num_warps"])  # fmt: skip
    _walk_forward[(NH, B, S)](x, weight, bias, h0, end, h, h, h, T, H, L, S, MAP=False, **kw)
    return h


def _walk_backward_host(x, weight, bias, h0, h, grad, kind):
    B, T, I = x.shape
    H = h0.shape[1]
    BH, NH, _, L, S = _walk_sizes(B, T, H)
    kw = _walk_common(x, weight, BH) | {"KIND": kind}
    acc = torch.float64 if x.dtype == torch.float64 else torch.float32
    gs = grad.stride()
    dh0 = torch.empty_like(h0)
    dw = torch.empty(B * S, weight.shape[0], I, device=x.device, dtype=acc)  # per program
    db = torch.empty(B * S, weight.shape[0], device=x.device, dtype=acc)
    dx = torch.empty(NH, B, T, I, device=x.device, dtype=acc if NH > 1 else x.dtype)
    end = dx
    if S > 1:
        sa, sb, end = (torch.empty(B, S, H, device=x.device, dtype=acc) for _ in range(3))
        _walk_backward[(NH, B, S)](x, weight, bias, grad, *gs, h0, h, end, sa, sb, dh0, dw, db,
                                   dx, T, H, L, S, MAP=True, **kw)  # fmt: skip
        zeros = torch.zeros(B, H, device=x.device, dtype=acc)
        BC = min(TUNING["block_c"], max(16, triton.next_power_of_2(S)))
        _carry[(NH, B)](sa, sb, zeros, end, H, S, BC=BC, BH=BH, ACC=kw["ACC"],
                        num_warps=kw["num_warps"])  # fmt: skip
    _walk_backward[(NH, B, S)](x, weight, bias, grad, *gs, h0, h, end, dw, db, dh0, dw, db, dx,
                               T, H, L, S, MAP=False, **kw)  # fmt: skip
    dx = dx[0] if NH == 1 else dx.sum(0).to(x.dtype)
    dw = dw[0] if S * B == 1 else dw.sum(0)
    db = db[0] if S * B == 1 else db.sum(0)
    return dx, dw.to(weight.dtype), db.to(bias.dtype), dh0


def minimal_forward(x: Tensor, weight: Tensor, bias: Tensor, h0: Tensor, kind: int) -> Tensor:
    """h (B, T, H) of minGRU (kind 0) or minLSTM (kind 1); all arguments contiguous, one device.
    h has x's dtype; the recurrence runs in float32 (float64 for float64 inputs)."""
    if TUNING["variant"] == "walk":
        return _walk_forward_host(x, weight, bias, h0, kind)
    B, T, I = x.shape
    H = h0.shape[1]
    C, BH, NC = _sizes(T, H)
    h = torch.empty(B, T, H, device=x.device, dtype=x.dtype)
    end = _scan(x, weight, bias, h0, None, kind, False, C, BH, NC)
    _forward_apply[(NC, triton.cdiv(H, BH), B)](
        x, weight, bias, h0, h if end is None else end, h, T, H, NC,
        I=I, KIND=kind, C=C, BH=BH, ACC=_acc(x.dtype), num_warps=TUNING["num_warps"],
    )  # fmt: skip
    return h


def minimal_backward(x, weight, bias, h0, h, grad, kind):
    """(dx, dW, db, dh0) for the incoming dL/dh ``grad`` (B, T, H), any strides."""
    if TUNING["variant"] == "walk":
        return _walk_backward_host(x, weight, bias, h0, h, grad, kind)
    B, T, I = x.shape
    H = h0.shape[1]
    C, BH, NC = _sizes(T, H)
    NH, GH = triton.cdiv(H, BH), weight.shape[0]
    acc = torch.float64 if x.dtype == torch.float64 else torch.float32
    zeros = torch.zeros(B, H, device=x.device, dtype=acc)
    end = _scan(x, weight, bias, zeros, grad, kind, True, C, BH, NC)
    dh0 = torch.empty_like(h0)
    dw = torch.empty(B * NC, GH, I, device=x.device, dtype=acc)  # per tile, summed below
    db = torch.empty(B * NC, GH, device=x.device, dtype=acc)
    dx = torch.empty(NH, B, T, I, device=x.device, dtype=acc)
    _backward_apply[(NC, NH, B)](
        x, weight, bias, grad, *grad.stride(), h0, h, zeros if end is None else end,
        dh0, dw, db, dx, T, H, NC,
        I=I, KIND=kind, C=C, BH=BH, ACC=_acc(x.dtype), num_warps=TUNING["num_warps"],
    )  # fmt: skip
    return (
        dx.sum(0).to(x.dtype),
        dw.sum(0).to(weight.dtype),
        db.sum(0).to(bias.dtype),
        dh0,
    )


class MinimalTritonFunction(torch.autograd.Function):
    """h (B, T, H) of minGRU (kind 0) or minLSTM (kind 1) from x (B, T, I), W (G·H, I),
    b (G·H,) and h0 (B, H): :class:`rnnlab.kernels.scan.MinimalCellFunction`'s contract, on a
    CUDA device (or Triton's interpreter). Saves x, W, b, h0 and h; nothing of size (B, T, G·H).
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, h0: Tensor, kind: int) -> Tensor:
        if weight.shape[0] != (2 + kind) * h0.shape[1]:
            raise ValueError("weight must have (2 + kind)·H rows")
        x, weight, bias, h0 = (t.detach().contiguous() for t in (x, weight, bias, h0))
        h = minimal_forward(x, weight, bias, h0, kind)
        ctx.kind = kind
        ctx.save_for_backward(x, weight, bias, h0, h)
        return h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        x, weight, bias, h0, h = ctx.saved_tensors
        dx, dw, db, dh0 = minimal_backward(x, weight, bias, h0, h, grad, ctx.kind)
        return (dx if ctx.needs_input_grad[0] else None), dw, db, dh0, None
