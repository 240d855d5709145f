"""The names of the cells and of the recurrent-weight schemes, without importing torch.

:func:`rnnlab.cells.cell_names` is the registry's truth, but asking it imports torch (2–3 s),
and a bad ``--cell`` must be refused in well under a second. So the built-in names are spelt
out here (a test keeps them equal to the registry's); a cell registered by a user's own code
(``register_cell``) is known as well once that code has run, since it imported the registry.
"""

from __future__ import annotations

import sys

BUILTIN_CELLS = ("lstm", "gru", "mingru", "minlstm", "rnn", "irnn", "transformer")  # in order
INIT_SCHEMES = ("default", "normal", "orthogonal", "identity")  # rnnlab.cells.init.INIT_SCHEMES
GATED = ("lstm", "gru")  # the cells with gate biases (forget-gate bias, chrono init)


def known_cells() -> tuple[str, ...]:
    """Every cell name ``make_cell`` accepts, asking the registry only if it is loaded."""
    base = sys.modules.get("rnnlab.cells.base")
    if base is None:
        return BUILTIN_CELLS
    return tuple(dict.fromkeys((*BUILTIN_CELLS, *base.cell_names())))
