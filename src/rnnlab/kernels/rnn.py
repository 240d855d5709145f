"""The fused vanilla RNN layer: forward and BPTT each one compiled call, as a torch Function.

    u_t = x_t·Wxᵀ + b                       one large matmul for all t (torch)
    h_t = φ(u_t + h_{t−1}·Whᵀ)              the sequential part: one numba call (forward)
    da_t = dh_t ⊙ φ'(a_t),  dh_{t−1} += da_t·Wh   one numba call (backward)
    dWh = Σ_t da_tᵀ·h_{t−1}                one large matmul over all (t, b) (torch)

torch's own ``nn.RNN`` on the CPU runs a matmul, an add and a tanh per step and autograd
replays them one by one; here a step costs one BLAS call and a vectorized loop, and the weight
gradient is a single matmul of (H, T·B) by (T·B, H), which runs near the machine's peak.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnlab.kernels._blas import gemm


class FusedRNNFunction(torch.autograd.Function):
    """hs (T, B, H): the layer over x (B, T, I) from h0 (B, H); parameters Wx, Wh, b.

    One Function for the whole layer, so that u_t is written straight into the output buffer
    and the backward needs one copy of the incoming gradient and a few large matmuls.
    """

    @staticmethod
    def forward(ctx, x: Tensor, h0: Tensor, wx: Tensor, wh: Tensor, b: Tensor, relu: bool):
        from rnnlab.kernels import _rnn_numba as K

        B, T, I = x.shape
        H = wh.shape[0]
        xt = x.detach().transpose(0, 1).reshape(T * B, I)  # (T·B, I), time-major
        hs = x.new_empty(T, B, H)  # (T, B, H): u_t, overwritten by h_t
        torch.addmm(b.detach(), xt, wx.detach().T, out=hs.view(T * B, H))  # u_t = Wx·x_t + b
        h0 = h0.detach().contiguous()  # (B, H)
        whc = wh.detach().contiguous()  # (H, H)
        K.rnn_forward(h0.numpy(), hs.numpy(), whc.numpy(), relu, gemm(x.dtype))
        ctx.relu = relu
        ctx.save_for_backward(xt, wx, whc, h0, hs)
        return hs

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        from rnnlab.kernels import _rnn_numba as K

        xt, wx, wh, h0, hs = ctx.saved_tensors
        T, B, H = grad.shape
        da = torch.empty_like(grad, memory_format=torch.contiguous_format).copy_(grad)  # (T,B,H)
        dh0 = grad.new_zeros(B, H)
        K.rnn_backward(da.numpy(), hs.numpy(), wh.numpy(), dh0.numpy(), ctx.relu, gemm(da.dtype))
        da2 = da.view(T * B, H)  # (T·B, H) = dL/da_t for every (t, b)
        # dWh = Σ_t da_tᵀ·h_{t−1}: one matmul over t ≥ 2 (h_{t−1} = hs[t−2]) plus the h_0 term
        dwh = da[0].T @ h0  # (H, H)
        if T > 1:
            dwh.addmm_(da[1:].reshape((T - 1) * B, H).T, hs[:-1].reshape((T - 1) * B, H))
        dwx = da2.T @ xt  # (H, I) = Σ_t da_tᵀ·x_t
        db = da2.sum(0)  # (H,) = Σ_t da_t
        dx = None
        if ctx.needs_input_grad[0]:
            dx = (da2 @ wx.detach()).view(T, B, -1).transpose(0, 1)  # (B, T, I) = da_t·Wx
        return dx, dh0, dwx, dwh, db, None


def fused_rnn(
    x: Tensor, h0: Tensor, wx: Tensor, wh: Tensor, b: Tensor, nonlinearity: str = "tanh"
) -> tuple[Tensor, Tensor]:
    """The vanilla RNN layer h_t = φ(Wx·x_t + Wh·h_{t−1} + b) through the fused kernel.

    Arguments
    ---------
    x : (B, T, I) inputs, batch first
    h0 : (B, H) initial state
    wx, wh, b : (H, I), (H, H), (H,) parameters
    nonlinearity : "tanh" or "relu"

    Returns
    -------
    h : (B, T, H) every hidden state (a transposed view of a time-major buffer)
    h_T : (B, H) the last one
    """
    hs = FusedRNNFunction.apply(x, h0, wx, wh, b, nonlinearity == "relu")  # (T, B, H)
    return hs.transpose(0, 1), hs[-1]
