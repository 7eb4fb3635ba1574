"""Attention and Transformer modules: MultiheadAttention, TransformerEncoder/Decoder(Layer)."""

from __future__ import annotations

__all__: list[str] = []
