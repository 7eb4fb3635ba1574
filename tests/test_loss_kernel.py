"""The fused cross-entropy and nll_loss (_C.cross_entropy / _C.nll_loss): NumPy reference,
gradcheck / gradgradcheck / jvp, errors, and PyTorch parity (F.cross_entropy) when installed."""

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import _C
from tinygrad_ext.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(2)


def t64(a, requires_grad=False):
    t = tgx.tensor(np.asarray(a, dtype=np.float64), dtype=tgx.float64)
    return t.requires_grad_() if requires_grad else t


def idx(a):
    return tgx.tensor(np.asarray(a, dtype=np.int64))


def np_log_softmax(x, axis):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def np_cross_entropy(x, y, weight=None, ignore_index=-100, eps=0.0, reduction="mean"):
    """PyTorch's definition, written out in NumPy (float64)."""
    cdim = 0 if x.ndim == 1 else 1
    C = x.shape[cdim]
    logp = np_log_softmax(x, cdim)
    w = np.ones(C) if weight is None else weight
    wshape = [1] * x.ndim
    wshape[cdim] = C
    wb = w.reshape(wshape)
    if np.issubdtype(np.asarray(y).dtype, np.floating):
        q = (y * (1 - eps) + eps / C) * wb
        rows = -(q * logp).sum(cdim)
        den = rows.size
    else:
        y = np.asarray(y)
        valid = y != ignore_index
        ys = np.where(valid, y, 0)
        picked = np.take_along_axis(logp, np.expand_dims(ys, cdim), cdim).squeeze(cdim)
        wy = w[ys] * valid
        rows = -(1 - eps) * wy * picked - eps / C * valid * (wb * logp).sum(cdim)
        den = wy.sum()
    if reduction == "none":
        return rows
    return rows.sum() if reduction == "sum" else rows.sum() / den


CASES = [  # (input shape, target kind, kwargs)
    ((5, 4), "index", {}),
    ((5, 4), "index", {"weight": True}),
    ((5, 4), "index", {"ignore_index": 1}),
    ((5, 4), "index", {"weight": True, "ignore_index": 0, "label_smoothing": 0.2}),
    ((5, 4), "index", {"label_smoothing": 0.1, "reduction": "sum"}),
    ((5, 4), "index", {"weight": True, "reduction": "none"}),
    ((3, 4, 2, 3), "index", {"weight": True, "label_smoothing": 0.3}),
    ((3, 4, 5), "index", {"ignore_index": 2, "reduction": "none"}),
    ((4,), "index", {}),
    ((4,), "index", {"weight": True, "label_smoothing": 0.4}),
    ((5, 4), "probs", {}),
    ((5, 4), "probs", {"weight": True, "label_smoothing": 0.2}),
    ((3, 4, 2), "probs", {"reduction": "none"}),
    ((4,), "probs", {"reduction": "sum"}),
]


def make(shape, kind, kw):
    x = RNG.standard_normal(shape)
    cdim = 0 if len(shape) == 1 else 1
    C = shape[cdim]
    if kind == "index":
        rshape = shape[:cdim] + shape[cdim + 1:]
        y = RNG.integers(0, C, size=rshape)
    else:
        y = RNG.random(shape)
        y = y / y.sum(cdim, keepdims=True)
    kw = dict(kw)
    if kw.get("weight"):
        kw["weight"] = RNG.random(C) + 0.5
    return x, y, kw


def tgx_kw(kw):
    return {k: (t64(v) if k == "weight" else v) for k, v in kw.items()}


def tgx_target(y):
    return idx(y) if np.issubdtype(y.dtype, np.integer) else t64(y)


@pytest.mark.parametrize("shape,kind,kw", CASES)
def test_forward_matches_numpy(shape, kind, kw):
    x, y, kw = make(shape, kind, kw)
    out = _C.cross_entropy(t64(x), tgx_target(y), **tgx_kw(kw))
    ref = np_cross_entropy(x, y, kw.get("weight"), kw.get("ignore_index", -100),
                           kw.get("label_smoothing", 0.0), kw.get("reduction", "mean"))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape,kind,kw", CASES)
def test_gradcheck_and_jvp(shape, kind, kw):
    x, y, kw = make(shape, kind, kw)
    k = tgx_kw(kw)
    if kind == "index":
        f = lambda a: _C.cross_entropy(a, idx(y), **k)  # noqa: E731
        assert gradcheck(f, (t64(x, True),))
        inputs = [x]
    else:
        f = lambda a, p: _C.cross_entropy(a, p, **k)  # noqa: E731
        assert gradcheck(f, (t64(x, True), t64(y, True)))
        inputs = [x, y]
    vs = [RNG.standard_normal(np.shape(a)) for a in inputs]
    _, jv = tgx.func.jvp(f, tuple(t64(a) for a in inputs), tuple(t64(v) for v in vs))
    e = 1e-6
    fd = (f(*[t64(a + e * v) for a, v in zip(inputs, vs)]).numpy()
          - f(*[t64(a - e * v) for a, v in zip(inputs, vs)]).numpy()) / (2 * e)
    np.testing.assert_allclose(jv.numpy(), fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("shape,kind,kw", [CASES[3], CASES[6], CASES[11]])
def test_gradgradcheck(shape, kind, kw):
    x, y, kw = make(shape, kind, kw)
    k = tgx_kw(kw)
    assert gradgradcheck(lambda a: _C.cross_entropy(a, tgx_target(y), **k), (t64(x, True),))


def test_non_contiguous_logits_and_float32():
    x = RNG.standard_normal((4, 6))
    y = RNG.integers(0, 4, size=6)
    xt = t64(np.ascontiguousarray(x)).mT  # (6, 4), transposed storage
    assert not xt.is_contiguous()
    xt.requires_grad_()
    out = _C.cross_entropy(xt, idx(y))
    np.testing.assert_allclose(out.detach().numpy(), np_cross_entropy(x.T, y), rtol=1e-12)
    assert gradcheck(lambda a: _C.cross_entropy(a, idx(y)), (xt,))
    x32 = tgx.tensor(x.T.astype(np.float32)).requires_grad_()
    o32 = _C.cross_entropy(x32, idx(y))
    assert o32.dtype == tgx.float32
    o32.backward()
    assert x32.grad.dtype == tgx.float32


def test_stable_for_huge_logits_and_grad_is_softmax_minus_onehot():
    x = np.array([[1000.0, 0.0, -1000.0], [0.0, 1e4, 0.0]])
    y = np.array([0, 2])
    a = t64(x, True)
    out = _C.cross_entropy(a, idx(y), reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), [0.0, 1e4], rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[0, 0, 0], [0, 1, -1]], atol=1e-12)


def test_all_ignored_mean_is_nan_and_grad_zero():
    a = t64(RNG.standard_normal((2, 3)), True)
    out = _C.cross_entropy(a, idx([-100, -100]))
    assert np.isnan(out.item())
    _C.cross_entropy(a, idx([-100, -100]), reduction="sum").backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros((2, 3)))


def test_nll_loss_matches_numpy_and_grads():
    x = RNG.standard_normal((5, 4, 2))
    logp = np_log_softmax(x, 1)
    y = RNG.integers(0, 4, size=(5, 2))
    y[0, 0] = 3
    w = RNG.random(4) + 0.5
    for kw in ({}, {"weight": w}, {"ignore_index": 3, "reduction": "sum"}, {"reduction": "none"}):
        out = _C.nll_loss(t64(logp), idx(y), **tgx_kw(kw))
        ref = np_cross_entropy(x, y, kw.get("weight"), kw.get("ignore_index", -100), 0.0,
                               kw.get("reduction", "mean"))
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)
        assert gradcheck(lambda a: _C.nll_loss(a, idx(y), **tgx_kw(kw)), (t64(logp, True),))
    # composed with log_softmax it equals the fused cross-entropy, grads included
    a, b = t64(x, True), t64(x, True)
    _C.nll_loss(a.log_softmax(1), idx(y), weight=t64(w)).backward()
    _C.cross_entropy(b, idx(y), weight=t64(w)).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_errors():
    x = t64(RNG.standard_normal((3, 4)))
    with pytest.raises(IndexError, match=r"\[cross_entropy\] target 4 .*4 classes"):
        _C.cross_entropy(x, idx([0, 4, 1]))
    with pytest.raises(IndexError, match=r"target -1"):
        _C.cross_entropy(x, idx([0, -1, 1]))
    with pytest.raises(IndexError, match=r"\[nll_loss\] target 7"):
        _C.nll_loss(x, idx([0, 7, 1]))
    with pytest.raises(ValueError, match=r"batch_size \(3\) to match target batch_size \(2\)"):
        _C.cross_entropy(x, idx([0, 1]))
    with pytest.raises(ValueError, match=r"\[cross_entropy\] probability target"):
        _C.cross_entropy(x, t64(np.ones((3, 5))))
    with pytest.raises(ValueError, match=r"weight"):
        _C.cross_entropy(x, idx([0, 1, 2]), weight=t64(np.ones(3)))
    with pytest.raises(ValueError, match=r"reduction"):
        _C.cross_entropy(x, idx([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing"):
        _C.cross_entropy(x, idx([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"0-d"):
        _C.cross_entropy(t64(1.0), idx(0))
    with pytest.raises(TypeError, match=r"floating"):
        _C.cross_entropy(idx([[1, 2]]), idx([0]))
    with pytest.raises(TypeError):
        _C.cross_entropy(None, idx([0]))
    with pytest.raises(TypeError, match=r"\[nll_loss\] target"):
        _C.nll_loss(x, t64(np.ones((3, 4))))
    w = t64(np.ones(4), True)
    a = t64(RNG.standard_normal((3, 4)), True)
    out = _C.cross_entropy(a, idx([0, 1, 2]), weight=w)
    with pytest.raises(NotImplementedError, match="weight"):
        out.backward()


def test_empty_batch():
    x = t64(np.zeros((0, 3)), True)
    out = _C.cross_entropy(x, idx(np.zeros(0, dtype=np.int64)), reduction="sum")
    assert out.item() == 0.0
    out.backward()
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("shape,kind,kw", CASES)
def test_torch_parity(shape, kind, kw):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, y, kw = make(shape, kind, kw)
    tkw = {k: (torch.tensor(v) if k == "weight" else v) for k, v in kw.items()}
    a = t64(x, True)
    ta = torch.tensor(x, requires_grad=True)
    if kind == "probs":
        p, tp = t64(y, True), torch.tensor(y, requires_grad=True)
    else:
        p, tp = idx(y), torch.tensor(y)
    out, tout = _C.cross_entropy(a, p, **tgx_kw(kw)), F.cross_entropy(ta, tp, **tkw)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = RNG.standard_normal(tuple(tout.shape))
    (out * t64(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-14)
    if kind == "probs":
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("C", [1, 3, 8, 16, 17, 40, 1023, 1024, 1500, 2100])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_float32_vector_rows_match_float64_reference(C, eps):
    """float32, classes contiguous, no weights: the vectorised row path (max, exp, sum passes,
    every tail length, the 1024-element flush) against the float64 definition and its grad."""
    n = 6
    x = (RNG.standard_normal((n, C)) * 3).astype(np.float32)
    y = RNG.integers(0, C, n)
    y[1] = -100  # an ignored row
    for red in ("mean", "sum", "none"):
        xt = tgx.tensor(x, requires_grad=True)
        out = _C.cross_entropy(xt, idx(y), label_smoothing=eps, reduction=red)
        ref = np_cross_entropy(x.astype(np.float64), y, eps=eps, reduction=red)
        np.testing.assert_allclose(out.detach().numpy(), ref, rtol=2e-5, atol=2e-6)
        g = RNG.standard_normal(np.shape(ref)).astype(np.float32)
        out.backward(tgx.tensor(g))
        x64 = t64(x, requires_grad=True)
        ref64 = _C.cross_entropy(x64, idx(y), label_smoothing=eps, reduction=red)
        ref64.backward(t64(g))
        np.testing.assert_allclose(xt.grad.numpy(), x64.grad.numpy(), rtol=2e-5, atol=2e-6)
        assert np.all(xt.grad.numpy()[1] == 0)  # the ignored row


def test_float32_rows_with_masked_logits():
    """-inf and finfo.min logits (masking): no nan from 0 * -inf or from an overflowing sum."""
    x = np.array([[0.0, -np.inf, 1.0, 2.0]], np.float32)
    for eps in (0.0, 0.1):
        got = _C.cross_entropy(tgx.tensor(x), idx([2]), label_smoothing=eps).numpy()
        if eps == 0:  # -log_softmax at the target (the -inf class has weight 0: no 0 * -inf)
            np.testing.assert_allclose(got, -np_log_softmax(x.astype(np.float64), 1)[0, 2], rtol=1e-6)
        else:  # the smoothing term weighs the -inf logit: +inf, as torch and the float64 path give
            assert got == np.inf
    X = np.zeros((2, 64), np.float32)
    X[:, 40:] = np.finfo(np.float32).min
    for eps in (0.0, 0.2):
        got = _C.cross_entropy(tgx.tensor(X), idx([3, 7]), label_smoothing=eps).numpy()
        ref = np_cross_entropy(X.astype(np.float64), np.array([3, 7]), eps=eps)
        np.testing.assert_allclose(got, ref, rtol=1e-6)
    # large logits with smoothing: sum(x) accumulates in double
    Y = (RNG.standard_normal((2, 4097)) - 3e4).astype(np.float32)
    got = _C.cross_entropy(tgx.tensor(Y), idx([5, 9]), label_smoothing=0.2).numpy()
    ref = np_cross_entropy(Y.astype(np.float64), np.array([5, 9]), eps=0.2)
    np.testing.assert_allclose(got, ref, rtol=1e-6)
