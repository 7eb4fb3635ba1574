"""RMSprop (torch.optim.RMSprop): alpha, eps, weight decay, momentum, centered, maximize."""

from __future__ import annotations

from ._common import (
    _optim,
    check_eps,
    check_lr,
    check_nonneg,
    check_unsupported,
    gather_state,
    params_with_grad,
    run_closure,
)
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop. State: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg``
    (centered). Each parameter's update is one fused C++ pass."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False) -> None:
        check_lr(lr)
        check_eps(eps)
        check_nonneg("momentum", momentum)
        check_nonneg("weight_decay", weight_decay)
        check_nonneg("alpha", alpha)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Performs one optimization step; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group in self.param_groups:
            params, grads = params_with_grad(group)
            if not params:
                continue
            momentum, centered = float(group["momentum"]), bool(group["centered"])
            names = ("square_avg",) + (("momentum_buffer",) if momentum > 0 else ()) + (
                ("grad_avg",) if centered else ())
            lists = gather_state(self.state, params, names)
            square_avgs, steps = lists[0], lists[-1]
            bufs = lists[1] if momentum > 0 else []
            grad_avgs = lists[-2] if centered else []
            _optim.rmsprop(params, grads, square_avgs, bufs, grad_avgs, steps, float(group["lr"]),
                           float(group["alpha"]), float(group["eps"]),
                           float(group["weight_decay"]), momentum, centered,
                           bool(group["maximize"]))
        return loss
