"""Helpers shared by the concrete optimizers: closure handling, state initialisation, checks."""

from __future__ import annotations

from .. import _C
from ..autograd.grad_mode import enable_grad

_optim = _C._optim


def run_closure(closure):
    """Runs ``closure`` with grad mode on (as PyTorch's ``step(closure)``) and returns its loss."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


def step_tensor(state: dict, key: str = "step"):
    """``state[key]`` as a 0-d float32 tensor (a number from an old state dict is converted)."""
    value = state[key]
    if not isinstance(value, _C.Tensor):
        value = _C.tensor(float(value), dtype=_C.float32)
        state[key] = value
    return value


def zeros_like(p):
    return _C.zeros_like(p)


def gather_state(state: dict, params, buffers):
    """The state one fused call needs: for each name in ``buffers`` a list with that buffer of
    every parameter (zeros when missing: PyTorch's lazy initialisation), then the step tensors."""
    lists = [[] for _ in buffers]
    steps = []
    for p in params:
        s = state[p]
        if "step" not in s:
            s["step"] = _C.tensor(0.0, dtype=_C.float32)
        for name, out in zip(buffers, lists):
            if name not in s:
                s[name] = zeros_like(p)
            out.append(s[name])
        steps.append(step_tensor(s))
    return (*lists, steps)


def check_unsupported(differentiable: bool) -> None:
    if differentiable:
        raise NotImplementedError("differentiable=True is not supported by tinygrad_ext optimizers")


def check_lr(lr) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_nonneg(name: str, value) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def check_eps(eps) -> None:
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")


def check_betas(betas) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def params_with_grad(group: dict):
    """(params, grads) of a group, skipping parameters whose grad is None."""
    params, grads = [], []
    for p in group["params"]:
        g = p.grad
        if g is not None:
            params.append(p)
            grads.append(g)
    return params, grads
