"""Data: sources, validation, chronological splits, scaling fitted on training data, windows.

Plain NumPy (pandas only inside the loaders); importing it never imports torch.
"""

from rnnlab.data.csvfile import load_csv
from rnnlab.data.series import Series, build_series
from rnnlab.data.sources import DATASETS, DEFAULT_DATASET, load_dataset
from rnnlab.data.splits import Split, chronological_split
from rnnlab.data.windows import TARGETS, Preprocessor, WindowConfig

__all__ = [
    "DATASETS",
    "DEFAULT_DATASET",
    "TARGETS",
    "Preprocessor",
    "Series",
    "Split",
    "WindowConfig",
    "build_series",
    "chronological_split",
    "load_csv",
    "load_dataset",
]
