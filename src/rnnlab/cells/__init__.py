"""PyTorch recurrences behind one small interface (see :mod:`rnnlab.cells.base`).

Importing this package imports torch. The causal Transformer (the rival, not a recurrence)
is :mod:`rnnlab.cells.transformer`, registered last so that ``cell_names()`` ends with it.
"""

from rnnlab.cells.base import Recurrence, State, cell_names, make_cell, register_cell
from rnnlab.cells.gated import GRU, LSTM
from rnnlab.cells.minimal import MinGRU, MinLSTM
from rnnlab.cells.vanilla import VanillaRNN

__all__ = [
    "GRU",
    "LSTM",
    "MinGRU",
    "MinLSTM",
    "Recurrence",
    "State",
    "VanillaRNN",
    "cell_names",
    "make_cell",
    "register_cell",
]
