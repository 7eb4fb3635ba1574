"""Keras losses: loss(y_true, y_pred) -> scalar, by string or object (mean over the batch)."""

from __future__ import annotations

from .. import _C
from ..nn import functional as F

EPS = 1e-7  # Keras' backend.epsilon()


class Loss:
    name = "loss"

    def __init__(self, from_logits: bool = False, name: str | None = None):
        self.from_logits = from_logits
        if name:
            self.name = name

    def __call__(self, y_true, y_pred):
        return self.call(y_true, y_pred).mean()

    def call(self, y_true, y_pred):  # per-sample losses
        raise NotImplementedError


class CategoricalCrossentropy(Loss):
    """y_true one-hot or probabilities; y_pred probabilities (clipped to [eps, 1-eps]) or logits."""

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, name=None):
        super().__init__(from_logits, name)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        y_true = y_true.to(y_pred.dtype)
        if tuple(y_true.shape) != tuple(y_pred.shape):
            raise ValueError(
                f"[categorical_crossentropy] y_true {tuple(y_true.shape)} and y_pred "
                f"{tuple(y_pred.shape)} must have the same shape (one-hot targets; use "
                "sparse_categorical_crossentropy for integer labels)"
            )
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + self.label_smoothing / y_pred.shape[-1]
        logp = y_pred.log_softmax(-1) if self.from_logits else y_pred.clamp(EPS, 1 - EPS).log()
        return -(y_true * logp).sum(-1)


class SparseCategoricalCrossentropy(Loss):
    name = "sparse_categorical_crossentropy"

    def call(self, y_true, y_pred):
        labels = y_true.reshape(-1).to(_C.int64)
        logp = y_pred.log_softmax(-1) if self.from_logits else y_pred.clamp(EPS, 1 - EPS).log()
        return -logp.gather(1, labels.unsqueeze(1)).squeeze(1)


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"

    def call(self, y_true, y_pred):
        y_true = y_true.to(y_pred.dtype).reshape(tuple(y_pred.shape))
        if self.from_logits:
            loss = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
        else:
            p = y_pred.clamp(EPS, 1 - EPS)
            loss = -(y_true * p.log() + (1.0 - y_true) * (1.0 - p).log())
        return loss.mean(-1) if loss.dim() > 1 else loss


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def call(self, y_true, y_pred):
        d = (y_pred - y_true.to(y_pred.dtype).reshape(tuple(y_pred.shape))) ** 2
        return d.mean(-1) if d.dim() > 1 else d


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def call(self, y_true, y_pred):
        d = (y_pred - y_true.to(y_pred.dtype).reshape(tuple(y_pred.shape))).abs()
        return d.mean(-1) if d.dim() > 1 else d


class Hinge(Loss):
    """mean(max(1 - y_true * y_pred, 0)); 0/1 labels are mapped to -1/1 as Keras does."""

    name = "hinge"

    def call(self, y_true, y_pred):
        t = y_true.to(y_pred.dtype).reshape(tuple(y_pred.shape))
        if t.numel() and float(t.min().item()) >= 0:
            t = t * 2.0 - 1.0
        d = (1.0 - t * y_pred).clamp(min=0.0)
        return d.mean(-1) if d.dim() > 1 else d


class KLDivergence(Loss):
    name = "kl_divergence"

    def call(self, y_true, y_pred):
        t = y_true.to(y_pred.dtype).clamp(EPS, 1.0)
        p = y_pred.clamp(EPS, 1.0)
        return (t * (t.log() - p.log())).sum(-1)


_BY_NAME = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "hinge": Hinge,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
}


def get(loss):
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        if loss not in _BY_NAME:
            raise ValueError(f"[keras] unknown loss {loss!r}; known: {sorted(_BY_NAME)}")
        return _BY_NAME[loss]()
    if isinstance(loss, type) and issubclass(loss, Loss):
        return loss()
    if callable(loss):
        fn = loss

        class _Wrapped(Loss):
            name = getattr(fn, "__name__", "loss")

            def __call__(self, y_true, y_pred):
                out = fn(y_true, y_pred)
                return out.mean() if out.dim() else out

        return _Wrapped()
    raise TypeError(
        f"[keras] loss must be a string, a Loss or a callable, got {type(loss).__name__}"
    )


def categorical_crossentropy(y_true, y_pred):
    return CategoricalCrossentropy().call(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred):
    return SparseCategoricalCrossentropy().call(y_true, y_pred)


def binary_crossentropy(y_true, y_pred):
    return BinaryCrossentropy().call(y_true, y_pred)
