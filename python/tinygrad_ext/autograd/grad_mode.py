"""Grad-mode switches (thread-local, in C++): no_grad, enable_grad, set_grad_enabled, inference_mode.

Each works as a context manager and as a decorator, as in PyTorch.
"""

from __future__ import annotations

import functools

from .. import _C

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]

is_grad_enabled = _C.is_grad_enabled
is_inference_mode_enabled = _C.is_inference_mode_enabled


class _DecoratorContextManager:
    """Base: ``with cm():`` or ``@cm()`` (or ``@cm`` for the no-argument ones)."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContextManager):
    """Disable gradient recording: ops run inside create no graph."""

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if callable(func):  # used as a bare decorator: @no_grad
            self.__init__()
            return self(func)
        return self

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False


class enable_grad(no_grad):
    """Enable gradient recording (inside no_grad)."""

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(True)


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode on or off; takes effect at once (as a function) or for a ``with`` block."""

    def __init__(self, mode: bool):
        self.prev = _C.is_grad_enabled()
        self.mode = bool(mode)
        _C._set_grad_enabled(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        return False

    def clone(self):
        return self.__class__(self.mode)

    def __call__(self, func):
        _C._set_grad_enabled(self.prev)  # the decorator form must not change the mode now
        return super().__call__(func)


class inference_mode(_DecoratorContextManager):
    """Like no_grad, for pure inference (mode=False turns it off inside)."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):  # @inference_mode
            self.__init__()
            return self(mode)
        return self

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self.prev = (_C.is_grad_enabled(), _C.is_inference_mode_enabled())
        if self.mode:
            _C._set_inference_mode(True)
            _C._set_grad_enabled(False)
        else:
            _C._set_inference_mode(False)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev[0])
        _C._set_inference_mode(self.prev[1])
        return False

    def clone(self):
        return self.__class__(self.mode)
