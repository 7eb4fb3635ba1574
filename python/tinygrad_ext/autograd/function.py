"""Custom differentiable ops: subclass Function with static forward/backward (and optional jvp).

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    y = Exp.apply(x)

The node recorded for ``apply`` is a C++ node holding ``backward`` (csrc/bindings/autograd.cpp).
"""

from __future__ import annotations

from .. import _C

Tensor = _C.Tensor

_SECOND_TIME = ("Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Specify retain_graph=True if you "
                "need to backward through the graph a second time or if you need to access saved "
                "tensors after calling backward.")


class FunctionCtx:
    """The ``ctx`` passed to forward/backward/jvp."""

    def __init__(self):
        self._to_save = None
        self._unpacked = None
        self._has_node = False
        self._non_differentiable = ()
        self._materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save Tensors or None, got {type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        self._saved_for_forward = tensors

    @property
    def saved_tensors(self):
        if self._unpacked is not None:  # inside backward: unpacked (version-checked) by C++
            return self._unpacked
        if self._has_node:
            raise RuntimeError(_SECOND_TIME)
        return tuple(self._to_save or ())

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def set_materialize_grads(self, value: bool):
        self._materialize_grads = bool(value)


class _FunctionMeta(type):
    pass


class Function(metaclass=_FunctionMeta):
    """Base class for custom autograd ops (see module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function "
                                  "to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with _no_grad_and_no_fw():
            outputs = cls.forward(ctx, *args)
        _forward_mode(cls, ctx, args, outputs)
        return _C._function_apply(cls, ctx, args, outputs)


class _no_grad_and_no_fw:
    """forward() runs without recording: no graph and no tangents (the node and jvp give them)."""

    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)
        self.prev_fw = _C._set_fw_grad_paused(True)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
        _C._set_fw_grad_paused(self.prev_fw)
        return False


def _forward_mode(cls, ctx, args, outputs):
    """Tangents of the outputs from cls.jvp, when an input carries one."""
    if _C._current_dual_level() < 0:
        return
    tangents = [a._fw_grad_ if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return
    if cls.jvp is Function.jvp:
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function "
                                  "to use it with forward mode AD.")
    ctx._unpacked = tuple(getattr(ctx, "_saved_for_forward", None) or ctx._to_save or ())
    try:
        out_t = cls.jvp(ctx, *tangents)
    finally:
        ctx._unpacked = None
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    out_t = out_t if isinstance(out_t, tuple) else (out_t,)
    for o, t in zip(outs, out_t):
        if isinstance(o, Tensor) and t is not None:
            _C._set_fw_grad(o, t)
