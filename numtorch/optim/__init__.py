"""Optimizers (``numtorch.optim``, like ``torch.optim``) and learning-rate schedulers.

Each optimizer's ``step()`` updates the parameters' arrays in place through a plain update
function over backend arrays (``sgd_step``, ``adam_step``, ...), keeping per-parameter state
under torch's keys so that ``state_dict``s have torch's layout.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .lbfgs import *  # noqa: F401,F403
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "LBFGS", "Optimizer", "RMSprop", "SGD",
           "lr_scheduler"]
