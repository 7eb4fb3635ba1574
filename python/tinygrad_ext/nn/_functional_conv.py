"""nn.functional: convolution and unfold/fold (re-exported by nn.functional)."""

from __future__ import annotations

__all__: list[str] = []
