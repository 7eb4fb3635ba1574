"""Categorical(probs=None, logits=None): one of K classes; sampling by the Gumbel-max trick."""

from __future__ import annotations

from .. import _C
from ..autograd.grad_mode import no_grad
from . import constraints
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, min_real, probs_to_logits, tiny

__all__ = ["Categorical"]


def _as_param(x, name: str):
    if isinstance(x, _C.Tensor):
        return x if x.is_floating_point() else x.to(_C.float32)
    try:
        return _C.tensor(x, dtype=_C.float32)
    except Exception:
        raise ValueError(
            f"[Categorical] {name} must be a Tensor or a nested list of numbers, got {type(x).__name__}"
        ) from None


class Categorical(Distribution):
    """Class indices 0..K-1 with probabilities along the last dim of ``probs`` (normalised to sum
    to 1) or ``logits`` (normalised by logsumexp). batch_shape is the shape without the last dim.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None):
        if (probs is None) == (logits is None):
            raise ValueError("[Categorical] Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            probs = _as_param(probs, "probs")
            if probs.dim() < 1:
                raise ValueError("[Categorical] `probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            logits = _as_param(logits, "logits")
            if logits.dim() < 1:
                raise ValueError("[Categorical] `logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = tuple(self._param.shape[:-1])
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = tuple(batch_shape)
        param_shape = batch_shape + (self._num_events,)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(param_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(param_shape)
            new._param = new.logits
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    @property
    def mean(self):
        return _C.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return _C.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape=()):
        """int64 samples: argmax(logits + Gumbel noise), exact for every probability vector."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            logits = self.logits.expand(shape + (self._num_events,))
            u = _C.rand(shape + (self._num_events,), dtype=logits.dtype).clamp(min=tiny(logits))
            return (logits - (-u.log()).log()).argmax(dim=-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = _C.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=min_real(self.logits))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True):
        n = self._num_events
        values = _C.arange(n, dtype=_C.int64).reshape((-1,) + (1,) * len(self.batch_shape))
        if expand:
            values = values.expand((n,) + self.batch_shape)
        return values
