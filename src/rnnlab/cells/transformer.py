"""The rival: a causal Transformer (decoder-only, pre-norm) behind the recurrences' interface.

Where a recurrence carries the past in a state h_{t−1} and must walk t = 1 … T in order, a
Transformer lets every position look at every earlier one directly, in one parallel pass
(Vaswani et al. 2017, section 3.2; the pre-norm block of Xiong et al. 2020):

    e_0 = s_0 + p_0,   e_t = W_in·x_t + b_in + p_t          (p_t: positions, sinusoidal or learned)
    per layer:  a = e + Attn(LN(e)),   e' = a + MLP(LN(a))
    Attn(u) = W_o·concat_heads softmax(Q·Kᵀ/√d + M)·V,   Q, K, V = W_q·u, W_k·u, W_v·u
    M_ij = 0 for j ≤ i, −∞ for j > i                          (the causal mask)
    h_t = LN(e_t) after the last layer                        h (B, T, H)

d_model = H, so the output has the recurrences' shape. The "state" is where the two families
differ: a Transformer keeps no fixed-size summary of the past. To keep the interface, the state
s_0 (B, H) is one extra token at position 0 that every step can attend to (zeros when None, so
None and zeros agree), and the final state is h_T (B, H), as the GRU returns it. Feeding h_T of
one chunk as s_0 of the next is therefore *not* the same as running the two chunks as one
sequence, as it is for a recurrence: the second chunk sees only that one vector of the first.

``step`` exists for the interface's reference loop and is correct but slow: its state is every
token so far, (B, t + 1, H), and each call recomputes attention over that whole prefix (no
key/value cache), so a loop over T steps costs O(T³·H) instead of the forward's O(T²·H).
``loop`` returns h_T as its final state, like ``forward``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnlab.cells.base import Recurrence, State, register_cell

Positions = Literal["sinusoidal", "learned"]
POSITIONS = ("sinusoidal", "learned")


def causal_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """softmax(Q·Kᵀ/√d + M)·V with the causal mask M, by torch's fused kernel.

    q, k, v (B, heads, T, d) -> (B, heads, T, d).
    """
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def sinusoidal_positions(T: int, H: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """p_t[2i] = sin(t / 10000^(2i/H)), p_t[2i+1] = cos(t / 10000^(2i/H)); (T, H)."""
    t = torch.arange(T, dtype=torch.float64, device=device)[:, None]  # (T, 1)
    i = torch.arange(0, H, 2, dtype=torch.float64, device=device)  # (⌈H/2⌉,)
    angle = t / 10000.0 ** (i / H)  # (T, ⌈H/2⌉)
    p = torch.zeros(T, H, dtype=torch.float64, device=device)
    p[:, 0::2] = torch.sin(angle)
    p[:, 1::2] = torch.cos(angle[:, : H // 2])
    return p.to(dtype)


class Block(nn.Module):
    """One pre-norm block: e + Attn(LN(e)), then + MLP(LN(·)). (B, T, H) -> (B, T, H)."""

    def __init__(self, H: int, heads: int, ff_mult: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(H), nn.LayerNorm(H)
        self.qkv = nn.Linear(H, 3 * H)  # W_q, W_k, W_v stacked
        self.proj = nn.Linear(H, H)  # W_o
        self.mlp = nn.Sequential(nn.Linear(H, ff_mult * H), nn.GELU(), nn.Linear(ff_mult * H, H))

    def attention(self, u: Tensor) -> Tensor:
        """Multi-head causal self-attention of u (B, T, H)."""
        B, T, H = u.shape
        q, k, v = self.qkv(u).split(H, dim=-1)  # (B, T, H) each
        split = lambda z: z.view(B, T, self.heads, H // self.heads).transpose(1, 2)  # noqa: E731
        y = causal_attention(split(q), split(k), split(v))  # (B, heads, T, d)
        return self.proj(y.transpose(1, 2).reshape(B, T, H))  # (B, T, H)

    def forward(self, e: Tensor) -> Tensor:
        a = e + self.attention(self.ln1(e))  # (B, T, H)
        return a + self.mlp(self.ln2(a))  # (B, T, H)


@register_cell("transformer")  # the class is its own factory: make_cell(name, I, H, **options)
class CausalTransformer(Recurrence):
    """A decoder-only Transformer with d_model = H, returning one output per step.

    Arguments
    ---------
    input_size : I
    hidden_size : H (d_model)
    layers : blocks (default 2)
    heads : attention heads; must divide H (default: 4, or the largest of 2, 1 that divides H)
    positions : "sinusoidal" (any length) or "learned" (up to ``max_len`` steps)
    max_len : the longest sequence the learned positions cover (the state token included)
    ff_mult : the MLP's width as a multiple of H (default 2, to keep the size near the LSTM's)

    Parameters: ``w_in`` (Linear I -> H), ``blocks`` (``layers`` × :class:`Block`), ``ln_f``,
    and ``pos`` (max_len, H) when the positions are learned.
    """

    has_state = False  # no h_t carried step to step: see the module docstring

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        layers: int = 2,
        heads: int | None = None,
        positions: Positions = "sinusoidal",
        max_len: int = 1024,
        ff_mult: int = 2,
    ) -> None:
        super().__init__()
        H = hidden_size
        if heads is None:
            heads = next(n for n in (4, 2, 1) if H % n == 0)
        if heads < 1 or H % heads:
            raise ValueError(f"heads must divide hidden_size {H}; got {heads}")
        if layers < 1 or ff_mult < 1 or max_len < 2:
            raise ValueError(
                f"layers, ff_mult must be ≥ 1 and max_len ≥ 2; got {layers}, {ff_mult}, {max_len}"
            )
        if positions not in POSITIONS:
            raise ValueError(f"positions must be one of {', '.join(POSITIONS)}; got {positions!r}")
        self.input_size, self.hidden_size = input_size, H
        self.layers, self.heads, self.positions, self.max_len = layers, heads, positions, max_len
        self.w_in = nn.Linear(input_size, H)  # x_t -> token
        self.blocks = nn.ModuleList(Block(H, heads, ff_mult) for _ in range(layers))
        self.ln_f = nn.LayerNorm(H)
        if positions == "learned":
            self.pos = nn.Parameter(torch.randn(max_len, H) * 0.02)  # (max_len, H)

    def extra_repr(self) -> str:
        """``CausalTransformer(1, 32, layers=2, heads=4, positions=sinusoidal)``."""
        return (
            f"{super().extra_repr()}, layers={self.layers}, heads={self.heads}, "
            f"positions={self.positions}"
        )

    def _encode(self, tokens: Tensor) -> Tensor:
        """tokens (B, T', H) without positions -> outputs (B, T', H)."""
        T = tokens.shape[1]
        if self.positions == "learned":
            if self.max_len < T:
                raise ValueError(
                    f"the learned positions cover {self.max_len} steps (max_len, the state "
                    f"token included); got {T}"
                )
            p = self.pos[:T]  # (T', H)
        else:
            p = sinusoidal_positions(T, self.hidden_size, tokens.dtype, tokens.device)
        e = tokens + p  # (B, T', H)
        for block in self.blocks:
            e = block(e)
        return self.ln_f(e)  # (B, T', H)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """All T outputs in one parallel pass: x (B, T, I), state s_0 (B, H) or None."""
        s0 = self.initial_state(x) if state is None else state  # (B, H)
        tokens = torch.cat([s0[:, None], self.w_in(x)], dim=1)  # (B, 1 + T, H)
        h = self._encode(tokens)[:, 1:]  # (B, T, H): the state token's own output dropped
        return h, h[:, -1]

    def step(self, x_t: Tensor, state: State) -> tuple[Tensor, State]:
        """One more token, attention recomputed over the whole prefix (slow, for reference).

        state: s_0 (B, H) before the first step, then every token so far (B, t + 1, H).
        """
        prefix = state[:, None] if state.dim() == 2 else state  # (B, t + 1, H)
        tokens = torch.cat([prefix, self.w_in(x_t)[:, None]], dim=1)  # (B, t + 2, H)
        return self._encode(tokens)[:, -1], tokens  # (B, H), the longer prefix

    def loop(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """``step`` for t = 1 … T; the final state is h_T (B, H), as ``forward`` returns it."""
        h, _ = super().loop(x, state)  # (B, T, H)
        return h, h[:, -1]
