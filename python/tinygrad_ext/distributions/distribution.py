"""Distribution: the base class (torch.distributions.Distribution's interface and checks)."""

from __future__ import annotations

import warnings

from .. import _C
from ..autograd.grad_mode import no_grad
from . import constraints
from .utils import as_shape, lazy_property

Tensor = _C.Tensor

__all__ = ["Distribution"]


class Distribution:
    """A batch of probability distributions of shape ``batch_shape`` over events of shape
    ``event_shape``. Samples have shape ``sample_shape + batch_shape + event_shape``.

    ``validate_args`` (default True, as torch's under ``__debug__``) checks the parameters in
    the constructor and the values given to ``log_prob``/``cdf``, raising ValueError.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__
    arg_constraints: dict = {}
    support = None

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        if value not in (True, False):
            raise ValueError(f"[Distribution] validate_args must be True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None):
        self._batch_shape = as_shape(batch_shape, type(self).__name__)
        self._event_shape = as_shape(event_shape, type(self).__name__)
        if validate_args is not None:
            self._validate_args = bool(validate_args)
        if self._validate_args:
            for param, constraint in self.arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                    continue  # a lazily computed parameter (probs given as logits, ...)
                value = getattr(self, param)
                valid = constraint.check(value)
                if not bool(valid.all()):
                    raise ValueError(
                        f"[{type(self).__name__}] Expected parameter {param} "
                        f"(Tensor of shape {tuple(value.shape)}) of distribution {self!r} "
                        f"to satisfy the constraint {constraint!r}, but found invalid values:\n"
                        f"{value}"
                    )

    # ---- shapes ----------------------------------------------------------------------------
    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple[int, ...]:
        return as_shape(sample_shape, type(self).__name__) + self._batch_shape + self._event_shape

    def expand(self, batch_shape, _instance=None):
        raise NotImplementedError(f"[{type(self).__name__}] expand is not implemented")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"[{type(self).__name__}] subclass {type(self).__name__} of {cls.__name__} "
                "that defines a custom __init__ must also define a custom .expand()"
            )
        return self.__new__(type(self)) if _instance is None else _instance

    # ---- moments ---------------------------------------------------------------------------
    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] mean is not implemented")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] mode is not implemented")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] variance is not implemented")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    # ---- sampling and densities ------------------------------------------------------------
    def sample(self, sample_shape=()) -> Tensor:
        """Samples without gradient (``rsample`` under no_grad when it exists)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] rsample is not implemented (has_rsample is False)")

    def sample_n(self, n: int) -> Tensor:
        warnings.warn("sample_n will be deprecated. Use .sample((n,)) instead", UserWarning, stacklevel=2)
        return self.sample((n,))

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] log_prob is not implemented")

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] cdf is not implemented")

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] icdf is not implemented")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] enumerate_support is not implemented")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"[{type(self).__name__}] entropy is not implemented")

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _validate_sample(self, value) -> None:
        name = type(self).__name__
        if not isinstance(value, Tensor):
            raise ValueError(f"[{name}] The value argument to log_prob must be a Tensor")
        event_dim_start = len(value.shape) - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != self._event_shape:
            raise ValueError(
                f"[{name}] The right-most size of value must match event_shape: "
                f"{tuple(value.shape)} vs {self._event_shape}."
            )
        actual_shape = tuple(value.shape)
        expected_shape = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    f"[{name}] Value is not broadcastable with batch_shape+event_shape: "
                    f"{actual_shape} vs {expected_shape}."
                )
        support = self.support
        if support is None or constraints.is_dependent(support):
            return
        valid = support.check(value)
        if not bool(valid.all()):
            raise ValueError(
                f"[{name}] Expected value argument (Tensor of shape {actual_shape}) to be within "
                f"the support ({support!r}) of the distribution {self!r}, but found invalid "
                f"values:\n{value}"
            )

    def __repr__(self) -> str:
        names = [k for k, _ in self.arg_constraints.items() if k in self.__dict__]
        args = ", ".join(f"{p}: {_short(self.__dict__[p])}" for p in names)
        return f"{type(self).__name__}({args})"


def _short(t) -> str:
    return f"{t.item():g}" if t.numel() == 1 else f"size {tuple(t.shape)}"
