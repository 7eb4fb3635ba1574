"""Optimizers (``tinygrad_ext.optim``): PyTorch's optimizers with fused C++ updates, the Optimizer
base class and learning-rate schedulers."""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer, required
from .sgd import SGD

__all__ = ["Optimizer", "required", "lr_scheduler", "SGD", "Adam", "AdamW"]
