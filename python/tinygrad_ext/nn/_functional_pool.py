"""nn.functional: pooling, interpolation, group norm, dropout2d (re-exported by nn.functional)."""

from __future__ import annotations

__all__: list[str] = []
