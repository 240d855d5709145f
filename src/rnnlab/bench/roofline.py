"""The work a training step must do, counted by hand, and the fraction of a measured limit.

A roofline: a step cannot take less than its work divided by the rate of the resource it
needs, measured on this machine in the same rounds as the step (:mod:`rnnlab.bench.limits`).
The fraction of a bound is that least time over the measured time; the tighter bound (the
larger least time) is the one that bounds the step. A fraction above 1 cannot happen for a
correct count and a correct measurement: it is reported as a measurement problem, never as
a fraction. No torch, no numba here.

Counts for one training step (forward + backward of Σ h), shapes B, T, H, I, e bytes a value:
    vanilla RNN    6·B·T·H·(H + I) FLOPs
    GRU, LSTM      6·B·T·G·H·(H + I) FLOPs, G = 3 or 4 gate blocks
    minGRU/minLSTM (the fused kernels, :mod:`rnnlab.kernels._minimal_numba`)
        bytes      3·B·T·H·e + 2·B·T·I·e: h written (forward), h read back and dL/dh read
                   (backward), x read twice (the pre-activations are recomputed, a chunk of
                   128 steps at a time, into buffers of 128·G·H values that stay in cache, so
                   they add no memory traffic; the weights, G·H·(I + 1) values, are left out)
        σ          (G + G)·B·T·H sigmoid evaluations, G = 2 (minGRU) or 3 (minLSTM): each way
                   one σ per gate (z; f and i) and one for g(k_h) = σ(k_h) where k_h < 0,
                   which the vectorized loop evaluates for every element
    causal Transformer (``make_cell("transformer", I, H)``: L = 2 pre-norm blocks, d_model H,
    MLP width f·H with f = 2), its matmuls only (LayerNorm, GELU, softmax, the input
    projection and the state token left out, so the count is low, never high)
                   3·L·(2·B·T·H²·(4 + 2·f) + 2·B·T²·H) FLOPs = 3·2·(16·B·T·H² + 2·B·T²·H)
                   per block forward: Q, K, V and the output projection 4·H² and the MLP
                   2·f·H² multiply-adds a token; Q·Kᵀ and A·V 2·B·T²·H FLOPs each in full,
                   half of that under the causal mask; backward twice the forward
"""

from __future__ import annotations

from dataclasses import dataclass

# Which resource bounds which implementation: FLOPs (matmul peak), bytes, transcendentals.
FLOP, BYTES, SIGMA = "FLOP", "bytes", "σ"


def rnn_flops(B: int, T: int, H: int, I: int) -> int:
    """FLOPs of a vanilla RNN training step: 2·B·T·H·(H + I) forward, twice that backward."""
    return 6 * B * T * H * (H + I)


def gated_flops(impl: str, B: int, T: int, H: int, I: int) -> int:
    """FLOPs of a training step of nn.GRU / nn.LSTM (3 or 4 gate blocks of H·(H + I)) or of
    the minimal cells' matmuls (2 or 3 input projections of H·I; the rest is elementwise)."""
    lstm = "LSTM" in impl
    if impl.startswith("nn."):
        return 6 * B * T * (4 if lstm else 3) * H * (H + I)
    return 6 * B * T * (3 if lstm else 2) * H * I


def attention_flops(B: int, T: int, H: int, layers: int = 2, ff_mult: int = 2) -> int:
    """FLOPs of a causal Transformer training step (see above): per block forward
    2·B·T·H²·(4 + 2·ff_mult) in the projections and MLP, 2·B·T²·H in Q·Kᵀ and A·V (the causal
    half), ×3 for forward + backward."""
    per_block = 2 * B * T * H * H * (4 + 2 * ff_mult) + 2 * B * T * T * H
    return 3 * layers * per_block


ATTENTION_NOTE = "3·2·(16·B·T·H² + 2·B·T²·H) (2 blocks, MLP 2·H; the causal half of Q·Kᵀ, A·V)"


def minimal_bytes(B: int, T: int, H: int, I: int, elt: int = 4) -> int:
    """Bytes a fused minGRU/minLSTM training step must move to and from memory (see above)."""
    return 3 * B * T * H * elt + 2 * B * T * I * elt


def minimal_sigmoids(impl: str, B: int, T: int, H: int) -> int:
    """Sigmoid evaluations of a fused minGRU (4 per element) or minLSTM (6) training step."""
    gates = 3 if "LSTM" in impl else 2
    return 2 * gates * B * T * H


BYTES_NOTE = "3·B·T·H·e + 2·B·T·I·e (h written; h and dL/dh read back; x read twice)"
SIGMA_NOTE = "4·B·T·H (minGRU), 6·B·T·H (minLSTM): a σ per gate and one for g, each way"


@dataclass
class Bound:
    """One limit of one case: the work, the measured rate, the least time and the fraction."""

    work: float  # FLOPs, bytes or sigmoid evaluations per training step
    rate: float  # the limit measured in the same rounds: FLOP/s, bytes/s, σ/s
    seconds: float  # the least time, work / rate
    fraction: float | None  # least time / measured time; None when above 1 (see problem)
    problem: str | None = None


def bound(work: float, rate: float, measured_seconds: float) -> Bound:
    """The least time of ``work`` at ``rate`` and its fraction of ``measured_seconds``; a
    fraction above 1 is a measurement problem (the limit was measured low, or the count is
    wrong), so it is not given as a fraction."""
    least = work / rate if rate > 0 else float("inf")
    ratio = least / measured_seconds if measured_seconds > 0 else float("inf")
    if ratio > 1:
        problem = (
            f"measured {ratio:.2f}× faster than the limit measured in the same rounds "
            "allows: a measurement problem (the machine's load changed, or the limit was "
            "measured low), not a fraction"
        )
        return Bound(work, rate, least, None, problem)
    return Bound(work, rate, least, ratio)


def tighter(bounds: dict[str, Bound]) -> str | None:
    """The name of the bound with the largest least time (the one that bounds the step)."""
    return max(bounds, key=lambda k: bounds[k].seconds) if bounds else None
