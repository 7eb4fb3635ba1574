"""Recurrent modules: RNN, LSTM, GRU and their cells (torch.nn names and weight layout)."""

from __future__ import annotations

__all__: list[str] = []
