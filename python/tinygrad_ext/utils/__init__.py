"""Utilities: ``tinygrad_ext.utils.data`` (datasets, samplers, DataLoader) and ``utils.rnn``."""

from . import data, rnn

__all__ = ["data", "rnn"]
