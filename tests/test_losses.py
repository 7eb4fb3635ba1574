"""Losses (modules and functions) against PyTorch when installed, NumPy formulas otherwise."""

import math

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import nn
from tinygrad_ext.nn import functional as F

rng = np.random.default_rng(0)


def T(a, dtype=None, rg=False):
    a = np.asarray(a)
    if dtype is None:
        dtype = tgx.int64 if np.issubdtype(a.dtype, np.integer) else tgx.float64
    t = tgx.tensor(a, dtype=dtype)
    return t.requires_grad_(True) if rg else t


def _val(t):
    return t.detach().numpy() if t.requires_grad else t.numpy()


N, C = 6, 4
X = rng.standard_normal((N, C))
Y = rng.standard_normal((N, C))
P = 1 / (1 + np.exp(-X))
B = (rng.random((N, C)) > 0.5).astype(np.float64)
LAB = rng.integers(0, C, N)
SIGN = np.where(rng.random(N) > 0.5, 1.0, -1.0)
W = rng.random(C) + 0.5
PROBS = np.exp(Y) / np.exp(Y).sum(1, keepdims=True)

# name, args (numpy), kwargs; the first argument is the one we differentiate
CASES = [
    ("mse_loss", (X, Y), {}),
    ("l1_loss", (X, Y), {}),
    ("smooth_l1_loss", (X, Y), {"beta": 0.5}),
    ("smooth_l1_loss", (X, Y), {"beta": 0.0}),
    ("huber_loss", (X, Y), {"delta": 0.7}),
    ("binary_cross_entropy", (P, B), {}),
    ("binary_cross_entropy", (P, B), {"weight": W}),
    ("binary_cross_entropy_with_logits", (X * 10, B), {}),
    ("binary_cross_entropy_with_logits", (X, B), {"pos_weight": W, "weight": W[::-1].copy()}),
    ("cross_entropy", (X, LAB), {}),
    ("cross_entropy", (X, LAB), {"weight": W}),
    ("cross_entropy", (X, np.where(np.arange(N) % 3 == 0, -100, LAB)), {}),
    (
        "cross_entropy",
        (X, np.where(np.arange(N) % 3 == 0, 1, LAB)),
        {"ignore_index": 1, "weight": W},
    ),
    ("cross_entropy", (X, LAB), {"label_smoothing": 0.2}),
    ("cross_entropy", (X, LAB), {"label_smoothing": 0.1, "weight": W}),
    ("cross_entropy", (X, PROBS), {}),
    ("cross_entropy", (X, PROBS), {"label_smoothing": 0.3, "weight": W}),
    ("cross_entropy", (X.reshape(2, 3, C).transpose(0, 2, 1).copy(), LAB.reshape(2, 3)), {}),
    ("cross_entropy", (X[0], LAB[0]), {}),
    ("nll_loss", (X, LAB), {"weight": W}),
    ("kl_div", (np.log(PROBS), P / P.sum(1, keepdims=True)), {}),
    ("kl_div", (np.log(PROBS), np.log(P / P.sum(1, keepdims=True))), {"log_target": True}),
    ("hinge_embedding_loss", (X[:, 0], SIGN), {"margin": 0.5}),
    ("multi_margin_loss", (X, LAB), {}),
    ("multi_margin_loss", (X, LAB), {"p": 2, "margin": 0.5, "weight": W}),
    ("margin_ranking_loss", (X[:, 0], Y[:, 0], SIGN), {"margin": 0.1}),
    ("cosine_embedding_loss", (X, Y, SIGN), {"margin": 0.2}),
    ("gaussian_nll_loss", (X, Y, P), {}),
    ("gaussian_nll_loss", (X, Y, P[:, 0]), {"full": True}),
]
REDUCTIONS = ["mean", "sum", "none"]


def _ours(name, args, kw, reduction, rg=False):
    targs = [T(a, rg=(rg and i == 0)) for i, a in enumerate(args)]
    tkw = {k: (T(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    if name == "kl_div" and reduction == "mean":
        reduction = "batchmean"
    return targs, getattr(F, name)(*targs, reduction=reduction, **tkw)


def _theirs(torch, name, args, kw, reduction, rg=False):
    targs = [torch.tensor(a, requires_grad=(rg and i == 0)) for i, a in enumerate(args)]
    tkw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    if name == "kl_div" and reduction == "mean":
        reduction = "batchmean"
    return targs, getattr(torch.nn.functional, name)(*targs, reduction=reduction, **tkw)


IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,args,kw", CASES, ids=IDS)
def test_loss_forward_vs_torch(name, args, kw, reduction):
    torch = pytest.importorskip("torch")
    _, ref = _theirs(torch, name, args, kw, reduction)
    _, out = _ours(name, args, kw, reduction)
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(_val(out), ref.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("name,args,kw", CASES, ids=IDS)
def test_loss_grad_vs_torch(name, args, kw, reduction):
    torch = pytest.importorskip("torch")
    (xt, *_), ref = _theirs(torch, name, args, kw, reduction, rg=True)
    (xo, *_), out = _ours(name, args, kw, reduction, rg=True)
    g = np.random.default_rng(1).standard_normal(tuple(ref.shape))
    (ref * torch.tensor(g)).sum().backward()
    (out * T(g)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-11)


# ---- NumPy formulas (run without PyTorch) -------------------------------------------------
def test_numpy_formulas():
    np.testing.assert_allclose(F.mse_loss(T(X), T(Y)).item(), ((X - Y) ** 2).mean(), rtol=1e-12)
    np.testing.assert_allclose(
        F.l1_loss(T(X), T(Y), reduction="sum").item(), np.abs(X - Y).sum(), rtol=1e-12
    )
    ls = X - X.max(1, keepdims=True)
    logp = ls - np.log(np.exp(ls).sum(1, keepdims=True))
    np.testing.assert_allclose(
        F.cross_entropy(T(X), T(LAB)).item(), -logp[np.arange(N), LAB].mean(), rtol=1e-12
    )
    bce = -(B * np.log(P) + (1 - B) * np.log(1 - P)).mean()
    np.testing.assert_allclose(F.binary_cross_entropy(T(P), T(B)).item(), bce, rtol=1e-12)
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(T(X), T(B)).item(), bce, rtol=1e-12
    )


def test_course_cross_entropy_example():
    # target [0, 0, 1] against prediction [0.3, 0.3, 0.4]: -log 0.4
    p = T([[0.3, 0.3, 0.4]])
    assert abs(F.nll_loss(p.log(), T([2])).item() + math.log(0.4)) < 1e-12
    assert (
        abs(
            F.cross_entropy(T([[0.0, 0.0, 1.0]]) * 0 + p.log(), T([[0.0, 0.0, 1.0]])).item()
            + math.log(0.4)
        )
        < 1e-12
    )


def test_bce_log_clamp_and_extremes():
    out = F.binary_cross_entropy(T([0.0, 1.0]), T([1.0, 0.0]), reduction="none")
    assert out.tolist() == [100.0, 100.0]
    big = F.binary_cross_entropy_with_logits(T([1000.0, -1000.0]), T([0.0, 1.0]), reduction="none")
    assert big.tolist() == [1000.0, 1000.0]
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(T([1.5]), T([1.0]))
    with pytest.raises(ValueError, match="same size"):
        F.binary_cross_entropy(T([0.5, 0.5]), T([1.0]))


def test_loss_modules_match_functions():
    pairs = [
        (nn.MSELoss(), F.mse_loss, (X, Y)),
        (nn.L1Loss(reduction="sum"), lambda a, b: F.l1_loss(a, b, "sum"), (X, Y)),
        (nn.SmoothL1Loss(beta=0.3), lambda a, b: F.smooth_l1_loss(a, b, beta=0.3), (X, Y)),
        (nn.HuberLoss(delta=2.0), lambda a, b: F.huber_loss(a, b, delta=2.0), (X, Y)),
        (nn.BCELoss(), F.binary_cross_entropy, (P, B)),
        (
            nn.BCEWithLogitsLoss(pos_weight=T(W)),
            lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=T(W)),
            (X, B),
        ),
        (
            nn.CrossEntropyLoss(label_smoothing=0.1),
            lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1),
            (X, LAB),
        ),
        (nn.NLLLoss(weight=T(W)), lambda a, b: F.nll_loss(a, b, T(W)), (X, LAB)),
        (
            nn.KLDivLoss(reduction="batchmean"),
            lambda a, b: F.kl_div(a, b, reduction="batchmean"),
            (X, PROBS),
        ),
        (nn.HingeEmbeddingLoss(), F.hinge_embedding_loss, (X[:, 0], SIGN)),
        (nn.MultiMarginLoss(), F.multi_margin_loss, (X, LAB)),
        (
            nn.MarginRankingLoss(0.5),
            lambda a, b, c: F.margin_ranking_loss(a, b, c, 0.5),
            (X[:, 0], Y[:, 0], SIGN),
        ),
        (nn.CosineEmbeddingLoss(), F.cosine_embedding_loss, (X, Y, SIGN)),
        (nn.GaussianNLLLoss(), F.gaussian_nll_loss, (X, Y, P)),
    ]
    for mod, fn, args in pairs:
        ta = [T(a) for a in args]
        assert abs(mod(*ta).item() - fn(*ta).item()) < 1e-12, type(mod).__name__
    assert "weight" in dict(nn.CrossEntropyLoss(weight=T(W)).named_buffers())


def test_errors():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(T(X), T(Y), reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy"):
        F.cross_entropy(T(X), T(PROBS[:, :2]))
    with pytest.raises(ValueError, match="nll_loss"):
        F.nll_loss(T(X), T(LAB[:3]))
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(T(X), T(LAB + C))
    with pytest.raises(ValueError, match="var"):
        F.gaussian_nll_loss(T(X), T(Y), T(-P))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(T(X), T(LAB), label_smoothing=1.5)
    with pytest.raises(TypeError):
        F.mse_loss(None, T(Y))


def test_metrics_and_penalties():
    logits = T([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert nn.accuracy(logits, T([0, 1, 1])) == pytest.approx(2 / 3)
    assert nn.accuracy(logits, T([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])) == pytest.approx(2 / 3)
    assert nn.zero_one_loss(logits, T([0, 1, 1])) == pytest.approx(1 / 3)
    assert nn.zero_one_loss(logits, T([0, 1, 1]), normalize=False) == 1
    assert nn.accuracy(T([0.9, 0.2, 0.6]), T([1.0, 0.0, 0.0])) == pytest.approx(2 / 3)
    w1, w2 = T([[1.0, -2.0]]), T([3.0])
    assert F.l2_penalty([w1, w2], 0.1).item() == pytest.approx(0.05 * 14)
    assert F.l1_penalty([w1, w2], 0.1).item() == pytest.approx(0.6)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_matches_composed(smoothing, weighted, reduction):
    import tinygrad_ext.nn.functional as F

    tgx.manual_seed(3)
    x = tgx.randn(6, 5, 3, dtype=tgx.float64, requires_grad=True)
    t = tgx.tensor([[0, 4, -100], [1, 2, 3], [4, 4, 0], [2, -100, 1], [3, 0, 2], [1, 1, 1]])
    w = tgx.rand(5, dtype=tgx.float64) + 0.5 if weighted else None
    kw = dict(weight=w, ignore_index=-100, reduction=reduction, label_smoothing=smoothing)
    a = F.cross_entropy(x, t, **kw)
    b = F._cross_entropy_composed(x, t, **kw)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = tgx.randn(*a.shape, dtype=tgx.float64)
    (ga,) = tgx.autograd.grad(a, x, g)
    (gb,) = tgx.autograd.grad(b, x, g)
    np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-10, atol=1e-12)
