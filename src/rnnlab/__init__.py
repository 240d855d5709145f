"""rnnlab: see, train and diagnose recurrent neural networks.

Importing :mod:`rnnlab` is cheap: it imports neither torch nor the subpackages. Import what you
need, for example ``from rnnlab.glassbox import RNNParams, forward, bptt``.
"""

__version__ = "0.1.0"
