"""The diagonal linear recurrence h_t = a_t ⊙ h_{t−1} + b_t, three ways.

- :func:`linear_recurrence` — the fused kernel: one compiled pass forward, one backward
  (:class:`LinearRecurrenceFunction`); sequential in t, bound by memory traffic.
- :func:`log_space_scan` — Heinsen (2023), "Efficient Parallelization of a Ubiquitous
  Sequential Computation": with a*_t = Σ_{s≤t} log a_s,
      h_t = e^{a*_t} ⊙ (h_0 + Σ_{s≤t} e^{log b_s − a*_s})
          = e^{a*_t} ⊙ h_0 + exp(a*_t + logcumsumexp_{s≤t}(log b_s − a*_s)),
  a cumulative sum and a log-cumulative-sum-exp, parallel in t (depth log T). It needs b > 0
  (its logarithm is taken); h_0 may have any sign, its term is added outside the logarithm.
- :func:`affine_scan` — the parallel prefix scan of affine maps h ↦ A_t h + b_t (diagonal A
  as vectors, or dense A as matrices, for DEER): odd/even reduction (Blelloch), depth 2·log2 T.

The plain loop ``h = a[:, t] * h + b[:, t]`` is the reference all three are tested against.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnlab.kernels._blas import gemm
from rnnlab.kernels._threads import batch_parts, run_parts


class LinearRecurrenceFunction(torch.autograd.Function):
    """h (B, T, H) from a, b (B, T, H) and h0 (B, H) through the numba kernels."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
        from rnnlab.kernels import _scan_numba as K

        a, b, h0 = (t.detach().contiguous() for t in (a, b, h0))
        h = torch.empty_like(a)  # (B, T, H)
        K.diag_forward(a.numpy(), b.numpy(), h0.numpy(), h.numpy())
        ctx.save_for_backward(a, h0, h)
        return h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        from rnnlab.kernels import _scan_numba as K

        a, h0, h = ctx.saved_tensors
        g = grad.contiguous()
        da, db, dh0 = torch.empty_like(a), torch.empty_like(a), torch.empty_like(h0)
        K.diag_backward(a.numpy(), h.numpy(), h0.numpy(), g.numpy(), da.numpy(), db.numpy(),
                        dh0.numpy())  # fmt: skip
        return da, db, dh0


def linear_recurrence(a: Tensor, b: Tensor, h0: Tensor | None = None) -> Tensor:
    """h_t = a_t ⊙ h_{t−1} + b_t for t = 1 … T by the fused kernel (CPU, float32/float64).

    Arguments
    ---------
    a, b : (B, T, H) coefficients and inputs
    h0 : (B, H) initial state, or None for zeros

    Returns
    -------
    h : (B, T, H)
    """
    h0 = a.new_zeros(a.shape[0], a.shape[2]) if h0 is None else h0
    return LinearRecurrenceFunction.apply(a, b, h0)


def log_space_scan(log_a: Tensor, log_b: Tensor, h0: Tensor | None = None) -> Tensor:
    """h_t = a_t ⊙ h_{t−1} + b_t from log a_t and log b_t (b > 0), parallel in t (Heinsen 2023).

    Arguments
    ---------
    log_a, log_b : (B, T, H) logarithms of the coefficients and of the (positive) inputs
    h0 : (B, H) initial state of any sign, or None for zeros

    Returns
    -------
    h : (B, T, H)
    """
    a_star = torch.cumsum(log_a, dim=1)  # (B, T, H)  a*_t = Σ_{s≤t} log a_s
    log_h = a_star + torch.logcumsumexp(log_b - a_star, dim=1)  # (B, T, H)
    h = torch.exp(log_h)
    if h0 is not None:
        h = h + torch.exp(a_star) * h0[:, None]  # e^{a*_t} ⊙ h_0: h_0 carried by Π a
    return h


def affine_scan(A: Tensor, b: Tensor, h0: Tensor | None = None) -> Tensor:
    """All prefixes of h_t = A_t h_{t−1} + b_t by a parallel scan, depth 2·⌈log2 T⌉.

    Arguments
    ---------
    A : (B, T, H) diagonal coefficients, or (B, T, H, H) matrices
    b : (B, T, H)
    h0 : (B, H) or None for zeros

    Returns
    -------
    h : (B, T, H)

    The pair (A, b) stands for the map h ↦ A h + b; composing two steps is associative:
    (A₂, b₂) ∘ (A₁, b₁) = (A₂A₁, A₂b₁ + b₂). Pairs (2k−1, 2k) are composed in parallel,
    the scan recurses on the T/2 composites, and the even steps are filled in from them.
    """
    if h0 is not None:  # fold h_0 into the first input: b_1 ← A_1 h_0 + b_1
        b = b.clone()
        b[:, 0] = _apply(A[:, 0], h0) + b[:, 0]
    return _scan(A, b)


def _apply(A: Tensor, h: Tensor) -> Tensor:
    """A h for a diagonal (…, H) or dense (…, H, H) A."""
    return A * h if A.dim() == h.dim() else (A @ h[..., None])[..., 0]


def _compose(A2: Tensor, A1: Tensor) -> Tensor:
    """A₂A₁ for diagonal or dense coefficients."""
    return A2 * A1 if A2.dim() == 3 else A2 @ A1


def _scan(A: Tensor, b: Tensor) -> Tensor:
    """h_t for h_0 = 0 (already folded in): the recursive odd/even reduction."""
    T = b.shape[1]
    if T == 1:
        return b
    n = T // 2
    A_odd, A_even = A[:, 0 : 2 * n : 2], A[:, 1 : 2 * n : 2]  # steps 1, 3, … and 2, 4, …
    b_odd, b_even = b[:, 0 : 2 * n : 2], b[:, 1 : 2 * n : 2]
    pair_A = _compose(A_even, A_odd)  # (A_{2k}A_{2k−1})
    pair_b = _apply(A_even, b_odd) + b_even  # A_{2k} b_{2k−1} + b_{2k}
    h_even = _scan(pair_A, pair_b)  # h_2, h_4, …  (B, n, H)
    h = torch.empty_like(b)
    h[:, 1 : 2 * n : 2] = h_even
    h[:, 0] = b[:, 0]
    if T > 1:  # h_{2k+1} = A_{2k+1} h_{2k} + b_{2k+1}
        h[:, 2::2] = _apply(A[:, 2::2], h_even[:, : (T - 1) // 2]) + b[:, 2::2]
    return h


class MinimalCellFunction(torch.autograd.Function):
    """h (B, T, H) of minGRU (kind 0) or minLSTM (kind 1) from x (B, T, I), the gate weights
    W (G·H, I), b (G·H,) and h0 (B, H).

    One kernel computes the pre-activations k = x·Wᵀ + b a chunk of time steps at a time (loops
    for a narrow input, else a GEMM, into a buffer that stays in cache), the gates and the
    recurrence; one kernel runs it backwards with k recomputed and accumulates dW, db and dx
    per chunk. Neither k, the gates
    nor dk is ever stored for the whole sequence: the layer keeps x and h only.
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, h0: Tensor, kind: int) -> Tensor:
        from rnnlab.kernels import _minimal_numba as K

        x, weight, bias, h0 = (t.detach().contiguous() for t in (x, weight, bias, h0))
        B, T, _ = x.shape
        h = x.new_empty(B, T, h0.shape[1])  # (B, T, H)
        xn, wn, bn, h0n, hn = (t.numpy() for t in (x, weight, bias, h0, h))
        mm = gemm(x.dtype)
        run_parts([
            lambda s=s: K.minimal_forward(xn[s], wn, bn, h0n[s], hn[s], kind, mm)
            for s in batch_parts(B, B * T * wn.shape[0])
        ])  # fmt: skip
        ctx.kind = kind
        ctx.save_for_backward(x, weight, bias, h0, h)
        return h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        from rnnlab.kernels import _minimal_numba as K

        x, weight, bias, h0, h = ctx.saved_tensors
        B, T, _ = x.shape
        want_dx = ctx.needs_input_grad[0]
        dx = torch.empty_like(x) if want_dx else x.new_empty(0, *x.shape[1:])
        dh0 = torch.empty_like(h0)
        parts = batch_parts(B, B * T * weight.shape[0])
        dws = [torch.zeros_like(weight) for _ in parts]  # each slice's share of dW and db
        dbs = [torch.zeros_like(bias) for _ in parts]
        xn, wn, bn, h0n, hn, gn = (t.numpy() for t in (x, weight, bias, h0, h, grad))
        dxn, dh0n, mm = dx.numpy(), dh0.numpy(), gemm(x.dtype)
        run_parts([
            lambda s=s, dw=dw, db=db: K.minimal_backward(
                xn[s], wn, bn, h0n[s], hn[s], gn[s], dxn[s] if want_dx else dxn, dw.numpy(),
                db.numpy(), dh0n[s], ctx.kind, mm)
            for s, dw, db in zip(parts, dws, dbs, strict=True)
        ])  # fmt: skip
        return (dx if want_dx else None), sum(dws[1:], dws[0]), sum(dbs[1:], dbs[0]), dh0, None
