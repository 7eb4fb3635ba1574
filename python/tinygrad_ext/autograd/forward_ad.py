"""Forward-mode AD with dual tensors, as torch.autograd.forward_ad.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        p, t = forward_ad.unpack_dual(y)     # t = J_f(primal) @ tangent

Each elementwise primitive computes its output tangent (its jvp) as it runs; leaving the level
drops every tangent. One level at a time (nesting raises RuntimeError, as PyTorch).
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from .. import _C

Tensor = _C.Tensor

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]

_current_level = None


def enter_dual_level():
    global _current_level
    _C._enter_dual_level()
    _current_level = 0
    return 0


def exit_dual_level(*, level=None):
    global _current_level
    _C._exit_dual_level(_C._current_dual_level())
    _current_level = None


class dual_level:
    """Context manager: the block in which dual tensors carry tangents."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def make_dual(tensor: Tensor, tangent: Tensor, *, level=None) -> Tensor:
    """A view of ``tensor`` carrying ``tangent`` (same shape) as its forward gradient."""
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual expects two Tensors")
    return _C._make_dual(tensor, tangent)


class UnpackedDualTensor(NamedTuple):
    primal: Tensor
    tangent: Optional[Tensor]


def unpack_dual(tensor: Tensor, *, level=None) -> UnpackedDualTensor:
    """(primal view, tangent or None) of a dual tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError("unpack_dual expects a Tensor")
    if _C._current_dual_level() < 0:
        return UnpackedDualTensor(tensor, None)
    primal, tangent = _C._unpack_dual(tensor)
    return UnpackedDualTensor(primal, tangent)
