"""nn.utils: gradient clipping and flat parameter vectors (torch.nn.utils); nn.utils.rnn is
tinygrad_ext.utils.rnn under the name PyTorch code imports it by."""

from __future__ import annotations

import math

from ... import _C
from ...autograd.grad_mode import no_grad

Tensor = _C.Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _params(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scales the gradients so their joint norm is <= max_norm; returns the norm before clipping."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return _C.tensor(0.0)
    norm_type = float(norm_type)
    with no_grad():
        if math.isinf(norm_type):
            norms = [g.abs().max().to(_C.float64) for g in grads]
            total = _C.stack(norms).max()
        else:
            total = sum(
                ((g.abs().to(_C.float64) ** norm_type).sum() for g in grads),
                _C.tensor(0.0, dtype=_C.float64),
            )
            total = total ** (1.0 / norm_type)
        t = float(total.item())
        if error_if_nonfinite and not math.isfinite(t):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
            )
        coef = max_norm / (t + 1e-6)
        if coef < 1.0:
            for g in grads:
                g.mul_(coef)
    return total.to(grads[0].dtype)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    with no_grad():
        for p in _params(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters) -> Tensor:
    return _C.cat([p.reshape(-1) for p in _params(parameters)])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(
            f"[vector_to_parameters] vector has {vec.numel()} elements, parameters need {total}"
        )
    pointer = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[pointer : pointer + n].reshape(tuple(p.shape)))
            pointer += n


from . import rnn  # noqa: E402,F401  (torch.nn.utils.rnn: pad_sequence, pack_padded_sequence, ...)
