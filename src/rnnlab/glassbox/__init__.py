"""The glass box: the article's RNN in NumPy with every number visible, and BPTT by hand.

No autograd here: this package is the executable form of the maths and the reference the
PyTorch path is tested against.
"""

from rnnlab.glassbox.bptt import Gradients, bptt, jacobian_products, loss_and_output_grad
from rnnlab.glassbox.contributions import WhContributions, wh_contributions
from rnnlab.glassbox.forward import Cache, forward, softmax
from rnnlab.glassbox.head import ONE_OUTPUT, HeadRecord, class_weights, softmax_head
from rnnlab.glassbox.params import PARAM_NAMES, RNNParams
from rnnlab.glassbox.steps import Step, step_records

__all__ = [
    "ONE_OUTPUT",
    "PARAM_NAMES",
    "Cache",
    "Gradients",
    "HeadRecord",
    "RNNParams",
    "Step",
    "WhContributions",
    "bptt",
    "class_weights",
    "forward",
    "jacobian_products",
    "loss_and_output_grad",
    "softmax",
    "softmax_head",
    "step_records",
    "wh_contributions",
]
