"""Shared helpers: argument broadcasting, probs <-> logits, shapes (torch.distributions.utils)."""

from __future__ import annotations

import math
import numbers

from .. import _C

Tensor = _C.Tensor

_TINY = {  # smallest positive normal number per float dtype (torch.finfo(dtype).tiny)
    _C.float32: 1.1754943508222875e-38,
    _C.float64: 2.2250738585072014e-308,
}
_EPS = {_C.float32: 1.1920928955078125e-07, _C.float64: 2.220446049250313e-16}
_MIN = {_C.float32: -3.4028234663852886e38, _C.float64: -1.7976931348623157e308}


def _float_dtype(t: Tensor):
    return t.dtype if t.dtype in _EPS else _C.float32


def broadcast_all(*values, op: str = "distribution") -> tuple[Tensor, ...]:
    """Numbers and tensors to tensors of one broadcast shape (numbers take a tensor's dtype)."""
    dtype = None
    for v in values:
        if isinstance(v, Tensor):
            if dtype is None or (v.is_floating_point() and dtype not in _EPS):
                dtype = v.dtype
        elif isinstance(v, bool) or not isinstance(v, numbers.Number):
            raise ValueError(
                f"[{op}] Input arguments must all be numbers or tinygrad_ext Tensors, got {type(v).__name__}"
            )
    if dtype is None or dtype not in _EPS:
        dtype = _C.float32 if dtype is None else dtype
    ts = [v if isinstance(v, Tensor) else _C.tensor(float(v), dtype=dtype) for v in values]
    if any(t.dtype not in _EPS for t in ts):  # integer parameters become float (torch: default dtype)
        ts = [t if t.dtype in _EPS else t.to(_C.float32) for t in ts]
    try:
        return tuple(_C.broadcast_tensors(*ts))
    except ValueError as e:
        raise ValueError(f"[{op}] parameters do not broadcast: {e}") from None


def as_shape(sample_shape, op: str = "sample") -> tuple[int, ...]:
    if isinstance(sample_shape, int) and not isinstance(sample_shape, bool):
        return (sample_shape,)
    try:
        shape = tuple(int(s) for s in sample_shape)
    except TypeError:
        raise TypeError(
            f"[{op}] sample_shape must be a tuple of ints, got {type(sample_shape).__name__}"
        ) from None
    if any(s < 0 for s in shape):
        raise ValueError(f"[{op}] sample_shape must not contain negative sizes, got {shape}")
    return shape


def clamp_probs(probs: Tensor) -> Tensor:
    eps = _EPS[_float_dtype(probs)]
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(dim=-1)


def tiny(t: Tensor) -> float:
    return _TINY[_float_dtype(t)]


def min_real(t: Tensor) -> float:
    return _MIN[_float_dtype(t)]


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class lazy_property:
    """Computed on first access and cached on the instance (torch.distributions.utils)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
