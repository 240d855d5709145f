"""Clipping statistics: how large the gradient was before clipping, and how often it was cut.

Clipping by global norm (Pascanu, Mikolov & Bengio 2013): with g the gradient of every
parameter and threshold c,

    ‖g‖ = sqrt(Σ_p ‖∂L/∂p‖²),      g ← g · min(1, c / ‖g‖)

so the direction is kept and only the step length is capped. The clip *fires* when ‖g‖ > c.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class ClipStats:
    """Summary of the gradient norms before clipping over a run.

    Attributes
    ----------
    clip : float | None   the threshold c (None: no clipping)
    steps : int           optimisation steps with a finite norm
    fired : int           steps where ‖g‖ > c (0 without clipping)
    fraction : float      fired / steps
    median, p90, max : float | None   of ‖g‖ before clipping (None if no finite step)
    nonfinite : int       steps whose norm was NaN or inf
    """

    clip: float | None
    steps: int
    fired: int
    fraction: float
    median: float | None
    p90: float | None
    max: float | None
    nonfinite: int

    @classmethod
    def from_norms(cls, norms: list[float] | np.ndarray, clip: float | None) -> ClipStats:
        """Count and summarise ``norms`` (one per step, before clipping)."""
        arr = np.asarray(norms, dtype=np.float64)
        finite = arr[np.isfinite(arr)]
        fired = int(np.sum(finite > clip)) if clip is not None else 0

        def q(p: float) -> float | None:
            return float(np.quantile(finite, p)) if finite.size else None

        return cls(
            clip=clip,
            steps=int(finite.size),
            fired=fired,
            fraction=fired / finite.size if finite.size else 0.0,
            median=q(0.5),
            p90=q(0.9),
            max=float(finite.max()) if finite.size else None,
            nonfinite=int(arr.size - finite.size),
        )

    def to_dict(self) -> dict:
        """JSON-able (every number finite)."""
        return asdict(self)

    def describe(self) -> str:
        """One line."""
        if self.median is None:
            return "no finite gradient norm"
        norms = (
            f"‖g‖ before clipping: median {self.median:.3g}, 90% {self.p90:.3g}, max {self.max:.3g}"
        )
        if self.clip is None:
            return f"no clipping; {norms}"
        pct = 100 * self.fraction
        return (
            f"clip at {self.clip:g} fired in {self.fired}/{self.steps} steps ({pct:.1f}%); {norms}"
        )


def finite_or_none(x: float) -> float | None:
    """x, or None for NaN/inf (JSON holds no NaN)."""
    return x if math.isfinite(x) else None
