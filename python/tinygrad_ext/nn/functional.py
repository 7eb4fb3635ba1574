"""nn.functional: activations, layers and losses as functions (torch.nn.functional's names).

Everything is a composite of differentiable primitives, so no function here has its own backward;
cross_entropy / nll_loss use the fused C++ kernels (_C.cross_entropy / _C.nll_loss) when the core
provides them and the log_softmax + gather composite otherwise (the composite is the reference).
"""

from __future__ import annotations

import math

from .. import _C
from ..autograd.grad_mode import no_grad

Tensor = _C.Tensor

__all__ = [
    "linear",
    "bilinear",
    "relu",
    "relu6",
    "leaky_relu",
    "prelu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "mish",
    "softplus",
    "hardtanh",
    "sigmoid",
    "tanh",
    "logsigmoid",
    "softmax",
    "log_softmax",
    "softmin",
    "dropout",
    "batch_norm",
    "layer_norm",
    "embedding",
    "one_hot",
    "normalize",
    "cosine_similarity",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "hinge_embedding_loss",
    "multi_margin_loss",
    "margin_ranking_loss",
    "cosine_embedding_loss",
    "gaussian_nll_loss",
]


def _t(x, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return _C.tensor(x, dtype=like.dtype)
    return _C.tensor(x)


def _check_tensor(x, op: str, name: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"[{op}] {name} must be a Tensor, got {type(x).__name__}")


# ---- layers --------------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b (weight is out_features x in_features)."""
    _check_tensor(input, "linear")
    if input.dim() == 0 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"[linear] input shape {tuple(input.shape)} and weight shape {tuple(weight.shape)} "
            f"do not match (in_features = {weight.shape[-1]})"
        )
    if weight.dim() == 1:
        out = input @ weight
    elif bias is not None and input.dim() == 2:
        return _C.linear(input, weight, bias)  # one GEMM, the bias added as C is written
    else:
        out = input @ weight.t()
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T A_k x2 + b_k (weight is out x in1 x in2)."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(
            f"[bilinear] input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} "
            "must have the same batch shape"
        )
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ValueError(
            f"[bilinear] inputs {tuple(input1.shape)}, {tuple(input2.shape)} do not match "
            f"weight {tuple(weight.shape)}"
        )
    out_f, in1, in2 = weight.shape
    batch = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    t = x1 @ weight.permute(1, 0, 2).reshape(in1, out_f * in2)  # (B, out*in2)
    t = t.reshape(-1, out_f, in2)
    out = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(batch + (out_f,))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes elements with probability p and scales the rest by 1/(1-p) when training."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    mask = _C.empty(*input.shape, dtype=input.dtype).bernoulli_(1.0 - p)
    return input * (mask / (1.0 - p))


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalises over every dim but 1 (channels); updates running stats in place when training."""
    _check_tensor(input, "batch_norm")
    if input.dim() < 2:
        raise ValueError(f"[batch_norm] expected 2D or higher input, got {input.dim()}D")
    C = input.shape[1]
    dims = [0] + list(range(2, input.dim()))
    shape = [1, C] + [1] * (input.dim() - 2)
    if training:
        n = input.numel() // C if C else 0
        if n <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{tuple(input.shape)}"
            )
        mean = input.mean(dim=dims, keepdim=True)
        var = ((input - mean) ** 2).mean(dim=dims, keepdim=True)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach().reshape(C) * momentum)
        if running_var is not None:
            with no_grad():
                running_var.mul_(1 - momentum).add_(
                    var.detach().reshape(C) * (momentum * n / (n - 1))
                )
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "[batch_norm] running_mean and running_var are needed when not training"
            )
        mean = running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalises over the trailing normalized_shape dims (biased variance); one fused C++ op."""
    _check_tensor(input, "layer_norm")
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    return _C.layer_norm(input, tuple(normalized_shape), weight, bias, eps)


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm=None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of weight at the indices; rows at padding_idx get no gradient."""
    _check_tensor(input, "embedding")
    if input.dtype not in (_C.int64, _C.int32):
        raise TypeError(f"[embedding] indices must be int64 or int32, got {input.dtype}")
    n = weight.shape[0]
    if input.numel() and (int(input.max().item()) >= n or int(input.min().item()) < -n):
        raise IndexError(
            f"[embedding] index out of range: indices must be in [0, {n}), got "
            f"[{int(input.min().item())}, {int(input.max().item())}]"
        )
    out = weight.index_select(0, input.reshape(-1)).reshape(tuple(input.shape) + (weight.shape[1],))
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += n
        keep = (input != padding_idx).unsqueeze(-1)
        out = _C.where(keep, out, out.detach())
    return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    return _C.one_hot(tensor, num_classes)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    norm = (input.abs() ** p).sum(dim=dim, keepdim=True) ** (1.0 / p)
    return input / norm.clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    n1 = (x1 * x1).sum(dim=dim).sqrt().clamp(min=eps)
    n2 = (x2 * x2).sum(dim=dim).sqrt().clamp(min=eps)
    return (x1 * x2).sum(dim=dim) / (n1 * n2)


# ---- activations ---------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu()


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return input.clamp(0.0, 6.0)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _C.where(input > 0, input, input * negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    if weight.numel() != 1 and input.dim() >= 2:
        weight = weight.reshape([1, -1] + [1] * (input.dim() - 2))
    return _C.where(input > 0, input, input * weight)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _C.where(input > 0, input, input.clamp(max=0.0).expm1() * alpha)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _C.where(input > 0, input, (input.clamp(max=0.0) * (1.0 / alpha)).expm1() * alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """0.5 x (1 + erf(x / sqrt 2)), or the tanh approximation with approximate='tanh'."""
    if approximate == "none":
        return input * 0.5 * (1.0 + (input * (1.0 / math.sqrt(2.0))).erf())
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        return input * 0.5 * (1.0 + inner.tanh())
    raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return input * input.sigmoid()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold (stable form)."""
    bx = input * beta
    soft = (bx.relu() + (-bx.abs()).exp().log1p()) * (1.0 / beta)
    return _C.where(bx > threshold, input, soft)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return input * softplus(input).tanh()


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return input.clamp(min_val, max_val)


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def logsigmoid(input: Tensor) -> Tensor:
    return -((-input).relu() + (-input.abs()).exp().log1p())


def _softmax_dim(ndim: int) -> int:
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(_softmax_dim(input.dim()) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(_softmax_dim(input.dim()) if dim is None else dim)


def softmin(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    return softmax(-input, dim, dtype)


# ---- losses --------------------------------------------------------------------------------------
# Scalars divide as `x * (1.0 / n)`: the core's vjp of `x / python_number` rounds 1/n to float32.
def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_reduction(reduction: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _pair(input, target, op: str) -> tuple[Tensor, Tensor]:
    _check_tensor(input, op)
    target = _t(target, input)
    if tuple(target.shape) != tuple(input.shape):
        try:
            _C.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except Exception:
            raise ValueError(
                f"[{op}] input shape {tuple(input.shape)} and target shape "
                f"{tuple(target.shape)} cannot be broadcast"
            ) from None
    return input, target


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    _check_reduction(reduction)
    input, target = _pair(input, target, "mse_loss")
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    _check_reduction(reduction)
    input, target = _pair(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    _check_reduction(reduction)
    if beta < 0:
        raise ValueError("smooth_l1_loss does not support negative values for beta.")
    input, target = _pair(input, target, "smooth_l1_loss")
    d = (input - target).abs()
    if beta == 0.0:
        return _reduce(d, reduction)
    return _reduce(_C.where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta), reduction)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    _check_reduction(reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got {delta}")
    input, target = _pair(input, target, "huber_loss")
    d = (input - target).abs()
    return _reduce(_C.where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta), reduction)


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """-(y log x + (1 - y) log(1 - x)), each log clamped to >= -100 as PyTorch."""
    _check_reduction(reduction)
    _check_tensor(input, "binary_cross_entropy")
    target = _t(target, input)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}) is deprecated. Please ensure they have the same size."
        )
    if input.numel() and (float(input.min().item()) < 0 or float(input.max().item()) > 1):
        raise RuntimeError("[binary_cross_entropy] all elements of input should be between 0 and 1")
    loss = -(
        target * input.log().clamp(min=-100.0)
        + (1.0 - target) * (1.0 - input).log().clamp(min=-100.0)
    )
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + BCE, stable: (1 - y) x + (1 + (pw - 1) y) (log1p(e^-|x|) + max(-x, 0))."""
    _check_reduction(reduction)
    _check_tensor(input, "binary_cross_entropy_with_logits")
    target = _t(target, input)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Target size ({tuple(target.shape)}) must be the same as input size "
            f"({tuple(input.shape)})"
        )
    log_sig_neg = (-input.abs()).exp().log1p() + (-input).relu()  # -log sigmoid(x)
    if pos_weight is not None:
        log_weight = (pos_weight - 1.0) * target + 1.0
        loss = (1.0 - target) * input + log_weight * log_sig_neg
    else:
        loss = (1.0 - target) * input + log_sig_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _class_weight_view(weight: Tensor, ndim: int) -> Tensor:
    return weight.reshape([1, -1] + [1] * (ndim - 2)) if ndim >= 2 else weight


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """-input[n, target[n]] * weight[target[n]]; mean divides by the summed counted weights."""
    _check_reduction(reduction)
    _check_tensor(input, "nll_loss")
    target = _t(target)
    if input.dim() < 1:
        raise ValueError(f"[nll_loss] expected input with at least 1 dim, got {tuple(input.shape)}")
    if target.dtype not in (_C.int64, _C.int32, _C.uint8):
        raise TypeError(
            f"[nll_loss] expected target of an integer dtype (class indices), got {target.dtype}"
        )
    unbatched = input.dim() == 1
    if unbatched:
        input, target = input.unsqueeze(0), target.reshape(1)
    C = input.shape[1]
    expect = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expect:
        raise ValueError(
            f"[nll_loss] expected target shape {expect} for input {tuple(input.shape)}, "
            f"got {tuple(target.shape)}"
        )
    if weight is not None and tuple(weight.shape) != (C,):
        raise ValueError(f"[nll_loss] weight should have shape ({C},), got {tuple(weight.shape)}")
    target = target.to(_C.int64)
    valid = target != ignore_index
    safe = _C.where(valid, target, _C.zeros_like(target))
    if safe.numel() and (int(safe.max().item()) >= C or int(safe.min().item()) < 0):
        hi, lo = int(safe.max().item()), int(safe.min().item())
        bad = hi if hi >= C else lo
        raise IndexError(f"[nll_loss] target {bad} is out of bounds for {C} classes")
    picked = -input.gather(1, safe.unsqueeze(1)).squeeze(1)
    w = valid.to(input.dtype)
    if weight is not None:
        w = w * weight.index_select(0, safe.reshape(-1)).reshape(tuple(safe.shape))
    loss = picked * w
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w.sum()


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """log_softmax over dim 1 (dim 0 unbatched) + NLL; targets: class indices or probabilities."""
    _check_reduction(reduction)
    _check_tensor(input, "cross_entropy")
    target = _t(target, input if not isinstance(target, (int, list)) else None)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    # One fused, numerically stable C++ kernel (log-softmax + NLL, forward and backward); the
    # composed version below is its reference in the tests.
    return _C.cross_entropy(input, target, weight=weight, ignore_index=ignore_index,
                            label_smoothing=label_smoothing, reduction=reduction)


def _cross_entropy_composed(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """cross_entropy from log_softmax + nll_loss (differentiable ops only): the test reference."""
    target = _t(target, input if not isinstance(target, (int, list)) else None)
    class_dim = 0 if input.dim() == 1 else 1
    if input.dim() == 0:
        raise ValueError("[cross_entropy] input must have at least 1 dim (classes)")
    C = input.shape[class_dim]
    if target.is_floating_point():  # class probabilities
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(
                f"[cross_entropy] probability target shape {tuple(target.shape)} must equal "
                f"input shape {tuple(input.shape)}"
            )
        logp = input.log_softmax(class_dim)
        if label_smoothing > 0:
            target = target * (1.0 - label_smoothing) + label_smoothing / C
        prod = logp * target
        if weight is not None:
            prod = prod * _class_weight_view(weight, input.dim())
        loss = -prod.sum(dim=class_dim)
        if reduction == "mean":
            return (
                loss.sum() * (1.0 / max(1, input.numel() // C)) if input.dim() > 1 else loss.sum()
            )
        return _reduce(loss, reduction)
    logp = input.log_softmax(class_dim)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return nll
    if weight is not None:
        smooth = -(logp * _class_weight_view(weight, input.dim())).sum(dim=class_dim)
    else:
        smooth = -logp.sum(dim=class_dim)
    tgt = target.to(_C.int64)
    valid = tgt != ignore_index
    smooth = smooth * valid.to(smooth.dtype)
    if reduction == "mean":
        if weight is not None:
            safe = _C.where(valid, tgt, _C.zeros_like(tgt))
            wsum = (
                weight.index_select(0, safe.reshape(-1)) * valid.reshape(-1).to(weight.dtype)
            ).sum()
            ret = smooth.sum() / wsum
        else:  # mean over the targets that are not ignored, as the NLL term
            ret = smooth.sum() / valid.sum().to(smooth.dtype)
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1.0 - label_smoothing) + ret * (label_smoothing / C)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Pointwise target * (log target - input), input being log-probabilities; 'batchmean': / N."""
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    input, target = _pair(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        pos = target > 0
        safe = _C.where(pos, target, _C.ones_like(target))
        loss = _C.where(pos, target * (safe.log() - input), _C.zeros_like(input) * input)
    if reduction == "batchmean":
        return loss.sum() * (1.0 / (input.shape[0] if input.dim() else 1))
    return _reduce(loss, reduction)


def hinge_embedding_loss(
    input: Tensor, target: Tensor, margin: float = 1.0, reduction: str = "mean"
) -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1."""
    _check_reduction(reduction)
    input, target = _pair(input, target, "hinge_embedding_loss")
    zeros = _C.zeros_like(input)
    margin_part = _C.where(target != 1, (margin - input).clamp(min=0.0), zeros)
    self_part = _C.where(target != -1, input, zeros)
    return _reduce(margin_part + self_part, reduction)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """sum_{j != y} max(0, margin - x[y] + x[j])^p / C (times weight[y])."""
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    unbatched = input.dim() == 1
    x = input.unsqueeze(0) if unbatched else input
    if x.dim() != 2:
        raise ValueError(f"[multi_margin_loss] expected 1D or 2D input, got {tuple(input.shape)}")
    y = _t(target).reshape(-1).to(_C.int64)
    N, C = x.shape
    if y.shape[0] != N:
        raise ValueError(
            f"[multi_margin_loss] target shape {tuple(target.shape)} does not match input "
            f"{tuple(input.shape)}"
        )
    xy = x.gather(1, y.unsqueeze(1))
    m = (x - xy + margin).clamp(min=0.0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * weight.index_select(0, y).unsqueeze(1)
    not_target = _C.one_hot(y, C) == 0
    loss = (m * not_target.to(m.dtype)).sum(dim=1) / C
    if unbatched and reduction == "none":
        return loss.squeeze(0)
    return _reduce(loss, reduction)


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: str = "mean"
) -> Tensor:
    _check_reduction(reduction)
    if input1.dim() != _t(target).dim() or input2.dim() != _t(target).dim():
        raise ValueError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, "
            f"target: {tuple(_t(target).shape)} "
        )
    target = _t(target, input1)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0.0), reduction)


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: str = "mean"
) -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos - margin) where y = -1."""
    _check_reduction(reduction)
    if tuple(input1.shape) != tuple(input2.shape):
        raise ValueError(
            f"[cosine_embedding_loss] input1 {tuple(input1.shape)} and input2 "
            f"{tuple(input2.shape)} must have the same shape"
        )
    dim = input1.dim() - 1
    eps = 1e-12
    prod = (input1 * input2).sum(dim=dim)
    mag = ((input1 * input1).sum(dim=dim) + eps) * ((input2 * input2).sum(dim=dim) + eps)
    cos = prod / mag.sqrt()
    target = _t(target, input1)
    zeros = _C.zeros_like(cos)
    pos = _C.where(target == 1, 1.0 - cos, zeros)
    neg = _C.where(target == -1, (cos - margin).clamp(min=0.0), zeros)
    return _reduce(pos + neg, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """0.5 (log max(var, eps) + (input - target)^2 / max(var, eps)) [+ 0.5 log 2 pi]."""
    _check_reduction(reduction)
    var = _t(var, input)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if var.numel() and float(var.min().item()) < 0:
        raise ValueError("var has negative entry/entries")
    var = (
        var + (var.clamp(min=eps) - var).detach()
    )  # clamp without blocking the gradient, as PyTorch
    loss = (var.log() + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---- metrics and penalties -----------------------------------------------------------------------
def _labels(x) -> Tensor:
    """Class labels from logits/probabilities (N, C), one-hot rows, (N, 1) scores or labels."""
    x = _t(x)
    if x.dim() >= 2 and x.shape[-1] > 1:
        return x.argmax(dim=-1)
    if x.dim() >= 2:
        x = x.reshape(-1)
    if x.is_floating_point() and x.numel():
        if bool((x == x.round()).all().item()):
            return x.to(_C.int64)  # float-coded labels (0., 1., 2., ...)
        lo, hi = float(x.min().item()), float(x.max().item())
        return (x > (0.5 if lo >= 0 and hi <= 1 else 0.0)).to(
            _C.int64
        )  # probability or logit scores
    return x


def accuracy(output, target) -> float:
    """Fraction of correct predictions: output (N, C) scores or labels; target labels or one-hot."""
    pred, true = _labels(output).reshape(-1), _labels(target).reshape(-1)
    if pred.shape[0] != true.shape[0]:
        raise ValueError(f"[accuracy] {pred.shape[0]} predictions but {true.shape[0]} targets")
    if pred.shape[0] == 0:
        return float("nan")
    return float((pred.to(_C.int64) == true.to(_C.int64)).to(_C.float64).mean().item())


def zero_one_loss(output, target, normalize: bool = True) -> float:
    """The 0-1 loss (a metric): fraction (or count) of misclassified samples."""
    err = 1.0 - accuracy(output, target)
    n = _labels(target).reshape(-1).shape[0]
    return err if normalize else round(err * n)


def l1_penalty(params, lam: float) -> Tensor:
    """lam * sum |W| over the parameters (the L1 regulariser)."""
    total = None
    for p in params:
        term = p.abs().sum()
        total = term if total is None else total + term
    return _C.tensor(0.0) if total is None else total * lam


def l2_penalty(params, lam: float) -> Tensor:
    """lam / 2 * sum ||W||_F^2 (the structural-risk term of the course notes)."""
    total = None
    for p in params:
        term = (p * p).sum()
        total = term if total is None else total + term
    return _C.tensor(0.0) if total is None else total * (lam / 2.0)


# Areas kept in their own files, re-exported here so F.<name> works as in PyTorch.
from . import _functional_attention, _functional_conv, _functional_pool  # noqa: E402
from ._functional_attention import *  # noqa: E402,F401,F403
from ._functional_conv import *  # noqa: E402,F401,F403
from ._functional_pool import *  # noqa: E402,F401,F403

__all__ += _functional_conv.__all__ + _functional_pool.__all__ + _functional_attention.__all__
