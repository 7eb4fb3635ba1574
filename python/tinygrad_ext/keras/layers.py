"""Keras layers on top of tinygrad_ext.nn: Dense, Activation, Dropout, Flatten, Input.

Shapes exclude the batch dim, as in Keras; a layer builds its weights when its input shape is known
(from input_dim / input_shape or from the first data it sees).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

from .. import _C, nn
from ..autograd.grad_mode import no_grad
from ..nn import functional as F

_counters: dict = defaultdict(int)


def _auto_name(cls_name: str) -> str:
    base = re.sub(r"(?<!^)(?=[A-Z])", "_", cls_name).lower()
    n = _counters[base]
    _counters[base] += 1
    return base if n == 0 else f"{base}_{n}"


# ---- activations and initializers ---------------------------------------------------------------
ACTIVATIONS = {
    "linear": lambda x: x,
    None: lambda x: x,
    "relu": F.relu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "softmax": lambda x: x.softmax(-1),
    "log_softmax": lambda x: x.log_softmax(-1),
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "gelu": F.gelu,
    "swish": F.silu,
    "silu": F.silu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "mish": F.mish,
    "hard_tanh": F.hardtanh,
}


# Activations the GEMM epilogue applies itself (Dense's fast path), matched by identity (a
# user's activation need not be hashable).
_FUSED_ACTIVATIONS = ((ACTIVATIONS["linear"], "none"), (ACTIVATIONS[None], "none"), (F.relu, "relu"))


def get_activation(act):
    if callable(act):
        return act
    if act not in ACTIVATIONS:
        raise ValueError(
            f"[keras] unknown activation {act!r}; known: {sorted(k for k in ACTIVATIONS if k)}"
        )
    return ACTIVATIONS[act]


def _fill(t, init) -> None:
    """Keras initializers for a kernel of shape (fan_in, fan_out) (or a 1-D bias)."""
    if callable(init):
        with no_grad():
            t.copy_(_C.tensor(init(tuple(t.shape))).to(t.dtype))
        return
    fan_in = t.shape[0] if t.dim() >= 1 else 1
    fan_out = t.shape[1] if t.dim() >= 2 else fan_in
    trunc = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]
    with no_grad():
        if init == "zeros":
            t.zero_()
        elif init == "ones":
            t.fill_(1.0)
        elif init == "glorot_uniform":
            a = math.sqrt(6.0 / (fan_in + fan_out))
            t.uniform_(-a, a)
        elif init == "glorot_normal":
            nn.init.trunc_normal_(
                t,
                0.0,
                math.sqrt(2.0 / (fan_in + fan_out)) / trunc,
                -2 * math.sqrt(2.0 / (fan_in + fan_out)) / trunc,
                2 * math.sqrt(2.0 / (fan_in + fan_out)) / trunc,
            )
        elif init in ("he_normal", "lecun_normal"):
            std = math.sqrt((2.0 if init == "he_normal" else 1.0) / fan_in) / trunc
            nn.init.trunc_normal_(t, 0.0, std, -2 * std, 2 * std)
        elif init in ("he_uniform", "lecun_uniform"):
            a = math.sqrt((6.0 if init == "he_uniform" else 3.0) / fan_in)
            t.uniform_(-a, a)
        elif init == "random_normal":
            t.normal_(0.0, 0.05)
        elif init == "random_uniform":
            t.uniform_(-0.05, 0.05)
        elif init == "orthogonal":
            nn.init.orthogonal_(t)
        else:
            raise ValueError(f"[keras] unknown initializer {init!r}")


# ---- layers --------------------------------------------------------------------------------------
class Layer(nn.Module):
    """Base Keras layer: a named nn.Module that builds itself from its input shape."""

    def __init__(self, name: str | None = None, input_shape=None, input_dim=None, **kwargs):
        super().__init__()
        self.name = name or _auto_name(type(self).__name__)
        if input_dim is not None:
            input_shape = (input_dim,)
        self.input_shape_ = tuple(input_shape) if input_shape is not None else None
        self.built = False
        self.output_shape_ = None

    def build(self, input_shape) -> None:
        self.input_shape_ = tuple(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _ensure_built(self, input_shape):
        if not self.built:
            self.build(tuple(input_shape))
        self.output_shape_ = self.compute_output_shape(tuple(input_shape))
        return self.output_shape_

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def get_weights(self):
        return [p.detach().numpy().copy() for p in self.parameters()]

    def set_weights(self, weights) -> None:
        params = list(self.parameters())
        if len(weights) != len(params):
            raise ValueError(
                f"[keras] layer {self.name} expects {len(params)} weights, got {len(weights)}"
            )
        with no_grad():
            for p, w in zip(params, weights):
                if tuple(w.shape) != tuple(p.shape):
                    raise ValueError(
                        f"[keras] layer {self.name}: weight shape {tuple(w.shape)} does not "
                        f"match {tuple(p.shape)}"
                    )
                p.copy_(_C.tensor(w).to(p.dtype))

    def _get_name(self) -> str:
        return type(self).__name__


class Input:
    """Keras Input(shape=...): declares the input shape of a Sequential model."""

    def __init__(self, shape=None, batch_size=None, name=None, dtype=None):
        if shape is None:
            raise ValueError("[keras] Input needs a shape")
        self.shape = (None,) + tuple(shape)
        self.name = name


class InputLayer(Layer):
    def __init__(self, input_shape=None, name=None, **kwargs):
        super().__init__(name=name, input_shape=input_shape)

    def forward(self, x):
        return x


class Dense(Layer):
    """output = activation(x @ kernel + bias); kernel is (input_dim, units) as in Keras.

    Accepts Keras 1 names too: Dense(output_dim=64, input_dim=100, init='glorot_uniform').
    """

    def __init__(
        self,
        units: int | None = None,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        output_dim: int | None = None,
        init=None,
        input_shape=None,
        input_dim=None,
        name=None,
        **kwargs,
    ):
        super().__init__(name=name, input_shape=input_shape, input_dim=input_dim)
        units = units if units is not None else output_dim
        if units is None or int(units) <= 0:
            raise ValueError(f"[Dense] units must be a positive int, got {units!r}")
        self.units = int(units)
        self.activation_name = (
            activation
            if isinstance(activation, str) or activation is None
            else getattr(activation, "__name__", "custom")
        )
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = init if init is not None else kernel_initializer
        self.bias_initializer = bias_initializer
        if self.input_shape_ is not None:
            self.build(self.input_shape_)

    def build(self, input_shape) -> None:
        in_dim = int(input_shape[-1])
        self.kernel = nn.Parameter(_C.empty(in_dim, self.units))
        _fill(self.kernel, self.kernel_initializer)
        if self.use_bias:
            self.bias = nn.Parameter(_C.empty(self.units))
            _fill(self.bias, self.bias_initializer)
        else:
            self.register_parameter("bias", None)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def pre_activation(self, x):
        if not self.built:
            self.build(tuple(x.shape[1:]))
        out = x @ self.kernel
        return out + self.bias if self.bias is not None else out

    def forward(self, x):
        if not self.built:
            self.build(tuple(x.shape[1:]))
        fused = next((name for fn, name in _FUSED_ACTIVATIONS if fn is self.activation), None)
        if fused is not None and isinstance(x, _C.Tensor) and x.dim() == 2:
            # one GEMM with the bias and relu in its epilogue (kernel.t() is a view: no copy)
            return _C.linear(x, self.kernel.t(), self.bias, fused)
        return self.activation(self.pre_activation(x))

    def extra_repr(self) -> str:
        return f"units={self.units}, activation={self.activation_name}"


class Activation(Layer):
    def __init__(self, activation, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.activation_name = (
            activation if isinstance(activation, str) else getattr(activation, "__name__", "custom")
        )
        self.activation = get_activation(activation)
        self.built = True

    def forward(self, x):
        return self.activation(x)

    def extra_repr(self) -> str:
        return f"{self.activation_name!r}"


class Dropout(Layer):
    def __init__(self, rate: float, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"[Dropout] rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.built = True

    def forward(self, x):
        return F.dropout(x, self.rate, self.training)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


class Flatten(Layer):
    def __init__(self, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.built = True

    def compute_output_shape(self, input_shape):
        n = 1
        for s in input_shape:
            n *= s
        return (n,)

    def forward(self, x):
        return x.reshape(x.shape[0], -1)
