"""nn.Parameter: a Tensor subclass that Module registers automatically (as torch.nn.Parameter)."""

from __future__ import annotations

from .. import _C
from .._tensor import _tensor_repr

Tensor = _C.Tensor


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it to a Module attribute registers it.

    Shares storage with ``data`` (as PyTorch) and requires grad unless ``requires_grad=False``.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = _C.empty(0)
        elif not isinstance(data, Tensor):
            data = _C.tensor(data)
        super().__init__(data)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + _tensor_repr(self)

    __str__ = __repr__

    def __reduce__(self):
        return (_rebuild_parameter, (self.detach().clone(), bool(self.requires_grad)))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = out
        return out


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """Marker like torch.nn.Buffer: assigning it to a Module attribute registers a buffer."""

    def __init__(self, data, persistent: bool = True):
        if not isinstance(data, Tensor):
            data = _C.tensor(data)
        super().__init__(data)
        self.persistent = persistent
