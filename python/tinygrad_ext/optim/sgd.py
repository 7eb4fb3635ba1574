"""SGD with momentum, dampening, Nesterov, weight decay and maximize (torch.optim.SGD)."""

from __future__ import annotations

from ._common import (
    _optim,
    check_lr,
    check_nonneg,
    check_unsupported,
    params_with_grad,
    run_closure,
)
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent; each parameter's update is one fused C++ pass.

    d = grad (+ weight_decay * param); with momentum: buf = momentum * buf + (1 - dampening) * d
    (buf = d on the first step), d = d + momentum * buf (nesterov) or buf; param -= lr * d.
    State: ``momentum_buffer`` (only when momentum != 0).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None) -> None:
        check_lr(lr)
        check_nonneg("momentum", momentum)
        check_nonneg("weight_decay", weight_decay)
        check_unsupported(differentiable)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)

    def step(self, closure=None):
        """Performs one optimization step; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group in self.param_groups:
            params, grads = params_with_grad(group)
            if not params:
                continue
            momentum = float(group["momentum"])
            bufs = [self.state[p].get("momentum_buffer") for p in params] if momentum != 0 else [
                None] * len(params)
            new = _optim.sgd(params, grads, bufs, float(group["lr"]), momentum,
                             float(group["dampening"]), float(group["weight_decay"]),
                             bool(group["nesterov"]), bool(group["maximize"]))
            if momentum != 0:
                for p, buf in zip(params, new):
                    self.state[p]["momentum_buffer"] = buf
        return loss
