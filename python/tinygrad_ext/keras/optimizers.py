"""Keras optimizers by string or object; they drive tinygrad_ext.optim classes when those exist,
else a small built-in update of the same rule (SGD with momentum, Adam, RMSprop, Adagrad)."""

from __future__ import annotations

import math

from .. import _C
from .. import optim as _optim
from ..autograd.grad_mode import no_grad


class Optimizer:
    _torch_name = ""

    def __init__(self, learning_rate: float = 0.01, **kwargs):
        lr = kwargs.pop("lr", None)
        self._lr = float(lr if lr is not None else learning_rate)
        self.params = None
        self._impl = None
        self.iterations = 0

    # learning_rate is live: LearningRateScheduler writes it between epochs
    @property
    def learning_rate(self) -> float:
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._lr = float(value)
        if self._impl is not None:
            for g in self._impl.param_groups:
                g["lr"] = self._lr

    lr = learning_rate

    def build(self, params) -> None:
        self.params = [p for p in params if p.requires_grad]
        cls = getattr(_optim, self._torch_name, None)
        self._impl = None
        if cls is not None and self.params:
            try:
                self._impl = cls(self.params, **self._torch_kwargs())
            except (TypeError, ValueError):  # an optim class without one of these options
                self._impl = None
        self.state = {}

    def step(self) -> None:
        self.iterations += 1
        if self._impl is not None:
            self._impl.step()
            return
        with no_grad():
            for i, p in enumerate(self.params):
                if p.grad is not None:
                    self._update(i, p, p.grad)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def get_config(self) -> dict:
        return {"name": type(self).__name__, "learning_rate": self._lr}


class SGD(Optimizer):
    _torch_name = "SGD"

    def __init__(
        self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False, **kw
    ):
        super().__init__(learning_rate, **kw)
        self.momentum, self.nesterov = momentum, nesterov

    def _torch_kwargs(self):
        return {"lr": self._lr, "momentum": self.momentum, "nesterov": self.nesterov}

    def _update(self, i, p, g):
        if self.momentum:
            v = self.state.get(i)
            v = g.clone() if v is None else v * self.momentum + g
            self.state[i] = v
            g = g + v * self.momentum if self.nesterov else v
        p.sub_(g * self._lr)


class Adam(Optimizer):
    _torch_name = "Adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kw,
    ):
        super().__init__(learning_rate, **kw)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _torch_kwargs(self):
        return {"lr": self._lr, "betas": (self.beta_1, self.beta_2), "eps": self.epsilon}

    def _update(self, i, p, g):
        m, v = self.state.get(i, (_C.zeros_like(p), _C.zeros_like(p)))
        m = m * self.beta_1 + g * (1 - self.beta_1)
        v = v * self.beta_2 + g * g * (1 - self.beta_2)
        self.state[i] = (m, v)
        t = self.iterations
        mhat = m * (1.0 / (1 - self.beta_1**t))
        vhat = v * (1.0 / (1 - self.beta_2**t))
        p.sub_(mhat / (vhat.sqrt() + self.epsilon) * self._lr)


class RMSprop(Optimizer):
    _torch_name = "RMSprop"

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7, **kw):
        super().__init__(learning_rate, **kw)
        self.rho, self.epsilon = rho, epsilon

    def _torch_kwargs(self):
        return {"lr": self._lr, "alpha": self.rho, "eps": self.epsilon}

    def _update(self, i, p, g):
        s = self.state.get(i, _C.zeros_like(p)) * self.rho + g * g * (1 - self.rho)
        self.state[i] = s
        p.sub_(g / (s.sqrt() + self.epsilon) * self._lr)


class Adagrad(Optimizer):
    _torch_name = "Adagrad"

    def __init__(
        self,
        learning_rate: float = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kw,
    ):
        super().__init__(learning_rate, **kw)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _torch_kwargs(self):
        return {
            "lr": self._lr,
            "initial_accumulator_value": self.initial_accumulator_value,
            "eps": self.epsilon,
        }

    def _update(self, i, p, g):
        s = self.state.get(i)
        if s is None:
            s = _C.full_like(p, self.initial_accumulator_value)
        s = s + g * g
        self.state[i] = s
        p.sub_(g / (s.sqrt() + self.epsilon) * self._lr)


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(opt) -> Optimizer:
    if isinstance(opt, Optimizer):
        return opt
    if isinstance(opt, str):
        key = opt.lower()
        if key not in _BY_NAME:
            raise ValueError(f"[keras] unknown optimizer {opt!r}; known: {sorted(_BY_NAME)}")
        return _BY_NAME[key]()
    raise TypeError(
        f"[keras] optimizer must be a string or a keras Optimizer, got {type(opt).__name__}"
    )


del math
