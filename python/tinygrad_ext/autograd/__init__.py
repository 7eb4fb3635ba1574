"""Reverse- and forward-mode automatic differentiation (the engine is C++, csrc/autograd).

``tgx.autograd.backward`` / ``grad`` mirror PyTorch; ``Function`` defines custom ops;
``gradcheck`` / ``gradgradcheck`` compare with central differences; ``forward_ad`` and
``functional`` give dual numbers, Jacobians, Hessians and friends.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import _C
from .function import Function, FunctionCtx
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

Tensor = _C.Tensor

__all__ = ["backward", "grad", "Function", "FunctionCtx", "gradcheck", "gradgradcheck",
           "GradcheckError", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "forward_ad", "functional", "Node"]

Node = _C.Node


def _as_tuple(x, name):
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, Sequence):
        return tuple(x)
    raise TypeError(f"{name} must be a Tensor or a sequence of Tensors, got {type(x).__name__}")


def _grads_for(tensors, grads, name):
    grads = _as_tuple(grads, name) if grads is not None else (None,) * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"{name}: got {len(grads)} gradients for {len(tensors)} tensors")
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaves) into the leaves' ``.grad`` (or only into ``inputs``)."""
    tensors = _as_tuple(tensors, "tensors")
    grads = _grads_for(tensors, grad_tensors, "grad_tensors")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_tuple(inputs, "inputs")
        if len(inputs) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    _C._run_backward(tensors, grads, bool(retain_graph), bool(create_graph), inputs or ())


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) as a tuple, without touching ``.grad``."""
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported")
    outputs = _as_tuple(outputs, "outputs")
    inputs = _as_tuple(inputs, "inputs")
    grads = _grads_for(outputs, grad_outputs, "grad_outputs")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    result = _C._run_grad(outputs, grads, inputs, bool(retain_graph), bool(create_graph),
                          bool(allow_unused))
    if materialize_grads:
        result = tuple(g if g is not None else _zeros_like(x) for g, x in zip(result, inputs))
    return result


def _zeros_like(x):
    import numpy as np

    return _C.tensor(np.zeros(x.shape), dtype=x.dtype)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the gradient of this tensor w.r.t. the graph leaves (see autograd.backward)."""
    backward(self, None if gradient is None else (gradient,), retain_graph, create_graph, inputs)


Tensor.backward = _tensor_backward

from . import forward_ad, functional  # noqa: E402
