"""Utilities: ``tinygrad_ext.utils.data`` (datasets, samplers, DataLoader)."""

from . import data

__all__ = ["data"]
