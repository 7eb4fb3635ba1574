"""nn.functional: pooling, interpolation, group norm, dropout2d (re-exported by nn.functional).

Pooling runs in C++ (csrc/ops/pool.cpp: one window-table kernel for every flavour, with its vjp
and jvp recorded beside it). interpolate is a composite of index_select and elementwise ops
(separable along each spatial dim), group_norm of reductions; neither needs a backward of its own.
"""

from __future__ import annotations

import math
import warnings

from .. import _C

Tensor = _C.Tensor

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "group_norm",
    "dropout1d",
    "dropout2d",
]


def _check_tensor(x, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] input must be a Tensor, got {type(x).__name__}")


# ---- max / average pooling -------------------------------------------------------------------
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    _check_tensor(input, "max_pool1d")
    return _C.max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    _check_tensor(input, "max_pool2d")
    return _C._max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-d max pooling over (N, C, L) or (C, L); with return_indices also the argmax positions."""
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    _check_tensor(input, "max_pool1d")
    return _C.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-d max pooling over (N, C, H, W) or (C, H, W); indices are flat positions h * W + w."""
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    _check_tensor(input, "max_pool2d")
    return _C.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-d average pooling over (N, C, L) or (C, L)."""
    _check_tensor(input, "avg_pool1d")
    return _C.avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-d average pooling over (N, C, H, W) or (C, H, W)."""
    _check_tensor(input, "avg_pool2d")
    return _C._avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override)


# ---- adaptive pooling ------------------------------------------------------------------------
def _output_size(input, output_size, spatial: int, op: str) -> list:
    """output_size as a list of ints, None entries taking the input's size (PyTorch)."""
    if isinstance(output_size, (list, tuple)):
        sizes = list(output_size)
    else:
        sizes = [output_size] * spatial
    if len(sizes) != spatial:
        raise ValueError(f"[{op}] output_size must have {spatial} element(s), got {output_size!r}")
    if input.dim() < spatial:
        return sizes  # the C++ op raises the shape error
    shape = tuple(input.shape)[input.dim() - spatial:]
    return [shape[i] if s is None else s for i, s in enumerate(sizes)]


def adaptive_avg_pool1d(input, output_size):
    _check_tensor(input, "adaptive_avg_pool1d")
    return _C.adaptive_avg_pool1d(input, _output_size(input, output_size, 1, "adaptive_avg_pool1d"))


def adaptive_avg_pool2d(input, output_size):
    """Average over windows [floor(i * H / Ho), ceil((i + 1) * H / Ho)) (likewise for W)."""
    _check_tensor(input, "adaptive_avg_pool2d")
    return _C._adaptive_avg_pool2d(input,
                                   _output_size(input, output_size, 2, "adaptive_avg_pool2d"))


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    _check_tensor(input, "adaptive_max_pool1d")
    return _C.adaptive_max_pool1d(input, _output_size(input, output_size, 1, "adaptive_max_pool1d"))


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    _check_tensor(input, "adaptive_max_pool2d")
    return _C._adaptive_max_pool2d(input,
                                   _output_size(input, output_size, 2, "adaptive_max_pool2d"))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    out = adaptive_max_pool1d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    out = adaptive_max_pool2d_with_indices(input, output_size)
    return out if return_indices else out[0]


# ---- interpolate ------------------------------------------------------------------------------
_LINEAR = {"linear": 1, "bilinear": 2}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear")


def _f32(x: float) -> float:
    """Rounds to float32 (PyTorch computes nearest source indices in float)."""
    import struct

    return struct.unpack("f", struct.pack("f", x))[0]


def _nearest_index(out_size: int, in_size: int, scale, exact: bool) -> list:
    """Source index of each output position, as PyTorch's nearest_idx / nearest_exact_idx."""
    if not exact and out_size == in_size:
        return list(range(out_size))
    if not exact and out_size == 2 * in_size:
        return [o >> 1 for o in range(out_size)]
    s = _f32(1.0 / scale) if scale is not None and scale > 0 else _f32(in_size / out_size)
    off = 0.5 if exact else 0.0
    return [min(int(math.floor(_f32(_f32(o + off) * s))), in_size - 1) for o in range(out_size)]


def _linear_weights(out_size: int, in_size: int, scale, align_corners: bool):
    """(i0, i1, lambda) per output position, as PyTorch's area_pixel_compute_source_index."""
    if align_corners:
        s = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else in_size / out_size
    i0, i1, lam = [], [], []
    for o in range(out_size):
        src = s * o if align_corners else max(s * (o + 0.5) - 0.5, 0.0)
        i = min(int(math.floor(src)), in_size - 1)
        i0.append(i)
        i1.append(i + (1 if i < in_size - 1 else 0))
        lam.append(min(max(src - i, 0.0), 1.0))
    return i0, i1, lam


def _index(idx: list) -> Tensor:
    return _C.tensor(idx, dtype=_C.int64)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizes the spatial dims of (N, C, W) or (N, C, H, W) input: 'nearest', 'nearest-exact',
    'linear' (3-d) or 'bilinear' (4-d), to `size` or by `scale_factor` (PyTorch's rules)."""
    _check_tensor(input, "interpolate")
    if mode not in _MODES:
        raise NotImplementedError(
            f"[interpolate] mode {mode!r} is not supported (supported: {', '.join(_MODES)})")
    if antialias:
        raise NotImplementedError("[interpolate] antialias=True is not supported")
    if mode in _LINEAR:
        if align_corners is None:
            align_corners = False
    elif align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    dim = input.dim() - 2
    if dim not in (1, 2):
        raise NotImplementedError(
            f"[interpolate] input must be 3-d (N, C, W) or 4-d (N, C, H, W), got {input.dim()}-d "
            f"of shape {tuple(input.shape)}")
    if mode in _LINEAR and _LINEAR[mode] != dim:
        raise NotImplementedError(
            f"Got {input.dim()}D input, but {mode} mode needs {_LINEAR[mode] + 2}D input")
    if not input.is_floating_point():
        raise NotImplementedError(f"[interpolate] not implemented for dtype {input.dtype}")
    in_sizes = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dim
        if len(sizes) != dim:
            raise ValueError(
                "Input and output must have the same number of spatial dimensions, but got input "
                f"with spatial dimensions of {in_sizes} and output size of {sizes}. Please provide "
                "input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                "format.")
        sizes = [int(s) for s in sizes]
        scales = [None] * dim
    elif scale_factor is not None:
        scales = (list(scale_factor) if isinstance(scale_factor, (list, tuple))
                  else [scale_factor] * dim)
        if len(scales) != dim:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {in_sizes} and scale_factor of shape {scales}. "
                "Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                "(s1, s2, ...,sK) format.")
        scales = [float(s) for s in scales]
        if any(not math.isfinite(s) or s <= 0 for s in scales):
            raise ValueError(f"[interpolate] scale_factor must be positive and finite, got {scales}")
        sizes = [int(math.floor(i * s)) for i, s in zip(in_sizes, scales)]
        if recompute_scale_factor:
            scales = [None] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if any(s <= 0 for s in sizes):
        raise ValueError(f"[interpolate] output size must be positive, got {sizes} for input of "
                         f"shape {tuple(input.shape)}")
    if any(i == 0 for i in in_sizes):
        raise ValueError(f"[interpolate] input spatial dims must be non-empty, got shape "
                         f"{tuple(input.shape)}")
    out = input
    for k in range(dim):
        axis = 2 + k
        o, i, sc = sizes[k], in_sizes[k], scales[k]
        if mode in ("nearest", "nearest-exact"):
            idx = _nearest_index(o, i, sc, mode == "nearest-exact")
            if idx != list(range(i)):
                out = out.index_select(axis, _index(idx))
            continue
        i0, i1, lam = _linear_weights(o, i, sc, align_corners)
        shape = [o] + [1] * (dim - 1 - k)
        w1 = _C.tensor(lam, dtype=input.dtype).reshape(shape)
        w0 = _C.tensor([1.0 - v for v in lam], dtype=input.dtype).reshape(shape)
        out = out.index_select(axis, _index(i0)) * w0 + out.index_select(axis, _index(i1)) * w1
    return out if out is not input else input * 1.0


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate (as in PyTorch)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- group norm -------------------------------------------------------------------------------
def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalises (N, C, *) over each group of C / num_groups channels and the spatial dims
    (biased variance), then applies the per-channel affine weight and bias."""
    _check_tensor(input, "group_norm")
    if input.dim() < 2:
        raise ValueError(f"[group_norm] expected at least 2 dimensions for input tensor but "
                         f"received {input.dim()}")
    N, C = input.shape[0], input.shape[1]
    if num_groups <= 0 or C % num_groups != 0:
        raise ValueError(f"[group_norm] expected number of channels in input to be divisible by "
                         f"num_groups, but got input of shape {tuple(input.shape)} and "
                         f"num_groups={num_groups}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (C,):
            raise ValueError(f"[group_norm] expected {name} to be a vector of size equal to the "
                             f"number of channels in input ({C}), got shape {tuple(p.shape)}")
    if input.numel() == 0:
        out = input * 1.0
    else:
        x = input.reshape(N, num_groups, -1)
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        out = ((x - mean) / (var + eps).sqrt()).reshape(tuple(input.shape))
    shape = (1, C) + (1,) * (input.dim() - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# ---- channel dropout ---------------------------------------------------------------------------
def _feature_dropout(input, p: float, training: bool, inplace: bool, batched: bool):
    if not training or p == 0.0:
        return input
    d = input.dim()
    if batched:  # one coin per (sample, channel)
        shape = (input.shape[0], input.shape[1]) + (1,) * (d - 2)
    else:  # (C, L): one coin per channel
        shape = (input.shape[0],) + (1,) * (d - 1)
    if p == 1.0:
        mask = _C.zeros(*shape, dtype=input.dtype)
    else:
        mask = _C.empty(*shape, dtype=input.dtype).bernoulli_(1.0 - p) / (1.0 - p)
    return input.mul_(mask) if inplace else input * mask


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability p."""
    _check_tensor(input, "dropout1d")
    _check_p(p)
    if input.dim() not in (2, 3):
        raise ValueError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D "
                         "input. Note that dropout1d exists to provide channel-wise dropout on "
                         "inputs with 1 spatial dimension, a channel dimension, and an optional "
                         "batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, batched=input.dim() == 3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zeroes whole channels of (N, C, H, W) input with probability p and scales the rest by
    1 / (1 - p). As PyTorch, a 3-d input is taken as (N, C, L) (with a warning)."""
    _check_tensor(input, "dropout2d")
    _check_p(p)
    d = input.dim()
    if d not in (3, 4):
        warnings.warn(f"dropout2d: Received a {d}-D input to dropout2d, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior and "
                      "silence this warning, please use dropout instead. Note that dropout2d "
                      "exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      "3D or 4D inputs).", stacklevel=2)
    if d == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
                      "to using dropout1d instead.", stacklevel=2)
    if d < 2:
        raise ValueError(f"[dropout2d] feature dropout requires at least 2 dimensions in the "
                         f"input, got {d}")
    return _feature_dropout(input, p, training, inplace, batched=True)
