"""Convolution modules: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Fold, Unfold (torch.nn
names, parameter shapes, defaults, init and repr)."""

from __future__ import annotations

import math

from .. import _C
from . import _functional_conv as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Fold", "Unfold"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(x, n: int, name: str, cls: str) -> tuple:
    if isinstance(x, bool) or not isinstance(x, (int, tuple, list)):
        raise TypeError(f"[{cls}] {name} must be an int or a tuple of {n} ints, got {x!r}")
    if isinstance(x, int):
        return (x,) * n
    t = tuple(x)
    if len(t) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in t):
        raise ValueError(f"[{cls}] {name} must be an int or a tuple of {n} ints, got {x!r}")
    return t


class _ConvNd(Module):
    _dims = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", output_padding=0, device=None,
                 dtype=None):
        super().__init__()
        cls, n = type(self).__name__, self._dims
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"[{cls}] groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"[{cls}] in_channels must be divisible by groups "
                             f"(in_channels={in_channels}, groups={groups})")
        if out_channels % groups != 0:
            raise ValueError(f"[{cls}] out_channels must be divisible by groups "
                             f"(out_channels={out_channels}, groups={groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"[{cls}] padding_mode must be one of {_PADDING_MODES}, "
                             f"but got padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size", cls)
        self.stride = _ntuple(stride, n, "stride", cls)
        self.dilation = _ntuple(dilation, n, "dilation", cls)
        self.output_padding = _ntuple(output_padding, n, "output_padding", cls)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"[{cls}] invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"[{cls}] padding='same' is not supported for strided convolutions")
            if self.transposed:
                raise ValueError(f'[{cls}] only "zeros" padding_mode and integer padding are '
                                 "supported for transposed convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, "padding", cls)
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'[{cls}] only "zeros" padding_mode is supported for {cls}')
        self.padding_mode = padding_mode
        # (left, right) per dim, last dim first: what F.pad takes for non-zero padding modes
        if padding == "same":
            pads = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            self._reversed_padding_repeated_twice = tuple(pads)
        elif padding == "valid":
            self._reversed_padding_repeated_twice = (0,) * (2 * n)
        else:
            self._reversed_padding_repeated_twice = tuple(
                p for p in reversed(self.padding) for _ in range(2))
        dtype = dtype or _C.float32
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(_C.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(_C.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        n = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv(self, input, fn):
        if self.padding_mode != "zeros":
            padded = _C.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                  self.groups)


class Conv1d(_ConvNd):
    """1-D convolution; weight (out_channels, in_channels/groups, kernel_size)."""

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, 0, device, dtype)

    def forward(self, input):
        return self._conv(input, F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution; weight (out_channels, in_channels/groups, kh, kw)."""

    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, 0, device, dtype)

    def forward(self, input):
        return self._conv(input, F.conv2d)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def _output_padding(self, input, output_size) -> tuple:
        """output_padding, or the one that gives output_size (PyTorch's forward(input, output_size))."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        output_size = tuple(output_size)[-n:]
        if len(output_size) != n:
            raise ValueError(f"[{type(self).__name__}] output_size must have {n} or {n + 2} "
                             f"elements, got {len(output_size)}")
        spatial = tuple(input.shape)[-n:]
        pads = []
        for i in range(n):
            smallest = ((spatial[i] - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            largest = smallest + self.stride[i] - 1
            if not smallest <= output_size[i] <= largest:
                raise ValueError(f"[{type(self).__name__}] requested an output size of "
                                 f"{output_size}, but valid sizes range from {smallest} to "
                                 f"{largest} (for an input of {spatial})")
            pads.append(output_size[i] - smallest)
        return tuple(pads)

    def forward(self, input, output_size=None):
        conv_t = F.conv_transpose1d if self._dims == 1 else F.conv_transpose2d
        return conv_t(input, self.weight, self.bias, self.stride, self.padding,
                      self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution; weight (in_channels, out_channels/groups, kernel_size)."""

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, output_padding, device, dtype)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution; weight (in_channels, out_channels/groups, kh, kw)."""

    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, output_padding, device, dtype)


class Unfold(Module):
    """Extracts sliding local blocks: (N, C, H, W) -> (N, C*kh*kw, L) (F.unfold)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Combines sliding local blocks into a tensor, summing overlaps (F.fold)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
