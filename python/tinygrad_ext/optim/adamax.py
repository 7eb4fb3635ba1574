"""Adamax (torch.optim.Adamax) and NAdam (torch.optim.NAdam)."""

from __future__ import annotations

from .. import _C
from ._common import (
    _optim,
    check_betas,
    check_eps,
    check_lr,
    check_nonneg,
    check_unsupported,
    gather_state,
    params_with_grad,
    run_closure,
    step_tensor,
)
from .optimizer import Optimizer

__all__ = ["Adamax", "NAdam"]


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm). State: ``step``, ``exp_avg``, ``exp_inf``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False) -> None:
        check_lr(lr)
        check_eps(eps)
        check_betas(betas)
        check_nonneg("weight_decay", weight_decay)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Performs one optimization step; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group in self.param_groups:
            params, grads = params_with_grad(group)
            if not params:
                continue
            exp_avgs, exp_infs, steps = gather_state(self.state, params, ("exp_avg", "exp_inf"))
            beta1, beta2 = group["betas"]
            _optim.adamax(params, grads, exp_avgs, exp_infs, steps, float(group["lr"]),
                          float(beta1), float(beta2), float(group["eps"]),
                          float(group["weight_decay"]), bool(group["maximize"]))
        return loss


class NAdam(Optimizer):
    """NAdam (Adam with Nesterov momentum and momentum decay). State: ``step``, ``mu_product``
    (0-d float32 tensor), ``exp_avg``, ``exp_avg_sq``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False) -> None:
        check_lr(lr)
        check_eps(eps)
        check_betas(betas)
        check_nonneg("weight_decay", weight_decay)
        check_nonneg("momentum_decay", momentum_decay)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Performs one optimization step; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group in self.param_groups:
            params, grads = params_with_grad(group)
            if not params:
                continue
            exp_avgs, exp_avg_sqs, steps = gather_state(
                self.state, params, ("exp_avg", "exp_avg_sq"))
            for p in params:
                self.state[p].setdefault("mu_product", _C.tensor(1.0, dtype=_C.float32))
            mu_products = [step_tensor(self.state[p], "mu_product") for p in params]
            beta1, beta2 = group["betas"]
            _optim.nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps,
                         float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                         float(group["weight_decay"]), float(group["momentum_decay"]),
                         bool(group["decoupled_weight_decay"]), bool(group["maximize"]))
        return loss
