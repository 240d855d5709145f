"""The glass box: the article's RNN in NumPy with every number visible, and BPTT by hand.

No autograd here: this package is the executable form of the maths and the reference the
PyTorch path is tested against.
"""

from rnnlab.glassbox.bptt import Gradients, bptt, jacobian_products, loss_and_output_grad
from rnnlab.glassbox.forward import Cache, forward, softmax
from rnnlab.glassbox.params import PARAM_NAMES, RNNParams
from rnnlab.glassbox.steps import Step, step_records

__all__ = [
    "PARAM_NAMES",
    "Cache",
    "Gradients",
    "RNNParams",
    "Step",
    "bptt",
    "forward",
    "jacobian_products",
    "loss_and_output_grad",
    "softmax",
    "step_records",
]
