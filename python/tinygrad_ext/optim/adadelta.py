"""Adadelta (torch.optim.Adadelta): rho, eps, lr (default 1.0), weight decay, maximize."""

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

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta. State: ``step``, ``square_avg``, ``acc_delta``. One fused C++ pass per param."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_eps(eps)
        check_nonneg("weight_decay", weight_decay)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Performs one optimization step; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group in self.param_groups:
            params, grads = params_with_grad(group)
            if not params:
                continue
            square_avgs, acc_deltas, steps = gather_state(
                self.state, params, ("square_avg", "acc_delta"))
            _optim.adadelta(params, grads, square_avgs, acc_deltas, steps, float(group["lr"]),
                            float(group["rho"]), float(group["eps"]),
                            float(group["weight_decay"]), bool(group["maximize"]))
        return loss
