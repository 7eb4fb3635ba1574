"""Optimizers (``tinygrad_ext.optim``): the Optimizer base class and learning-rate schedulers."""

from . import lr_scheduler
from .optimizer import Optimizer, required

__all__ = ["Optimizer", "required", "lr_scheduler"]
