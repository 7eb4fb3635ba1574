"""nn.functional: convolution and unfold/fold (re-exported by nn.functional).

The work is in C++ (_C.conv2d & co.: implicit-GEMM kernels with vjp/jvp beside them); these are
torch.nn.functional's names and signatures over them.
"""

from __future__ import annotations

from .. import _C

Tensor = _C.Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]


def _check_tensor(x, op: str, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] {name} must be a Tensor, got {type(x).__name__}")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution over (N, C, L) or (C, L); padding may be an int, a tuple, 'same' or 'valid'."""
    _check_tensor(input, "conv1d", "input")
    _check_tensor(weight, "conv1d", "weight")
    return _C.conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution over (N, C, H, W) or (C, H, W) with weight (out, C/groups, kh, kw)."""
    _check_tensor(input, "conv2d", "input")
    _check_tensor(weight, "conv2d", "weight")
    return _C.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """1-D transposed convolution; weight is (in, out/groups, k)."""
    _check_tensor(input, "conv_transpose1d", "input")
    _check_tensor(weight, "conv_transpose1d", "weight")
    return _C.conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups,
                               dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """2-D transposed convolution (the input gradient of conv2d); weight is (in, out/groups, kh, kw)."""
    _check_tensor(input, "conv_transpose2d", "input")
    _check_tensor(weight, "conv_transpose2d", "weight")
    return _C.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                               dilation)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """im2col: (N, C, H, W) -> (N, C*kh*kw, L), one column per sliding block."""
    _check_tensor(input, "unfold", "input")
    return _C._im2col(input, kernel_size, dilation, padding, stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """col2im: (N, C*kh*kw, L) -> (N, C, H, W), summing overlapping values (unfold's adjoint)."""
    _check_tensor(input, "fold", "input")
    return _C._col2im(input, output_size, kernel_size, dilation, padding, stride)
