"""Adagrad (torch.optim.Adagrad): lr_decay, weight decay, initial accumulator, eps, maximize."""

from __future__ import annotations

from .. import _C
from ._common import (
    _optim,
    check_eps,
    check_lr,
    check_nonneg,
    check_unsupported,
    params_with_grad,
    run_closure,
    step_tensor,
)
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad. State (created at construction, as PyTorch): ``step`` and ``sum`` (filled with
    initial_accumulator_value). Each parameter's update is one fused C++ pass."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False,
                 fused=None) -> None:
        check_lr(lr)
        check_nonneg("lr_decay", lr_decay)
        check_nonneg("weight_decay", weight_decay)
        check_nonneg("initial_accumulator_value", initial_accumulator_value)
        check_eps(eps)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _C.tensor(0.0, dtype=_C.float32)
                state["sum"] = _C.full_like(p, float(group["initial_accumulator_value"]))

    def step(self, closure=None):
        """Performs one optimization step; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group in self.param_groups:
            params, grads = params_with_grad(group)
            if not params:
                continue
            sums, steps = [], []
            for p in params:
                state = self.state[p]
                if "sum" not in state:  # a parameter added with add_param_group
                    state["step"] = _C.tensor(0.0, dtype=_C.float32)
                    state["sum"] = _C.full_like(p, float(group["initial_accumulator_value"]))
                sums.append(state["sum"])
                steps.append(step_tensor(state))
            _optim.adagrad(params, grads, sums, steps, float(group["lr"]),
                           float(group["lr_decay"]), float(group["weight_decay"]),
                           float(group["eps"]), bool(group["maximize"]))
        return loss
