"""Pooling, upsampling and related modules: MaxPool*, AvgPool*, Adaptive*Pool2d, Upsample."""

from __future__ import annotations

__all__: list[str] = []
