"""Utilities (``tinygrad_ext.utils.data``: datasets, samplers, DataLoader)."""
