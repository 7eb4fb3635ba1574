"""Adam and AdamW (torch.optim.Adam / AdamW), including amsgrad and maximize."""

from __future__ import annotations

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
)
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam; ``decoupled_weight_decay=True`` (or :class:`AdamW`) decays the weights directly.

    State per parameter: ``step`` (0-d float32 tensor), ``exp_avg``, ``exp_avg_sq`` and, with
    amsgrad, ``max_exp_avg_sq``. Each parameter's update is one fused C++ pass.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False) -> None:
        check_lr(lr)
        check_eps(eps)
        check_betas(betas)
        check_nonneg("weight_decay", weight_decay)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("decoupled_weight_decay", isinstance(self, AdamW))

    def step(self, closure=None):
        """Performs one optimization step; returns the closure's loss (or None)."""
        loss = run_closure(closure)
        for group in self.param_groups:
            params, grads = params_with_grad(group)
            if not params:
                continue
            amsgrad = bool(group["amsgrad"])
            if amsgrad:
                exp_avgs, exp_avg_sqs, max_sqs, steps = gather_state(
                    self.state, params, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))
            else:
                exp_avgs, exp_avg_sqs, steps = gather_state(
                    self.state, params, ("exp_avg", "exp_avg_sq"))
                max_sqs = []
            beta1, beta2 = group["betas"]
            _optim.adam(params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps, float(group["lr"]),
                        float(beta1), float(beta2), float(group["eps"]),
                        float(group["weight_decay"]), amsgrad, bool(group["maximize"]),
                        bool(group["decoupled_weight_decay"]))
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (param *= 1 - lr * weight_decay each step)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
