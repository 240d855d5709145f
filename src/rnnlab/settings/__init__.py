"""Every setting of rnnlab as a frozen dataclass, one per idea, declared with
:func:`rnnlab.config.option` (default, bounds, help): the library checks them, the command line
is generated from them, checkpoints store them. Nothing here imports torch.
"""

from rnnlab.data.windows import WindowConfig
from rnnlab.settings.tasks import RunConfig
from rnnlab.settings.training import NetConfig, TrainConfig

__all__ = ["NetConfig", "RunConfig", "TrainConfig", "WindowConfig"]
