"""Utilities: ``tinygrad_ext.utils.data`` (datasets, samplers, DataLoader), ``utils.rnn`` and
``utils.image`` (make_grid, save_image)."""

from . import data, image, rnn

__all__ = ["data", "image", "rnn"]
