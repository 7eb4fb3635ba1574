"""Python-side conveniences attached to the C++ Tensor class (nothing here is on a hot path)."""

from __future__ import annotations

from . import _C

Tensor = _C.Tensor

# NumPy interop: `ndarray + Tensor` defers to Tensor.__radd__ (returns a Tensor), as PyTorch does;
# NumPy functions such as np.exp(t) convert through __array__ and return NumPy arrays.
Tensor.__array_priority__ = 1000
