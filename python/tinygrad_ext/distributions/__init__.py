"""tinygrad_ext.distributions: Normal, Bernoulli, Categorical, Uniform, kl_divergence (torch names)."""

from __future__ import annotations

__all__: list[str] = []
